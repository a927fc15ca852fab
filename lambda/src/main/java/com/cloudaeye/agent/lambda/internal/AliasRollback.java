package com.cloudaeye.agent.lambda.internal;

import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.spi.CallScheduler;
import com.cloudaeye.agent.spi.JournaledChange;
import com.cloudaeye.agent.spi.TargetContext;
import com.cloudaeye.agent.spi.TargetPlan;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.AliasConfiguration;
import software.amazon.awssdk.services.lambda.model.FunctionConfiguration;

/**
 * Adds to a rollback plan the aliases the apply moved, back to exactly the version and weights each had: the
 * journal's {@code appliedState} holds each moved alias's previous target and the version the apply published. An
 * alias moves back only while it still serves that version; one moved since by someone else is left, with a warning.
 * Where the journal has no outcome (the apply died after moving an alias, before journaling it), the version an alias
 * serves is the apply's when it was published after the alias's planned version and shows the applied configuration.
 * When the function itself is back as before already, the change becomes an update that only moves the aliases.
 */
public final class AliasRollback {
    private final LambdaClient lambda;
    private final CallScheduler scheduler;
    private final ServingVersions serving;
    /** The versions read to recognise the apply's own where the journal does not name it. */
    private final Set<Permission> versionReads = ConcurrentHashMap.newKeySet();

    /** @param context the target context */
    public AliasRollback(TargetContext context) {
        this.lambda = context.client(LambdaClient.class, LambdaClient::builder);
        this.scheduler = context.scheduler();
        this.serving = new ServingVersions(context, List.of(), false, List.of());
    }

    /** A moved alias's previous target. */
    private record Before(String version, Map<String, Double> weights, boolean provisioned) {}

    /**
     * @param plan the function rollback plan
     * @param journaled the journaled changes it restores
     * @return the plan with the aliases moved back
     */
    public TargetPlan plan(TargetPlan plan, List<JournaledChange> journaled) {
        Map<String, JournaledChange> byArn = new HashMap<>();
        journaled.forEach(j -> byArn.put(j.change().resourceId(), j));
        List<CompletableFuture<Change>> pending = new ArrayList<>();
        Set<Permission> reads = new TreeSet<>(plan.readPermissions());
        for (Change change : plan.changes()) {
            JournaledChange done = byArn.get(change.resourceId());
            Map<String, Before> before = done == null ? Map.of() : before(done);
            if (done == null || before.isEmpty()) {
                pending.add(CompletableFuture.completedFuture(change));
                continue;
            }
            @Nullable
            String published =
                    LambdaStates.applied(done).map(FunctionApplied::version).orElse(null);
            FunctionState applied = LambdaStates.functionState(done.change().targetState());
            String arn = change.resourceId();
            pending.add(serving.aliases(arn)
                    .thenCompose(live -> ourVersions(arn, applied, before, published, live)
                            .thenCompose(ours -> moveBack(change, before, published, ours, live))));
        }
        List<Change> changes = new ArrayList<>();
        pending.forEach(f -> changes.add(CallScheduler.join(f)));
        reads.addAll(serving.reads());
        reads.addAll(versionReads);
        return new TargetPlan(changes, List.copyOf(reads), plan.notes());
    }

    /** @return each alias the apply moved (or, without its applied state, planned to move), with its target before */
    private static Map<String, Before> before(JournaledChange done) {
        Map<String, Boolean> provisioned = new HashMap<>();
        Map<String, Before> before = new LinkedHashMap<>();
        for (AliasMove m :
                LambdaStates.functionState(done.change().targetState()).aliasMoves()) {
            provisioned.put(m.name(), m.provisioned());
            before.put(m.name(), new Before(m.fromVersion(), m.fromWeights(), m.provisioned()));
        }
        Map<String, FunctionApplied.AliasBefore> moved =
                LambdaStates.applied(done).map(FunctionApplied::aliases).orElse(null);
        if (moved != null) {
            before.clear(); // exactly the aliases that moved, as they were right before
            moved.forEach((name, was) ->
                    before.put(name, new Before(was.version(), was.weights(), provisioned.getOrDefault(name, false))));
        }
        return before;
    }

