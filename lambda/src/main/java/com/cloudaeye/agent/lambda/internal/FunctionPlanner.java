package com.cloudaeye.agent.lambda.internal;

import static com.cloudaeye.agent.lambda.LambdaTarget.ENDPOINT_VARIABLE;
import static com.cloudaeye.agent.lambda.LambdaTarget.SAVED_PREFIX;
import static com.cloudaeye.agent.lambda.LambdaTarget.TOKEN_ARN_VARIABLE;
import static com.cloudaeye.agent.lambda.LambdaTarget.TOKEN_VARIABLE;

import com.cloudaeye.agent.AgentSettings;
import com.cloudaeye.agent.AttributeChange;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.ConfigurationException;
import com.cloudaeye.agent.ManagedResources;
import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.PlanningException;
import com.cloudaeye.agent.Secret;
import com.cloudaeye.agent.lambda.LambdaTarget;
import com.cloudaeye.agent.spi.CallScheduler;
import com.cloudaeye.agent.spi.TargetContext;
import com.cloudaeye.agent.spi.TargetPlan;
import com.cloudaeye.agent.spi.support.Json;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.Architecture;
import software.amazon.awssdk.services.lambda.model.FunctionConfiguration;
import software.amazon.awssdk.services.lambda.model.GetFunctionResponse;
import software.amazon.awssdk.services.lambda.model.GetLayerVersionResponse;
import software.amazon.awssdk.services.lambda.model.LastUpdateStatus;
import software.amazon.awssdk.services.lambda.model.Layer;
import software.amazon.awssdk.services.lambda.model.ListFunctionsResponse;
import software.amazon.awssdk.services.lambda.model.PackageType;
import software.amazon.awssdk.services.lambda.model.ResourceNotFoundException;
import software.amazon.awssdk.services.lambda.model.State;

/**
 * Plans install, uninstall and rollback for the selected functions with read-only calls: a paged
 * {@code ListFunctions} (50 a page, whose configurations are enough to plan) when a glob selects, a
 * {@code GetFunction} for names given explicitly or when tags filter, and one {@code GetLayerVersion} per layer.
 */
public final class FunctionPlanner {
    /** Lambda's limit on layers per function. */
    static final int MAX_LAYERS = 5;

    /** Lambda's limit on the environment, measured as the JSON of the variables. */
    static final int MAX_ENVIRONMENT_BYTES = 4096;

    static final String RESOURCE_TYPE = "AWS::Lambda::Function";

    private final TargetContext context;
    private final LambdaClient lambda;
    private final CallScheduler scheduler;
    private final Selection selection;
    private final Map<Architecture, String> layers;
    private final boolean publishVersion;
    private final boolean forceEnvironment;
    private final @Nullable String tokenArn;
    private final PlannedFunctions planned;
    private final ServingVersions serving;
    private final EdgeFunctions edge;
    private final Set<String> ourLayerNames = new HashSet<>();
    private final Set<Permission> reads = new TreeSet<>();
    private final IacOwnership iac;

    /**
     * @param context the target context
     * @param selection which functions
     * @param layers our layer version per architecture
     * @param publishVersion publish after each update
     * @param forceEnvironment overwrite user values of our variables
     * @param tokenArn the secret or parameter holding the token, when it is passed by reference; else null
     * @param planned where the functions to update are remembered for the apply
     * @param managedResources what to do with functions that infrastructure as code owns
     * @param serving plans the versions and aliases that serve traffic after each update
     */
    public FunctionPlanner(
            TargetContext context,
            Selection selection,
            Map<Architecture, String> layers,
            boolean publishVersion,
            boolean forceEnvironment,
            @Nullable String tokenArn,
            PlannedFunctions planned,
            ServingVersions serving,
            ManagedResources managedResources) {
        this.context = context;
        this.lambda = context.client(LambdaClient.class, LambdaClient::builder);
        this.scheduler = context.scheduler();
        this.selection = selection;
        this.layers = layers;
        this.publishVersion = publishVersion;
        this.forceEnvironment = forceEnvironment;
        this.tokenArn = tokenArn;
        this.planned = planned;
        this.iac = new IacOwnership(context, managedResources, tokenArn, reads);
        this.serving = serving;
        this.edge = new EdgeFunctions(context);
        layers.values().forEach(arn -> ourLayerNames.add(Arns.layerName(arn)));
    }

