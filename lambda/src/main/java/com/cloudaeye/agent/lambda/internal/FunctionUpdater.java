package com.cloudaeye.agent.lambda.internal;

import static com.cloudaeye.agent.lambda.LambdaTarget.SAVED_PREFIX;

import com.cloudaeye.agent.AgentException;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.lambda.LambdaTarget;
import com.cloudaeye.agent.spi.ApplyContext;
import com.cloudaeye.agent.spi.CallScheduler;
import com.cloudaeye.agent.spi.support.AsyncWindow;
import com.cloudaeye.agent.spi.support.AwsFailures;
import com.cloudaeye.agent.spi.support.Json;
import com.cloudaeye.agent.spi.support.OutcomeUnknownException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.BiFunction;
import org.jspecify.annotations.Nullable;
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
 * compared with the plan. A {@code ResourceConflictException} (another update in progress) waits for the function
 * and retries; throttling and 5xx are retried by the scheduler.
 */
public final class FunctionUpdater {
    /** How many functions are in flight at once: enough to keep the 15/s bucket busy at 200 ms latency. */
    static final int WINDOW = 128;

    private static final int MAX_CONFLICT_RETRIES = 8;
    private static final Duration FIRST_POLL = Duration.ofMillis(250);
    private static final Duration MAX_POLL = Duration.ofSeconds(5);
    private static final Duration UPDATE_TIMEOUT = Duration.ofMinutes(10);

    private final ApplyContext context;
    private final LambdaClient lambda;
    private final CallScheduler scheduler;
    private final PlannedFunctions planned;
    private final PlanCheck layerCheck;
    private final AliasMover aliasMover;

    /**
     * @param context the apply context
     * @param planned the functions as this target planned them, if it did
     */
    public FunctionUpdater(ApplyContext context, PlannedFunctions planned) {
        this.context = context;
        this.planned = planned;
        this.lambda = context.client(LambdaClient.class, LambdaClient::builder);
        this.scheduler = context.scheduler();
        this.layerCheck = new PlanCheck(lambda, scheduler);
        this.aliasMover = new AliasMover(lambda, scheduler);
    }

    /**
     * Applies the changes and returns when each was reported.
     *
     * @param changes the mutating changes of the Lambda target
     */
    public void apply(List<Change> changes) {
        PlanCheck.requireConsistent(changes, context.region().id());
        CallScheduler.join(AsyncWindow.run(changes, WINDOW, context::shouldStop, this::applyOne));
    }