    /**
     * When the journal does not say which version the apply published (it died after publishing and moving aliases,
     * before journaling the outcome), reads each version a moved alias serves instead of its version before: one
     * published later whose configuration shows the applied change is the apply's own.
     *
     * @return the versions, among those the aliases serve, that the apply published
     */
    private CompletableFuture<Set<String>> ourVersions(
            String arn,
            FunctionState applied,
            Map<String, Before> before,
            @Nullable String published,
            List<AliasConfiguration> live) {
        if (published != null) {
            return CompletableFuture.completedFuture(Set.of(published));
        }
        Set<String> candidates = new TreeSet<>();
        for (AliasConfiguration now : live) {
            Before was = before.get(now.name());
            if (was != null
                    && ServingVersions.weights(now).isEmpty()
                    && laterThan(now.functionVersion(), was.version())) {
                candidates.add(now.functionVersion());
            }
        }
        Set<String> ours = ConcurrentHashMap.newKeySet();
        List<CompletableFuture<?>> reads = new ArrayList<>();
        for (String version : candidates) {
            String qualified = arn + ":" + version;
            versionReads.add(Permission.of("lambda:GetFunction", qualified));
            reads.add(scheduler
                    // The version in the name, not as a Qualifier: IAM authorizes the qualified ARN either way.
                    .submit(LambdaQuotas.GET_FUNCTION, () -> lambda.getFunction(r -> r.functionName(qualified)))
                    .thenAccept(response -> {
                        FunctionConfiguration f = response.configuration();
                        if (FunctionPlanner.environmentError(f) == null
                                && RollbackDiff.shows(
                                        applied, FunctionPlanner.layerArns(f), FunctionPlanner.variables(f))) {
                            ours.add(version);
                        }
                    }));
        }
        return CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new)).thenApply(x -> ours);
    }

    /** @return whether version {@code a} was published after {@code b} (both numbers) */
    private static boolean laterThan(String a, String b) {
        try {
            return Long.parseLong(a) > Long.parseLong(b);
        } catch (NumberFormatException notANumber) {
            return false; // $LATEST, or an alias: not a version the apply published
        }
    }

    private CompletableFuture<Change> moveBack(
            Change change,
            Map<String, Before> before,
            @Nullable String published,
            Set<String> ours,
            List<AliasConfiguration> live) {
        Map<String, AliasConfiguration> byName = new HashMap<>();
        live.forEach(a -> byName.put(a.name(), a));
        List<AliasMove> moves = new ArrayList<>();
        List<String> warnings = new ArrayList<>();
        before.forEach((name, was) -> {
            AliasConfiguration now = byName.get(name);
            String wasText = AliasMove.describe(was.version(), was.weights());
            if (now == null) {
                warnings.add("alias " + name + " no longer exists: nothing to move back to " + wasText);
                return;
            }
            Map<String, Double> weights = ServingVersions.weights(now);
            if (now.functionVersion().equals(was.version()) && weights.equals(was.weights())) {
                return; // already back
            }
            if (ours.contains(now.functionVersion()) && weights.isEmpty()) {
                moves.add(new AliasMove(
                        name,
                        now.functionVersion(),
                        Map.of(),
                        was.version(),
                        was.weights(),
                        now.revisionId(),
                        was.provisioned()));
                return;
            }
            warnings.add("alias " + name + " serves " + AliasMove.describe(now.functionVersion(), weights)
                    + (published == null
                            ? ", a version the journal does not record and that does not show the apply's"
                                    + " configuration"
                            : ", not the version " + published + " the apply moved it to")
                    + ": left as it is; move it back to " + wasText + " by hand if the apply moved it");
        });
        if (moves.isEmpty() || change.action() == ChangeAction.SKIP) {
            if (change.action() == ChangeAction.SKIP) {
                moves.forEach(m -> warnings.add("alias " + m.name() + " was left serving version " + m.fromVersion()
                        + ": move it back to " + AliasMove.describe(String.valueOf(m.toVersion()), m.toWeights())
                        + " by hand"));
            }
            return CompletableFuture.completedFuture(
                    Change.builder().from(change).addAllWarnings(warnings).build());
        }
        if (change.action() == ChangeAction.UPDATE) {
            FunctionState state = LambdaStates.functionState(change.targetState());
            return CompletableFuture.completedFuture(
                    ServingVersions.withMoves(change, state, state.publish(), moves, warnings));
        }
        // The function is as before already: an update that only moves the aliases back.
        String arn = change.resourceId();
        return scheduler
                .submit(LambdaQuotas.GET_FUNCTION, () -> lambda.getFunction(r -> r.functionName(arn)))
                .thenApply(response -> {
                    FunctionConfiguration f = response.configuration();
                    Change update = ServingVersions.aliasOnlyUpdate(
                            change,
                            f.revisionId(),
                            FunctionPlanner.layerArns(f),
                            "the function is as it was before the apply; its aliases move back");
                    FunctionState state = LambdaStates.functionState(update.targetState());
                    return ServingVersions.withMoves(update, state, false, moves, warnings);
                });
    }
}
