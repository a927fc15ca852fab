package com.cloudaeye.agent.lambda.internal;

import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.Secret;
import com.cloudaeye.agent.lambda.LambdaTarget;
import com.cloudaeye.agent.spi.ApplyContext;
import com.cloudaeye.agent.spi.CallScheduler;
import com.cloudaeye.agent.spi.support.AsyncWindow;
import com.cloudaeye.agent.spi.support.AwsFailures;
import com.cloudaeye.agent.spi.support.OutcomeUnknownException;
import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.BiFunction;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.FunctionConfiguration;
import software.amazon.awssdk.services.lambda.model.LastUpdateStatus;
import software.amazon.awssdk.services.lambda.model.PreconditionFailedException;
import software.amazon.awssdk.services.lambda.model.ResourceConflictException;
import software.amazon.awssdk.services.lambda.model.UpdateFunctionConfigurationResponse;

/**
 * Applies planned function changes, many at a time, each as an asynchronous pipeline that holds no thread while it
 * waits: take the function as planned, check it against the plan, send one {@code UpdateFunctionConfiguration} with
 * the planned {@code RevisionId} as its precondition, poll {@code GetFunction} (its own 100/s quota) only while the
 * update's answer says {@code LastUpdateStatus} is {@code InProgress}, then optionally {@code PublishVersion}.
 *
 * <p>The function as planned is what this target's own plan read in this process, when the service gave it a
 * {@code RevisionId}: the precondition then guards the update, and no {@code GetFunction} is needed before it.
 * Otherwise (a plan read from JSON, a resume, an emulator without revisions) the live function is read first and
 * compared with the plan; where the plan listed many functions, the endpoint gave none a {@code RevisionId} and the
 * shared bucket's rate is not the limit ({@link CallScheduler#rateLimits}: adaptive pacing, nothing throttled), that
 * read is a pass of {@code ListFunctions} shared by the updates of the next second ({@link LiveListing}); under a
 * share, documented quotas or after a throttle it is one {@code GetFunction} (its own bucket) per function. A
 * {@code ResourceConflictException} (another update in progress) waits for the function
 * and retries; throttling and 5xx are retried by the scheduler.
 */
public final class FunctionUpdater {
    /** How many functions are in flight at once: enough to keep the 15/s bucket busy at 200 ms latency. */
    static final int WINDOW = 128;

    private static final int MAX_CONFLICT_RETRIES = 8;

    /** Where Lambda's refusal of an environment over 4 KB starts quoting it. */
    private static final String MEASURED = "String measured:";

    private final ApplyContext context;
    private final LambdaClient lambda;
    private final CallScheduler scheduler;
    private final PlannedFunctions planned;
    private final PlanCheck layerCheck;
    private final AliasMover aliasMover;
    private final FunctionPoller poller;
    /** Live reads in passes of ListFunctions, where the endpoint gives no RevisionId ({@link LiveListing}). */
    private @Nullable LiveListing listing;

    /**
     * @param context the apply context
     * @param planned the functions as this target planned them, if it did
     */
    public FunctionUpdater(ApplyContext context, PlannedFunctions planned) {
        this.context = context;
        this.planned = planned;
        this.lambda = context.client(LambdaClient.class, LambdaClient::builder);
        this.scheduler = context.scheduler();
        this.layerCheck = new PlanCheck(lambda, scheduler, planned);
        this.aliasMover = new AliasMover(lambda, scheduler);
        this.poller = new FunctionPoller(lambda, scheduler);
    }

    /**
     * Applies the changes and returns when each was reported.
     *
     * @param changes the mutating changes of the Lambda target
     */
    public void apply(List<Change> changes) {
        // Core ran this already (LambdaService.checkApply, before any target applied); again for a direct caller.
        PlanCheck.requireConsistent(changes, context.region().id());
        // A pass costs calls of the shared bucket to save GetFunctions (their own bucket): only worth it where the
        // shared rate is not the limit (adaptive pacing on an endpoint that has not throttled it).
        listing = planned.worthListing() && !scheduler.rateLimits(LambdaQuotas.CONTROL_PLANE)
                ? new LiveListing(lambda, scheduler)
                : null;
        CallScheduler.join(AsyncWindow.run(changes, WINDOW, context::shouldStop, this::applyOne));
    }

