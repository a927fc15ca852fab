package com.cloudaeye.agent.ecs.internal;

import com.cloudaeye.agent.AgentSettings;
import com.cloudaeye.agent.AttributeChange;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.PlanningException;
import com.cloudaeye.agent.ecs.EcsTarget;
import com.cloudaeye.agent.ecs.LogRouter;
import com.cloudaeye.agent.spi.CallScheduler;
import com.cloudaeye.agent.spi.TargetContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.services.ecs.model.ContainerDefinition;
import software.amazon.awssdk.services.ecs.model.DescribeTaskDefinitionResponse;
import software.amazon.awssdk.services.ecs.model.LogConfiguration;
import software.amazon.awssdk.services.ecs.model.RegisterTaskDefinitionRequest;
import software.amazon.awssdk.services.ecs.model.TaskDefinition;

/**
 * Decides per source task definition revision what an install or an uninstall does: register a new revision, reuse
 * one an earlier run registered, nothing, or skip.
 */
final class RevisionDecisions {
    private final Selection selection;
    private final TargetContext context;
    private final List<String> notes;
    private final Map<String, CompletableFuture<List<String>>> familyRevisions;

    /**
     * @param selection what is planned
     * @param context clients and settings
     * @param notes the plan's notes, added to
     * @param familyRevisions each family's active revisions, listed once per plan
     */
    RevisionDecisions(
            Selection selection,
            TargetContext context,
            List<String> notes,
            Map<String, CompletableFuture<List<String>>> familyRevisions) {
        this.selection = selection;
        this.context = context;
        this.notes = notes;
        this.familyRevisions = familyRevisions;
    }

    /** What planning decided for one source revision. */
    record Decision(
            Change change,
            boolean skipped,
            boolean upToDate,
            @Nullable String reuse,
            String routerSource) {}

    /** A revision registered by an earlier run already does what this plan would register: point services at it. */
    private Decision reuse(TaskDefinition source, String revision, String what, String sourceArn) {
        return new Decision(
                base(source, ChangeAction.NO_OP)
                        .reason("revision " + TaskDefinitions.shortName(revision) + " already " + what)
                        .build(),
                false,
                false,
                revision,
                sourceArn);
    }

