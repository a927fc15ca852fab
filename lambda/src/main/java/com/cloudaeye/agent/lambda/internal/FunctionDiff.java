package com.cloudaeye.agent.lambda.internal;

import static com.cloudaeye.agent.lambda.LambdaTarget.ENDPOINT_VARIABLE;
import static com.cloudaeye.agent.lambda.LambdaTarget.INSTALLED_VARIABLES;
import static com.cloudaeye.agent.lambda.LambdaTarget.SAVED_PREFIX;
import static com.cloudaeye.agent.lambda.LambdaTarget.TOKEN_ARN_VARIABLE;
import static com.cloudaeye.agent.lambda.LambdaTarget.TOKEN_VARIABLE;

import com.cloudaeye.agent.AgentSettings;
import com.cloudaeye.agent.AttributeChange;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.lambda.LambdaTarget;
import com.cloudaeye.agent.spi.support.Json;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.services.lambda.model.Architecture;
import software.amazon.awssdk.services.lambda.model.FunctionConfiguration;
import software.amazon.awssdk.services.lambda.model.LastUpdateStatus;
import software.amazon.awssdk.services.lambda.model.State;

/**
 * The pure half of Lambda planning: from a function's configuration as read, what an install, an uninstall or a
 * rollback changes in its layers and environment, as a change with its {@link FunctionState}. No AWS calls: {@link
 * FunctionPlanner} reads, this decides.
 */
final class FunctionDiff {
    /** Lambda's limit on layers per function. */
    static final int MAX_LAYERS = 5;

    /** Lambda's limit on the environment, measured as the JSON of the variables. */
    static final int MAX_ENVIRONMENT_BYTES = 4096;

    private final Map<Architecture, String> layers;
    private final Set<String> ourLayerNames;
    private final boolean publishVersion;
    private final boolean forceEnvironment;
    private final @Nullable String tokenArn;

    /**
     * @param layers our layer version per architecture
     * @param ourLayerNames the names of our layers (any version of them is ours)
     * @param publishVersion publish after each update
     * @param forceEnvironment overwrite user values of our variables
     * @param tokenArn the secret or parameter holding the token, when it is passed by reference; else null
     */
    FunctionDiff(
            Map<Architecture, String> layers,
            Set<String> ourLayerNames,
            boolean publishVersion,
            boolean forceEnvironment,
            @Nullable String tokenArn) {
        this.layers = Map.copyOf(layers);
        this.ourLayerNames = Set.copyOf(ourLayerNames);
        this.publishVersion = publishVersion;
        this.forceEnvironment = forceEnvironment;
        this.tokenArn = tokenArn;
    }