    /** @return the install plan */
    public TargetPlan planInstall() {
        requireSelection();
        AgentSettings agent = context.agent();
        Map<String, GetLayerVersionResponse> layerInfo = checkLayers();
        List<CompletableFuture<Change>> pending = new ArrayList<>();
        Map<Architecture, List<String>> missingLayer = new TreeMap<>();
        forEachSelected(config -> {
            Architecture arch = architecture(config);
            if (!layers.containsKey(arch) && config.packageType() != PackageType.IMAGE) {
                missingLayer.computeIfAbsent(arch, a -> new ArrayList<>()).add(config.functionName());
                return;
            }
            pending.add(serving.plan(planInstall(config, agent, layerInfo), config));
        });
        if (!missingLayer.isEmpty()) {
            StringBuilder m = new StringBuilder("No CloudAEye layer is configured for ");
            missingLayer.forEach((arch, names) -> m.append(arch)
                    .append(" (functions ")
                    .append(String.join(", ", names.subList(0, Math.min(5, names.size()))))
                    .append(names.size() > 5 ? " and " + (names.size() - 5) + " more" : "")
                    .append(") "));
            m.append(": add .layer(Architecture.X, layerArn) for it, or exclude those functions.");
            throw new ConfigurationException(m.toString());
        }
        List<Change> changes = joinAll(pending);
        reads.addAll(edge.reads());
        List<String> notes = new ArrayList<>(edge.notes());
        List<Change> reviewed = iac.review(changes, true, notes);
        if (tokenArn == null && reviewed.stream().anyMatch(c -> c.action() == ChangeAction.UPDATE)) {
            notes.add("The API token is a plain environment value of each function: anyone allowed"
                    + " lambda:GetFunctionConfiguration can read it. Prefer LambdaTarget.builder()"
                    + ".apiTokenSecretArn(secretOrParameterArn), which the extension reads with the function's"
                    + " role.");
        }
        reads.addAll(serving.reads());
        return new TargetPlan(reviewed, List.copyOf(reads), notes);
    }

    /** @return the uninstall plan: our layer and variables removed, saved user values restored */
    public TargetPlan planUninstall() {
        requireSelection();
        List<CompletableFuture<Change>> pending = new ArrayList<>();
        forEachSelected(config -> pending.add(serving.plan(planUninstall(config), config)));
        List<Change> changes = joinAll(pending);
        reads.addAll(serving.reads());
        List<String> notes = new ArrayList<>();
        List<Change> reviewed = iac.review(changes, false, notes);
        return new TargetPlan(reviewed, List.copyOf(reads), notes);
    }

    private static List<Change> joinAll(List<CompletableFuture<Change>> pending) {
        List<Change> changes = new ArrayList<>();
        pending.forEach(f -> changes.add(CallScheduler.join(f)));
        return changes;
    }

    /**
     * @param applied changes the journal records as applied or interrupted
     * @return changes restoring each function's before-state, or skips where it changed since
     */
    public TargetPlan planRollback(List<Change> applied) {
        List<CompletableFuture<Change>> futures = new ArrayList<>();
        for (Change change : applied) {
            String arn = change.resourceId();
            reads.add(Permission.of("lambda:GetFunction", arn));
            futures.add(scheduler
                    .submit(LambdaQuotas.GET_FUNCTION, () -> lambda.getFunction(r -> r.functionName(arn)))
                    .thenApply(live -> planRollback(change, live.configuration())));
        }
        List<Change> changes = new ArrayList<>();
        futures.forEach(f -> changes.add(CallScheduler.join(f)));
        return new TargetPlan(changes, List.copyOf(reads));
    }

    private void requireSelection() {
        if (selection.explicit().isEmpty() && !selection.needsListing()) {
            throw new ConfigurationException("This Lambda target selects no function (it was made by ServiceLoader"
                    + " for applying saved plans): build one with LambdaTarget.builder().functions(...) to plan.");
        }
        String region = context.region().id();
        layers.forEach((arch, arn) -> {
            if (!Arns.region(arn).equals(region)) {
                throw new ConfigurationException("The " + arch + " layer " + arn + " is in region "
                        + Arns.region(arn) + " but the functions are in " + region
                        + ": Lambda needs a layer from the function's own region.");
            }
        });
        for (String n : selection.explicit()) {
            if (n.startsWith("arn:") && !Arns.region(n).equals(region)) {
                throw new ConfigurationException("Function " + n + " is in region " + Arns.region(n)
                        + " but the installer is for " + region + ": use one installer per region.");
            }
        }
    }