    Decision decideInstall(DescribeTaskDefinitionResponse response, AgentSettings agent) {
        TaskDefinition source = response.taskDefinition();
        LogRouter router = selection.router();
        String arn = source.taskDefinitionArn();
        Optional<ContainerDefinition> ours = TaskDefinitions.ourRouter(source);
        Optional<ContainerDefinition> clash = TaskDefinitions.container(source, router.name());
        if (clash.isPresent() && !TaskDefinitions.isOurs(clash.get())) {
            throw new PlanningException("Task definition " + TaskDefinitions.shortName(arn) + " already has a"
                    + " container named '" + router.name() + "' that is not CloudAEye's log router: choose another"
                    + " name with .sidecar(s -> s.name(\"...\")).");
        }
        String routerSource = ours.map(r -> r.dockerLabels().get(TaskDefinitions.SOURCE_LABEL))
                .orElse(arn);
        Optional<ContainerDefinition> foreign = TaskDefinitions.foreignRouter(source);
        if (foreign.isPresent()) {
            return skip(
                    source,
                    routerSource,
                    "it already has a FireLens log router ('" + foreign.get().name()
                            + "') and a task takes only one: route its output to CloudAEye instead");
        }
        if (source.runtimePlatform() != null
                && source.runtimePlatform().operatingSystemFamily() != null
                && !source.runtimePlatform().operatingSystemFamilyAsString().equals("LINUX")) {
            return skip(
                    source,
                    routerSource,
                    "FireLens does not run on " + source.runtimePlatform().operatingSystemFamilyAsString() + " tasks");
        }
        if (router.apiTokenSecretArn().isPresent() && source.executionRoleArn() == null) {
            return skip(
                    source,
                    routerSource,
                    "the API token comes from a secret, which ECS reads with the task's"
                            + " execution role, and this task definition has none: add an executionRoleArn");
        }
        if (TaskDefinitions.isInstalled(source, router, agent)) {
            return upToDate(source, routerSource, "the log router is installed with these settings");
        }
        TaskDefinitions.Installed installed = TaskDefinitions.install(source, router, agent);
        if (!installed.routesAny()) {
            return skip(
                    source,
                    routerSource,
                    "no container's logs can reach the router without losing their destination: "
                            + installed.routes().stream()
                                    .flatMap(r -> r.warnings().stream())
                                    .collect(Collectors.joining(" ")));
        }
        if (installed.containers().size() > TaskDefinitions.MAX_CONTAINERS) {
            return skip(
                    source,
                    routerSource,
                    TaskDefinitions.shortName(arn) + " (family " + source.family() + ") already has "
                            + source.containerDefinitions().size() + " containers, the most an ECS task definition"
                            + " takes, so the log router cannot be added: move a container to another task"
                            + " definition, then plan again");
        }
        Sizing sizing = Sizing.of(source, installed.containers(), selection.allowTaskResize());
        if (sizing.problem() != null) {
            return skip(source, routerSource, sizing.problem());
        }
        RegisterTaskDefinitionRequest intended =
                RevisionRequests.installRequest(response, router, agent, sizing.resizedCpu(), sizing.resizedMemory());
        int bytes = RequestSize.bytes(intended);
        if (bytes > RequestSize.MAX_REGISTER_BYTES) {
            return skip(
                    source,
                    routerSource,
                    "the new revision of family " + source.family() + " (" + TaskDefinitions.shortName(arn)
                            + " with the log router) would be a RegisterTaskDefinition request of " + bytes
                            + " bytes, over the " + RequestSize.MAX_REGISTER_BYTES + " bytes (64 KiB) AWS accepts:"
                            + " make the task definition at least " + (bytes - RequestSize.MAX_REGISTER_BYTES)
                            + " bytes smaller (move large environment values to environmentFiles or secrets,"
                            + " shorten commands or docker labels), register it, then plan again");
        }
        Optional<String> reusable = earlierRevision(source, intended);
        if (reusable.isPresent()) {
            return reuse(source, reusable.get(), "adds the log router to it", routerSource);
        }

        Change.Builder change = base(source, ChangeAction.CREATE)
                .reason(
                        ours.isPresent()
                                ? "upgrades the log router in a new revision"
                                : "registers a new revision with the log router");
        change.addAttributes(
                AttributeChange.of("Revision", TaskDefinitions.shortName(arn), source.family() + ":(next revision)"));
        List<ContainerDefinition> containers = installed.containers();
        ContainerDefinition newRouter = containers.get(containers.size() - 1);
        change.addAttributes(AttributeChange.of(
                "ContainerDefinitions." + router.name(),
                ours.map(RevisionDecisions::describeRouter).orElse(null),
                describeRouter(newRouter)));
        routeAttributes(change, source, installed, newRouter);
        boolean hadToken = ours.map(
                        r -> r.environment().stream().anyMatch(kv -> TaskDefinitions.TOKEN_VARIABLE.equals(kv.name())))
                .orElse(false);
        if (router.apiTokenSecretArn().isPresent()) {
            String secret = router.apiTokenSecretArn().get();
            change.addAttributes(AttributeChange.of(
                    "ContainerDefinitions." + router.name() + ".Secrets." + TaskDefinitions.TOKEN_VARIABLE,
                    null,
                    secret));
            if (hadToken) {
                change.addAttributes(AttributeChange.redacted(
                        "ContainerDefinitions." + router.name() + ".Environment." + TaskDefinitions.TOKEN_VARIABLE,
                        true,
                        false));
            }
            change.addWarnings("The execution role " + source.executionRoleArn() + " must be allowed to read "
                    + secret + " (secretsmanager:GetSecretValue or ssm:GetParameters, and kms:Decrypt for a"
                    + " customer-managed key), or the tasks will not start.");
        } else {
            change.addAttributes(AttributeChange.redacted(
                    "ContainerDefinitions." + router.name() + ".Environment." + TaskDefinitions.TOKEN_VARIABLE,
                    hadToken,
                    true));
            change.addWarnings("The API token is a plain environment value of the router: anyone allowed"
                    + " ecs:DescribeTaskDefinition can read it. Prefer .sidecar(s -> s.apiTokenSecretArn(...)).");
        }
        if (sizing.resized() != null) {
            change.addAttributes(AttributeChange.of(
                    "Cpu", source.cpu(), Integer.toString(sizing.resized().cpu())));
            change.addAttributes(AttributeChange.of(
                    "Memory", source.memory(), Integer.toString(sizing.resized().memory())));
            change.addWarnings("The task grows from " + sizing.current() + " to " + sizing.resized()
                    + " to fit the log router: Fargate bills the larger size.");
        }
        RevisionState state = RevisionState.install(
                arn,
                router,
                RedactedLogConfiguration.of(installed.previousLogs()),
                sizing.resizedCpu(),
                sizing.resizedMemory(),
                selection.cluster());
        change.targetState(EcsStates.toJson(state)).permissions(registerPermissions(source, response));
        return new Decision(change.build(), false, false, null, routerSource);
    }

