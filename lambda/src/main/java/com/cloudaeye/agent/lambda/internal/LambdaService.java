package com.cloudaeye.agent.lambda.internal;

import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.lambda.LambdaTarget;
import com.cloudaeye.agent.spi.ApplyContext;
import com.cloudaeye.agent.spi.JournaledChange;
import com.cloudaeye.agent.spi.Quota;
import com.cloudaeye.agent.spi.TargetContext;
import com.cloudaeye.agent.spi.TargetPlan;
import com.cloudaeye.agent.spi.TargetService;
import java.util.List;
import java.util.Set;

/**
 * Applies, resumes and rolls back Lambda changes from what they carry. {@link java.util.ServiceLoader} makes it with
 * {@link #LambdaService()} for a saved plan or a journal; a configured {@code LambdaTarget} hands core one that also
 * knows the functions its plans read (so the apply sends each update at once, guarded by the planned
 * {@code RevisionId}) and the names of its layers.
 */
public final class LambdaService implements TargetService {
    private final Set<String> ourLayerNames;
    private final PlannedFunctions planned;

    /** The provider {@link java.util.ServiceLoader} makes: it reads every function before changing it. */
    public LambdaService() {
        this(Set.of(), new PlannedFunctions());
    }

    /**
     * @param ourLayerNames the names of the configured target's layers (any version of them is ours)
     * @param planned what the configured target's plans read of the functions they update
     */
    public LambdaService(Set<String> ourLayerNames, PlannedFunctions planned) {
        this.ourLayerNames = Set.copyOf(ourLayerNames);
        this.planned = planned;
    }

    @Override
    public String name() {
        return LambdaTarget.NAME;
    }

    @Override
    public List<Quota> quotas() {
        return List.of(LambdaQuotas.CONTROL_PLANE, LambdaQuotas.GET_FUNCTION, EdgeFunctions.CLOUDFRONT);
    }

    @Override
    public TargetPlan planRollback(List<JournaledChange> journaled, TargetContext context) {
        return new RollbackPlanner(context, ourLayerNames, planned).plan(journaled);
    }

    /**
     * Refuses an edited plan before any target changes anything: every ARN's form, region and account, and each
     * alias move's fields ({@code PlanCheck.requireConsistent}); no call.
     */
    @Override
    public void checkApply(List<Change> changes, TargetContext context) {
        PlanCheck.requireConsistent(changes, context.region().id());
    }

    @Override
    public void apply(List<Change> changes, ApplyContext context) {
        new FunctionUpdater(context, planned).apply(changes);
    }
}