    /**
     * @param config the function as read
     * @param agent the agent settings
     * @param compatibleRuntimes the runtimes the function's architecture's layer is built for (empty: any)
     * @return the install's change: an update of its layers and environment, or a no-op or skip saying why not
     */
    Change install(FunctionConfiguration config, AgentSettings agent, List<String> compatibleRuntimes) {
        String arn = FunctionPlanner.unqualified(config.functionArn());
        String blocked = blockedReason(config);
        if (blocked != null) {
            return skip(arn, blocked);
        }
        Architecture arch = FunctionPlanner.architecture(config);
        String layerArn = layers.get(arch);
        if (!compatibleRuntimes.isEmpty()
                && config.runtimeAsString() != null
                && !compatibleRuntimes.contains(config.runtimeAsString())) {
            return skip(
                    arn,
                    "runtime " + config.runtimeAsString() + " is not among the layer's compatible runtimes "
                            + compatibleRuntimes);
        }
        List<String> before = FunctionPlanner.layerArns(config);
        List<String> after = new ArrayList<>();
        boolean ours = false;
        String keptNewer = null;
        for (String l : before) {
            if (ourLayerNames.contains(Arns.layerName(l))) {
                if (!ours && layerArn != null && newerVersion(l, layerArn)) {
                    keptNewer = l; // never downgraded: a newer version of the configured layer stays
                    after.add(l);
                } else if (!ours) {
                    after.add(layerArn); // replaces an older version of ours, in place
                }
                ours = true;
            } else {
                after.add(l);
            }
        }
        if (!ours) {
            after.add(layerArn);
        }
        if (after.size() > MAX_LAYERS) {
            return skip(
                    arn,
                    "it already has " + before.size() + " layers and Lambda allows no more than " + MAX_LAYERS
                            + ": remove one, then plan again");
        }

        Map<String, String> env = FunctionPlanner.variables(config);
        Map<String, @Nullable String> wanted = new LinkedHashMap<>();
        wanted.put(ENDPOINT_VARIABLE, agent.logsEndpoint());
        if (tokenArn == null) {
            wanted.put(TOKEN_VARIABLE, null);
        } else {
            wanted.put(TOKEN_ARN_VARIABLE, tokenArn);
        }
        new TreeMap<>(agent.options()).forEach(wanted::put);

        Map<String, @Nullable String> set = new LinkedHashMap<>();
        Map<String, String> previous = new TreeMap<>();
        List<String> save = new ArrayList<>();
        List<String> conflicts = new ArrayList<>();
        List<AttributeChange> attributes = new ArrayList<>();
        String tokenBefore = null;
        for (Map.Entry<String, @Nullable String> w : wanted.entrySet()) {
            String name = w.getKey();
            String value = w.getValue();
            String current = env.get(name);
            boolean secret = value == null;
            if (current == null) {
                set.put(name, value);
                attributes.add(
                        secret
                                ? AttributeChange.redacted("Environment." + name, false, true)
                                : AttributeChange.of("Environment." + name, null, value));
                continue;
            }
            boolean agentOwned = ours || env.containsKey(SAVED_PREFIX + name);
            boolean same = secret ? agent.apiToken().matches(current) : current.equals(value);
            if (same) {
                if (!agentOwned) {
                    // The user's own value, equal to ours: saved so that uninstall restores it instead of deleting it.
                    save.add(name);
                    attributes.add(AttributeChange.redacted(
                            "Environment." + name + " (user value, equal to the agent's: kept, and saved as "
                                    + SAVED_PREFIX + name + " so uninstall keeps it)",
                            true,
                            true));
                }
                continue;
            }
            if (agentOwned) {
                set.put(name, value);
                if (secret) {
                    tokenBefore = TokenHash.of(arn, current);
                } else {
                    previous.put(name, current);
                }
                attributes.add(
                        secret
                                ? AttributeChange.redacted("Environment." + name, true, true)
                                : AttributeChange.of("Environment." + name, current, value));
            } else if (forceEnvironment) {
                save.add(name);
                set.put(name, value);
                attributes.add(AttributeChange.redacted(
                        "Environment." + name + " (user value, saved as " + SAVED_PREFIX + name + ")", true, true));
            } else {
                conflicts.add(name);
            }
        }
        // The other form of the token, which an earlier install of ours set: the function keeps one.
        List<String> remove = new ArrayList<>();
        String otherForm = tokenArn == null ? TOKEN_ARN_VARIABLE : TOKEN_VARIABLE;
        String other = env.get(otherForm);
        if (other != null && (ours || env.containsKey(SAVED_PREFIX + otherForm))) {
            remove.add(otherForm);
            String hash = journalRemoval(arn, otherForm, other, previous, attributes);
            if (hash != null) {
                tokenBefore = hash;
            }
        }
        // The names of the variables this install adds, recorded so that an uninstall after our layer was removed
        // by hand removes only those (never a user variable that shares an agent name).
        List<String> added =
                set.keySet().stream().filter(n -> !env.containsKey(n)).toList();
        TreeSet<String> recorded = new TreeSet<>(installedVariables(env));
        recorded.addAll(added);
        remove.forEach(recorded::remove);
        String record = String.join(",", recorded);
        String recordBefore = env.get(INSTALLED_VARIABLES);
        if (!added.isEmpty() && !record.equals(recordBefore)) {
            set.put(INSTALLED_VARIABLES, record);
            if (recordBefore != null) {
                previous.put(INSTALLED_VARIABLES, recordBefore);
            }
            attributes.add(AttributeChange.of("Environment." + INSTALLED_VARIABLES, recordBefore, record));
        }
        if (!conflicts.isEmpty()) {
            return skip(
                    arn,
                    "the user's own value is in " + String.join(", ", conflicts) + ": remove it, or set"
                            + " forceEnvironment(true) to overwrite it (uninstall then restores it)");
        }
        Map<String, String> afterEnv = new TreeMap<>(env);
        remove.forEach(afterEnv::remove);
        save.forEach(n -> afterEnv.put(SAVED_PREFIX + n, env.get(n)));
        set.forEach((n, v) -> afterEnv.put(n, v == null ? agent.apiToken().reveal() : v));
        int size = environmentBytes(afterEnv);
        if (size > MAX_ENVIRONMENT_BYTES) {
            return skip(
                    arn,
                    "its environment would be " + size + " bytes, over Lambda's 4 KB limit: free "
                            + (size - MAX_ENVIRONMENT_BYTES) + " bytes of variables, then plan again");
        }
        if (after.equals(before) && set.isEmpty() && remove.isEmpty() && save.isEmpty()) {
            return noOp(
                    arn,
                    keptNewer == null
                            ? "the agent is installed and up to date"
                            : "the agent is installed with these settings, and its layer " + keptNewer
                                    + " is newer than the configured " + layerArn + ": kept (uninstall first to"
                                    + " install an older version)");
        }
        if (!after.equals(before)) {
            attributes.add(0, AttributeChange.of("Layers", layerList(before), layerList(after)));
        }
        FunctionState state = FunctionState.builder()
                .revisionId(config.revisionId())
                .layers(after)
                .layersBefore(before)
                .set(set)
                .remove(remove)
                .save(save)
                .previous(previous)
                .publish(publishVersion)
                .tokenBefore(tokenBefore)
                .presentBefore(FunctionState.present(env, set.keySet(), remove, save))
                .build();
        Change.Builder change = update(arn, state, attributes);
        if (config.kmsKeyArn() != null) {
            change.addWarnings("its environment is encrypted with the customer key " + config.kmsKeyArn()
                    + ": the caller also needs kms:Encrypt on that key (not in the policy below)");
        }
        if (tokenArn != null) {
            change.addWarnings("The function's role " + config.role() + " must be allowed to read " + tokenArn
                    + " (secretsmanager:GetSecretValue or ssm:GetParameter, and kms:Decrypt for a customer-managed"
                    + " key), or the extension cannot send logs.");
        }
        if (ours) {
            change.reason(reinstallReason(!after.equals(before), set.keySet(), remove, save));
        }
        return change.build();
    }