    /** Per container, where its logs went and go; the roles' log permissions in the notes. */
    private void routeAttributes(
            Change.Builder change,
            TaskDefinition source,
            TaskDefinitions.Installed installed,
            ContainerDefinition newRouter) {
        Map<String, @Nullable LogConfiguration> now = TaskDefinitions.logsByName(source.containerDefinitions());
        for (FireLensRoutes.Route route : installed.routes()) {
            String was = FireLensRoutes.describe(now.get(route.container()));
            if (!was.equals(route.afterText())) {
                change.addAttributes(AttributeChange.of(
                        "ContainerDefinitions." + route.container() + ".Logs", was, route.afterText()));
            }
            change.addAllWarnings(route.warnings());
        }
        String routerWas = TaskDefinitions.container(source, newRouter.name())
                .map(c -> FireLensRoutes.describe(c.logConfiguration()))
                .orElse(null);
        String routerNow = FireLensRoutes.describe(newRouter.logConfiguration());
        if (!routerNow.equals(routerWas)) {
            change.addAttributes(
                    AttributeChange.of("ContainerDefinitions." + newRouter.name() + ".Logs", routerWas, routerNow));
        }
        for (String note : FireLensRoutes.notes(source, selection.router(), installed.routes())) {
            if (!notes.contains(note)) {
                notes.add(note);
            }
        }
    }

    private static String describeRouter(ContainerDefinition c) {
        return c.image() + " (cpu " + (c.cpu() == null ? 0 : c.cpu()) + ", memory "
                + (c.memoryReservation() != null ? c.memoryReservation() : c.memory()) + " MiB"
                + (Boolean.FALSE.equals(c.essential()) ? "" : ", essential") + ")";
    }

    // ---- uninstall ----

