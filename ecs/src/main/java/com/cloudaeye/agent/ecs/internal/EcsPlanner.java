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
import com.cloudaeye.agent.spi.JournaledChange;
import com.cloudaeye.agent.spi.TargetContext;
import com.cloudaeye.agent.spi.TargetPlan;
import com.cloudaeye.agent.spi.support.Globs;
import com.cloudaeye.agent.spi.support.Json;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.ecs.EcsClient;
import software.amazon.awssdk.services.ecs.model.ClusterNotFoundException;
import software.amazon.awssdk.services.ecs.model.ContainerDefinition;
import software.amazon.awssdk.services.ecs.model.DeploymentControllerType;
import software.amazon.awssdk.services.ecs.model.DescribeServicesResponse;
import software.amazon.awssdk.services.ecs.model.DescribeTaskDefinitionResponse;
import software.amazon.awssdk.services.ecs.model.ListServicesResponse;
import software.amazon.awssdk.services.ecs.model.LogConfiguration;
import software.amazon.awssdk.services.ecs.model.RegisterTaskDefinitionRequest;
import software.amazon.awssdk.services.ecs.model.Service;
import software.amazon.awssdk.services.ecs.model.ServiceField;
import software.amazon.awssdk.services.ecs.model.TaskDefinition;
import software.amazon.awssdk.services.ecs.model.TaskDefinitionField;

/**
 * Plans installs, uninstalls and rollbacks with read calls only: selects the services, groups them by task definition
 * revision, and decides per revision (register a new one, reuse one registered earlier, nothing to do, or skip) and
 * per service (roll out, nothing to do, or skip).
 */
public final class EcsPlanner {
    private static final Logger LOG = LoggerFactory.getLogger(EcsPlanner.class);
    /** Resource type of task definition changes. */
    public static final String TASK_DEFINITION_TYPE = "AWS::ECS::TaskDefinition";
    /** Resource type of service changes. */
    public static final String SERVICE_TYPE = "AWS::ECS::Service";

    private static final int DESCRIBE_BATCH = 10;

    private final Selection selection;
    private final TargetContext context;
    private final EcsClient ecs;
    private final Set<Permission> reads = new TreeSet<>();
    private final List<String> notes = new ArrayList<>();
    private final Map<String, CompletableFuture<DescribeTaskDefinitionResponse>> latestByFamily = new LinkedHashMap<>();

    /**
     * @param selection what to plan for
     * @param context clients and settings
     */
    public EcsPlanner(Selection selection, TargetContext context) {
        this.selection = selection;
        this.context = context;
        this.ecs = context.client(EcsClient.class, EcsClient::builder);
    }

    /** A revision registered by an earlier run already does what this plan would register: point services at it. */
    private Decision reuse(TaskDefinition source, TaskDefinition revision, String what, String sourceArn) {
        return new Decision(
                base(source, ChangeAction.NO_OP)
                        .reason("revision " + TaskDefinitions.shortName(revision.taskDefinitionArn()) + " already "
                                + what)
                        .build(),
                false,
                false,
                revision.taskDefinitionArn(),
                sourceArn);
    }

    /** What planning decided for one source revision. */
    private record Decision(
            Change change,
            boolean skipped,
            boolean upToDate,
            @Nullable String reuse,
            String routerSource) {}

    /** @return the install plan */
    public TargetPlan planInstall() {
        AgentSettings agent = context.agent();
        return plan(true, (source, services) -> decideInstall(source, agent));
    }

    /** @return the uninstall plan */
    public TargetPlan planUninstall() {
        return plan(false, (source, services) -> decideUninstall(source));
    }

    private interface Decider {
        Decision decide(DescribeTaskDefinitionResponse source, List<Service> services);
    }