    /** @return whether {@code installed} is a later version of the same layer as {@code configured} */
    private static boolean newerVersion(String installed, String configured) {
        return Arns.layerName(installed).equals(Arns.layerName(configured))
                && Arns.layerVersion(installed) > Arns.layerVersion(configured);
    }

    /**
     * What an update of a function that already has our layer does: a new layer version, only another API token (a
     * rotation: the token, like any trace of it, stays out of the plan), or other settings.
     */
    private static String reinstallReason(
            boolean layerChanges, Set<String> set, List<String> remove, List<String> save) {
        if (layerChanges) {
            return "upgrade of the agent already installed";
        }
        boolean tokenOnly = save.isEmpty()
                && Stream.concat(set.stream(), remove.stream())
                        .allMatch(n -> n.equals(TOKEN_VARIABLE) || n.equals(TOKEN_ARN_VARIABLE));
        return tokenOnly
                ? "token rotation: only the API token of the agent already installed changes (its layer and other"
                        + " settings stay)"
                : "new settings for the agent already installed (its layer stays)";
    }

    /**
     * @param config the function as read
     * @return the uninstall's change: our layer and variables removed, saved user values restored
     */
    Change uninstall(FunctionConfiguration config) {
        String arn = FunctionPlanner.unqualified(config.functionArn());
        List<String> before = FunctionPlanner.layerArns(config);
        List<String> after = new ArrayList<>();
        before.stream().filter(l -> !ourLayerNames.contains(Arns.layerName(l))).forEach(after::add);
        if (after.size() == before.size()) {
            Map<String, String> env = FunctionPlanner.variables(config);
            if (env.containsKey(INSTALLED_VARIABLES)) {
                return uninstallRecorded(config);
            }
            List<String> agentNames = Stream.of(ENDPOINT_VARIABLE, TOKEN_VARIABLE, TOKEN_ARN_VARIABLE)
                    .filter(env::containsKey)
                    .toList();
            if (agentNames.contains(ENDPOINT_VARIABLE) && agentNames.size() > 1) {
                // An install before the record, and our layer removed by hand; or a user's own agent set-up.
                return skip(
                        arn,
                        "our layer is not on it, but the agent's variables " + String.join(", ", agentNames)
                                + " are, with no " + INSTALLED_VARIABLES + " record of which an install added (an"
                                + " install by a version before the record, whose layer was removed by hand, or the"
                                + " user's own set-up): uninstall leaves them, as they may be the user's; if an"
                                + " install added them, remove them from the function's environment by hand");
            }
            return noOp(arn, "the agent is not installed");
        }
        String blocked = blockedReason(config);
        if (blocked != null) {
            return skip(arn, blocked);
        }
        Map<String, String> env = FunctionPlanner.variables(config);
        List<String> remove = new ArrayList<>();
        List<String> restore = new ArrayList<>();
        Map<String, String> previous = new TreeMap<>();
        List<AttributeChange> attributes = new ArrayList<>();
        attributes.add(AttributeChange.of("Layers", layerList(before), layerList(after)));
        String tokenBefore = null;
        for (Map.Entry<String, String> variable : new TreeMap<>(env).entrySet()) {
            String name = variable.getKey();
            if (name.startsWith(SAVED_PREFIX)) {
                String original = name.substring(SAVED_PREFIX.length());
                restore.add(original);
                // The agent's value the restore replaces, for a rollback of this uninstall (the token by its hash).
                String agentValue = env.get(original);
                if (agentValue != null && original.equals(TOKEN_VARIABLE)) {
                    tokenBefore = TokenHash.of(arn, agentValue);
                } else if (agentValue != null) {
                    previous.put(original, agentValue);
                }
                attributes.add(
                        AttributeChange.redacted("Environment." + original + " (user value restored)", true, true));
            } else if (name.startsWith("CLOUDAEYE_") && !env.containsKey(SAVED_PREFIX + name)) {
                remove.add(name);
                String hash = journalRemoval(arn, name, variable.getValue(), previous, attributes);
                if (hash != null) {
                    tokenBefore = hash;
                }
            }
        }
        FunctionState state = FunctionState.builder()
                .revisionId(config.revisionId())
                .layers(after)
                .layersBefore(before)
                .remove(remove)
                .restore(restore)
                .previous(previous)
                .publish(publishVersion)
                .tokenBefore(tokenBefore)
                .presentBefore(FunctionState.present(env, remove, restore))
                .build();
        return update(arn, state, attributes).build();
    }

