package com.cloudaeye.agent.logsub.internal;

import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.logsub.LogSubscriptionTarget;
import com.cloudaeye.agent.spi.ApplyContext;
import com.cloudaeye.agent.spi.support.AsyncWindow;
import com.cloudaeye.agent.spi.support.AwsFailures;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * Applies changes, each exactly once reported: it reads the group's filter first (a resumed change that landed is
 * reported applied without a call; one someone changed since is skipped), then puts or deletes the filter. A call
 * that failed is read back, whatever its error (the scheduler may have retried an attempt that landed): landed is
 * applied, untouched is failed, unreadable is unknown.
 */
public final class SubscriptionApplier {
    private static final int IN_FLIGHT = 4;

    private final ApplyContext context;
    private final Logs logs;

    /** @param context the apply's context */
    public SubscriptionApplier(ApplyContext context) {
        this.context = context;
        this.logs = new Logs(context);
    }

    /** @param changes the mutating changes, in plan order */
    public void apply(List<Change> changes) {
        AsyncWindow.run(changes, IN_FLIGHT, context::shouldStop, this::apply).join();
    }

    @SuppressWarnings("FutureReturnValueIgnored") // the nested future handle() returns is flattened right here
    private CompletableFuture<?> apply(Change change) {
        FilterState state = FilterState.of(change);
        return context.start(change)
                .thenCompose(started -> logs.filter(state.logGroup()))
                .thenCompose(live -> {
                    Filter current = live.orElse(null);
                    if (state.landed(current)) {
                        context.applied(change, "already in place", null);
                        return CompletableFuture.completedFuture(null);
                    }
                    if (!state.untouched(current)) {
                        context.skipped(
                                change,
                                "the filter " + LogSubscriptionTarget.FILTER_NAME + " of " + state.logGroup()
                                        + " changed since planning: plan again");
                        return CompletableFuture.completedFuture(null);
                    }
                    return mutate(state)
                            .handle((ok, error) ->
                                    error == null ? applied(change, null) : afterError(change, state, error))
                            .thenCompose(f -> f);
                })
                .exceptionally(error -> {
                    // A change that core refused to start (or whose start could not be journaled) was not mutated and
                    // is core's to record; any other error here came from reading the filter before the mutation.
                    if (!notStarted(error)) {
                        context.failed(change, "reading the filter failed: " + AwsFailures.describe(error), error);
                    }
                    return null;
                });
    }

    private CompletableFuture<?> mutate(FilterState state) {
        Filter after = state.after();
        if (after == null) {
            return context.scheduler()
                    .submit(
                            Logs.QUOTA,
                            () -> logs.client()
                                    .deleteSubscriptionFilter(r -> r.logGroupName(state.logGroup())
                                            .filterName(LogSubscriptionTarget.FILTER_NAME)));
        }
        return context.scheduler()
                .submit(
                        Logs.QUOTA,
                        () -> logs.client()
                                .putSubscriptionFilter(r -> r.logGroupName(state.logGroup())
                                        .filterName(LogSubscriptionTarget.FILTER_NAME)
                                        .destinationArn(after.destinationArn())
                                        .filterPattern(after.filterPattern())));
    }

    /**
     * A mutating call failed: read the filter back before reporting, whatever the error. Even a definite rejection
     * (access denied) may be the answer to the scheduler's retry of an attempt whose answer was lost and which landed.
     */
    private CompletableFuture<?> afterError(Change change, FilterState state, Throwable error) {
        return logs.filter(state.logGroup()).handle((live, readError) -> {
            if (readError != null) {
                AwsFailures.report(
                        context,
                        change,
                        "the filter of " + state.logGroup() + " may have changed",
                        AwsFailures.outcomeUnknown(
                                "PutSubscriptionFilter or DeleteSubscriptionFilter of " + state.logGroup(),
                                error,
                                readError,
                                "plan again to see where it stands, or roll back"));
            } else {
                Filter current = live.orElse(null);
                if (state.landed(current)) {
                    context.applied(change, "landed; its answer was lost", null);
                } else if (state.untouched(current)) {
                    context.failed(change, "did not land: " + AwsFailures.describe(error), AwsFailures.unwrap(error));
                } else {
                    context.unknown(
                            change,
                            "the filter changed, but not as planned: plan again",
                            AwsFailures.unwrap(error),
                            null);
                }
            }
            return null;
        });
    }

    private CompletableFuture<?> applied(Change change, @Nullable String message) {
        context.applied(change, message, null);
        return CompletableFuture.completedFuture(null);
    }

    private static boolean notStarted(Throwable error) {
        Throwable e = AwsFailures.unwrap(error);
        return e instanceof com.cloudaeye.agent.spi.NotStartedException
                || e instanceof com.cloudaeye.agent.JournalException;
    }
}
