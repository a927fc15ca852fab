package com.cloudaeye.agent.lambda.internal;

import com.cloudaeye.agent.AgentSettings;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.ConfigurationException;
import com.cloudaeye.agent.ManagedResources;
import com.cloudaeye.agent.NothingSelectedException;
import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.PlanningException;
import com.cloudaeye.agent.spi.CallScheduler;
import com.cloudaeye.agent.spi.FleetScope;
import com.cloudaeye.agent.spi.TargetContext;
import com.cloudaeye.agent.spi.TargetPlan;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.Architecture;
import software.amazon.awssdk.services.lambda.model.EnvironmentError;
import software.amazon.awssdk.services.lambda.model.EnvironmentResponse;
import software.amazon.awssdk.services.lambda.model.FunctionConfiguration;
import software.amazon.awssdk.services.lambda.model.FunctionVersion;
import software.amazon.awssdk.services.lambda.model.GetFunctionResponse;
import software.amazon.awssdk.services.lambda.model.GetLayerVersionResponse;
import software.amazon.awssdk.services.lambda.model.Layer;
import software.amazon.awssdk.services.lambda.model.ListFunctionsResponse;
import software.amazon.awssdk.services.lambda.model.PackageType;
import software.amazon.awssdk.services.lambda.model.ResourceNotFoundException;

/**
 * Plans install and uninstall for the selected functions with read-only calls: a paged
 * {@code ListFunctions} (50 a page, whose configurations are enough to plan) when a glob selects, a
 * {@code GetFunction} for names given explicitly or when tags filter, and one {@code GetLayerVersion} per layer. The
 * listing includes every published version while that costs fewer calls than it saves ({@link PublishedVersions}):
 * only a function with a published version has aliases worth listing.
 */
public final class FunctionPlanner {
    static final String RESOURCE_TYPE = "AWS::Lambda::Function";
    private static final String LATEST = "$LATEST";

    private final TargetContext context;
    private final LambdaClient lambda;
    private final CallScheduler scheduler;
    /** The target's selection, less the ARNs another member of the fleet plans ({@link #requireSelection}). */
    private Selection selection;