    /**
     * The uninstall of a function whose layer of ours was removed since the install: only the variables the install
     * recorded as added ({@link LambdaTarget#INSTALLED_VARIABLES}), and the record, are removed.
     */
    private Change uninstallRecorded(FunctionConfiguration config) {
        String arn = FunctionPlanner.unqualified(config.functionArn());
        String blocked = blockedReason(config);
        if (blocked != null) {
            return skip(arn, blocked);
        }
        Map<String, String> env = FunctionPlanner.variables(config);
        List<String> remove = new ArrayList<>();
        Map<String, String> previous = new TreeMap<>();
        List<AttributeChange> attributes = new ArrayList<>();
        String tokenBefore = null;
        TreeSet<String> names = new TreeSet<>(installedVariables(env));
        names.add(INSTALLED_VARIABLES);
        for (String name : names) {
            String value = env.get(name);
            if (value == null) {
                continue;
            }
            remove.add(name);
            String hash = journalRemoval(arn, name, value, previous, attributes);
            if (hash != null) {
                tokenBefore = hash;
            }
        }
        List<String> layers = FunctionPlanner.layerArns(config);
        FunctionState state = FunctionState.builder()
                .revisionId(config.revisionId())
                .layers(layers)
                .layersBefore(layers)
                .remove(remove)
                .previous(previous)
                .publish(publishVersion)
                .tokenBefore(tokenBefore)
                .presentBefore(FunctionState.present(env, remove))
                .build();
        return update(arn, state, attributes)
                .reason("our layer was removed since the install: only the variables it recorded in "
                        + INSTALLED_VARIABLES + " are removed")
                .build();
    }

