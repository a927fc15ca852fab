package com.cloudaeye.agent.ecs.internal;

import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ecs.EcsTarget;
import com.cloudaeye.agent.spi.ApplyContext;
import com.cloudaeye.agent.spi.JournaledChange;
import com.cloudaeye.agent.spi.Quota;
import com.cloudaeye.agent.spi.TargetContext;
import com.cloudaeye.agent.spi.TargetPlan;
import com.cloudaeye.agent.spi.TargetService;
import java.util.List;

/**
 * Applies, resumes and rolls back ECS changes from what they carry (the source and new task definitions, the
 * service's revisions, the rollout's wait): the same service for a configured {@code EcsTarget} and for the one
 * {@link java.util.ServiceLoader} makes.
 */
public final class EcsService implements TargetService {
    /** The provider {@link java.util.ServiceLoader} makes, and the one every {@code EcsTarget} hands core. */
    public EcsService() {}

    @Override
    public String name() {
        return EcsTarget.NAME;
    }

    @Override
    public List<Quota> quotas() {
        return List.of(
                EcsQuotas.SERVICE_READ,
                EcsQuotas.SERVICE_MODIFY,
                EcsQuotas.TASK_DEFINITION_READ,
                EcsQuotas.TASK_DEFINITION_MODIFY);
    }

    @Override
    public TargetPlan planRollback(List<JournaledChange> journaled, TargetContext context) {
        return EcsPlanner.planRollback(journaled, context);
    }

    @Override
    public void apply(List<Change> changes, ApplyContext context) {
        new EcsApplier(context).apply(changes);
    }
}