    private CompletableFuture<Void> applyOne(Change change) {
        String arn = change.resourceId();
        FunctionState state = FunctionState.fromJson(change.targetState());
        // Admitted and journaled before any call. When core refuses (the failure limit, the journal), it has recorded
        // the change, and the report below is ignored.
        return context.start(change)
                .thenCompose(admitted -> {
                    FunctionConfiguration asPlanned = planned.take(arn, state.revisionId());
                    return asPlanned != null
                            ? CompletableFuture.completedFuture(asPlanned) // the RevisionId precondition guards it
                            : waitUntilIdle(arn, Duration.ZERO);
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
        // First, whether the change already landed (a resumed apply whose process died after the update): sending it
        // again would, for a forced variable, save our own value over the user's.
        if (isDone(live, state)) {
            return finish(change, live, state, state.keepsConfiguration() ? null : "already applied");
        }
        String changed = changedSincePlanning(change.resourceId(), live, state);
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
        Map<String, String> env = desiredEnvironment(FunctionPlanner.variables(live), state);
        return handleCompose(
                scheduler.submit(
                        LambdaQuotas.CONTROL_PLANE,
                        () -> lambda.updateFunctionConfiguration(r -> r.functionName(arn)
                                .revisionId(state.revisionId())
                                .layers(state.layers())
                                .environment(e -> e.variables(env)))),
                (UpdateFunctionConfigurationResponse response, Throwable error) -> {
                    Throwable cause = unwrap(error);
                    if (cause == null) {
                        return settled(arn, response)
                                .exceptionallyCompose(readError -> CompletableFuture.failedFuture(unknown(
                                        "UpdateFunctionConfiguration was accepted, but reading the function back"
                                                + " failed (" + AwsFailures.describe(readError) + ")",
                                        readError)))
                                .thenCompose(after -> {
                                    if (after.lastUpdateStatus() != LastUpdateStatus.FAILED) {
                                        return finish(change, after, state, null);
                                    }
                                    String why = "Lambda reports the update failed: " + after.lastUpdateStatusReason();
                                    if (isDone(after, state)) { // the configuration shows it: it landed, and failed
                                        context.unknown(
                                                change,
                                                why + "; the function shows the new configuration: roll back, or"
                                                        + " plan again",
                                                null,
                                                appliedState(after.revisionId(), null));
                                    } else {
                                        context.failed(change, why, null);
                                    }
                                    return CompletableFuture.<Void>completedFuture(null);
                                });
                    }
                    if (cause instanceof ResourceConflictException && tries < MAX_CONFLICT_RETRIES) {
                        // Another update is in progress: wait for it, then try again against the planned revision.
                        // Without one (an emulator), check the function again first: that update may have changed
                        // what was planned, and nothing else would catch it.
                        return waitUntilIdle(arn, FIRST_POLL)
                                .thenCompose(now -> state.revisionId() == null
                                        ? checkThenUpdate(change, now, state, tries + 1)
                                        : update(change, live, state, tries + 1));
                    }
                    if (cause instanceof PreconditionFailedException) {
                        return waitUntilIdle(arn, Duration.ZERO).thenCompose(now -> {
                            if (isDone(now, state)) {
                                return finish(change, now, state, "already applied");
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
        return waitUntilIdle(change.resourceId(), Duration.ZERO)
                .handle((live, readError) -> {
                    if (readError != null) {
                        throw new CompletionException(AwsFailures.outcomeUnknown(
                                "UpdateFunctionConfiguration",
                                lost,
                                readError,
                                "plan again (or resume) to see where it stands, or roll back"));
                    }
                    return live;
                })
                .thenCompose(live -> {
                    if (isDone(live, state) && live.lastUpdateStatus() != LastUpdateStatus.FAILED) {
                        return finish(change, live, state, "applied although its answer was lost");
                    }
                    if (isDone(live, state)) {
                        context.unknown(
                                change,
                                "UpdateFunctionConfiguration got no answer, and Lambda reports the update failed: "
                                        + live.lastUpdateStatusReason() + "; roll back, or plan again",
                                lost,
                                appliedState(live.revisionId(), null));
                        return CompletableFuture.<Void>completedFuture(null);
                    }
                    return CompletableFuture.<Void>failedFuture(lost); // read back: it did not land
                });
    }

    private CompletableFuture<Void> finish(
            Change change, FunctionConfiguration after, FunctionState state, @Nullable String note) {
        if (!state.publish()) {
            return moveAliases(change, after.revisionId(), state, note, null);
        }
        return handleCompose(publish(change, after, 0), (version, error) -> {
            if (error != null) {
                // The update landed; only the version is missing. Not failed: rollback must see it.
                context.unknown(
                        change,
                        "the function was updated, but publishing a version failed (" + AwsFailures.describe(error)
                                + "): plan again to publish it, or roll back",
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
        ObjectNode applied = appliedState(revisionId, version);
        if (state.aliasMoves().isEmpty()) {
            context.applied(change, note, applied);
            return CompletableFuture.completedFuture(null);
        }
        return aliasMover.move(change.resourceId(), version, state.aliasMoves()).thenAccept(r -> {
            applied.set("aliases", r.before()); // each moved alias's previous target, so rollback is exact
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
                        return waitUntilIdle(arn, FIRST_POLL).thenCompose(x -> publish(change, after, tries + 1));
                    }
                    return CompletableFuture.<String>failedFuture(cause);
                });
    }

    /** @return the function after its update: from the update's answer when final, else polled until it is */
    private CompletableFuture<FunctionConfiguration> settled(String arn, UpdateFunctionConfigurationResponse response) {
        LastUpdateStatus status = response.lastUpdateStatus();
        if (status == null
                || status == LastUpdateStatus.IN_PROGRESS
                || status == LastUpdateStatus.UNKNOWN_TO_SDK_VERSION) {
            return waitUntilIdle(arn, FIRST_POLL);
        }
        return CompletableFuture.completedFuture(FunctionConfiguration.builder()
                .functionArn(response.functionArn())
                .revisionId(response.revisionId())
                .lastUpdateStatus(status)
                .lastUpdateStatusReason(response.lastUpdateStatusReason())
                .build());
    }

    /** Polls GetFunction (its own quota) with growing delays until no update is in progress. */
    private CompletableFuture<FunctionConfiguration> waitUntilIdle(String arn, Duration firstDelay) {
        long deadline = System.nanoTime() + UPDATE_TIMEOUT.toNanos();
        return poll(arn, firstDelay, deadline);
    }

    private CompletableFuture<FunctionConfiguration> poll(String arn, Duration delay, long deadline) {
        CompletableFuture<Void> wait =
                delay.isZero() ? CompletableFuture.completedFuture(null) : scheduler.after(delay);
        Duration next = delay.isZero() ? FIRST_POLL : delay.multipliedBy(2);
        Duration nextDelay = next.compareTo(MAX_POLL) > 0 ? MAX_POLL : next;
        return handleCompose(
                wait.thenCompose(x -> scheduler.submit(
                        LambdaQuotas.GET_FUNCTION, () -> lambda.getFunction(r -> r.functionName(arn)))),
                (response, error) -> {
                    Throwable cause = unwrap(error);
                    if (cause != null) {
                        // A read that ran out of retries is tried again until the deadline: after an update was
                        // sent, giving up here would report a function that was changed as failed.
                        if (AwsFailures.isRetryable(cause) && System.nanoTime() < deadline) {
                            return poll(arn, nextDelay, deadline);
                        }
                        return CompletableFuture.<FunctionConfiguration>failedFuture(cause);
                    }
                    FunctionConfiguration config = response.configuration();
                    if (config.lastUpdateStatus() != LastUpdateStatus.IN_PROGRESS) {
                        return CompletableFuture.completedFuture(config);
                    }
                    if (System.nanoTime() > deadline) {
                        return CompletableFuture.<FunctionConfiguration>failedFuture(new AgentException("The update"
                                + " of " + arn + " is still in progress after " + UPDATE_TIMEOUT.toMinutes()
                                + " minutes: check the function in the Lambda console, then plan again."));
                    }
                    return poll(arn, nextDelay, deadline);
                });
    }

    /**
     * Whether the live function differs from the before-state the change was planned against: its RevisionId (which
     * emulators may not return), its layers, and the presence and non-secret values of the variables the change
     * touches. A change made after planning (a layer the user added) must not be overwritten.
     *
     * @return what differs, or null
     */
    static @Nullable String changedSincePlanning(String arn, FunctionConfiguration live, FunctionState state) {
        if (!Objects.equals(state.revisionId(), live.revisionId())) {
            return "revision " + live.revisionId() + ", planned " + state.revisionId();
        }
        List<String> layers = FunctionPlanner.layerArns(live);
        if (!layers.equals(state.layersBefore())) {
            return "its layers are " + layers + ", planned " + state.layersBefore();
        }
        Map<String, String> env = FunctionPlanner.variables(live);
        List<String> presentBefore = state.presentBefore();
        if (presentBefore != null && !state.presentIn(env).equals(presentBefore)) {
            return "the agent's variables present are " + state.presentIn(env) + ", planned " + presentBefore;
        }
        for (Map.Entry<String, String> p : state.previous().entrySet()) {
            if (!p.getValue().equals(env.get(p.getKey()))) {
                return "the value of " + p.getKey() + " differs from the planned one";
            }
        }
        String tokenBefore = state.tokenBefore();
        String token = env.get(LambdaTarget.TOKEN_VARIABLE);
        if (tokenBefore != null && token != null && !TokenHash.matches(tokenBefore, arn, token)) {
            return "its " + LambdaTarget.TOKEN_VARIABLE + " differs from the planned one";
        }
        return null;
    }

    /** Applies the planned operations to the live variables (which may hold values we never read at plan time). */
    Map<String, String> desiredEnvironment(Map<String, String> live, FunctionState state) {
        Map<String, String> env = new TreeMap<>(live);
        for (String n : state.save()) {
            if (env.containsKey(n)) {
                env.put(SAVED_PREFIX + n, env.get(n));
            }
        }
        state.set()
                .forEach((n, v) ->
                        env.put(n, v == null ? context.agent().apiToken().reveal() : v));
        state.remove().forEach(env::remove);
        for (String n : state.restore()) {
            String saved = env.remove(SAVED_PREFIX + n);
            if (saved != null) {
                env.put(n, saved);
            }
        }
        return env;
    }

    /**
     * Whether the live function already is what the change wants (e.g. a resumed apply whose process died after the
     * update). Judged per operation, so that it holds after the change even for operations that are not idempotent
     * (saving a user value, restoring it).
     */
    boolean isDone(FunctionConfiguration live, FunctionState state) {
        if (!FunctionPlanner.layerArns(live).equals(state.layers())) {
            return false;
        }
        Map<String, String> env = FunctionPlanner.variables(live);
        for (Map.Entry<String, String> e : state.set().entrySet()) {
            String wanted = e.getValue() == null ? context.agent().apiToken().reveal() : e.getValue();
            if (!wanted.equals(env.get(e.getKey()))) {
                return false;
            }
        }
        for (String n : state.remove()) {
            if (env.containsKey(n) && !state.restore().contains(n)) {
                return false;
            }
        }
        for (String n : state.save()) {
            if (!env.containsKey(SAVED_PREFIX + n)) {
                return false;
            }
        }
        for (String n : state.restore()) {
            if (env.containsKey(SAVED_PREFIX + n)) {
                return false;
            }
        }
        return true;
    }

    private static ObjectNode appliedState(String revisionId, @Nullable String version) {
        var node = Json.object().put("revisionId", revisionId);
        if (version != null) {
            node.put("version", version);
        }
        return node;
    }

    /** {@link CompletableFuture#handle} with a handler that returns a future, flattened: Java 17 lacks one. */
    @SuppressWarnings("FutureReturnValueIgnored") // the nested future handle() returns is flattened right here
    static <T, U> CompletableFuture<U> handleCompose(
            CompletableFuture<T> future, BiFunction<T, Throwable, CompletableFuture<U>> handler) {
        return future.handle(handler).thenCompose(f -> f);
    }

    private static @Nullable Throwable unwrap(@Nullable Throwable error) {
        return error == null ? null : AwsFailures.unwrap(error);
    }
}