    private CompletableFuture<Void> applyOne(Change change) {
        String arn = change.resourceId();
        FunctionState state = LambdaStates.functionState(change.targetState());
        // Admitted and journaled before any call. When core refuses (the failure limit, the journal), it has recorded
        // the change, and the report below is ignored.
        return context.start(change)
                .thenCompose(admitted -> {
                    FunctionConfiguration asPlanned = planned.take(arn, state.revisionId());
                    if (asPlanned != null) {
                        return CompletableFuture.completedFuture(asPlanned); // the RevisionId precondition guards it
                    }
                    LiveListing live = listing;
                    if (live != null
                            && state.revisionId() == null
                            && planned.takeUnguarded(arn)
                            && !scheduler.rateLimits(LambdaQuotas.CONTROL_PLANE)) {
                        return live.read(arn)
                                .thenCompose(listed -> listed != null
                                        ? CompletableFuture.completedFuture(listed)
                                        : poller.waitUntilIdle(arn, Duration.ZERO));
                    }
                    return poller.waitUntilIdle(arn, Duration.ZERO);
                })
                .thenCompose(live -> checkThenUpdate(change, live, state, 0))
                .exceptionally(e -> {
                    AwsFailures.report(context, change, AwsFailures.describe(e), e);
                    return null;
                });
    }

    /** Updates the function unless it already is as wanted, changed since planning, or cannot take the layers. */
    private CompletableFuture<Void> checkThenUpdate(
            Change change, FunctionConfiguration live, FunctionState state, int tries) {
        // Variables Lambda could not read (the caller lacks kms:Decrypt) would be wiped by the update: never sent.
        String environmentError = state.keepsConfiguration() ? null : FunctionPlanner.environmentError(live);
        if (environmentError != null) {
            context.failed(change, environmentError, null);
            return CompletableFuture.completedFuture(null);
        }
        // First, whether the change already landed (a resumed apply whose process died after the update): sending it
        // again would, for a forced variable, save our own value over the user's.
        if (UpdateChecks.isDone(live, state, this::token)) {
            return shown(change, live, state, state.keepsConfiguration() ? null : "already applied", null);
        }
        String changed = UpdateChecks.changedSincePlanning(change.resourceId(), live, state);
        if (changed != null) {
            context.skipped(
                    change,
                    "the function changed since planning (" + changed + "): plan again and review the new plan");
            return CompletableFuture.completedFuture(null);
        }
        return layerCheck.incompatibility(live, state).thenCompose(wrong -> {
            if (wrong != null) {
                context.failed(change, wrong, null);
                return CompletableFuture.<Void>completedFuture(null);
            }
            return update(change, live, state, tries);
        });
    }