    /**
     * Journals a variable the change removes, for its rollback (the token by its keyed hash only: a secret; any
     * other value as it was), and shows the removal.
     *
     * @return the token's hash when {@code name} is the token variable, else null
     */
    private static @Nullable String journalRemoval(
            String arn, String name, String value, Map<String, String> previous, List<AttributeChange> attributes) {
        if (name.equals(TOKEN_VARIABLE)) {
            attributes.add(AttributeChange.redacted("Environment." + name, true, false));
            return TokenHash.of(arn, value);
        }
        previous.put(name, value);
        attributes.add(AttributeChange.of("Environment." + name, value, null));
        return null;
    }

    /** @return the names {@link LambdaTarget#INSTALLED_VARIABLES} records in {@code env}, empty when none */
    static List<String> installedVariables(Map<String, String> env) {
        String record = env.get(INSTALLED_VARIABLES);
        if (record == null) {
            return List.of();
        }
        return Stream.of(record.split(","))
                .map(String::trim)
                .filter(n -> !n.isEmpty())
                .toList();
    }

    /** @return why a function cannot be updated now, or null */
    static @Nullable String blockedReason(FunctionConfiguration config) {
        String environmentError = FunctionPlanner.environmentError(config);
        if (environmentError != null) {
            return environmentError;
        }
        if (config.lastUpdateStatus() == LastUpdateStatus.FAILED) {
            return "its last update failed (" + config.lastUpdateStatusReason() + "): fix the function, then plan"
                    + " again";
        }
        if (config.state() == State.FAILED) {
            return "the function is in state Failed (" + config.stateReason() + "): fix it, then plan again";
        }
        return null;
    }

    static Change.Builder update(String arn, FunctionState state, List<AttributeChange> attributes) {
        Change.Builder change = Change.builder()
                .target(LambdaTarget.NAME)
                .resourceType(FunctionPlanner.RESOURCE_TYPE)
                .resourceId(arn)
                .action(ChangeAction.UPDATE)
                .attributes(attributes)
                .targetState(LambdaStates.toJson(state))
                .addPermissions(Permission.of("lambda:GetFunction", arn))
                .addPermissions(Permission.of("lambda:UpdateFunctionConfiguration", arn));
        // AWS re-authorizes every layer sent in an update, including the user's own.
        state.layers().forEach(l -> change.addPermissions(Permission.of("lambda:GetLayerVersion", l)));
        if (state.publish()) {
            change.addPermissions(Permission.of("lambda:PublishVersion", arn));
        }
        return change;
    }

    static Change skip(String arn, String reason) {
        return Change.builder()
                .target(LambdaTarget.NAME)
                .resourceType(FunctionPlanner.RESOURCE_TYPE)
                .resourceId(arn)
                .action(ChangeAction.SKIP)
                .reason(reason)
                .build();
    }

    static Change noOp(String arn, String reason) {
        return Change.builder()
                .target(LambdaTarget.NAME)
                .resourceType(FunctionPlanner.RESOURCE_TYPE)
                .resourceId(arn)
                .action(ChangeAction.NO_OP)
                .reason(reason)
                .build();
    }

    static String layerList(List<String> layers) {
        return layers.isEmpty() ? "(none)" : String.join(", ", layers);
    }

    static int environmentBytes(Map<String, String> variables) {
        return Json.compact(variables).getBytes(StandardCharsets.UTF_8).length;
    }
}
