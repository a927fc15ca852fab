package com.cloudaeye.agent.ecs.internal;

import com.cloudaeye.agent.AttributeChange;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.ecs.EcsTarget;
import com.cloudaeye.agent.ecs.LogRouter;
import com.cloudaeye.agent.spi.CallScheduler;
import com.cloudaeye.agent.spi.JournaledChange;
import com.cloudaeye.agent.spi.TargetContext;
import com.cloudaeye.agent.spi.TargetPlan;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import software.amazon.awssdk.services.ecs.EcsClient;
import software.amazon.awssdk.services.ecs.model.DescribeTaskDefinitionResponse;
import software.amazon.awssdk.services.ecs.model.RegisterTaskDefinitionRequest;
import software.amazon.awssdk.services.ecs.model.Service;
import software.amazon.awssdk.services.ecs.model.TaskDefinition;

/** Plans a rollback of ECS changes from the journal: services move back, registered revisions stay. */
final class EcsRollbackPlanner {
    private EcsRollbackPlanner() {}

    /**
     * Plans putting services back on the revision they ran before an apply. Revisions the apply registered stay
     * registered (an unused revision costs nothing); a service that someone moved since is skipped. A service runs a
     * revision the apply set when it is the one the journal recorded, or else (interrupted, unknown) the one that
     * apply registers, by content.
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
            String from = st.fromRevision();
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
            // The revision the apply journaled proves it moved the service there, and only there: a later revision
            // is someone else's even when copied from ours (a pipeline that renders the running task definition).
            // Without one (interrupted, unknown), the service must run exactly what that apply registers.
            String journaledArn = EcsStates.serviceApplied(j)
                    .map(ServiceApplied::taskDefinitionArn)
                    .orElse("");
            boolean setByThatApply = journaledArn.isEmpty()
                    ? current.equals(st.to()) || registeredByThatApply(st, current, context, reads)
                    : current.equals(journaledArn);
            if (!setByThatApply) {
                changes.add(out.action(ChangeAction.SKIP)
                        .reason("it now runs " + TaskDefinitions.shortName(current) + ", which that apply did not"
                                + " set: someone changed it since, so it is left alone")
                        .build());
                continue;
            }
            ServiceState state = ServiceState.builder()
                    .operation(Operation.ROLLBACK)
                    .cluster(cluster)
                    .service(serviceArn)
                    .fromRevision(current)
                    .to(from)
                    .waitMillis(st.waitMillis())
                    .pollMillis(st.waitMillis() == null ? null : st.pollMillis())
                    .build();
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

    /**
     * Whether the service's revision is the one the apply registers from its source, compared by content as the apply
     * itself finds a revision it registered: newer than the source, of its family, and with exactly what it registers.
     */
    private static boolean registeredByThatApply(
            ServiceState st, String current, TargetContext context, Set<Permission> reads) {
        String source = st.source();
        LogRouter router = st.router();
        if (source == null || (!st.removesRouter() && router == null)) {
            return false; // a rollback's change, or a plan saved before services carried their router settings
        }
        // An install's revision carries the router; an uninstall's is its source without it.
        reads.add(Permission.of("ecs:DescribeTaskDefinition", "*"));
        CompletableFuture<DescribeTaskDefinitionResponse> nowRead = EcsPlanner.describeTaskDefinition(context, current);
        DescribeTaskDefinitionResponse from = CallScheduler.join(EcsPlanner.describeTaskDefinition(context, source));
        DescribeTaskDefinitionResponse now = CallScheduler.join(nowRead);
        TaskDefinition registered = now.taskDefinition();
        if (!registered.family().equals(from.taskDefinition().family())
                || registered.revision() <= from.taskDefinition().revision()) {
            return false;
        }
        RegisterTaskDefinitionRequest intended = router != null && !st.removesRouter()
                ? RevisionRequests.installRequest(from, router, context.agent(), st.cpu(), st.memory())
                : RevisionRequests.uninstallRequest(from);
        return RevisionRequests.registers(now, intended, context.agent());
    }
}