    private CompletableFuture<Void> update(Change change, FunctionConfiguration live, FunctionState state, int tries) {
        String arn = change.resourceId();
        Map<String, String> env = UpdateChecks.desiredEnvironment(FunctionPlanner.variables(live), state, this::token);
        return handleCompose(
                scheduler.submit(
                        LambdaQuotas.CONTROL_PLANE,
                        () -> lambda.updateFunctionConfiguration(r -> r.functionName(arn)
                                .revisionId(state.revisionId())
                                .layers(state.layers())
                                .environment(e -> e.variables(env)))),
                (UpdateFunctionConfigurationResponse response, Throwable error) -> {
                    Throwable cause = withoutValues(unwrap(error), env.get(LambdaTarget.TOKEN_VARIABLE));
                    if (cause == null) {
                        return poller.settled(arn, response)
                                .exceptionallyCompose(readError -> CompletableFuture.failedFuture(unknown(
                                        "UpdateFunctionConfiguration was accepted, but reading the function back"
                                                + " failed (" + AwsFailures.describe(readError) + ")",
                                        readError)))
                                .thenCompose(after -> {
                                    if (after.lastUpdateStatus() != LastUpdateStatus.FAILED) {
                                        return finish(change, after, state, null);
                                    }
                                    if (UpdateChecks.isDone(after, state, this::token)) {
                                        return shown(change, after, state, null, null); // it landed, and failed
                                    }
                                    context.failed(change, updateFailed(after), null);
                                    return CompletableFuture.<Void>completedFuture(null);
                                });
                    }
                    if (cause instanceof ResourceConflictException && tries < MAX_CONFLICT_RETRIES) {
                        // Another update is in progress: wait for it, then try again against the planned revision.
                        // Without one (an emulator), check the function again first: that update may have changed
                        // what was planned, and nothing else would catch it.
                        // The retry of an attempt that landed meets our own update in progress, so a read that
                        // fails leaves the outcome unknown.
                        return readBack(arn, FunctionPoller.FIRST_POLL, cause)
                                .thenCompose(now -> state.revisionId() == null
                                        ? checkThenUpdate(change, now, state, tries + 1)
                                        : update(change, live, state, tries + 1));
                    }
                    if (cause instanceof PreconditionFailedException) {
                        // The RevisionId moved: maybe by an earlier attempt of this very call, whose answer was lost.
                        return readBack(arn, Duration.ZERO, cause).thenCompose(now -> {
                            if (UpdateChecks.isDone(now, state, this::token)) {
                                return shown(change, now, state, "already applied", null);
                            }
                            context.skipped(
                                    change,
                                    "the function changed since planning (its RevisionId no longer"
                                            + " matches): plan again and review the new plan");
                            return CompletableFuture.<Void>completedFuture(null);
                        });
                    }
                    // Any other error, read back first: the scheduler may have sent the call more than once, and an
                    // earlier attempt whose answer was lost (a reset, a 5xx) may have landed before the last one was
                    // throttled or refused.
                    return confirmUpdate(change, state, cause);
                });
    }

    /**
     * After UpdateFunctionConfiguration failed or got no answer (an earlier attempt may have landed): applied when the function shows the change, the original error
     * (failed) when it shows the change absent, unknown when it cannot be read either.
     */
    private CompletableFuture<Void> confirmUpdate(Change change, FunctionState state, Throwable lost) {
        return readBack(change.resourceId(), Duration.ZERO, lost).thenCompose(live -> {
            if (UpdateChecks.isDone(live, state, this::token)) {
                return shown(change, live, state, "applied although its answer was lost", lost);
            }
            return CompletableFuture.<Void>failedFuture(lost); // read back: it did not land
        });
    }

    /**
     * Reads the function back, once no update is in progress, after UpdateFunctionConfiguration ended with an error:
     * the scheduler may have sent it more than once, so an earlier attempt may have landed. A read that fails too
     * leaves the outcome unknown, never failed.
     *
     * @param error the update's error
     * @return the function, or a future failed with {@link AwsFailures#outcomeUnknown}
     */
    private CompletableFuture<FunctionConfiguration> readBack(String arn, Duration firstDelay, Throwable error) {
        return poller.waitUntilIdle(arn, firstDelay).handle((live, readError) -> {
            if (readError != null) {
                throw new CompletionException(AwsFailures.outcomeUnknown(
                        "UpdateFunctionConfiguration",
                        error,
                        readError,
                        "plan again (or resume) to see where it stands, or roll back"));
            }
            String environmentError = FunctionPlanner.environmentError(live);
            if (environmentError != null) {
                // Its variables cannot be compared with the change's: whether it landed is unknown.
                throw new CompletionException(AwsFailures.outcomeUnknown(
                        "UpdateFunctionConfiguration",
                        error,
                        new IllegalStateException(environmentError),
                        "plan again (or resume) once the caller may decrypt its variables, or roll back"));
            }
            return live;
        });
    }

