package com.cloudaeye.agent.lambda.internal;

import com.cloudaeye.agent.AttributeChange;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.spi.CallScheduler;
import com.cloudaeye.agent.spi.TargetContext;
import com.cloudaeye.agent.spi.support.AwsFailures;
import com.cloudaeye.agent.spi.support.Globs;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.AliasConfiguration;
import software.amazon.awssdk.services.lambda.model.FunctionConfiguration;
import software.amazon.awssdk.services.lambda.model.ListAliasesResponse;
import software.amazon.awssdk.services.lambda.model.ListProvisionedConcurrencyConfigsResponse;
import software.amazon.awssdk.services.lambda.model.ProvisionedConcurrencyConfigListItem;
import software.amazon.awssdk.services.lambda.model.SnapStartApplyOn;

/**
 * Plans what serves traffic after an update: updating {@code $LATEST} changes neither a published version nor the
 * aliases that point at one. For each function the change updates that may have a published version (a function
 * without one has no alias serving anything but {@code $LATEST}), it lists the aliases ({@code ListAliases}) and
 * says in the plan what each points at; the aliases the caller chose move to the version the change publishes
 * (which turns publishing on), except a weighted alias unless asked; an alias with provisioned concurrency
 * ({@code ListProvisionedConcurrencyConfigs}) is waited for on the new version. A SnapStart function is published
 * even when {@code publishVersion} is off: its snapshot, which is what runs, is taken only when a version is
 * published. A function that needs no change (the agent installed, or on uninstall removed, by an earlier run) whose
 * chosen aliases still serve a version that differs from {@code $LATEST} in having the agent becomes an update that
 * only publishes {@code $LATEST} and moves them: a run with {@code moveAliases} after one without still moves them.
 */
public final class ServingVersions {
    private final LambdaClient lambda;
    private final CallScheduler scheduler;
    private final List<Pattern> move;
    private final boolean moveWeighted;
    private final Set<String> agentLayerNames;
    private final Set<Permission> reads = Collections.synchronizedSet(new TreeSet<>());

    /**
     * @param context the target context
     * @param moveGlobs names or globs of the aliases to move
     * @param moveWeighted whether a weighted alias moves too (its weights are then dropped)
     * @param agentLayers the agent's layer version ARNs (any version of these layers counts as the agent)
     */
    public ServingVersions(
            TargetContext context, List<String> moveGlobs, boolean moveWeighted, Collection<String> agentLayers) {
        this.lambda = context.client(LambdaClient.class, LambdaClient::builder);
        this.scheduler = context.scheduler();
        this.move = moveGlobs.stream().map(Globs::toPattern).toList();
        this.moveWeighted = moveWeighted;
        this.agentLayerNames = agentLayers.stream().map(Arns::layerName).collect(Collectors.toUnmodifiableSet());
    }

    /** @return the permissions the reads used so far */
    public List<Permission> reads() {
        synchronized (reads) {
            return List.copyOf(reads);
        }
    }

    /**
     * @param change a planned install or uninstall change
     * @param config the function as planned
     * @param mayHaveVersions whether the function may have a published version: without one, every alias it has
     *     serves {@code $LATEST}, which the change reaches, so its aliases are not listed
     * @return the change, with its aliases said, the chosen ones moved, and a SnapStart function published
     */
    public CompletableFuture<Change> plan(
            Change change, FunctionConfiguration config, CompletableFuture<Boolean> mayHaveVersions) {
        if (change.action() == ChangeAction.NO_OP && !move.isEmpty()) {
            return mayHaveVersions.thenCompose(
                    versions -> versions ? staleAliases(change, config) : CompletableFuture.completedFuture(change));
        }
        if (change.action() != ChangeAction.UPDATE) {
            return CompletableFuture.completedFuture(change);
        }
        return mayHaveVersions
                .thenCompose(versions ->
                        versions ? aliases(change.resourceId()) : CompletableFuture.completedFuture(List.of()))
                .thenCompose(aliases -> serve(change, config, aliases, name -> true));
    }