    private final Map<Architecture, String> layers;
    private final @Nullable String tokenArn;
    private final PlannedFunctions planned;
    private final ServingVersions serving;
    private final EdgeFunctions edge;
    private final FunctionDiff diff;
    private final Set<Permission> reads = new TreeSet<>();
    private final IacOwnership iac;
    private final PublishedVersions published = new PublishedVersions();

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
        this.tokenArn = tokenArn;
        this.planned = planned;
        this.iac = new IacOwnership(context, managedResources, tokenArn, reads);
        this.serving = serving;
        this.edge = new EdgeFunctions(context);
        Set<String> ourLayerNames = new HashSet<>();
        layers.values().forEach(arn -> ourLayerNames.add(Arns.layerName(arn)));
        this.diff = new FunctionDiff(layers, ourLayerNames, publishVersion, forceEnvironment, tokenArn);
    }

    /** @return the install plan */
    public TargetPlan planInstall() {
        requireSelection();
        AgentSettings agent = context.agent();
        // The first page of functions is asked for beside the layers' check: neither waits for the other's round trip
        // (its answer is dropped when a layer fails the check).
        @Nullable
        CompletableFuture<ListFunctionsResponse> firstPage = selection.needsListing() ? listPage(null, true) : null;
        Map<String, GetLayerVersionResponse> layerInfo = checkLayers();
        List<CompletableFuture<Change>> pending = new ArrayList<>();
        Map<Architecture, List<String>> missingLayer = new TreeMap<>();
        forEachSelected(firstPage, config -> {
            Architecture arch = architecture(config);
            if (!layers.containsKey(arch) && config.packageType() != PackageType.IMAGE) {
                missingLayer.computeIfAbsent(arch, a -> new ArrayList<>()).add(config.functionName());
                return;
            }
            pending.add(planned(planInstall(config, agent, layerInfo), config));
        });
        if (!missingLayer.isEmpty()) {
            List<String> where = new ArrayList<>();
            List<String> fixes = new ArrayList<>();
            missingLayer.forEach((arch, names) -> {
                where.add(arch + " (functions " + String.join(", ", names.subList(0, Math.min(5, names.size())))
                        + (names.size() > 5 ? " and " + (names.size() - 5) + " more" : "") + ")");
                fixes.add(".layer(Architecture." + arch.name() + ", layerArn)"); // the constant the user writes
            });
            throw new ConfigurationException("No CloudAEye layer is configured for " + String.join(" or ", where)
                    + ": add " + String.join(" and ", fixes) + (fixes.size() == 1 ? " for it" : " for them")
                    + ", or exclude those functions.");
        }
        List<Change> changes = withoutBlocked(withoutEdgeFunctions(joinAll(pending)));
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
        forEachSelected(null, config -> pending.add(planned(planUninstall(config), config)));
        List<Change> changes = withoutBlocked(joinAll(pending));
        reads.addAll(serving.reads());
        List<String> notes = new ArrayList<>();
        List<Change> reviewed = iac.review(changes, false, notes);
        return new TargetPlan(reviewed, List.copyOf(reads), notes);
    }

    /**
     * Starts the reads a planned change needs, each in its own quota and none waiting for another: the aliases of an
     * update (the shared bucket) and its tags (GetFunction's own), which the owner review joins at the end.
     */
    private CompletableFuture<Change> planned(Change change, FunctionConfiguration config) {
        iac.readFor(change);
        return serving.plan(change, config, published.of(change.resourceId()));
    }

    /** @return the changes, each update of a Lambda@Edge function skipped with the reason (and not applied) */
    private List<Change> withoutEdgeFunctions(List<Change> changes) {
        List<Change> checked = new ArrayList<>(changes.size());
        for (Change change : changes) {
            String edgeReason = change.action() == ChangeAction.UPDATE ? edge.reason(change.resourceId()) : null;
            if (edgeReason != null) {
                planned.forget(change.resourceId());
                checked.add(FunctionDiff.skip(change.resourceId(), edgeReason));
            } else {
                checked.add(change);
            }
        }
        return checked;
    }

    /**
     * The diff skips a function whose last update failed, or in state Failed ({@link FunctionDiff#blockedReason}), but
     * AWS's ListFunctions returns neither field: only GetFunction does. Every function the plan updates is read with
     * GetFunction anyway (its tags, for the owner review), so that read's configuration decides, at no extra call.
     *
     * @return the changes, each update of such a function skipped with the reason (and not applied)
     */
    private List<Change> withoutBlocked(List<Change> changes) {
        List<Change> checked = new ArrayList<>(changes.size());
        for (Change change : changes) {
            FunctionConfiguration read =
                    change.action() == ChangeAction.UPDATE ? iac.configuration(change.resourceId()) : null;
            String blocked = read == null ? null : FunctionDiff.blockedReason(read);
            if (blocked != null) {
                planned.forget(change.resourceId());
                checked.add(FunctionDiff.skip(change.resourceId(), blocked));
            } else {
                checked.add(change);
            }
        }
        return checked;
    }

    private static List<Change> joinAll(List<CompletableFuture<Change>> pending) {
        List<Change> changes = new ArrayList<>();
        pending.forEach(f -> changes.add(CallScheduler.join(f)));
        return changes;
    }

    private void requireSelection() {
        String region = context.region().id();
        layers.forEach((arch, arn) -> {
            if (!Arns.region(arn).equals(region)) {
                throw new ConfigurationException("The " + arch + " layer " + arn + " is in region "
                        + Arns.region(arn) + " but the functions are in " + region
                        + ": Lambda needs a layer from the function's own region.");
            }
        });
        Optional<FleetScope> fleet = context.fleet();
        List<String> otherMembers = new ArrayList<>();
        for (String n : selection.explicit()) {
            if (n.startsWith("arn:") && !Arns.region(n).equals(region)) {
                if (fleet.isPresent()) {
                    otherMembers.add(fleet.get().requireCovers("Function", n));
                } else {
                    throw new ConfigurationException("Function " + n + " is in region " + Arns.region(n)
                            + " but the installer is for " + region + ": use one installer per region.");
                }
            }
        }
        requireThisAccount(fleet, otherMembers);
        if (!otherMembers.isEmpty()) {
            selection = selection.without(otherMembers);
            if (selection.explicit().isEmpty() && !selection.needsListing()) {
                // Before any call: the fleet notes this account-region as nothing to do.
                List<String> where = new ArrayList<>();
                otherMembers.forEach(
                        arn -> where.add(arn + " (account " + Arns.account(arn) + ", " + Arns.region(arn) + ")"));
                throw new NothingSelectedException("Every function the Lambda target names is in another account or"
                        + " region of the fleet, which plans it there: " + String.join(", ", where) + ". Nothing to"
                        + " plan in account " + context.accountId().orElse("?") + ", " + region + ".");
            }
        }
    }

    /**
     * Refuses a function ARN of another account than the credentials', before any Lambda call: AWS lets no other
     * account update a function's configuration (a function policy may share reads, never that), so planning would
     * end in an access error naming neither the cause nor the fix. The layers are not checked: CloudAEye publishes
     * them from its own account, and a layer's policy shares it. Asks for the account only when an ARN is given. In a
     * fleet, an ARN of another account the fleet covers is left to that account's member
     * ({@link FleetScope#requireCovers}).
     *
     * @param fleet the fleet this installer is a member of, if any
     * @param otherMembers collects the ARNs another member of the fleet plans
     */
    private void requireThisAccount(Optional<FleetScope> fleet, List<String> otherMembers) {
        List<String> arns = selection.explicit().stream()
                .filter(n -> n.startsWith("arn:") && !otherMembers.contains(n))
                .toList();
        if (arns.isEmpty()) {
            return;
        }
        context.accountId().ifPresent(account -> {
            Map<String, List<String>> elsewhere = new TreeMap<>();
            arns.stream()
                    .filter(arn -> !Arns.account(arn).equals(account))
                    .forEach(arn -> elsewhere
                            .computeIfAbsent(Arns.account(arn), a -> new ArrayList<>())
                            .add(arn));
            if (fleet.isPresent()) {
                elsewhere
                        .values()
                        .forEach(functions -> functions.forEach(
                                arn -> otherMembers.add(fleet.get().requireCovers("Function", arn))));
                return;
            }
            if (elsewhere.isEmpty()) {
                return;
            }
            List<String> where = new ArrayList<>();
            elsewhere.forEach((other, functions) -> where.add(functions + " of account " + other));
            String others = String.join(", ", elsewhere.keySet());
            String why = "The Lambda target names functions " + String.join(" and ", where) + ", but the"
                    + " credentials act in account " + account + ": AWS lets no other account change a function."
                    + " Plan them with credentials of account " + others + " (a profile or role there), or with a"
                    + " FleetInstaller given .accounts(\"" + String.join("\", \"", elsewhere.keySet()) + "\"), and"
                    + " pass only functions of account " + account + " to this installer. Nothing was changed.";
            int count = elsewhere.values().stream().mapToInt(List::size).sum();
            // Only such ARNs: nothing of the selection can be in this account, which a fleet plans as nothing to do.
            throw count == selection.explicit().size() && !selection.needsListing()
                    ? new NothingSelectedException(why)
                    : new ConfigurationException(why);
        });
    }

    /**
     * One GetLayerVersion per distinct layer, side by side: each must exist and be built for its architecture.
     */
    private Map<String, GetLayerVersionResponse> checkLayers() {
        Map<String, CompletableFuture<GetLayerVersionResponse>> reading = new HashMap<>();
        for (String arn : layers.values()) {
            reading.computeIfAbsent(arn, a -> {
                reads.add(Permission.of("lambda:GetLayerVersion", a));
                return scheduler.submit(
                        LambdaQuotas.CONTROL_PLANE,
                        () -> lambda.getLayerVersion(
                                r -> r.layerName(Arns.layerName(a)).versionNumber(Arns.layerVersion(a))));
            });
        }
        Map<String, GetLayerVersionResponse> info = new HashMap<>();
        for (Map.Entry<Architecture, String> e : layers.entrySet()) {
            String arn = e.getValue();
            GetLayerVersionResponse layer;
            try {
                layer = CallScheduler.join(Objects.requireNonNull(reading.get(arn), arn));
            } catch (ResourceNotFoundException notFound) {
                throw new PlanningException(
                        "The " + e.getKey() + " layer " + arn + " does not exist (or the"
                                + " caller may not read it): check the layer ARN and version, and that its policy allows"
                                + " this account.",
                        notFound);
            }
            info.put(arn, layer);
            planned.rememberLayer(arn, layer);
            List<Architecture> compatible = layer.compatibleArchitectures();
            if (!compatible.isEmpty() && !compatible.contains(e.getKey())) {
                throw new ConfigurationException("The layer " + arn + " is built for " + compatible + ", not "
                        + e.getKey() + ": pass the " + e.getKey() + " build of the CloudAEye layer.");
            }
        }
        return info;
    }

    /**
     * Calls the consumer once per selected function, paging through ListFunctions when a glob selects.
     *
     * @param firstPage the first ListFunctions page (of every version) when already asked for, else null
     */
    private void forEachSelected(
            @Nullable CompletableFuture<ListFunctionsResponse> firstPage, Consumer<FunctionConfiguration> consumer) {
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
            Set<String> listed = new HashSet<>();
            boolean allVersions = true;
            CompletableFuture<ListFunctionsResponse> next = firstPage != null ? firstPage : listPage(null, true);
            while (next != null) {
                ListFunctionsResponse response = CallScheduler.join(next);
                List<FunctionConfiguration> latest = new ArrayList<>();
                List<String> versions = new ArrayList<>();
                for (FunctionConfiguration f : response.functions()) {
                    if (f.version() == null || LATEST.equals(f.version())) {
                        // Listed with every version, $LATEST's ARN carries the qualifier: plans name the function.
                        latest.add(f.toBuilder()
                                .functionArn(unqualified(f.functionArn()))
                                .build());
                    } else {
                        versions.add(unqualified(f.functionArn()));
                    }
                }
                if (allVersions) {
                    published.page(
                            latest.stream()
                                    .map(FunctionConfiguration::functionArn)
                                    .toList(),
                            versions);
                }
                // The next page is asked for before this page's functions queue their reads in the same bucket:
                // asked after them, it would wait for all of them, and the bucket would stand idle for its round trip.
                String marker = response.nextMarker();
                boolean more = marker != null && !marker.isEmpty();
                if (allVersions && more && !published.worthListing()) {
                    // The versions cost more pages than the alias reads they save: list the functions alone, again
                    // from the start (a listing's marker does not carry over), and list every function's aliases.
                    allVersions = false;
                    published.givenUp();
                    next = listPage(null, false);
                } else {
                    next = more ? listPage(marker, allVersions) : null;
                }
                List<FunctionConfiguration> selected = new ArrayList<>();
                for (FunctionConfiguration f : latest) {
                    listed.add(f.functionArn());
                    if (selection.matches(f.functionName(), f.functionArn())) {
                        selected.add(f);
                    }
                }
                filterByTags(selected).forEach(accept);
            }
            published.listingEnded();
            planned.listed(listed.size());
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
            iac.known(unqualified(config.functionArn()), response);
            if (tagsMatch(response.tags())) {
                accept.accept(config);
            }
        }
        if (!any[0]) {
            throw new NothingSelectedException(
                    "No Lambda function in " + context.region().id() + " matches " + selection
                            + ": check the names, globs, excludes and tags (and the region).");
        }
    }

    /** @param allVersions list every published version too, not just each function's {@code $LATEST} */
    private CompletableFuture<ListFunctionsResponse> listPage(@Nullable String marker, boolean allVersions) {
        return scheduler.submit(
                LambdaQuotas.CONTROL_PLANE,
                () -> lambda.listFunctions(
                        r -> r.maxItems(50).marker(marker).functionVersion(allVersions ? FunctionVersion.ALL : null)));
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
            GetFunctionResponse read = CallScheduler.join(futures.get(i));
            iac.known(unqualified(candidates.get(i).functionArn()), read);
            if (tagsMatch(read.tags())) {
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
            return FunctionDiff.skip(
                    arn, "image-package functions take no layers: add the CloudAEye extension to the image");
        }
        String unsupported = Runtimes.unsupportedReason(config.runtimeAsString());
        if (unsupported != null) {
            return FunctionDiff.skip(arn, unsupported);
        }
        String layerArn = layers.get(architecture(config));
        // checkLayers described every configured layer, and planInstall() set aside functions without one.
        List<String> compatibleRuntimes =
                Objects.requireNonNull(layerInfo.get(layerArn), layerArn).compatibleRuntimesAsStrings();
        Change change = diff.install(config, agent, compatibleRuntimes);
        // Only an update can break an Edge function: a plan that changes nothing reads (and loads) no CloudFront. The
        // read goes beside the functions' own; withoutEdgeFunctions() checks its answer once they are done.
        if (change.action() == ChangeAction.UPDATE) {
            edge.startReading();
        }
        return remembered(change, config);
    }

    private Change planUninstall(FunctionConfiguration config) {
        return remembered(diff.uninstall(config), config);
    }

    /** @return the change; an update's function is remembered for the apply */
    private Change remembered(Change change, FunctionConfiguration config) {
        if (change.action() == ChangeAction.UPDATE) {
            planned.remember(change.resourceId(), config);
        }
        return change;
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

    /**
     * @return the function's variables; empty when it has none, and also when Lambda could not read them ({@link
     *     #environmentError}), which every caller that writes the environment back must check first
     */
    static Map<String, String> variables(FunctionConfiguration config) {
        if (config.environment() == null || config.environment().variables() == null) {
            return Map.of();
        }
        return config.environment().variables();
    }

    /**
     * Why the function's variables cannot be known, or null. When the caller may not decrypt them (no kms:Decrypt on
     * the function's customer-managed key), GetFunction, GetFunctionConfiguration and ListFunctions answer {@code
     * Environment.Error} (ErrorCode, Message) and no {@code Variables} (Lambda API reference: EnvironmentResponse holds
     * the variables, or the error when they could not be read, EnvironmentError
     * https://docs.aws.amazon.com/lambda/latest/api/API_EnvironmentError.html). An environment
     * computed from that would hold only the agent's variables and wipe the user's, so such a function is never
     * updated.
     *
     * @param config the function as read
     * @return the reason, naming the function, Lambda's error and the fix; or null when its variables were read
     */
    static @Nullable String environmentError(FunctionConfiguration config) {
        EnvironmentResponse environment = config.environment();
        EnvironmentError error = environment == null ? null : environment.error();
        if (error == null) {
            return null;
        }
        String name = config.functionName() != null ? config.functionName() : config.functionArn();
        String key =
                config.kmsKeyArn() == null ? "its KMS key" : "the key in its KMSKeyArn, " + config.kmsKeyArn() + ",";
        return "Lambda returned no environment variables of function " + name + ", only the error "
                + error.errorCode() + " (" + error.message() + "): updating it would wipe its variables, so it is"
                + " left as it is. Grant the caller kms:Decrypt on " + key + " or exclude the function, then plan"
                + " again";
    }

    /** @return the function ARN without a version or alias qualifier */
    static String unqualified(String arn) {
        String[] parts = arn.split(":");
        return parts.length > 7 ? String.join(":", java.util.Arrays.copyOf(parts, 7)) : arn;
    }
}