    /** One GetLayerVersion per distinct layer: it must exist and be built for its architecture. */
    private Map<String, GetLayerVersionResponse> checkLayers() {
        Map<String, GetLayerVersionResponse> info = new HashMap<>();
        for (Map.Entry<Architecture, String> e : layers.entrySet()) {
            String arn = e.getValue();
            GetLayerVersionResponse layer = info.get(arn);
            if (layer == null) {
                reads.add(Permission.of("lambda:GetLayerVersion", arn));
                try {
                    layer = scheduler.call(
                            LambdaQuotas.CONTROL_PLANE,
                            () -> lambda.getLayerVersion(
                                    r -> r.layerName(Arns.layerName(arn)).versionNumber(Arns.layerVersion(arn))));
                } catch (ResourceNotFoundException notFound) {
                    throw new PlanningException(
                            "The " + e.getKey() + " layer " + arn + " does not exist (or the"
                                    + " caller may not read it): check the layer ARN and version, and that its policy allows"
                                    + " this account.",
                            notFound);
                }
                info.put(arn, layer);
            }
            List<Architecture> compatible = layer.compatibleArchitectures();
            if (!compatible.isEmpty() && !compatible.contains(e.getKey())) {
                throw new ConfigurationException("The layer " + arn + " is built for " + compatible + ", not "
                        + e.getKey() + ": pass the " + e.getKey() + " build of the CloudAEye layer.");
            }
        }
        return info;
    }

    /** Calls the consumer once per selected function, paging through ListFunctions when a glob selects. */
    private void forEachSelected(Consumer<FunctionConfiguration> consumer) {
        Set<String> seen = new HashSet<>();
        boolean[] any = {false};
        Consumer<FunctionConfiguration> accept = config -> {
            if (seen.add(config.functionArn())) {
                any[0] = true;
                consumer.accept(config);
            }
        };
        if (selection.needsListing()) {
            reads.add(Permission.of("lambda:ListFunctions", "*")); // AWS does not scope ListFunctions by resource
            String marker = null;
            do {
                String page = marker;
                ListFunctionsResponse response = scheduler.call(
                        LambdaQuotas.CONTROL_PLANE,
                        () -> lambda.listFunctions(r -> r.maxItems(50).marker(page)));
                List<FunctionConfiguration> selected = new ArrayList<>();
                for (FunctionConfiguration f : response.functions()) {
                    if (selection.matches(f.functionName(), unqualified(f.functionArn()))) {
                        selected.add(f);
                    }
                }
                filterByTags(selected).forEach(accept);
                marker = response.nextMarker();
            } while (marker != null && !marker.isEmpty());
        }
        List<CompletableFuture<GetFunctionResponse>> explicit = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (String n : selection.explicit()) {
            String name = n.startsWith("arn:") ? n.substring(n.lastIndexOf(':') + 1) : n;
            if (selection.excluded(name) || seenName(seen, name)) {
                continue;
            }
            names.add(n);
            explicit.add(scheduler.submit(LambdaQuotas.GET_FUNCTION, () -> lambda.getFunction(r -> r.functionName(n))));
        }
        for (int i = 0; i < explicit.size(); i++) {
            GetFunctionResponse response;
            try {
                response = CallScheduler.join(explicit.get(i));
            } catch (ResourceNotFoundException e) {
                throw new PlanningException(
                        "Function " + names.get(i) + " does not exist in "
                                + context.region().id() + ": check the name and the region, or remove it from"
                                + " .functions(...).",
                        e);
            }
            FunctionConfiguration config = response.configuration();
            reads.add(Permission.of("lambda:GetFunction", unqualified(config.functionArn())));
            iac.known(unqualified(config.functionArn()), response.tags());
            if (tagsMatch(response.tags())) {
                accept.accept(config);
            }
        }
        if (!any[0]) {
            throw new PlanningException(
                    "No Lambda function in " + context.region().id() + " matches " + selection
                            + ": check the names, globs, excludes and tags (and the region).");
        }
    }

