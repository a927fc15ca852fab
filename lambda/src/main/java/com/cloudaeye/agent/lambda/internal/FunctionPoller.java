package com.cloudaeye.agent.lambda.internal;

import com.cloudaeye.agent.AgentException;
import com.cloudaeye.agent.spi.CallScheduler;
import com.cloudaeye.agent.spi.support.AwsFailures;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.FunctionConfiguration;
import software.amazon.awssdk.services.lambda.model.LastUpdateStatus;
import software.amazon.awssdk.services.lambda.model.State;
import software.amazon.awssdk.services.lambda.model.UpdateFunctionConfigurationResponse;

/** Waits for a function's update to finish: polls {@code GetFunction} (its own quota) with growing delays. */
final class FunctionPoller {
    /** The first delay between polls; each next one doubles, up to {@link #MAX_POLL}. */
    static final Duration FIRST_POLL = Duration.ofMillis(250);

    private static final Duration MAX_POLL = Duration.ofSeconds(5);
    private static final Duration UPDATE_TIMEOUT = Duration.ofMinutes(10);

    private final LambdaClient lambda;
    private final CallScheduler scheduler;

    /**
     * @param lambda the client
     * @param scheduler runs the polls
     */
    FunctionPoller(LambdaClient lambda, CallScheduler scheduler) {
        this.lambda = lambda;
        this.scheduler = scheduler;
    }

    /** @return the function after its update: from the update's answer when final, else polled until it is */
    CompletableFuture<FunctionConfiguration> settled(String arn, UpdateFunctionConfigurationResponse response) {
        LastUpdateStatus status = response.lastUpdateStatus();
        if (status == null
                || status == LastUpdateStatus.IN_PROGRESS
                || status == LastUpdateStatus.UNKNOWN_TO_SDK_VERSION) {
            return waitUntilIdle(arn, FIRST_POLL);
        }
        // The answer is the function's configuration: with its layers and variables, the caller can tell an update
        // that failed but shows the change (saved, not in effect) from one that did not land.
        return CompletableFuture.completedFuture(FunctionConfiguration.builder()
                .functionArn(response.functionArn())
                .revisionId(response.revisionId())
                .lastUpdateStatus(status)
                .lastUpdateStatusReason(response.lastUpdateStatusReason())
                .lastUpdateStatusReasonCode(response.lastUpdateStatusReasonCodeAsString())
                .layers(response.layers())
                .environment(response.environment())
                .architectures(response.architectures())
                .state(response.state())
                .build());
    }

    /**
     * Polls GetFunction (its own quota) with growing delays until no update is in progress and the function is not
     * {@code Pending} (still being created: Lambda refuses every update and publish until it is {@code Active}).
     */
    CompletableFuture<FunctionConfiguration> waitUntilIdle(String arn, Duration firstDelay) {
        long deadline = System.nanoTime() + UPDATE_TIMEOUT.toNanos();
        return poll(arn, firstDelay, deadline);
    }

    private CompletableFuture<FunctionConfiguration> poll(String arn, Duration delay, long deadline) {
        CompletableFuture<Void> wait =
                delay.isZero() ? CompletableFuture.completedFuture(null) : scheduler.after(delay);
        Duration next = delay.isZero() ? FIRST_POLL : delay.multipliedBy(2);
        Duration nextDelay = next.compareTo(MAX_POLL) > 0 ? MAX_POLL : next;
        return FunctionUpdater.handleCompose(
                wait.thenCompose(x -> scheduler.submit(
                        LambdaQuotas.GET_FUNCTION, () -> lambda.getFunction(r -> r.functionName(arn)))),
                (response, error) -> {
                    Throwable cause = error == null ? null : AwsFailures.unwrap(error);
                    if (cause != null) {
                        // A read that ran out of retries is tried again until the deadline: after an update was
                        // sent, giving up here would report a function that was changed as failed.
                        if (AwsFailures.isRetryable(cause) && System.nanoTime() < deadline) {
                            return poll(arn, nextDelay, deadline);
                        }
                        return CompletableFuture.<FunctionConfiguration>failedFuture(cause);
                    }
                    FunctionConfiguration config = response.configuration();
                    boolean pending = config.state() == State.PENDING;
                    if (config.lastUpdateStatus() != LastUpdateStatus.IN_PROGRESS && !pending) {
                        return CompletableFuture.completedFuture(config);
                    }
                    if (System.nanoTime() > deadline) {
                        return CompletableFuture.<FunctionConfiguration>failedFuture(new AgentException((pending
                                        ? "Function " + arn + " is still Pending (being created)"
                                        : "The update of " + arn + " is still in progress")
                                + " after " + UPDATE_TIMEOUT.toMinutes() + " minutes: check the function in"
                                + " the Lambda console, then plan again."));
                    }
                    return poll(arn, nextDelay, deadline);
                });
    }
}
