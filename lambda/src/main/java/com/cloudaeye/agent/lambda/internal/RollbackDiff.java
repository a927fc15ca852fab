package com.cloudaeye.agent.lambda.internal;

import static com.cloudaeye.agent.lambda.LambdaTarget.SAVED_PREFIX;
import static com.cloudaeye.agent.lambda.LambdaTarget.TOKEN_VARIABLE;

import com.cloudaeye.agent.AttributeChange;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.Secret;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.services.lambda.model.FunctionConfiguration;

/**
 * The pure half of planning a Lambda rollback: the inverse of the applied operations, from the journaled change and the
 * function as it is now. A token the apply replaced or removed was never journaled: it comes back only when the caller
 * passes it (recognised by its hash).
 */
final class RollbackDiff {
    private final Set<String> ourLayerNames;

    /** @param ourLayerNames the names of our layers (any version of them is ours) */
    RollbackDiff(Set<String> ourLayerNames) {
        this.ourLayerNames = Set.copyOf(ourLayerNames);
    }

    /**
     * @param applied a change the journal records as applied or interrupted
     * @param live the function as it is now
     * @param agentToken the token of the caller's agent settings, or null when there are none
     * @return the change restoring the function's before-state, or a no-op or skip saying why not
     */
    Change rollback(Change applied, FunctionConfiguration live, @Nullable Secret agentToken) {
        String arn = applied.resourceId();
        FunctionState done = LambdaStates.functionState(applied.targetState());
        if (done.keepsConfiguration()) {
            // AliasRollback moves the aliases back.
            return FunctionDiff.noOp(arn, "the apply changed only where aliases point");
        }
        String environmentError = FunctionPlanner.environmentError(live);
        if (environmentError != null) {
            return FunctionDiff.skip(arn, environmentError); // its variables are unknown: neither compared nor restored
        }
        List<String> liveLayers = FunctionPlanner.layerArns(live);
        Map<String, String> env = FunctionPlanner.variables(live);
        boolean asApplied = shows(done, liveLayers, env);
        if (!asApplied) {
            boolean asBefore = liveLayers.equals(done.layersBefore())
                    && done.set().keySet().stream()
                            .filter(n -> !done.previous().containsKey(n)
                                    && !(n.equals(TOKEN_VARIABLE) && done.tokenBefore() != null))
                            .noneMatch(n -> env.containsKey(n) && !done.save().contains(n));
            return asBefore
                    ? FunctionDiff.noOp(arn, "already as it was before the apply")
                    : FunctionDiff.skip(
                            arn,
                            "it changed since the apply (its layers or the agent's variables differ from what"
                                    + " was applied): restore it by hand, or plan an uninstall");
        }
        String blocked = FunctionDiff.blockedReason(live);
        if (blocked != null) {
            return FunctionDiff.skip(arn, blocked);
        }
        // The inverse of the applied operations. A token the apply replaced or removed was never journaled: it comes
        // back only when the caller passes it (recognised by its hash), else the function is left as it is.
        boolean oursBefore = done.layersBefore().stream().anyMatch(l -> ourLayerNames.contains(Arns.layerName(l)));
        Map<String, @Nullable String> set = new LinkedHashMap<>();
        List<String> remove = new ArrayList<>();
        List<String> restore = new ArrayList<>();
        List<String> warnings = new ArrayList<>();
        boolean tokenLost = false;
        for (String n : done.set().keySet()) {
            if (done.save().contains(n)) {
                // restored below, with every saved variable
            } else if (done.previous().containsKey(n)) {
                set.put(n, done.previous().get(n));
            } else if (n.equals(TOKEN_VARIABLE) && done.tokenBefore() != null) {
                tokenLost |= !restoreToken(arn, done.tokenBefore(), agentToken, set);
            } else if (n.equals(TOKEN_VARIABLE) && oursBefore) {
                // A journal from before tokenBefore was recorded.
                warnings.add("the earlier " + TOKEN_VARIABLE + " is not journaled (a secret): the current one stays");
            } else {
                remove.add(n);
            }
        }
        restore.addAll(done.save());
        // Undoing an uninstall's restore: the user's value is saved again and the agent's value set over it.
        List<String> save = new ArrayList<>();
        for (String n : done.restore()) {
            if (done.previous().containsKey(n)) {
                save.add(n);
                set.put(n, done.previous().get(n));
            } else if (n.equals(TOKEN_VARIABLE) && done.tokenBefore() != null) {
                save.add(n);
                tokenLost |= !restoreToken(arn, done.tokenBefore(), agentToken, set);
            } else {
                // A journal from before the agent's value was recorded, or the function had only the saved copy.
                warnings.add("the agent's value of " + n + " that the uninstall replaced with the user's is not"
                        + " journaled: the user's value stays");
            }
        }
        for (String n : done.remove()) {
            if (done.previous().containsKey(n)) {
                set.put(n, done.previous().get(n));
            } else if (n.equals(TOKEN_VARIABLE) && done.tokenBefore() != null) {
                tokenLost |= !restoreToken(arn, done.tokenBefore(), agentToken, set);
            } else if (n.equals(TOKEN_VARIABLE)) {
                warnings.add(TOKEN_VARIABLE + " was removed and is not journaled (a secret): plan an install to"
                        + " set it again");
            }
        }
        if (tokenLost) {
            // Never a guessed token: the change is reported as not restored, with the way to restore it.
            boolean undoesUninstall = done.layers().size() < done.layersBefore().size();
            String fix = undoesUninstall
                    ? "re-run the install with that token in .agent(a -> a.apiToken(...)) (or roll back with it there)"
                    : "roll back with that token in .agent(a -> a.apiToken(...)) to restore the function exactly, or"
                            + " plan an uninstall";
            return FunctionDiff.skip(
                    arn,
                    "not restored: the " + (undoesUninstall ? "uninstall" : "apply") + " replaced or removed its"
                            + " earlier " + TOKEN_VARIABLE + ", which is not journaled (a secret), and the token"
                            + " the agent settings hold is not that one: " + fix);
        }
        List<AttributeChange> attributes = new ArrayList<>();
        attributes.add(AttributeChange.of(
                "Layers", FunctionDiff.layerList(liveLayers), FunctionDiff.layerList(done.layersBefore())));
        save.forEach(n -> attributes.add(AttributeChange.redacted(
                "Environment." + n + " (user value, saved again as " + SAVED_PREFIX + n + ")", true, true)));
        set.forEach((n, v) -> attributes.add(
                v == null
                        ? AttributeChange.redacted("Environment." + n + " (the earlier token)", true, true)
                        : save.contains(n)
                                ? AttributeChange.redacted("Environment." + n + " (the agent's value)", true, true)
                                : AttributeChange.of("Environment." + n, env.get(n), v)));
        remove.forEach(n -> attributes.add(
                n.equals(TOKEN_VARIABLE)
                        ? AttributeChange.redacted("Environment." + n, true, false)
                        : AttributeChange.of("Environment." + n, env.get(n), null)));
        restore.forEach(n ->
                attributes.add(AttributeChange.redacted("Environment." + n + " (user value restored)", true, true)));
        FunctionState state = FunctionState.builder()
                .revisionId(live.revisionId())
                .layers(done.layersBefore())
                .layersBefore(liveLayers)
                .set(set)
                .remove(remove)
                .save(save)
                .restore(restore)
                .presentBefore(FunctionState.present(env, set.keySet(), remove, save, restore))
                .build();
        // The live variables may have grown since the apply: Lambda refuses more than 4 KB (quoting them all), so such
        // a restore is not planned, as an install of that function would not be. A token is set only when the agent
        // settings hold it (restoreToken).
        int size = FunctionDiff.environmentBytes(
                UpdateChecks.desiredEnvironment(env, state, () -> Objects.requireNonNull(agentToken, "agentToken")));
        if (size > FunctionDiff.MAX_ENVIRONMENT_BYTES) {
            return FunctionDiff.skip(
                    arn,
                    "not restored: its environment would be " + size + " bytes, over Lambda's 4 KB limit (its"
                            + " variables changed since the apply): free " + (size - FunctionDiff.MAX_ENVIRONMENT_BYTES)
                            + " bytes of variables, then plan the rollback again");
        }
        return FunctionDiff.update(arn, state, attributes)
                .addAllWarnings(warnings)
                .build();
    }

    /**
     * @param done an applied change's state
     * @param layers a function's (or a version's) layers
     * @param env its variables
     * @return whether it shows the change: exactly its layers, its variables set (the token only present), and the
     *     ones it removes absent
     */
    static boolean shows(FunctionState done, List<String> layers, Map<String, String> env) {
        return layers.equals(done.layers())
                && done.remove().stream().noneMatch(env::containsKey)
                && done.restore().stream().noneMatch(n -> env.containsKey(SAVED_PREFIX + n))
                && done.set().entrySet().stream()
                        .allMatch(v -> env.containsKey(v.getKey())
                                && (v.getValue() == null || v.getValue().equals(env.get(v.getKey()))));
    }

    /**
     * Puts the token back when the caller's agent settings hold the one the apply replaced.
     *
     * @return false when they do not (or there are none)
     */
    private static boolean restoreToken(
            String arn, String tokenBefore, @Nullable Secret token, Map<String, @Nullable String> set) {
        if (token == null || !TokenHash.matches(tokenBefore, arn, token.reveal())) {
            return false;
        }
        set.put(TOKEN_VARIABLE, null); // null: the token from the agent settings, which is the earlier one
        return true;
    }
}
