package com.cloudaeye.agent.ecs.internal;

import com.cloudaeye.agent.AgentSettings;
import com.cloudaeye.agent.AttributeChange;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.ecs.EcsTarget;
import com.cloudaeye.agent.spi.CallScheduler;
import com.cloudaeye.agent.spi.JournaledChange;
import com.cloudaeye.agent.spi.TargetContext;
import com.cloudaeye.agent.spi.TargetPlan;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import software.amazon.awssdk.services.ecs.EcsClient;
import software.amazon.awssdk.services.ecs.model.DeploymentControllerType;
import software.amazon.awssdk.services.ecs.model.DescribeTaskDefinitionResponse;
import software.amazon.awssdk.services.ecs.model.Service;
import software.amazon.awssdk.services.ecs.model.TaskDefinitionField;

/**
 * Plans installs, uninstalls and rollbacks with read calls only: selects the services, groups them by task definition
 * revision, and decides per revision (register a new one, reuse one registered earlier, nothing to do, or skip) and
 * per service (roll out, nothing to do, or skip).
 */
public final class EcsPlanner {
    /** Resource type of task definition changes. */
    public static final String TASK_DEFINITION_TYPE = "AWS::ECS::TaskDefinition";
    /** Resource type of service changes. */
    public static final String SERVICE_TYPE = "AWS::ECS::Service";

    private final Selection selection;
    private final TargetContext context;
    private final Set<Permission> reads = new TreeSet<>();
    private final List<String> notes = new ArrayList<>();
    private final Map<String, CompletableFuture<List<String>>> familyRevisions = new LinkedHashMap<>();
    private final RevisionDecisions decisions;

    /**
     * @param selection what to plan for
     * @param context clients and settings
     */
    public EcsPlanner(Selection selection, TargetContext context) {
        this.selection = selection;
        this.context = context;
        this.decisions = new RevisionDecisions(selection, context, notes, familyRevisions);
    }

    /** @return the install plan */
    public TargetPlan planInstall() {
        AgentSettings agent = context.agent();
        return plan(true, (source, services) -> decisions.decideInstall(source, agent));
    }

    /** @return the uninstall plan */
    public TargetPlan planUninstall() {
        return plan(false, (source, services) -> decisions.decideUninstall(source));
    }

    private interface Decider {
        RevisionDecisions.Decision decide(DescribeTaskDefinitionResponse source, List<Service> services);
    }

    private TargetPlan plan(boolean install, Decider decider) {
        List<Service> services = new ServiceSelector(selection, context, reads).select();
        List<Change> changes = new ArrayList<>();
        Map<String, List<Service>> groups = new TreeMap<>();
        for (Service s : services) {
            String controller = s.deploymentController() == null
                    ? DeploymentControllerType.ECS.toString()
                    : s.deploymentController().typeAsString();
            if (!DeploymentControllerType.ECS.toString().equals(controller)) {
                changes.add(serviceChange(s, ChangeAction.SKIP)
                        .reason("its deployment controller is " + controller + ": only the ECS controller lets"
                                + " UpdateService change the task definition; add the router through your "
                                + controller + " pipeline instead")
                        .build());
            } else if (!"ACTIVE".equals(s.status())) {
                changes.add(serviceChange(s, ChangeAction.SKIP)
                        .reason("the service is " + s.status())
                        .build());
            } else {
                groups.computeIfAbsent(s.taskDefinition(), k -> new ArrayList<>())
                        .add(s);
            }
        }
        Map<String, DescribeTaskDefinitionResponse> sources = describeAll(groups.keySet());
        groups.forEach((arn, group) -> {
            // describeAll answers every ARN it is given.
            RevisionDecisions.Decision d = decider.decide(Objects.requireNonNull(sources.get(arn), arn), group);
            changes.add(d.change());
            group.forEach(s -> changes.add(serviceDecision(s, d, install)));
        });
        List<Change> reviewed = new IacOwnership(selection.managedResources(), selection.router())
                .review(changes, sources, services, install ? context.agent() : null, notes);
        if (!selection.updateServices() && reviewed.stream().anyMatch(Change::isMutation)) {
            notes.add("ECS: updateServices is false, so services keep their current revision until you update them"
                    + " (or plan again with updateServices(true)).");
        }
        return new TargetPlan(reviewed, List.copyOf(reads), notes);
    }