    /**
     * Reports a change the function shows (its layers and variables are what the change wants): applied (after
     * publishing and moving aliases) unless Lambda reports that the function's last update failed. That update's
     * configuration is saved but did not take effect: unknown, with Lambda's reason, and no version published of it.
     * A change that keeps the configuration (it only moves aliases) sent no update, so a failed one is not its own.
     *
     * @param note what the result says when applied
     * @param lost the error of an update whose answer was lost, when it is one; else null
     */
    private CompletableFuture<Void> shown(
            Change change,
            FunctionConfiguration live,
            FunctionState state,
            @Nullable String note,
            @Nullable Throwable lost) {
        if (live.lastUpdateStatus() != LastUpdateStatus.FAILED || state.keepsConfiguration()) {
            return finish(change, live, state, note);
        }
        context.unknown(
                change,
                (lost == null ? "" : "UpdateFunctionConfiguration got no answer, and ") + updateFailed(live)
                        + "; the function shows the new configuration: roll back, or plan again",
                lost,
                appliedState(live.revisionId(), null));
        return CompletableFuture.completedFuture(null);
    }

    private static String updateFailed(FunctionConfiguration live) {
        return "Lambda reports the update failed: " + live.lastUpdateStatusReason();
    }

    private CompletableFuture<Void> finish(
            Change change, FunctionConfiguration after, FunctionState state, @Nullable String note) {
        if (!state.publish()) {
            return moveAliases(change, after.revisionId(), state, note, null);
        }
        return handleCompose(publish(change, after, 0), (version, error) -> {
            if (error != null && AwsFailures.unwrap(error) instanceof UpdateFailedException failed) {
                context.unknown(
                        change,
                        "the function was updated, but then " + failed.why
                                + "; no version was published: roll back, or plan again",
                        null,
                        appliedState(after.revisionId(), null));
                return CompletableFuture.completedFuture(null);
            }
            if (error != null) {
                // The update landed; only the version is missing. Not failed: rollback must see it.
                context.unknown(
                        change,
                        // A resume reads the function back, finds the update landed, and publishes.
                        "function " + AliasMove.functionName(change.resourceId())
                                + " was updated, but publishing its version failed (" + AwsFailures.describe(error)
                                + "): resume this apply (installer.resume(journal)) to publish it, or roll back",
                        AwsFailures.unwrap(error),
                        appliedState(after.revisionId(), null));
                return CompletableFuture.completedFuture(null);
            }
            return moveAliases(change, after.revisionId(), state, join(note, "published version " + version), version);
        });
    }

    /** Moves the change's aliases, if any, and reports the change: unknown when one did not move as planned. */
    private CompletableFuture<Void> moveAliases(
            Change change, String revisionId, FunctionState state, @Nullable String note, @Nullable String version) {
        FunctionApplied done = new FunctionApplied(revisionId, version, null);
        if (state.aliasMoves().isEmpty()) {
            context.applied(change, note, LambdaStates.toJson(done));
            return CompletableFuture.completedFuture(null);
        }
        return aliasMover.move(change.resourceId(), version, state.aliasMoves()).thenAccept(r -> {
            // each moved alias's previous target, so rollback is exact
            JsonNode applied = LambdaStates.toJson(done.withAliases(r.before()));
            String message = r.moved().isEmpty() ? note : join(note, "moved alias " + String.join(", ", r.moved()));
            if (r.problem() == null) {
                context.applied(change, message, applied);
            } else {
                context.unknown(
                        change,
                        join(message, r.problem())
                                + "; the function itself was updated: roll back to restore it and the aliases"
                                + " moved so far, or plan again",
                        r.cause(),
                        applied);
            }
        });
    }

    private static @Nullable String join(@Nullable String note, String more) {
        return note == null ? more : note + "; " + more;
    }

