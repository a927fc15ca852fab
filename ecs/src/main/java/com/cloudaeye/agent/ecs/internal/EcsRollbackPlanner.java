package com.cloudaeye.agent.ecs.internal;

import com.cloudaeye.agent.AttributeChange;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.ecs.EcsTarget;
import com.cloudaeye.agent.spi.CallScheduler;
import com.cloudaeye.agent.spi.JournaledChange;
import com.cloudaeye.agent.spi.TargetContext;
import com.cloudaeye.agent.spi.TargetPlan;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import software.amazon.awssdk.services.ecs.EcsClient;
import software.amazon.awssdk.services.ecs.model.ContainerDefinition;
import software.amazon.awssdk.services.ecs.model.Service;
import software.amazon.awssdk.services.ecs.model.TaskDefinition;

/** Plans a rollback of ECS changes from the journal: services move back, registered revisions stay. */
final class EcsRollbackPlanner {
    private EcsRollbackPlanner() {}

    /**
     * Plans putting services back on the revision they ran before an apply. Revisions the apply registered stay
     * registered (an unused revision costs nothing); a service that someone moved since is skipped. A service runs a
     * revision the apply set when it is the one the journal recorded, or else (interrupted, unknown) one this plan's
     * apply registers.
     *
     * @param journaled the journal's changes of this target whose mutation may have been sent
     * @param context clients
     * @return the rollback plan
     */
    static TargetPlan planRollback(List<JournaledChange> journaled, TargetContext context) {
        EcsClient ecs = context.client(EcsClient.class, EcsClient::builder);
        Set<Permission> reads = new TreeSet<>();
        List<Change> changes = new ArrayList<>();
        for (JournaledChange j : journaled) {
            Change c = j.change();
            if (EcsPlanner.TASK_DEFINITION_TYPE.equals(c.resourceType())) {
                changes.add(Change.builder()
                        .from(c)
                        .action(ChangeAction.NO_OP)
                        .reason("the revision registered from it stays registered; only services move back")
                        .permissions(List.of())
                        .attributes(List.of())
                        .warnings(List.of())
                        .build());
                continue;
            }
            ServiceState st = EcsStates.serviceState(c.targetState());
            String cluster = st.cluster();
            String serviceArn = st.service();
            String from = st.from();
            reads.add(Permission.of("ecs:DescribeServices", serviceArn));
            Service service = context
                    .scheduler()
                    .call(
                            EcsQuotas.SERVICE_READ,
                            () -> ecs.describeServices(d -> d.cluster(cluster).services(serviceArn)))
                    .services()
                    .stream()
                    .findFirst()
                    .orElse(null);
            Change.Builder out = Change.builder()
                    .target(EcsTarget.NAME)
                    .resourceType(EcsPlanner.SERVICE_TYPE)
                    .resourceId(serviceArn);
            if (service == null || !"ACTIVE".equals(service.status())) {
                changes.add(out.action(ChangeAction.SKIP)
                        .reason("the service no longer exists")
                        .build());
                continue;
            }
            String current = service.taskDefinition();
            if (current.equals(from)) {
                changes.add(out.action(ChangeAction.NO_OP)
                        .reason("it already runs " + TaskDefinitions.shortName(from))
                        .build());
                continue;
            }
            reads.add(Permission.of("ecs:DescribeTaskDefinition", "*"));
            TaskDefinition now = CallScheduler.join(EcsPlanner.describeTaskDefinition(context, current))
                    .taskDefinition();
            // The revision the apply journaled proves it moved the service; without one (interrupted, unknown),
            // the revision must be one this plan's apply registers.
            String journaledArn = EcsStates.serviceApplied(j)
                    .map(ServiceApplied::taskDefinitionArn)
                    .orElse("");
            if (!current.equals(journaledArn) && !madeByApply(st, from, now)) {
                changes.add(out.action(ChangeAction.SKIP)
                        .reason("it now runs " + TaskDefinitions.shortName(current) + ", which that apply did not"
                                + " set: someone changed it since, so it is left alone")
                        .build());
                continue;
            }
            ServiceState state = new ServiceState(
                    ServiceState.KIND,
                    RevisionSpec.ROLLBACK,
                    cluster,
                    serviceArn,
                    current,
                    null,
                    from,
                    null,
                    null,
                    null,
                    null,
                    st.waitMillis(),
                    st.waitMillis() == null ? null : st.pollMillis());
            changes.add(out.action(ChangeAction.UPDATE)
                    .reason("moves the service back to the revision it ran before")
                    .addAttributes(AttributeChange.of(
                            "TaskDefinition", TaskDefinitions.shortName(current), TaskDefinitions.shortName(from)))
                    .permissions(EcsPlanner.servicePermissions(serviceArn))
                    .targetState(EcsStates.toJson(state))
                    .build());
        }
        return new TargetPlan(changes, List.copyOf(reads));
    }

    private static boolean madeByApply(ServiceState state, String from, TaskDefinition now) {
        if (now.taskDefinitionArn().equals(state.to())) {
            return true;
        }
        boolean sameFamily = TaskDefinitions.family(from).equals(now.family())
                && now.revision()
                        > Integer.parseInt(TaskDefinitions.shortName(from)
                                .substring(TaskDefinitions.shortName(from).lastIndexOf(':') + 1));
        if (!sameFamily) {
            return false;
        }
        Optional<ContainerDefinition> router = TaskDefinitions.ourRouter(now);
        if (RevisionSpec.INSTALL.equals(state.operation())) {
            return router.map(r ->
                            Objects.equals(r.dockerLabels().get(TaskDefinitions.SOURCE_LABEL), state.routerSource()))
                    .orElse(false);
        }
        return router.isEmpty();
    }
}
