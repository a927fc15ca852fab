package com.cloudaeye.agent.lambda.internal;

import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.ConfigurationException;
import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.Secret;
import com.cloudaeye.agent.spi.CallScheduler;
import com.cloudaeye.agent.spi.JournaledChange;
import com.cloudaeye.agent.spi.TargetContext;
import com.cloudaeye.agent.spi.TargetPlan;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.services.lambda.LambdaClient;

/**
 * Plans the rollback of journaled Lambda changes with read-only calls: one {@code GetFunction} per function, then the
 * restore of its before-state ({@link RollbackDiff}), or a skip where it changed since; then the aliases the apply
 * moved ({@link AliasRollback}). Needs no selection: everything comes from the journaled changes.
 */
final class RollbackPlanner {
    private final TargetContext context;
    private final LambdaClient lambda;
    private final CallScheduler scheduler;
    private final RollbackDiff rollbackDiff;
    private final PlannedFunctions planned;

    /**
     * @param context the target context
     * @param ourLayerNames the names of our layers, when a configured target knows them; else empty
     * @param planned where the functions to update are remembered for the apply
     */
    RollbackPlanner(TargetContext context, Set<String> ourLayerNames, PlannedFunctions planned) {
        this.context = context;
        this.lambda = context.client(LambdaClient.class, LambdaClient::builder);
        this.scheduler = context.scheduler();
        this.rollbackDiff = new RollbackDiff(ourLayerNames);
        this.planned = planned;
    }

    /**
     * @param journaled changes the journal records as applied, unknown or interrupted
     * @return changes restoring each function's before-state and its aliases, or skips where it changed since
     */
    TargetPlan plan(List<JournaledChange> journaled) {
        Set<Permission> reads = new TreeSet<>();
        List<CompletableFuture<Change>> futures = new ArrayList<>();
        for (JournaledChange j : journaled) {
            Change change = j.change();
            String arn = change.resourceId();
            reads.add(Permission.of("lambda:GetFunction", arn));
            futures.add(scheduler
                    .submit(LambdaQuotas.GET_FUNCTION, () -> lambda.getFunction(r -> r.functionName(arn)))
                    .thenApply(live -> {
                        Change restore = rollbackDiff.rollback(change, live.configuration(), agentToken());
                        if (restore.action() == ChangeAction.UPDATE) {
                            planned.remember(arn, live.configuration());
                        }
                        return restore;
                    }));
        }
        List<Change> changes = new ArrayList<>();
        futures.forEach(f -> changes.add(CallScheduler.join(f)));
        return new AliasRollback(context).plan(new TargetPlan(changes, List.copyOf(reads)), journaled);
    }

    /** @return the token of the agent settings, or null when the installer has none */
    private @Nullable Secret agentToken() {
        try {
            return context.agent().apiToken();
        } catch (ConfigurationException noAgentSettings) {
            return null;
        }
    }
}
