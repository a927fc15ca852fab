package com.cloudaeye.agent.lambda.internal;

import com.cloudaeye.agent.spi.CallScheduler;
import com.cloudaeye.agent.spi.support.AwsFailures;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.GetAliasResponse;
import software.amazon.awssdk.services.lambda.model.GetProvisionedConcurrencyConfigResponse;
import software.amazon.awssdk.services.lambda.model.PreconditionFailedException;
import software.amazon.awssdk.services.lambda.model.ProvisionedConcurrencyConfigNotFoundException;
import software.amazon.awssdk.services.lambda.model.ProvisionedConcurrencyStatusEnum;
import software.amazon.awssdk.services.lambda.model.State;

/**
 * Moves a function's aliases after its update, one after the other, without holding a thread: first waits until the
 * version they move to is active (a SnapStart version is pending while its snapshot is taken), then sends one
 * {@code UpdateAlias} per alias with the alias's planned {@code RevisionId} as its precondition, and waits until the
 * provisioned concurrency of each alias that has some is READY on the new version. A failed or lost
 * {@code UpdateAlias} is read back ({@code GetAlias}) before it is reported; so is a precondition that failed because
 * an earlier attempt (a resumed apply) already moved the alias.
 */
final class AliasMover {
    private static final Duration FIRST_POLL = Duration.ofSeconds(1);
    private static final Duration MAX_POLL = Duration.ofSeconds(10);
    private static final Duration TIMEOUT = Duration.ofMinutes(15);

    private final LambdaClient lambda;
    private final CallScheduler scheduler;

    AliasMover(LambdaClient lambda, CallScheduler scheduler) {
        this.lambda = lambda;
        this.scheduler = scheduler;
    }

    /**
     * What the moves did.
     *
     * @param moved a note per moved alias, e.g. {@code live 3 -> 7}
     * @param before the previous target of each alias that moved, by name, in the order they moved, for rollback
     * @param problem why an alias did not move or its provisioned concurrency is not READY, null when all is well
     * @param cause the error behind the problem, if any
     */
    record Result(
            List<String> moved,
            Map<String, FunctionApplied.AliasBefore> before,
            @Nullable String problem,
            @Nullable Throwable cause) {}

    /**
     * @param arn the function's unqualified ARN
     * @param published the version the change published, null when it published none
     * @param moves the aliases to move
     * @return what happened; never completes exceptionally
     */
    CompletableFuture<Result> move(String arn, @Nullable String published, List<AliasMove> moves) {
        Result start = new Result(new ArrayList<>(), new LinkedHashMap<>(), null, null);
        CompletableFuture<Result> result = published == null
                ? CompletableFuture.completedFuture(start)
                : untilActive(arn, published, deadline()).handle((state, error) -> {
                    if (error != null) {
                        return new Result(
                                start.moved(),
                                start.before(),
                                "version " + published + " was published, but reading its state failed ("
                                        + AwsFailures.describe(error) + "): no alias was moved",
                                AwsFailures.unwrap(error));
                    }
                    return state == State.ACTIVE
                            ? start
                            : new Result(
                                    start.moved(),
                                    start.before(),
                                    "version " + published + " is " + state + ", not Active: no alias was moved",
                                    null);
                });
        for (AliasMove m : moves) {
            result = result.thenCompose(
                    r -> r.problem() != null ? CompletableFuture.completedFuture(r) : moveOne(arn, published, m, r));
        }
        for (AliasMove m : moves) {
            if (m.provisioned()) {
                result = result.thenCompose(
                        r -> r.problem() != null ? CompletableFuture.completedFuture(r) : ready(arn, m, r));
            }
        }
        return result;
    }

    private CompletableFuture<Result> moveOne(String arn, @Nullable String published, AliasMove m, Result sofar) {
        String to = m.toVersion() != null ? m.toVersion() : Objects.requireNonNull(published, "published");
        Supplier<Result> moved = () -> {
            sofar.moved()
                    .add(m.name() + " " + AliasMove.describe(m.fromVersion(), m.fromWeights()) + " -> "
                            + AliasMove.describe(to, m.toWeights()));
            sofar.before()
                    .put(
                            m.name(),
                            new FunctionApplied.AliasBefore(m.fromVersion(), new LinkedHashMap<>(m.fromWeights())));
            return sofar;
        };
        return scheduler
                .submit(
                        LambdaQuotas.CONTROL_PLANE,
                        () -> lambda.updateAlias(r -> r.functionName(AliasMove.functionName(arn))
                                .name(m.name())
                                .functionVersion(to)
                                .routingConfig(c -> c.additionalVersionWeights(m.toWeights()))
                                .revisionId(m.revisionId())))
                .handle((response, error) -> error)
                .thenCompose(error -> {
                    if (error == null) {
                        return CompletableFuture.completedFuture(moved.get());
                    }
                    Throwable cause = AwsFailures.unwrap(error);
                    // Read back: an earlier attempt (a lost answer, a resumed apply) may have moved it.
                    return readAlias(arn, m.name()).handle((live, readError) -> {
                        if (readError != null) {
                            return problem(
                                    sofar,
                                    AwsFailures.OUTCOME_UNKNOWN + ": UpdateAlias " + m.name() + " failed ("
                                            + AwsFailures.describe(cause) + ") and reading the alias back failed too ("
                                            + AwsFailures.describe(readError) + ")",
                                    cause);
                        }
                        if (isAt(live, to, m.toWeights())) {
                            return moved.get();
                        }
                        String why = cause instanceof PreconditionFailedException
                                ? "alias " + m.name() + " changed since planning (it now serves "
                                        + AliasMove.describe(live.functionVersion(), weights(live))
                                        + "): it was not moved; plan again"
                                : "moving alias " + m.name() + " to version " + to + " failed: "
                                        + AwsFailures.describe(cause);
                        return problem(sofar, why, cause);
                    });
                });
    }