    private TargetPlan plan(boolean install, Decider decider) {
        List<Service> services = select();
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
            Decision d = decider.decide(Objects.requireNonNull(sources.get(arn), arn), group);
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

    // ---- selection ----

    private List<Service> select() {
        List<String> globs = selection.services().stream().filter(Globs::isGlob).collect(Collectors.toList());
        Set<String> wanted = new TreeSet<>();
        selection.services().stream()
                .filter(s -> !Globs.isGlob(s))
                .map(EcsPlanner::lastSegment)
                .forEach(wanted::add);
        if (!globs.isEmpty()) {
            List<String> names = listServiceNames();
            for (String glob : globs) {
                Pattern p = Globs.toPattern(glob);
                List<String> matched =
                        names.stream().filter(n -> p.matcher(n).matches()).collect(Collectors.toList());
                if (matched.isEmpty()) {
                    throw new PlanningException("No service of ECS cluster " + selection.cluster() + " matches '" + glob
                            + "' (" + names.size() + " services listed): check the pattern and the cluster.");
                }
                wanted.addAll(matched);
            }
        }
        List<Pattern> excludes =
                selection.excludes().stream().map(Globs::toPattern).collect(Collectors.toList());
        List<String> names = wanted.stream()
                .filter(n -> excludes.stream().noneMatch(p -> p.matcher(n).matches()))
                .collect(Collectors.toList());
        if (names.isEmpty()) {
            throw new PlanningException("Every selected service of ECS cluster " + selection.cluster()
                    + " is excluded by " + selection.excludes() + ": nothing to plan; narrow the excludes.");
        }
        List<Service> services = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        for (int i = 0; i < names.size(); i += DESCRIBE_BATCH) {
            List<String> batch = names.subList(i, Math.min(names.size(), i + DESCRIBE_BATCH));
            DescribeServicesResponse r = read(() -> ecs.describeServices(
                    d -> d.cluster(selection.cluster()).services(batch).include(ServiceField.TAGS)));
            services.addAll(r.services());
            r.failures().forEach(f -> missing.add(lastSegment(f.arn()) + " (" + f.reason() + ")"));
        }
        if (!missing.isEmpty()) {
            throw new PlanningException("ECS cluster " + selection.cluster() + " has no service " + missing
                    + ": check the service names and the region " + context.region() + ".");
        }
        services.forEach(s -> reads.add(Permission.of("ecs:DescribeServices", s.serviceArn())));
        // DescribeTaskDefinition takes no resource-level permission: AWS authorizes it on "*" only.
        reads.add(Permission.of("ecs:DescribeTaskDefinition", "*"));
        LOG.debug("Selected {} ECS services in cluster {}", services.size(), selection.cluster());
        return services;
    }

    private List<String> listServiceNames() {
        // ListServices is not scoped by resource (only by the ecs:cluster condition key): "*".
        reads.add(Permission.of("ecs:ListServices", "*"));
        List<String> names = new ArrayList<>();
        String token = null;
        do {
            String next = token;
            ListServicesResponse page = read(() -> ecs.listServices(
                    l -> l.cluster(selection.cluster()).maxResults(100).nextToken(next)));
            page.serviceArns().forEach(a -> names.add(lastSegment(a)));
            token = page.nextToken();
        } while (token != null && !token.isEmpty());
        return names;
    }

    private <T> T read(java.util.function.Supplier<T> call) {
        try {
            return context.scheduler().call(EcsQuotas.SERVICE_READ, call);
        } catch (ClusterNotFoundException e) {
            throw new PlanningException(
                    "ECS cluster " + selection.cluster() + " does not exist in region " + context.region()
                            + ": check the cluster name and the installer's region.",
                    e);
        }
    }

    /**
     * Reads every source revision and, in parallel, each family's latest revision (to find a revision an earlier run
     * registered), so planning N revisions costs one round of parallel reads rather than 2N sequential ones.
     */
    private Map<String, DescribeTaskDefinitionResponse> describeAll(Set<String> arns) {
        Map<String, CompletableFuture<DescribeTaskDefinitionResponse>> futures = new LinkedHashMap<>();
        arns.forEach(arn -> {
            futures.put(arn, describeTaskDefinition(context, arn));
            latestByFamily.computeIfAbsent(
                    TaskDefinitions.family(arn), family -> describeTaskDefinition(context, family));
        });
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

    // ---- install ----

    private Decision decideInstall(DescribeTaskDefinitionResponse response, AgentSettings agent) {
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
            return new Decision(
                    base(source, ChangeAction.NO_OP)
                            .reason("the log router is installed with these settings")
                            .build(),
                    false,
                    true,
                    null,
                    routerSource);
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
        Sizing sizing = Sizing.of(source, installed.containers(), selection.allowTaskResize());
        if (sizing.problem() != null) {
            return skip(source, routerSource, sizing.problem());
        }
        RegisterTaskDefinitionRequest intended = TaskDefinitions.installRequest(
                response,
                router,
                agent,
                sizing.resized() == null
                        ? null
                        : Integer.toString(sizing.resized().cpu()),
                sizing.resized() == null
                        ? null
                        : Integer.toString(sizing.resized().memory()));
        Optional<TaskDefinition> reusable = latestRevision(source, intended);
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
                ours.map(EcsPlanner::describeRouter).orElse(null),
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
        ObjectNode state = state(source, "install");
        state.set("router", Json.tree(router));
        state.set("previousLogConfigurations", TaskDefinitions.redactedLogsJson(installed.previousLogs()));
        if (sizing.resized() != null) {
            state.put("cpu", Integer.toString(sizing.resized().cpu()));
            state.put("memory", Integer.toString(sizing.resized().memory()));
        }
        change.targetState(state).permissions(registerPermissions(source, response));
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

    private Decision decideUninstall(DescribeTaskDefinitionResponse response) {
        TaskDefinition source = response.taskDefinition();
        String arn = source.taskDefinitionArn();
        Optional<ContainerDefinition> ours = TaskDefinitions.ourRouter(source);
        if (ours.isEmpty()) {
            return new Decision(
                    base(source, ChangeAction.NO_OP)
                            .reason("it has no CloudAEye log router")
                            .build(),
                    false,
                    true,
                    null,
                    arn);
        }
        List<ContainerDefinition> restored = TaskDefinitions.uninstall(source);
        Optional<TaskDefinition> reusable = latestRevision(source, TaskDefinitions.uninstallRequest(response));
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
        if (ours.get().environment().stream().anyMatch(kv -> TaskDefinitions.TOKEN_VARIABLE.equals(kv.name()))) {
            change.addAttributes(AttributeChange.redacted(
                    "ContainerDefinitions." + ours.get().name() + ".Environment." + TaskDefinitions.TOKEN_VARIABLE,
                    true,
                    false));
        }
        ObjectNode state = state(source, "uninstall");
        state.set(
                "previousLogConfigurations",
                TaskDefinitions.redactedLogsJson(TaskDefinitions.previousLogs(ours.get())));
        change.targetState(state).permissions(registerPermissions(source, response));
        return new Decision(change.build(), false, false, null, arn);
    }

    /**
     * The family's latest revision when it is newer than the source and exactly what this plan would register from it:
     * an earlier run (killed, or whose response was lost) registered it, so services can move to it instead.
     */
    private Optional<TaskDefinition> latestRevision(TaskDefinition source, RegisterTaskDefinitionRequest intended) {
        DescribeTaskDefinitionResponse newest = CallScheduler.join(
                latestByFamily.computeIfAbsent(source.family(), family -> describeTaskDefinition(context, family)));
        TaskDefinition td = newest.taskDefinition();
        return td.revision() > source.revision() && TaskDefinitions.registers(newest, intended, context.agent())
                ? Optional.of(td)
                : Optional.empty();
    }

    // ---- shared ----

    private Decision skip(TaskDefinition source, String routerSource, String reason) {
        return new Decision(base(source, ChangeAction.SKIP).reason(reason).build(), true, false, null, routerSource);
    }

    private Change.Builder base(TaskDefinition source, ChangeAction action) {
        return Change.builder()
                .target(EcsTarget.NAME)
                .resourceType(TASK_DEFINITION_TYPE)
                .resourceId(source.taskDefinitionArn())
                .action(action);
    }

    private ObjectNode state(TaskDefinition source, String operation) {
        ObjectNode state = Json.object();
        state.put("kind", "taskDefinition");
        state.put("operation", operation);
        state.put("source", source.taskDefinitionArn());
        return state;
    }

    private static List<Permission> registerPermissions(TaskDefinition source, DescribeTaskDefinitionResponse r) {
        List<Permission> p = new ArrayList<>();
        // RegisterTaskDefinition is not scoped by resource: AWS authorizes it on "*" only.
        p.add(Permission.of("ecs:RegisterTaskDefinition", "*"));
        // DescribeTaskDefinition (apply re-reads the source revision) is not scoped by resource either, nor is
        // ListTaskDefinitions (apply looks for a revision an earlier attempt registered among the family's newer ones).
        p.add(Permission.of("ecs:DescribeTaskDefinition", "*"));
        p.add(Permission.of("ecs:ListTaskDefinitions", "*"));
        if (r.hasTags() && r.tags().stream().anyMatch(t -> !t.key().startsWith("aws:"))) { // as TaskDefinitions.copy
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

    private Change serviceDecision(Service s, Decision d, boolean install) {
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
        ObjectNode state = Json.object();
        state.put("kind", "service");
        state.put("operation", install ? "install" : "uninstall");
        state.put("cluster", s.clusterArn());
        state.put("service", s.serviceArn());
        state.put("from", from);
        state.put("source", from);
        if (to != null) {
            state.put("to", to);
        }
        state.put("routerSource", d.routerSource());
        if (to == null) {
            // What the revision registers, so a resumed apply can recognise it without the journal's line for it.
            JsonNode registers = d.change().targetState();
            for (String key : List.of("router", "cpu", "memory")) {
                if (registers.has(key)) {
                    state.set(key, registers.get(key));
                }
            }
        }
        waitState(state, selection);
        return serviceChange(s, ChangeAction.UPDATE)
                .reason(install ? "rolls out the log router" : "rolls out the revision without the log router")
                .addAttributes(AttributeChange.of("TaskDefinition", TaskDefinitions.shortName(from), toLabel))
                .permissions(servicePermissions(s.serviceArn()))
                .targetState(state)
                .build();
    }

    private static void waitState(ObjectNode state, Selection selection) {
        if (selection.waitTimeout() != null) {
            state.put("waitMillis", selection.waitTimeout().toMillis());
            state.put("pollMillis", selection.pollInterval().toMillis());
        }
    }

    private static List<Permission> servicePermissions(String serviceArn) {
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

    // ---- rollback ----

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
    public static TargetPlan planRollback(List<JournaledChange> journaled, TargetContext context) {
        EcsClient ecs = context.client(EcsClient.class, EcsClient::builder);
        Set<Permission> reads = new TreeSet<>();
        List<Change> changes = new ArrayList<>();
        for (JournaledChange j : journaled) {
            Change c = j.change();
            if (TASK_DEFINITION_TYPE.equals(c.resourceType())) {
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
            JsonNode st = c.targetState();
            String cluster = st.path("cluster").asText();
            String serviceArn = st.path("service").asText();
            String from = st.path("from").asText();
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
                    .resourceType(SERVICE_TYPE)
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
            TaskDefinition now =
                    CallScheduler.join(describeTaskDefinition(context, current)).taskDefinition();
            // The revision the apply journaled proves it moved the service; without one (interrupted, unknown),
            // the revision must be one this plan's apply registers.
            String journaledArn =
                    j.state().map(a -> a.path("taskDefinitionArn").asText("")).orElse("");
            if (!current.equals(journaledArn) && !madeByApply(st, from, now)) {
                changes.add(out.action(ChangeAction.SKIP)
                        .reason("it now runs " + TaskDefinitions.shortName(current) + ", which that apply did not"
                                + " set: someone changed it since, so it is left alone")
                        .build());
                continue;
            }
            ObjectNode state = Json.object();
            state.put("kind", "service");
            state.put("operation", "rollback");
            state.put("cluster", cluster);
            state.put("service", serviceArn);
            state.put("from", current);
            state.put("to", from);
            if (st.has("waitMillis")) {
                state.put("waitMillis", st.get("waitMillis").asLong());
                state.put("pollMillis", st.get("pollMillis").asLong());
            }
            changes.add(out.action(ChangeAction.UPDATE)
                    .reason("moves the service back to the revision it ran before")
                    .addAttributes(AttributeChange.of(
                            "TaskDefinition", TaskDefinitions.shortName(current), TaskDefinitions.shortName(from)))
                    .permissions(servicePermissions(serviceArn))
                    .targetState(state)
                    .build());
        }
        return new TargetPlan(changes, List.copyOf(reads));
    }

    private static boolean madeByApply(JsonNode state, String from, TaskDefinition now) {
        if (state.has("to") && state.get("to").asText().equals(now.taskDefinitionArn())) {
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
        if ("install".equals(state.path("operation").asText())) {
            return router.map(r -> Objects.equals(
                            r.dockerLabels().get(TaskDefinitions.SOURCE_LABEL),
                            state.path("routerSource").asText()))
                    .orElse(false);
        }
        return router.isEmpty();
    }

    // ---- patterns ----

    private static String lastSegment(String nameOrArn) {
        return nameOrArn.substring(nameOrArn.lastIndexOf('/') + 1);
    }
}