    /**
     * For a function that needs no change: reads the layers of each version a chosen alias serves ({@code
     * GetFunction} with the version, in its own 100/s quota) and, where one differs from {@code $LATEST} in having
     * the agent, turns the change into an update that publishes {@code $LATEST} and moves those aliases to it.
     */
    private CompletableFuture<Change> staleAliases(Change change, FunctionConfiguration config) {
        String arn = change.resourceId();
        List<String> layers = FunctionPlanner.layerArns(config);
        boolean latest = hasAgent(layers);
        return aliases(arn).thenCompose(aliases -> {
            Map<String, CompletableFuture<Boolean>> agentByVersion = new TreeMap<>();
            List<AliasConfiguration> candidates = new ArrayList<>();
            for (AliasConfiguration a : aliases) {
                if (!"$LATEST".equals(a.functionVersion())
                        && chosen(a)
                        && (weights(a).isEmpty() || moveWeighted)) {
                    candidates.add(a);
                    agentByVersion.computeIfAbsent(a.functionVersion(), v -> agentIn(arn, v));
                }
            }
            return CompletableFuture.allOf(agentByVersion.values().toArray(new CompletableFuture<?>[0]))
                    .thenCompose(done -> {
                        Set<String> stale = new TreeSet<>();
                        for (AliasConfiguration a : candidates) {
                            // Read above for every candidate's version, and complete: allOf waited for them.
                            CompletableFuture<Boolean> agent =
                                    Objects.requireNonNull(agentByVersion.get(a.functionVersion()), a.name());
                            if (agent.join() != latest) {
                                stale.add(a.name());
                            }
                        }
                        if (stale.isEmpty()) {
                            return CompletableFuture.completedFuture(change);
                        }
                        Change update = aliasOnlyUpdate(
                                change,
                                config.revisionId(),
                                layers,
                                "the agent is " + (latest ? "installed" : "removed") + ", but alias "
                                        + String.join(", ", stale)
                                        + (stale.size() == 1 ? " serves a version" : " serve versions")
                                        + " published " + (latest ? "without" : "with") + " it: this change"
                                        + " publishes $LATEST and moves " + (stale.size() == 1 ? "it" : "them")
                                        + " there");
                        return serve(update, config, aliases, stale::contains);
                    });
        });
    }

    private CompletableFuture<Boolean> agentIn(String arn, String version) {
        reads.add(Permission.of("lambda:GetFunction", arn + ":" + version));
        return scheduler
                .submit(
                        LambdaQuotas.GET_FUNCTION,
                        () -> lambda.getFunction(r -> r.functionName(arn).qualifier(version)))
                .thenApply(r -> hasAgent(FunctionPlanner.layerArns(r.configuration())));
    }

    private boolean hasAgent(List<String> layers) {
        return layers.stream().anyMatch(l -> agentLayerNames.contains(Arns.layerName(l)));
    }

    private boolean chosen(AliasConfiguration alias) {
        return move.stream().anyMatch(p -> p.matcher(alias.name()).matches());
    }

    /**
     * @param movable whether a chosen alias is to move (every one for a function the change updates)
     * @return the change with the aliases said, the movable chosen ones moved, and a SnapStart function published
     */
    private CompletableFuture<Change> serve(
            Change change, FunctionConfiguration config, List<AliasConfiguration> aliases, Predicate<String> movable) {
        String arn = change.resourceId();
        List<String> warnings = new ArrayList<>();
        List<AliasConfiguration> toMove = new ArrayList<>();
        for (AliasConfiguration a : aliases) {
            Map<String, Double> weights = weights(a);
            String serves = AliasMove.describe(a.functionVersion(), weights);
            if ("$LATEST".equals(a.functionVersion())) {
                warnings.add("alias " + a.name() + " serves $LATEST: this change reaches it directly");
            } else if (!chosen(a)) {
                warnings.add("alias " + a.name() + " serves version " + serves + ", which this change does not"
                        + " touch: add it to .moveAliases(...) to move it to the version this change publishes");
            } else if (!weights.isEmpty() && !moveWeighted) {
                warnings.add("alias " + a.name() + " is not moved: it routes traffic by weight (" + serves
                        + "), e.g. a canary in progress; finish that, or pass .moveWeightedAliases(true) to move"
                        + " all of its traffic to the version this change publishes");
            } else if (movable.test(a.name())) {
                toMove.add(a);
            }
        }
        return provisioned(arn, !toMove.isEmpty())
                .handle((found, error) -> {
                    if (error == null) {
                        return found;
                    }
                    if (!withoutProvisionedConcurrencyApi(error)) {
                        throw error instanceof CompletionException c ? c : new CompletionException(error);
                    }
                    warnings.add("provisioned concurrency could not be listed (Lambda answered HTTP 404 without an"
                            + " error code, as emulators without that API such as moto do): the apply does not wait"
                            + " for it on the new version");
                    return Set.<String>of();
                })
                .thenApply(withConcurrency -> {
                    List<AliasMove> moves = new ArrayList<>();
                    for (AliasConfiguration a : toMove) {
                        boolean pc = withConcurrency.contains(arn + ":" + a.name());
                        moves.add(new AliasMove(
                                a.name(), a.functionVersion(), weights(a), null, Map.of(), a.revisionId(), pc));
                        if (pc) {
                            warnings.add("alias " + a.name() + " has provisioned concurrency: the apply waits until it"
                                    + " is READY on the new version (an allocation can take minutes)");
                        }
                    }
                    boolean snapStart = config.snapStart() != null
                            && config.snapStart().applyOn() == SnapStartApplyOn.PUBLISHED_VERSIONS;
                    FunctionState state = LambdaStates.functionState(change.targetState());
                    if (snapStart && !state.publish()) {
                        warnings.add("SnapStart function: a change takes effect only in a published version (its"
                                + " snapshot), so this change publishes one although publishVersion is off");
                    }
                    return withMoves(change, state, state.publish() || snapStart || !moves.isEmpty(), moves, warnings);
                });
    }