    /**
     * Reads every source revision and, in parallel, lists each family's active revisions (to find a revision an earlier
     * run registered, as apply does), so planning N revisions costs one round of parallel reads rather than 2N
     * sequential ones.
     */
    private Map<String, DescribeTaskDefinitionResponse> describeAll(Set<String> arns) {
        Map<String, CompletableFuture<DescribeTaskDefinitionResponse>> futures = new LinkedHashMap<>();
        arns.forEach(arn -> {
            futures.put(arn, describeTaskDefinition(context, arn));
            familyRevisions.computeIfAbsent(
                    TaskDefinitions.family(arn), family -> EarlierRevisions.listFamily(context, family));
        });
        if (!arns.isEmpty()) {
            reads.add(Permission.of("ecs:ListTaskDefinitions", "*"));
        }
        Map<String, DescribeTaskDefinitionResponse> out = new LinkedHashMap<>();
        futures.forEach((arn, f) -> out.put(arn, CallScheduler.join(f)));
        return out;
    }

    static CompletableFuture<DescribeTaskDefinitionResponse> describeTaskDefinition(
            TargetContext context, String arnOrFamily) {
        EcsClient ecs = context.client(EcsClient.class, EcsClient::builder);
        return context.scheduler()
                .submit(
                        EcsQuotas.TASK_DEFINITION_READ,
                        () -> ecs.describeTaskDefinition(
                                d -> d.taskDefinition(arnOrFamily).include(TaskDefinitionField.TAGS)));
    }

    private Change serviceDecision(Service s, RevisionDecisions.Decision d, boolean install) {
        String from = s.taskDefinition();
        if (d.skipped()) {
            return serviceChange(s, ChangeAction.SKIP)
                    .reason("its task definition " + TaskDefinitions.shortName(from) + " is skipped: "
                            + d.change().reason().orElse(""))
                    .build();
        }
        if (d.upToDate()) {
            return serviceChange(s, ChangeAction.NO_OP)
                    .reason(
                            install
                                    ? "it runs " + TaskDefinitions.shortName(from) + ", which has the log router"
                                    : "it runs " + TaskDefinitions.shortName(from)
                                            + ", which has no CloudAEye log router")
                    .build();
        }
        String to = d.reuse();
        String toLabel = to != null ? TaskDefinitions.shortName(to) : TaskDefinitions.family(from) + ":(next revision)";
        if (!selection.updateServices()) {
            return serviceChange(s, ChangeAction.SKIP)
                    .reason("updateServices is false: it keeps " + TaskDefinitions.shortName(from) + " until it is"
                            + " updated to " + toLabel)
                    .build();
        }
        // What the revision registers, so a resumed apply can recognise it without the journal's line for it.
        RevisionState registers =
                to == null ? EcsStates.revisionState(d.change().targetState()) : null;
        Duration wait = selection.waitTimeout();
        ServiceState state = ServiceState.builder()
                .operation(install ? Operation.INSTALL : Operation.UNINSTALL)
                .cluster(s.clusterArn())
                .service(s.serviceArn())
                .fromRevision(from)
                .source(from)
                .to(to)
                .routerSource(d.routerSource())
                .router(registers == null ? null : registers.router())
                .cpu(registers == null ? null : registers.cpu())
                .memory(registers == null ? null : registers.memory())
                .waitMillis(wait == null ? null : wait.toMillis())
                .pollMillis(wait == null ? null : selection.pollInterval().toMillis())
                .build();
        return serviceChange(s, ChangeAction.UPDATE)
                .reason(install ? "rolls out the log router" : "rolls out the revision without the log router")
                .addAttributes(AttributeChange.of("TaskDefinition", TaskDefinitions.shortName(from), toLabel))
                .permissions(servicePermissions(s.serviceArn()))
                .targetState(EcsStates.toJson(state))
                .build();
    }

    static List<Permission> servicePermissions(String serviceArn) {
        // DescribeServices is needed with or without waiting: apply first checks that the service still runs the
        // planned revision, so a service changed since planning is skipped rather than overwritten.
        return List.of(
                Permission.of("ecs:UpdateService", serviceArn), Permission.of("ecs:DescribeServices", serviceArn));
    }

    private static Change.Builder serviceChange(Service s, ChangeAction action) {
        return Change.builder()
                .target(EcsTarget.NAME)
                .resourceType(SERVICE_TYPE)
                .resourceId(s.serviceArn())
                .action(action);
    }

    /**
     * Plans putting services back on the revision they ran before an apply (see {@link EcsRollbackPlanner}).
     *
     * @param journaled the journal's changes of this target whose mutation may have been sent
     * @param context clients
     * @return the rollback plan
     */
    public static TargetPlan planRollback(List<JournaledChange> journaled, TargetContext context) {
        return EcsRollbackPlanner.planRollback(journaled, context);
    }
}