    private static OutcomeUnknownException unknown(String what, Throwable error) {
        return new OutcomeUnknownException(
                AwsFailures.OUTCOME_UNKNOWN + ": " + what + "; plan again (or resume) to see where it stands, or roll"
                        + " back",
                AwsFailures.unwrap(error));
    }

    private CompletableFuture<String> publish(Change change, FunctionConfiguration after, int tries) {
        String arn = change.resourceId();
        return handleCompose(
                scheduler.submit(
                        LambdaQuotas.CONTROL_PLANE,
                        () -> lambda.publishVersion(r -> r.functionName(arn).revisionId(after.revisionId()))),
                (response, error) -> {
                    Throwable cause = unwrap(error);
                    if (cause == null) {
                        return CompletableFuture.completedFuture(response.version());
                    }
                    if (cause instanceof ResourceConflictException && tries < MAX_CONFLICT_RETRIES) {
                        // Another update is in progress: publish once it is done, unless it failed (a version of
                        // a configuration Lambda could not apply is not one to serve).
                        return poller.waitUntilIdle(arn, FunctionPoller.FIRST_POLL)
                                .thenCompose(now -> now.lastUpdateStatus() == LastUpdateStatus.FAILED
                                        ? CompletableFuture.<String>failedFuture(new UpdateFailedException(now))
                                        : publish(change, after, tries + 1));
                    }
                    return CompletableFuture.<String>failedFuture(cause);
                });
    }

    /** An update of the function failed while a version waited to be published: none is. */
    private static final class UpdateFailedException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        /** What {@link #updateFailed} says of the function. */
        private final String why;

        UpdateFailedException(FunctionConfiguration function) {
            super(updateFailed(function));
            this.why = updateFailed(function);
        }
    }

    private static JsonNode appliedState(@Nullable String revisionId, @Nullable String version) {
        return LambdaStates.toJson(new FunctionApplied(revisionId, version, null));
    }

    /** {@link CompletableFuture#handle} with a handler that returns a future, flattened: Java 17 lacks one. */
    @SuppressWarnings("FutureReturnValueIgnored") // the nested future handle() returns is flattened right here
    static <T, U> CompletableFuture<U> handleCompose(
            CompletableFuture<T> future, BiFunction<T, Throwable, CompletableFuture<U>> handler) {
        return future.handle(handler).thenCompose(f -> f);
    }

    /**
     * Lambda refuses an environment over its 4 KB limit quoting every variable it measured ({@code String measured:
     * {...}}): the token and the function's own values. The error that goes on to results, journals and logs is the
     * same AWS error (type, code, status, request id) with what follows {@code String measured:} left out and the
     * token sent masked.
     *
     * @param error the update's error, unwrapped; null when it succeeded
     * @param tokenSent the value of the token variable in the environment sent, or null
     * @return the error, or a copy of it without the values
     */
    static @Nullable Throwable withoutValues(@Nullable Throwable error, @Nullable String tokenSent) {
        if (!(error instanceof AwsServiceException aws)
                || aws.awsErrorDetails() == null
                || aws.awsErrorDetails().errorMessage() == null) {
            return error;
        }
        String message = aws.awsErrorDetails().errorMessage();
        String masked = message;
        int measured = masked.indexOf(MEASURED);
        if (measured >= 0) {
            masked = masked.substring(0, measured + MEASURED.length())
                    + " (the environment sent, left out: it holds the token and the function's own values)";
        }
        if (tokenSent != null && !tokenSent.isEmpty()) {
            masked = masked.replace(tokenSent, Secret.REDACTED);
        }
        if (masked.equals(message)) {
            return error;
        }
        return aws.toBuilder()
                .message(masked)
                .awsErrorDetails(
                        aws.awsErrorDetails().toBuilder().errorMessage(masked).build())
                .build();
    }

    private static @Nullable Throwable unwrap(@Nullable Throwable error) {
        return error == null ? null : AwsFailures.unwrap(error);
    }

    private Secret token() {
        return context.agent().apiToken();
    }
}