    Decision decideUninstall(DescribeTaskDefinitionResponse response) {
        TaskDefinition source = response.taskDefinition();
        String arn = source.taskDefinitionArn();
        Optional<ContainerDefinition> ours = TaskDefinitions.ourRouter(source);
        if (ours.isEmpty()) {
            return upToDate(source, arn, "it has no CloudAEye log router");
        }
        List<ContainerDefinition> restored = TaskDefinitions.uninstall(source);
        Optional<String> reusable = earlierRevision(source, RevisionRequests.uninstallRequest(response));
        if (reusable.isPresent()) {
            return reuse(source, reusable.get(), "removes the log router from it", arn);
        }
        Change.Builder change = base(source, ChangeAction.CREATE)
                .reason("registers a new revision without the log router")
                .addAttributes(AttributeChange.of(
                        "Revision", TaskDefinitions.shortName(arn), source.family() + ":(next revision)"))
                .addAttributes(AttributeChange.of(
                        "ContainerDefinitions." + ours.get().name(), describeRouter(ours.get()), null));
        Map<String, @Nullable LogConfiguration> before = TaskDefinitions.logsByName(source.containerDefinitions());
        for (ContainerDefinition c : restored) {
            String was = FireLensRoutes.describe(before.get(c.name()));
            String now = FireLensRoutes.describe(c.logConfiguration());
            if (!was.equals(now)) {
                change.addAttributes(AttributeChange.of("ContainerDefinitions." + c.name() + ".Logs", was, now));
            }
        }
        RecordedTaskSize.Restore size = RecordedTaskSize.restore(source, restored);
        if (size.cpu() != null && size.memory() != null) {
            change.addAttributes(AttributeChange.of("Cpu", source.cpu(), size.cpu()));
            change.addAttributes(AttributeChange.of("Memory", source.memory(), size.memory()));
        }
        if (size.kept() != null) {
            change.addWarnings(size.kept());
        }
        if (ours.get().environment().stream().anyMatch(kv -> TaskDefinitions.TOKEN_VARIABLE.equals(kv.name()))) {
            change.addAttributes(AttributeChange.redacted(
                    "ContainerDefinitions." + ours.get().name() + ".Environment." + TaskDefinitions.TOKEN_VARIABLE,
                    true,
                    false));
        }
        RevisionState state = RevisionState.uninstall(
                arn, RedactedLogConfiguration.of(TaskDefinitions.previousLogs(ours.get())), selection.cluster());
        change.targetState(EcsStates.toJson(state)).permissions(registerPermissions(source, response));
        return new Decision(change.build(), false, false, null, arn);
    }

    /**
     * A revision an earlier run (killed, or whose response was lost) registered from the source with exactly what this
     * plan would register, so services can move to it instead: searched as apply searches ({@link EarlierRevisions}),
     * so the plan and its apply agree on what is already registered.
     */
    private Optional<String> earlierRevision(TaskDefinition source, RegisterTaskDefinitionRequest intended) {
        CompletableFuture<List<String>> family =
                familyRevisions.computeIfAbsent(source.family(), f -> EarlierRevisions.listFamily(context, f));
        return CallScheduler.join(EarlierRevisions.find(context, family, source, intended));
    }

    /** The source revision is already as this plan would make it: a no-op with the reason. */
    private Decision upToDate(TaskDefinition source, String routerSource, String reason) {
        return new Decision(base(source, ChangeAction.NO_OP).reason(reason).build(), false, true, null, routerSource);
    }

    private Decision skip(TaskDefinition source, String routerSource, String reason) {
        return new Decision(base(source, ChangeAction.SKIP).reason(reason).build(), true, false, null, routerSource);
    }

    private Change.Builder base(TaskDefinition source, ChangeAction action) {
        return Change.builder()
                .target(EcsTarget.NAME)
                .resourceType(EcsPlanner.TASK_DEFINITION_TYPE)
                .resourceId(source.taskDefinitionArn())
                .action(action);
    }

    private static List<Permission> registerPermissions(TaskDefinition source, DescribeTaskDefinitionResponse r) {
        List<Permission> p = new ArrayList<>();
        // RegisterTaskDefinition is not scoped by resource: AWS authorizes it on "*" only.
        p.add(Permission.of("ecs:RegisterTaskDefinition", "*"));
        // DescribeTaskDefinition (apply re-reads the source revision) is not scoped by resource either, nor is
        // ListTaskDefinitions (apply looks for a revision an earlier attempt registered among the family's newer ones).
        p.add(Permission.of("ecs:DescribeTaskDefinition", "*"));
        p.add(Permission.of("ecs:ListTaskDefinitions", "*"));
        if (r.hasTags() && r.tags().stream().anyMatch(t -> !t.key().startsWith("aws:"))) { // as RevisionRequests.copy
            String arn = source.taskDefinitionArn();
            p.add(Permission.of("ecs:TagResource", arn.substring(0, arn.lastIndexOf(':')) + ":*"));
        }
        if (source.taskRoleArn() != null) {
            p.add(Permission.of("iam:PassRole", source.taskRoleArn()));
        }
        if (source.executionRoleArn() != null) {
            p.add(Permission.of("iam:PassRole", source.executionRoleArn()));
        }
        return p;
    }
}
