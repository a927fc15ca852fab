package com.cloudaeye.agent.lambda.internal;

import static com.cloudaeye.agent.lambda.LambdaTarget.SAVED_PREFIX;

import com.cloudaeye.agent.Secret;
import com.cloudaeye.agent.lambda.LambdaTarget;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.services.lambda.model.FunctionConfiguration;

/**
 * The pure checks of a Lambda update: whether the function changed since planning, what its environment becomes, and
 * whether it already is what the change wants.
 */
final class UpdateChecks {
    private UpdateChecks() {}

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

    /**
     * Applies the planned operations to the live variables (which may hold values we never read at plan time).
     *
     * @param live the function's variables now
     * @param state the change's operations
     * @param token the agent's token, read only when the change sets it
     * @return the variables after the change
     */
    static Map<String, String> desiredEnvironment(
            Map<String, String> live, FunctionState state, Supplier<Secret> token) {
        Map<String, String> env = new TreeMap<>(live);
        for (String n : state.save()) {
            if (env.containsKey(n)) {
                env.put(SAVED_PREFIX + n, env.get(n));
            }
        }
        state.set().forEach((n, v) -> env.put(n, v == null ? token.get().reveal() : v));
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
    static boolean isDone(FunctionConfiguration live, FunctionState state, Supplier<Secret> token) {
        if (!FunctionPlanner.layerArns(live).equals(state.layers())) {
            return false;
        }
        Map<String, String> env = FunctionPlanner.variables(live);
        for (Map.Entry<String, String> e : state.set().entrySet()) {
            String wanted = e.getValue() == null ? token.get().reveal() : e.getValue();
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
}
