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
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import software.amazon.awssdk.services.ecs.EcsClient;
import software.amazon.awssdk.services.ecs.model.DescribeTaskDefinitionResponse;
import software.amazon.awssdk.services.ecs.model.RegisterTaskDefinitionRequest;
import software.amazon.awssdk.services.ecs.model.Service;
import software.amazon.awssdk.services.ecs.model.TaskDefinition;
import software.amazon.awssdk.services.ecs.model.TaskDefinitionStatus;

/**
 * Plans a rollback of ECS changes from the journal: services move back, then the revisions the apply registered are
 * deregistered.
 */
final class EcsRollbackPlanner {
    private EcsRollbackPlanner() {}

    /**
     * Plans putting services back on the revision they ran before an apply, and deregistering the revisions the apply
     * registered (see {@link #deregistration}); a service that someone moved since is skipped. A service runs a
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
        // What the revisions' deregistration needs from the services: where they are, which revision each apply moved
        // a service to (by source), and which services this rollback moves off the revision they run.
        Set<String> clusters = new TreeSet<>();
        Map<String, String> registeredBySource = new HashMap<>();
        Set<String> movedOff = new HashSet<>();
        for (JournaledChange j : journaled) {
            Change c = j.change();
            if (EcsPlanner.TASK_DEFINITION_TYPE.equals(c.resourceType())) {
                continue;
            }
            ServiceState st = EcsStates.serviceState(c.targetState());
            String cluster = st.cluster();
            clusters.add(clusterName(cluster));
            String source = st.source();
            EcsStates.serviceApplied(j)
                    .ifPresent(a -> registeredBySource.putIfAbsent(String.valueOf(source), a.taskDefinitionArn()));
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
            movedOff.add(serviceArn);
            changes.add(out.action(ChangeAction.UPDATE)
                    .reason("moves the service back to the revision it ran before")
                    .addAttributes(AttributeChange.of(
                            "TaskDefinition", TaskDefinitions.shortName(current), TaskDefinitions.shortName(from)))
                    .permissions(EcsPlanner.servicePermissions(serviceArn))
                    .targetState(EcsStates.toJson(state))
                    .build());
        }
        for (JournaledChange j : journaled) {
            if (EcsPlanner.TASK_DEFINITION_TYPE.equals(j.change().resourceType())) {
                changes.add(deregistration(j, clusters, registeredBySource, movedOff, context, reads));
            }
        }
        return new TargetPlan(changes, List.copyOf(reads));
    }

    /**
     * Plans deregistering the revision a journaled registration made: the revision keeps the router (and, without a
     * secret ARN, the API token in its environment), and as the family's latest active revision it is what the next
     * "latest" deploy takes. The journal's revision decides what is ours. It stays when a service of any cluster of
     * the region runs it other than those this rollback moves off it (a deploy since), or a standalone task does; apply
     * checks that again once the services moved back.
     */
    private static Change deregistration(
            JournaledChange j,
            Set<String> serviceClusters,
            Map<String, String> registeredBySource,
            Set<String> movedOff,
            TargetContext context,
            Set<Permission> reads) {
        Change c = j.change();
        Change.Builder keep = Change.builder()
                .from(c)
                .permissions(List.of())
                .attributes(List.of())
                .warnings(List.of());
        if (c.action() == ChangeAction.DELETE) {
            return keep.action(ChangeAction.NO_OP)
                    .reason("a deregistered revision cannot be made active again; plan an install to register a new"
                            + " one")
                    .build();
        }
        RevisionState st = EcsStates.revisionState(c.targetState());
        String source = st.source();
        Optional<String> registered = EcsStates.revisionApplied(j)
                .or(() -> Optional.ofNullable(registeredBySource.get(source)))
                .or(() -> registeredFrom(st, context, reads));
        if (registered.isEmpty()) {
            return keep.action(ChangeAction.NO_OP)
                    .reason("no revision registered from it was found: the registration did not land")
                    .build();
        }
        String arn = registered.get();
        Set<String> clusters = new TreeSet<>(serviceClusters);
        String cluster = st.cluster();
        if (cluster != null) {
            clusters.add(clusterName(cluster));
        }
        Change.Builder out = Change.builder()
                .target(EcsTarget.NAME)
                .resourceType(EcsPlanner.TASK_DEFINITION_TYPE)
                .resourceId(arn);
        reads.add(Permission.of("ecs:DescribeTaskDefinition", "*"));
        TaskDefinitionStatus status = CallScheduler.join(EcsPlanner.describeTaskDefinition(context, arn))
                .taskDefinition()
                .status();
        if (status != TaskDefinitionStatus.ACTIVE) {
            return out.action(ChangeAction.NO_OP).reason("it is " + status).build();
        }
        List<String> clusterList = List.copyOf(clusters);
        // Whatever the apply touched, the revision may run in any cluster of the region: all are looked in.
        List<String> regionClusters = CallScheduler.join(RevisionUsers.clusters(context));
        reads.addAll(RevisionUsers.permissions(arn, regionClusters));
        List<String> users = CallScheduler.join(RevisionUsers.running(context, arn)).stream()
                .filter(service -> !movedOff.contains(service))
                .toList();
        if (!users.isEmpty()) {
            return out.action(ChangeAction.SKIP)
                    .reason(RevisionDeregistrar.inUse(arn, users))
                    .build();
        }
        List<Permission> permissions = new ArrayList<>();
        // DeregisterTaskDefinition takes no resource-level permission: AWS authorizes it on "*" only. Apply reads the
        // revision (first, and back after a lost answer) and looks again for a service that runs it.
        permissions.add(Permission.of("ecs:DeregisterTaskDefinition", "*"));
        permissions.add(Permission.of("ecs:DescribeTaskDefinition", "*"));
        permissions.addAll(RevisionUsers.permissions(arn, regionClusters));
        return out.action(ChangeAction.DELETE)
                .reason("deregisters the revision the apply registered from " + TaskDefinitions.shortName(source)
                        + ", once the services moved back, so no later deploy takes it")
                .addAttributes(AttributeChange.of("Status", "ACTIVE", "INACTIVE"))
                .permissions(permissions)
                .targetState(EcsStates.toJson(DeregistrationState.of(arn, source, clusterList)))
                .build();
    }

    /**
     * The revision an interrupted registration registered, when the journal does not say: one of the family's active
     * revisions newer than the source with exactly what the change registers, found as the apply finds it.
     */
    private static Optional<String> registeredFrom(RevisionState st, TargetContext context, Set<Permission> reads) {
        if (!st.removesRouter() && st.router() == null) {
            return Optional.empty();
        }
        reads.add(Permission.of("ecs:DescribeTaskDefinition", "*"));
        reads.add(Permission.of("ecs:ListTaskDefinitions", "*"));
        DescribeTaskDefinitionResponse from =
                CallScheduler.join(EcsPlanner.describeTaskDefinition(context, st.source()));
        TaskDefinition source = from.taskDefinition();
        LogRouter router = st.router();
        RegisterTaskDefinitionRequest intended = router != null && !st.removesRouter()
                ? RevisionRequests.installRequest(from, router, context.agent(), st.cpu(), st.memory())
                : RevisionRequests.uninstallRequest(from);
        return CallScheduler.join(EarlierRevisions.find(context, source, intended));
    }

    /** A cluster's name, from its name or ARN: plans hold the one the user gave, services the ARN. */
    private static String clusterName(String cluster) {
        return cluster.substring(cluster.lastIndexOf('/') + 1);
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