    private static boolean seenName(Set<String> seenArns, String name) {
        return seenArns.stream().anyMatch(arn -> arn.endsWith(":function:" + name));
    }

    private List<FunctionConfiguration> filterByTags(List<FunctionConfiguration> candidates) {
        if (selection.tags().isEmpty()) {
            return candidates;
        }
        List<CompletableFuture<GetFunctionResponse>> futures = new ArrayList<>();
        for (FunctionConfiguration f : candidates) {
            reads.add(Permission.of("lambda:GetFunction", unqualified(f.functionArn())));
            futures.add(scheduler.submit(
                    LambdaQuotas.GET_FUNCTION, () -> lambda.getFunction(r -> r.functionName(f.functionArn()))));
        }
        List<FunctionConfiguration> kept = new ArrayList<>();
        for (int i = 0; i < futures.size(); i++) {
            Map<String, String> tags = CallScheduler.join(futures.get(i)).tags();
            iac.known(unqualified(candidates.get(i).functionArn()), tags);
            if (tagsMatch(tags)) {
                kept.add(candidates.get(i));
            }
        }
        return kept;
    }

    private boolean tagsMatch(@Nullable Map<String, String> tags) {
        Map<String, String> actual = tags == null ? Map.of() : tags;
        return selection.tags().entrySet().stream().allMatch(t -> t.getValue().equals(actual.get(t.getKey())));
    }