    /**
     * @param change a no-op (or a rollback's no-op) of a function whose configuration stays as it is
     * @param revisionId the function's RevisionId now
     * @param layers its layers now, kept
     * @param reason why its aliases move
     * @return an update of it that keeps its configuration and only moves aliases (which {@link #withMoves} adds)
     */
    static Change aliasOnlyUpdate(Change change, @Nullable String revisionId, List<String> layers, String reason) {
        FunctionState state = FunctionState.builder()
                .revisionId(revisionId)
                .layers(layers)
                .layersBefore(layers)
                .presentBefore(List.of())
                .build();
        return Change.builder()
                .from(change)
                .action(ChangeAction.UPDATE)
                .targetState(LambdaStates.toJson(state))
                .reason(reason)
                .addPermissions(Permission.of("lambda:GetFunction", change.resourceId()))
                .build();
    }

    /**
     * @param change a function change
     * @param state its state
     * @param publish whether it publishes a version
     * @param moves the aliases it moves
     * @param warnings what the reviewer should know
     * @return the change with the moves, their attributes and their permissions
     */
    static Change withMoves(
            Change change, FunctionState state, boolean publish, List<AliasMove> moves, List<String> warnings) {
        String arn = change.resourceId();
        Change.Builder b = Change.builder()
                .from(change)
                .targetState(LambdaStates.toJson(state.withServing(publish, moves)))
                .addAllWarnings(warnings);
        if (publish && !state.publish()) {
            b.addPermissions(Permission.of("lambda:PublishVersion", arn));
        }
        if (!moves.isEmpty()) {
            // The new version's number is known only once published: waiting for it to be active reads it by a
            // qualified ARN, which an unqualified resource does not cover.
            b.addPermissions(Permission.of("lambda:GetFunction", arn + ":*"));
        }
        for (AliasMove m : moves) {
            String alias = arn + ":" + m.name();
            b.addAttributes(AttributeChange.of(
                    "Alias " + m.name(),
                    AliasMove.describe(m.fromVersion(), m.fromWeights()),
                    m.toVersion() == null
                            ? "the version this change publishes"
                            : AliasMove.describe(m.toVersion(), m.toWeights())));
            b.addPermissions(Permission.of("lambda:UpdateAlias", alias), Permission.of("lambda:GetAlias", alias));
            if (m.provisioned()) {
                b.addPermissions(Permission.of("lambda:GetProvisionedConcurrencyConfig", alias));
            }
        }
        return b.build();
    }

    /** @return every alias of the function, sorted by name */
    CompletableFuture<List<AliasConfiguration>> aliases(String arn) {
        reads.add(Permission.of("lambda:ListAliases", arn));
        return aliasPage(arn, null, new ArrayList<>());
    }

    private CompletableFuture<List<AliasConfiguration>> aliasPage(
            String arn, @Nullable String marker, List<AliasConfiguration> into) {
        return scheduler
                .submit(
                        LambdaQuotas.CONTROL_PLANE,
                        () -> lambda.listAliases(r -> r.functionName(AliasMove.functionName(arn))
                                .maxItems(50)
                                .marker(marker)))
                .thenCompose((ListAliasesResponse page) -> {
                    into.addAll(page.aliases());
                    String next = page.nextMarker();
                    if (next != null && !next.isEmpty()) {
                        return aliasPage(arn, next, into);
                    }
                    into.sort((a, b) -> a.name().compareTo(b.name()));
                    return CompletableFuture.completedFuture(into);
                });
    }

    /** @return the qualified ARNs of the function's versions and aliases with provisioned concurrency */
    private CompletableFuture<Set<String>> provisioned(String arn, boolean needed) {
        if (!needed) {
            return CompletableFuture.completedFuture(Set.of());
        }
        reads.add(Permission.of("lambda:ListProvisionedConcurrencyConfigs", arn));
        return provisionedPage(arn, null, new HashSet<>());
    }

    private CompletableFuture<Set<String>> provisionedPage(String arn, @Nullable String marker, Set<String> into) {
        return scheduler
                .submit(
                        LambdaQuotas.CONTROL_PLANE,
                        () -> lambda.listProvisionedConcurrencyConfigs(r -> r.functionName(AliasMove.functionName(arn))
                                .maxItems(50)
                                .marker(marker)))
                .thenCompose((ListProvisionedConcurrencyConfigsResponse page) -> {
                    for (ProvisionedConcurrencyConfigListItem item : page.provisionedConcurrencyConfigs()) {
                        into.add(item.functionArn());
                    }
                    String next = page.nextMarker();
                    return next != null && !next.isEmpty()
                            ? provisionedPage(arn, next, into)
                            : CompletableFuture.completedFuture(into);
                });
    }

    /** @return whether Lambda answered 404 without naming a missing resource: an endpoint without the API */
    private static boolean withoutProvisionedConcurrencyApi(Throwable error) {
        Throwable t = AwsFailures.unwrap(error);
        return t instanceof AwsServiceException aws
                && aws.statusCode() == 404
                && !AwsFailures.hasCode(t, "ResourceNotFoundException");
    }

    static Map<String, Double> weights(AliasConfiguration alias) {
        return alias.routingConfig() == null ? Map.of() : alias.routingConfig().additionalVersionWeights();
    }
}