    /** Polls the alias's provisioned concurrency until READY or FAILED. */
    private CompletableFuture<Result> ready(String arn, AliasMove m, Result sofar) {
        return pollConcurrency(arn, m.name(), FIRST_POLL, deadline()).handle((config, error) -> {
            if (error != null) {
                Throwable cause = AwsFailures.unwrap(error);
                if (cause instanceof ProvisionedConcurrencyConfigNotFoundException) {
                    return sofar; // removed since planning: nothing to wait for
                }
                return problem(
                        sofar,
                        "alias " + m.name() + " moved, but its provisioned concurrency could not be confirmed READY ("
                                + AwsFailures.describe(cause) + ")",
                        cause);
            }
            if (config.status() == ProvisionedConcurrencyStatusEnum.READY) {
                return sofar;
            }
            return problem(
                    sofar,
                    "alias " + m.name() + " moved, but Lambda reports its provisioned concurrency "
                            + config.statusAsString() + " on the new version: " + config.statusReason()
                            + " (it serves on demand meanwhile)",
                    null);
        });
    }

    private CompletableFuture<GetProvisionedConcurrencyConfigResponse> pollConcurrency(
            String arn, String alias, Duration delay, long deadline) {
        return FunctionUpdater.handleCompose(
                scheduler
                        .after(delay)
                        .thenCompose(x -> scheduler.submit(
                                LambdaQuotas.CONTROL_PLANE,
                                () -> lambda.getProvisionedConcurrencyConfig(
                                        r -> r.functionName(AliasMove.functionName(arn))
                                                .qualifier(alias)))),
                (config, error) -> {
                    Throwable cause = error == null ? null : AwsFailures.unwrap(error);
                    boolean again = cause != null
                            ? AwsFailures.isRetryable(cause)
                            : config.status() == ProvisionedConcurrencyStatusEnum.IN_PROGRESS;
                    if (again && System.nanoTime() < deadline) {
                        return pollConcurrency(arn, alias, next(delay), deadline);
                    }
                    if (cause != null) {
                        return CompletableFuture.<GetProvisionedConcurrencyConfigResponse>failedFuture(cause);
                    }
                    return CompletableFuture.completedFuture(config);
                });
    }

    /** Polls the version (GetFunction, its own quota) until it is no longer Pending. */
    private CompletableFuture<State> untilActive(String arn, String version, long deadline) {
        return poll(arn, version, Duration.ZERO, deadline);
    }

    private CompletableFuture<State> poll(String arn, String version, Duration delay, long deadline) {
        CompletableFuture<Void> wait =
                delay.isZero() ? CompletableFuture.completedFuture(null) : scheduler.after(delay);
        return FunctionUpdater.handleCompose(
                wait.thenCompose(x -> scheduler.submit(
                        LambdaQuotas.GET_FUNCTION,
                        // The version in the name, not as a Qualifier: IAM authorizes the qualified ARN either way.
                        () -> lambda.getFunction(r -> r.functionName(AliasMove.functionName(arn) + ":" + version)))),
                (response, error) -> {
                    Throwable cause = error == null ? null : AwsFailures.unwrap(error);
                    boolean again = cause != null
                            ? AwsFailures.isRetryable(cause)
                            : response.configuration().state() == State.PENDING;
                    if (again && System.nanoTime() < deadline) {
                        return poll(arn, version, next(delay), deadline);
                    }
                    if (cause != null) {
                        return CompletableFuture.<State>failedFuture(cause);
                    }
                    State state = response.configuration().state();
                    return CompletableFuture.completedFuture(state == null ? State.ACTIVE : state);
                });
    }

    private CompletableFuture<GetAliasResponse> readAlias(String arn, String alias) {
        return scheduler.submit(
                LambdaQuotas.CONTROL_PLANE,
                () -> lambda.getAlias(
                        r -> r.functionName(AliasMove.functionName(arn)).name(alias)));
    }

    private static boolean isAt(GetAliasResponse live, String version, Map<String, Double> weights) {
        return version.equals(live.functionVersion()) && weights.equals(weights(live));
    }

    static Map<String, Double> weights(GetAliasResponse alias) {
        return alias.routingConfig() == null ? Map.of() : alias.routingConfig().additionalVersionWeights();
    }

    private static Result problem(Result sofar, String problem, @Nullable Throwable cause) {
        return new Result(sofar.moved(), sofar.before(), problem, cause);
    }

    private static Duration next(Duration delay) {
        Duration next = delay.isZero() ? FIRST_POLL : delay.multipliedBy(2);
        return next.compareTo(MAX_POLL) > 0 ? MAX_POLL : next;
    }

    private static long deadline() {
        return System.nanoTime() + TIMEOUT.toNanos();
    }
}