    private Change planInstall(
            FunctionConfiguration config, AgentSettings agent, Map<String, GetLayerVersionResponse> layerInfo) {
        String arn = unqualified(config.functionArn());
        if (config.packageType() == PackageType.IMAGE) {
            return skip(arn, "image-package functions take no layers: add the CloudAEye extension to the image");
        }
        String unsupported = Runtimes.unsupportedReason(config.runtimeAsString());
        if (unsupported == null) {
            unsupported = edge.reason(arn);
        }
        if (unsupported != null) {
            return skip(arn, unsupported);
        }
        String blocked = blockedReason(config);
        if (blocked != null) {
            return skip(arn, blocked);
        }
        Architecture arch = architecture(config);
        String layerArn = layers.get(arch);
        // checkLayers described every configured layer, and planInstall() set aside functions without one.
        List<String> compatibleRuntimes =
                Objects.requireNonNull(layerInfo.get(layerArn), layerArn).compatibleRuntimesAsStrings();
        if (!compatibleRuntimes.isEmpty()
                && config.runtimeAsString() != null
                && !compatibleRuntimes.contains(config.runtimeAsString())) {
            return skip(
                    arn,
                    "runtime " + config.runtimeAsString() + " is not among the layer's compatible runtimes "
                            + compatibleRuntimes);
        }
        List<String> before = layerArns(config);
        List<String> after = new ArrayList<>();
        boolean ours = false;
        for (String l : before) {
            if (ourLayerNames.contains(Arns.layerName(l))) {
                if (!ours) {
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

        Map<String, String> env = variables(config);
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
            if (otherForm.equals(TOKEN_VARIABLE)) {
                tokenBefore = TokenHash.of(arn, other);
                attributes.add(AttributeChange.redacted("Environment." + otherForm, true, false));
            } else {
                previous.put(otherForm, other);
                attributes.add(AttributeChange.of("Environment." + otherForm, other, null));
            }
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
            return noOp(arn, "the agent is installed and up to date");
        }
        if (!after.equals(before)) {
            attributes.add(0, AttributeChange.of("Layers", layerList(before), layerList(after)));
        }
        FunctionState state = new FunctionState(
                config.revisionId(),
                after,
                before,
                set,
                remove,
                save,
                List.of(),
                previous,
                publishVersion,
                tokenBefore,
                FunctionState.present(env, set.keySet(), remove, save));
        planned.remember(arn, config);
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
            change.reason("upgrade of the agent already installed");
        }
        return change.build();
    }

    private Change planUninstall(FunctionConfiguration config) {
        String arn = unqualified(config.functionArn());
        List<String> before = layerArns(config);
        List<String> after = new ArrayList<>();
        before.stream().filter(l -> !ourLayerNames.contains(Arns.layerName(l))).forEach(after::add);
        if (after.size() == before.size()) {
            return noOp(arn, "the agent is not installed");
        }
        String blocked = blockedReason(config);
        if (blocked != null) {
            return skip(arn, blocked);
        }
        Map<String, String> env = variables(config);
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
                attributes.add(
                        AttributeChange.redacted("Environment." + original + " (user value restored)", true, true));
            } else if (name.startsWith("CLOUDAEYE_") && !env.containsKey(SAVED_PREFIX + name)) {
                remove.add(name);
                if (name.equals(TOKEN_VARIABLE)) {
                    tokenBefore = TokenHash.of(arn, variable.getValue());
                } else {
                    previous.put(name, variable.getValue());
                }
                attributes.add(
                        name.equals(TOKEN_VARIABLE)
                                ? AttributeChange.redacted("Environment." + name, true, false)
                                : AttributeChange.of("Environment." + name, env.get(name), null));
            }
        }
        FunctionState state = new FunctionState(
                config.revisionId(),
                after,
                before,
                Map.of(),
                remove,
                List.of(),
                restore,
                previous,
                publishVersion,
                tokenBefore,
                FunctionState.present(env, remove, restore));
        planned.remember(arn, config);
        return update(arn, state, attributes).build();
    }

    private Change planRollback(Change applied, FunctionConfiguration live) {
        String arn = applied.resourceId();
        FunctionState done = FunctionState.fromJson(applied.targetState());
        if (done.keepsConfiguration()) {
            return noOp(arn, "the apply changed only where aliases point"); // AliasRollback moves them back
        }
        List<String> liveLayers = layerArns(live);
        Map<String, String> env = variables(live);
        boolean asApplied = liveLayers.equals(done.layers())
                && done.remove().stream().noneMatch(env::containsKey)
                && done.set().entrySet().stream()
                        .allMatch(v -> env.containsKey(v.getKey())
                                && (v.getValue() == null || v.getValue().equals(env.get(v.getKey()))));
        if (!asApplied) {
            boolean asBefore = liveLayers.equals(done.layersBefore())
                    && done.set().keySet().stream()
                            .filter(n -> !done.previous().containsKey(n)
                                    && !(n.equals(TOKEN_VARIABLE) && done.tokenBefore() != null))
                            .noneMatch(n -> env.containsKey(n) && !done.save().contains(n));
            return asBefore
                    ? noOp(arn, "already as it was before the apply")
                    : skip(
                            arn,
                            "it changed since the apply (its layers or the agent's variables differ from what"
                                    + " was applied): restore it by hand, or plan an uninstall");
        }
        String blocked = blockedReason(live);
        if (blocked != null) {
            return skip(arn, blocked);
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
                tokenLost |= !restoreToken(arn, done.tokenBefore(), set);
            } else if (n.equals(TOKEN_VARIABLE) && oursBefore) {
                // A journal from before tokenBefore was recorded.
                warnings.add("the earlier " + TOKEN_VARIABLE + " is not journaled (a secret): the current one stays");
            } else {
                remove.add(n);
            }
        }
        restore.addAll(done.save());
        for (String n : done.remove()) {
            if (done.previous().containsKey(n)) {
                set.put(n, done.previous().get(n));
            } else if (n.equals(TOKEN_VARIABLE) && done.tokenBefore() != null) {
                tokenLost |= !restoreToken(arn, done.tokenBefore(), set);
            } else if (n.equals(TOKEN_VARIABLE)) {
                warnings.add(TOKEN_VARIABLE + " was removed and is not journaled (a secret): plan an install to"
                        + " set it again");
            }
        }
        if (tokenLost) {
            return skip(
                    arn,
                    "the apply replaced or removed its earlier " + TOKEN_VARIABLE + ", which is not journaled (a"
                            + " secret), and the agent settings do not hold it: roll back with that token in"
                            + " .agent(a -> a.apiToken(...)) to restore the function exactly, or plan an uninstall");
        }
        List<AttributeChange> attributes = new ArrayList<>();
        attributes.add(AttributeChange.of("Layers", layerList(liveLayers), layerList(done.layersBefore())));
        set.forEach((n, v) -> attributes.add(
                v == null
                        ? AttributeChange.redacted("Environment." + n + " (the earlier token)", true, true)
                        : AttributeChange.of("Environment." + n, env.get(n), v)));
        remove.forEach(n -> attributes.add(
                n.equals(TOKEN_VARIABLE)
                        ? AttributeChange.redacted("Environment." + n, true, false)
                        : AttributeChange.of("Environment." + n, env.get(n), null)));
        restore.forEach(n ->
                attributes.add(AttributeChange.redacted("Environment." + n + " (user value restored)", true, true)));
        FunctionState state = new FunctionState(
                live.revisionId(),
                done.layersBefore(),
                liveLayers,
                set,
                remove,
                List.of(),
                restore,
                Map.of(),
                false,
                null,
                FunctionState.present(env, set.keySet(), remove, restore));
        planned.remember(arn, live);
        return update(arn, state, attributes).addAllWarnings(warnings).build();
    }

    /**
     * Puts the token back when the caller's agent settings hold the one the apply replaced.
     *
     * @return false when they do not (or there are none)
     */
    private boolean restoreToken(String arn, String tokenBefore, Map<String, @Nullable String> set) {
        Secret token;
        try {
            token = context.agent().apiToken();
        } catch (ConfigurationException noAgentSettings) {
            return false;
        }
        if (!TokenHash.matches(tokenBefore, arn, token.reveal())) {
            return false;
        }
        set.put(TOKEN_VARIABLE, null); // null: the token from the agent settings, which is the earlier one
        return true;
    }

    /** @return why a function cannot be updated now, or null */
    private static @Nullable String blockedReason(FunctionConfiguration config) {
        if (config.lastUpdateStatus() == LastUpdateStatus.FAILED) {
            return "its last update failed (" + config.lastUpdateStatusReason() + "): fix the function, then plan"
                    + " again";
        }
        if (config.state() == State.FAILED) {
            return "the function is in state Failed (" + config.stateReason() + "): fix it, then plan again";
        }
        return null;
    }

    private Change.Builder update(String arn, FunctionState state, List<AttributeChange> attributes) {
        Change.Builder change = Change.builder()
                .target(LambdaTarget.NAME)
                .resourceType(RESOURCE_TYPE)
                .resourceId(arn)
                .action(ChangeAction.UPDATE)
                .attributes(attributes)
                .targetState(state.toJson())
                .addPermissions(Permission.of("lambda:GetFunction", arn))
                .addPermissions(Permission.of("lambda:UpdateFunctionConfiguration", arn));
        // AWS re-authorizes every layer sent in an update, including the user's own.
        state.layers().forEach(l -> change.addPermissions(Permission.of("lambda:GetLayerVersion", l)));
        if (state.publish()) {
            change.addPermissions(Permission.of("lambda:PublishVersion", arn));
        }
        return change;
    }

    private static Change skip(String arn, String reason) {
        return Change.builder()
                .target(LambdaTarget.NAME)
                .resourceType(RESOURCE_TYPE)
                .resourceId(arn)
                .action(ChangeAction.SKIP)
                .reason(reason)
                .build();
    }

    private static Change noOp(String arn, String reason) {
        return Change.builder()
                .target(LambdaTarget.NAME)
                .resourceType(RESOURCE_TYPE)
                .resourceId(arn)
                .action(ChangeAction.NO_OP)
                .reason(reason)
                .build();
    }

    private static String layerList(List<String> layers) {
        return layers.isEmpty() ? "(none)" : String.join(", ", layers);
    }

    static Architecture architecture(FunctionConfiguration config) {
        return config.architectures().isEmpty()
                ? Architecture.X86_64
                : config.architectures().get(0);
    }

    static List<String> layerArns(FunctionConfiguration config) {
        List<String> arns = new ArrayList<>();
        for (Layer l : config.layers()) {
            arns.add(l.arn());
        }
        return arns;
    }

    static Map<String, String> variables(FunctionConfiguration config) {
        if (config.environment() == null || config.environment().variables() == null) {
            return Map.of();
        }
        return config.environment().variables();
    }

    /** @return the function ARN without a version or alias qualifier */
    static String unqualified(String arn) {
        String[] parts = arn.split(":");
        return parts.length > 7 ? String.join(":", java.util.Arrays.copyOf(parts, 7)) : arn;
    }

    static int environmentBytes(Map<String, String> variables) {
        return Json.compact(variables).getBytes(StandardCharsets.UTF_8).length;
    }
}
