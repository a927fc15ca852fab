package com.cloudaeye.agent.eks.internal.helm;

import com.cloudaeye.agent.AgentException;
import com.cloudaeye.agent.AttributeChange;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.PlanningException;
import com.cloudaeye.agent.eks.AgentDaemonSet;
import com.cloudaeye.agent.eks.internal.Clusters;
import com.cloudaeye.agent.eks.internal.EksComponent;
import com.cloudaeye.agent.eks.internal.EksQuotas;
import com.cloudaeye.agent.spi.ApplyContext;
import com.cloudaeye.agent.spi.TargetContext;
import com.cloudaeye.agent.spi.TargetPlan;
import com.cloudaeye.agent.spi.support.AwsFailures;
import com.cloudaeye.agent.spi.support.Json;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.marcnuri.helm.Release;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.eks.EksClient;
import software.amazon.awssdk.services.eks.model.Cluster;
import software.amazon.awssdk.services.eks.model.ClusterStatus;
import software.amazon.awssdk.services.eks.model.ListFargateProfilesResponse;

/**
 * The agent DaemonSet as one Helm release of the chart shipped in this module, in its own namespace. Plans by
 * rendering the chart client-side and comparing its objects with the manifests of the installed release (create,
 * upgrade or no-op); applies with an atomic {@code helm upgrade --install --wait} under a timeout; uninstalls with
 * {@code helm uninstall}. Reaches the cluster with an EKS token made from the caller's AWS credentials, or through
 * the caller's kubeconfig.
 *
 * <p>Everything apply and rollback need is in each change's {@link Change#targetState()} (cluster, namespace,
 * release, the non-secret chart values, the planned-from revision), so a saved plan applies in another JVM; the
 * agent token is read from the installer's agent settings at apply time and never journaled.
 */
public final class HelmReleaseComponent implements EksComponent {
    /** The resource type of the release's changes. */
    public static final String RESOURCE_TYPE = "Kubernetes::Helm::Release";

    /** Marks a namespace the install created, with the release it was created for, so uninstall deletes only it. */
    static final String NAMESPACE_CREATED_FOR = "agent.cloudaeye.com/created-for-release";

    private static final Duration NAMESPACE_POLL = Duration.ofMillis(500);
    private static final Logger LOG = LoggerFactory.getLogger(HelmReleaseComponent.class);

    private final AgentDaemonSet options;
    private final Clock clock;

    /** @param options how the DaemonSet is installed */
    public HelmReleaseComponent(AgentDaemonSet options) {
        this(options, Clock.systemUTC());
    }

    /**
     * @param options how the DaemonSet is installed
     * @param clock signs EKS tokens
     */
    HelmReleaseComponent(AgentDaemonSet options, Clock clock) {
        this.options = options;
        this.clock = clock;
    }

    @Override
    public Set<String> resourceTypes() {
        return Set.of(RESOURCE_TYPE);
    }

    @Override
    public TargetPlan plan(Cluster cluster, TargetContext context) {
        String resourceId = resourceId(cluster.arn(), options.namespace(), options.releaseName());
        List<Permission> reads = List.of(Permission.of("eks:ListFargateProfiles", cluster.arn()));
        List<String> notes = kubernetesPermissionNotes(cluster.name());
        if (cluster.status() != ClusterStatus.ACTIVE) {
            return new TargetPlan(
                    List.of(base(resourceId, ChangeAction.SKIP)
                            .reason("Cluster " + cluster.name() + " is " + cluster.statusAsString()
                                    + ", not ACTIVE: install the agent once the cluster is active.")
                            .build()),
                    reads,
                    notes);
        }
        List<String> warnings = fargateWarnings(cluster, context);
        ObjectNode values = ChartValues.nonSecret(options, context.agent());
        Manifests desired = Manifests.parse(AgentChart.render(
                options.releaseName(),
                options.namespace(),
                values,
                context.agent().apiToken()));
        ClusterConnection connection = connection(cluster, context);
        LOG.debug(
                "Reading release {}/{} through {}", options.namespace(), options.releaseName(), connection.describe());
        Optional<InstalledRelease> installed = connection.installedRelease(options.namespace(), options.releaseName());

        ObjectNode state = state(cluster, values, installed);
        Change.Builder change = base(resourceId, ChangeAction.CREATE);
        change.addAllWarnings(warnings).targetState(state);
        List<Permission> applyPermissions = applyPermissions(cluster.arn());
        if (installed.isEmpty()) {
            change.action(ChangeAction.CREATE)
                    .addAttributes(AttributeChange.of("Release", null, releaseLabel()))
                    .addAllAttributes(desired.changesFrom(null))
                    .addAllPermissions(applyPermissions);
            namespaceOnInstall(connection).ifPresent(change::addAttributes);
        } else {
            InstalledRelease release = installed.get();
            Optional<List<AttributeChange>> diff = release.manifest().map(m -> desired.changesFrom(Manifests.parse(m)));
            if (release.isDeployed() && diff.isPresent() && diff.get().isEmpty()) {
                change.action(ChangeAction.NO_OP)
                        .reason("Release " + releaseLabel() + " revision " + release.revision()
                                + " already has the manifests this plan renders.");
            } else {
                change.action(ChangeAction.UPDATE)
                        .addAllPermissions(applyPermissions)
                        .addAllAttributes(diff.orElse(List.of()));
                if (!release.isDeployed()) {
                    change.addAttributes(AttributeChange.of("Status", release.status(), "deployed"))
                            .reason("Release " + releaseLabel() + " revision " + release.revision() + " is "
                                    + release.status() + "; the upgrade repairs it.");
                } else if (diff.isEmpty()) {
                    change.reason("The installed manifests cannot be read through " + connection.describe()
                            + ", so Helm upgrades to a new revision whether or not anything differs.");
                }
            }
        }
        return new TargetPlan(List.of(change.build()), reads, notes);
    }

    @Override
    public TargetPlan planUninstall(Cluster cluster, TargetContext context) {
        String resourceId = resourceId(cluster.arn(), options.namespace(), options.releaseName());
        ClusterConnection connection = connection(cluster, context);
        Optional<InstalledRelease> installed = connection.installedRelease(options.namespace(), options.releaseName());
        Change.Builder change = base(resourceId, ChangeAction.NO_OP);
        Optional<JsonNode> namespace = readNamespace(connection);
        boolean ownNamespace = namespace.filter(this::createdByInstall).isPresent();
        if (installed.isEmpty() && !ownNamespace) {
            change.reason("Release " + releaseLabel() + " is not installed.");
        } else {
            change.action(ChangeAction.DELETE)
                    .targetState(state(cluster, Json.object(), installed))
                    .addAllPermissions(applyPermissions(cluster.arn()));
            if (installed.isPresent()) {
                change.addAttributes(AttributeChange.of("Release", releaseLabel(), null));
            }
            installed.flatMap(InstalledRelease::manifest).ifPresent(m -> {
                Manifests before = Manifests.parse(m);
                change.addAllAttributes(Manifests.parse("").changesFrom(before));
            });
            if (ownNamespace) {
                change.addAttributes(AttributeChange.of(
                        "Namespace/" + options.namespace(), "created by the install, with everything in it", null));
            } else {
                change.reason("Namespace " + options.namespace() + " stays: "
                        + (connection.api().isEmpty()
                                ? "whether the install created it cannot be read through " + connection.describe()
                                : "it existed before the install")
                        + ".");
            }
        }
        return new TargetPlan(List.of(change.build()), List.of(), kubernetesPermissionNotes(cluster.name()));
    }

    @Override
    public TargetPlan planRollback(List<Change> applied, TargetContext context) {
        List<Change> changes = new ArrayList<>();
        for (Change done : applied) {
            changes.add(planRestore(done, context));
        }
        return new TargetPlan(changes, List.of());
    }

    /**
     * Restores the before-state of one applied change: an install is uninstalled, an upgrade is upgraded back to the
     * values of the revision before it, an uninstall is installed again with its former values (and the token of
     * the current agent settings). A release changed since the apply is left alone.
     */
    private Change planRestore(Change done, TargetContext context) {
        JsonNode state = done.targetState();
        String namespace = state.path("namespace").asText();
        String release = state.path("release").asText();
        String label = namespace + "/" + release;
        int beforeRevision = state.path("beforeRevision").asInt(0);
        Change.Builder restore = Change.builder()
                .target(done.target())
                .resourceType(RESOURCE_TYPE)
                .resourceId(done.resourceId())
                .action(ChangeAction.SKIP);
        ClusterConnection connection = connectionForApply(state, context);
        Optional<InstalledRelease> now = connection.installedRelease(namespace, release);
        int current = now.map(InstalledRelease::revision).orElse(0);
        // What the apply left: a first install is revision 1, an upgrade one more than before, an uninstall nothing.
        int expected = done.action() == ChangeAction.DELETE ? 0 : beforeRevision + 1;
        if (current != expected) {
            return restore.reason("Release " + label + " changed since it was applied (revision " + current
                            + ", expected " + expected + "): restore it yourself if you mean to.")
                    .build();
        }
        ObjectNode next = state.deepCopy();
        next.put("beforeRevision", current);
        List<Permission> permissions = applyPermissions(state.path("clusterArn").asText());
        if (done.action() == ChangeAction.CREATE) {
            return restore.action(ChangeAction.DELETE)
                    .reason("Uninstalls the release this apply installed.")
                    .targetState(next)
                    .addAttributes(AttributeChange.of("Release", label, null))
                    .addAllPermissions(permissions)
                    .build();
        }
        if (!state.hasNonNull("beforeValues")) {
            return restore.reason("The values of release " + label + " before the apply could not be read through "
                            + connection.describe() + ": install it again with the earlier options.")
                    .build();
        }
        next.set("values", state.get("beforeValues"));
        next.remove("beforeValues");
        return restore.action(done.action() == ChangeAction.DELETE ? ChangeAction.CREATE : ChangeAction.UPDATE)
                .reason("Restores the values of release " + label + " before the apply (revision " + beforeRevision
                        + "), with the token of the current agent settings.")
                .targetState(next)
                .addAttributes(AttributeChange.of(
                        "Values",
                        done.action() == ChangeAction.DELETE
                                ? null
                                : state.path("values").toString(),
                        state.get("beforeValues").toString()))
                .addAllPermissions(permissions)
                .build();
    }

    @Override
    public void apply(List<Change> changes, ApplyContext context) {
        PrivateDir.sweep();
        for (Change change : changes) {
            if (context.shouldStop()) {
                return;
            }
            try {
                applyOne(change, context);
            } catch (RuntimeException e) {
                AwsFailures.report(context, change, String.valueOf(e.getMessage()), e);
            }
        }
    }

    private void applyOne(Change change, ApplyContext context) {
        JsonNode state = change.targetState();
        String namespace = state.path("namespace").asText();
        String release = state.path("release").asText();
        ClusterConnection connection = connectionForApply(state, context);
        int planned = state.path("beforeRevision").asInt(0);
        Optional<InstalledRelease> installed = connection.installedRelease(namespace, release);
        int current = installed.map(InstalledRelease::revision).orElse(0);
        Duration timeout = Duration.ofSeconds(
                state.path("timeoutSeconds").asLong(options.timeout().toSeconds()));
        boolean interrupted =
                planned == 0 && installed.isPresent() && isInterruptedInstall(change, installed.get(), context);
        if (current != planned && !interrupted) {
            Optional<String> landed = alreadyLanded(change, installed, planned, context);
            if (landed.isPresent()) {
                context.starting(change);
                Optional<KubeApi> api = connection.api();
                if (change.action() == ChangeAction.DELETE || api.isEmpty()) {
                    String namespaceDeleted = change.action() == ChangeAction.DELETE
                            ? deleteOwnNamespace(connection, namespace, release, timeout)
                            : "";
                    context.applied(change, landed.get() + namespaceDeleted, null);
                    return;
                }
                // An apply killed during its rollout wait left the release deployed: the rollout is still to check.
                String daemonSet = AgentChart.fullName(release);
                Rollout rollout;
                try (RolloutWatch watch = RolloutWatch.start(api.get(), namespace, daemonSet)) {
                    rollout = watch.awaitComplete(Instant.now().plus(timeout));
                }
                if (!rollout.complete()) {
                    context.failed(
                            change,
                            "DaemonSet " + namespace + "/" + daemonSet + " of release revision " + current
                                    + " did not roll out within " + timeout.toSeconds() + " s: " + rollout + "; "
                                    + undo(connection, state, context, timeout, planned),
                            null);
                    return;
                }
                context.applied(change, landed.get() + ", rolled out to " + rollout.desired() + " node(s)", null);
                return;
            }
            context.skipped(
                    change,
                    "Release " + namespace + "/" + release + " changed since planning (revision " + current
                            + ", planned from " + planned + ")"
                            + (installed.isPresent()
                                            && installed.get().manifest().isEmpty()
                                    ? "; its manifests cannot be read through " + connection.describe()
                                            + " to tell whether an interrupted apply made that revision"
                                    : "")
                            + ": plan again.");
            return;
        }
        context.starting(change);
        if (interrupted) {
            // Helm refuses to install over a release it left pending: the killed attempt's release goes, with the
            // objects it made, and the install starts again (in the namespace that attempt created, still this one's).
            LOG.info("Uninstalling Helm release {}/{}, left pending by an interrupted install", namespace, release);
            AgentChart.uninstall(connection, release, namespace);
            current = 0;
        }
        if (change.action() == ChangeAction.DELETE) {
            String message = "not installed";
            if (installed.isPresent()) {
                LOG.info("Uninstalling Helm release {}/{}", namespace, release);
                message = AgentChart.uninstall(connection, release, namespace).strip();
            }
            message = (message.isEmpty() ? "uninstalled" : message)
                    + deleteOwnNamespace(connection, namespace, release, timeout);
            context.applied(change, message, null);
            return;
        }
        boolean ownNamespace = current == 0 && createNamespace(connection, namespace, release, timeout);
        LOG.info("Installing or upgrading Helm release {}/{}", namespace, release);
        Instant deadline = Instant.now().plus(timeout);
        Optional<KubeApi> api = connection.api();
        if (api.isEmpty()) {
            // Only Helm can use these credentials: its own wait is all there is, and Helm made any namespace.
            Release result = installOrUpgrade(connection, state, context, timeout, current == 0);
            context.applied(change, "revision " + result.getRevision() + " " + result.getStatus(), applied(result));
            return;
        }
        String daemonSet = AgentChart.fullName(release);
        Release result;
        RolloutWatch watch = RolloutWatch.start(api.get(), namespace, daemonSet);
        try {
            result = installOrUpgrade(connection, state, context, timeout, current == 0);
        } catch (AgentException e) {
            // The atomic install removed what it made; the namespace this apply made goes too.
            throw new AgentException(e.getMessage()
                    + watch.lastSeen()
                            .map(r -> "; DaemonSet " + namespace + "/" + daemonSet + " had not rolled out: " + r)
                            .orElse("")
                    + (ownNamespace ? dropOwnNamespace(connection, namespace, release) : ""));
        } finally {
            watch.close();
        }
        // Helm's wait lets maxUnavailable pods be not ready and passes a DaemonSet that matches no node.
        Rollout rollout = watch.awaitComplete(deadline);
        if (!rollout.complete()) {
            String undone = undo(connection, state, context, timeout, current);
            context.failed(
                    change,
                    "DaemonSet " + namespace + "/" + daemonSet + " of release revision " + result.getRevision()
                            + " did not roll out within " + timeout.toSeconds() + " s: " + rollout + "; " + undone
                            + (ownNamespace ? dropOwnNamespace(connection, namespace, release) : ""),
                    null);
            return;
        }
        context.applied(
                change,
                "revision " + result.getRevision() + " " + result.getStatus() + ", rolled out to " + rollout.desired()
                        + " node(s)",
                applied(result));
    }

    /** Deletes the namespace this apply created for a release that did not land; says what happened. */
    private static String dropOwnNamespace(ClusterConnection connection, String namespace, String release) {
        try {
            String deleted = deleteOwnNamespace(connection, namespace, release, Duration.ZERO);
            return deleted.isEmpty() ? "" : deleted + " (this apply created it)";
        } catch (RuntimeException e) {
            return "; namespace " + namespace + ", which this apply created, stays: deleting it failed ("
                    + e.getMessage() + ")";
        }
    }

    private static Release installOrUpgrade(
            ClusterConnection connection, JsonNode state, ApplyContext context, Duration timeout, boolean first) {
        return AgentChart.installOrUpgrade(
                connection,
                state.path("release").asText(),
                state.path("namespace").asText(),
                state.path("values"),
                context.agent().apiToken(),
                timeout,
                first);
    }

    private static ObjectNode applied(Release result) {
        ObjectNode appliedState = Json.object();
        appliedState.put("revision", result.getRevision());
        return appliedState;
    }

    /**
     * Undoes a release whose DaemonSet did not roll out, as Helm's atomic install does for its own wait: a first
     * install is uninstalled, an upgrade gets the values of the revision before it back.
     *
     * @return what is left, for the failure message
     */
    private static String undo(
            ClusterConnection connection, JsonNode state, ApplyContext context, Duration timeout, int before) {
        String label =
                state.path("namespace").asText() + "/" + state.path("release").asText();
        try {
            if (before == 0) {
                AgentChart.uninstall(
                        connection,
                        state.path("release").asText(),
                        state.path("namespace").asText());
                return "release " + label + " was uninstalled";
            }
            if (!state.hasNonNull("beforeValues")) {
                return "release " + label + " stays at revision " + (before + 1) + " since the values of revision "
                        + before + " could not be read through " + connection.describe()
                        + ": fix the options and apply again";
            }
            ObjectNode restore = state.deepCopy();
            restore.set("values", state.get("beforeValues"));
            Release restored = installOrUpgrade(connection, restore, context, timeout, false);
            return "the values of revision " + before + " were restored as revision " + restored.getRevision();
        } catch (RuntimeException e) {
            return "undoing it failed too (" + e.getMessage() + "), so release " + label + " is left as it is:"
                    + " check it with 'helm history' and plan again";
        }
    }

    /**
     * Whether the change already landed, e.g. an apply killed after Helm finished but before its journal said so: an
     * uninstall left no release; an install or upgrade left exactly one revision more than planned, deployed, with
     * the manifests this change renders. Without readable manifests (a caller's kubeconfig) nothing is assumed.
     *
     * @return what to report as applied, or empty when the release changed some other way
     */
    private static Optional<String> alreadyLanded(
            Change change, Optional<InstalledRelease> installed, int planned, ApplyContext context) {
        JsonNode state = change.targetState();
        String label =
                state.path("namespace").asText() + "/" + state.path("release").asText();
        if (change.action() == ChangeAction.DELETE) {
            return installed.isEmpty() ? Optional.of("already uninstalled") : Optional.empty();
        }
        if (installed.isEmpty()
                || installed.get().revision() != planned + 1
                || !installed.get().isDeployed()) {
            return Optional.empty();
        }
        InstalledRelease release = installed.get();
        return rendersAsPlanned(change, release, context)
                ? Optional.of("already at revision " + release.revision() + " of " + label + ", with the planned"
                        + " manifests")
                : Optional.empty();
    }

    /**
     * Whether a first install was interrupted inside Helm (its JVM killed between Helm's release record and the end
     * of its wait): the release is at revision 1, still {@code pending-install}, with the manifests this change
     * renders. Without readable manifests (a caller's kubeconfig) nothing is assumed.
     */
    private static boolean isInterruptedInstall(Change change, InstalledRelease installed, ApplyContext context) {
        return change.action() == ChangeAction.CREATE
                && installed.revision() == 1
                && "pending-install".equals(installed.status())
                && rendersAsPlanned(change, installed, context);
    }

    /** @return whether the release holds the manifests this change renders; false when they cannot be read */
    private static boolean rendersAsPlanned(Change change, InstalledRelease release, ApplyContext context) {
        Optional<String> manifest = release.manifest();
        if (manifest.isEmpty()) {
            return false;
        }
        JsonNode state = change.targetState();
        Manifests desired = Manifests.parse(AgentChart.render(
                state.path("release").asText(),
                state.path("namespace").asText(),
                state.path("values"),
                context.agent().apiToken()));
        return desired.changesFrom(Manifests.parse(manifest.get())).isEmpty();
    }

    /** The plan's word on the namespace of a first install: created (and deleted by uninstall), or left alone. */
    private Optional<AttributeChange> namespaceOnInstall(ClusterConnection connection) {
        if (connection.api().isEmpty()) {
            return Optional.of(AttributeChange.of(
                    "Namespace/" + options.namespace(),
                    null,
                    "created by Helm when missing; it stays after uninstall (not readable through "
                            + connection.describe() + ")"));
        }
        Optional<JsonNode> namespace = readNamespace(connection);
        return namespace.isPresent() && !createdByInstall(namespace.get())
                ? Optional.empty()
                : Optional.of(AttributeChange.of(
                        "Namespace/" + options.namespace(), null, "created by the install; uninstall deletes it"));
    }

    private Optional<JsonNode> readNamespace(ClusterConnection connection) {
        return connection.api().flatMap(api -> api.namespace(options.namespace()));
    }

    private boolean createdByInstall(JsonNode namespace) {
        return createdByInstall(namespace, options.releaseName());
    }

    private static boolean createdByInstall(JsonNode namespace, String release) {
        return release.equals(namespace
                .path("metadata")
                .path("annotations")
                .path(NAMESPACE_CREATED_FOR)
                .asText());
    }

    /**
     * Creates the release's namespace, annotated as this install's, when it does not exist (waiting out one that is
     * still terminating after an uninstall).
     *
     * @return true when the namespace is this install's: created now, or by an earlier attempt that was killed
     */
    private static boolean createNamespace(
            ClusterConnection connection, String namespace, String release, Duration timeout) {
        Optional<KubeApi> api = connection.api();
        if (api.isEmpty()) {
            return false; // Helm creates it, and it stays: the plan said so
        }
        Optional<JsonNode> existing = waitUntilNotTerminating(api.get(), namespace, timeout);
        if (existing.isPresent()) {
            return createdByInstall(existing.get(), release);
        }
        LOG.info("Creating namespace {} for Helm release {}", namespace, release);
        api.get().createNamespace(namespace, Map.of(NAMESPACE_CREATED_FOR, release));
        return true;
    }

    /**
     * Deletes the release's namespace if the install created it, and waits up to the timeout until it is gone.
     *
     * @return what to add to the applied message
     */
    private static String deleteOwnNamespace(
            ClusterConnection connection, String namespace, String release, Duration timeout) {
        Optional<KubeApi> api = connection.api();
        Optional<JsonNode> existing = api.flatMap(a -> a.namespace(namespace));
        if (api.isEmpty() || existing.isEmpty() || !createdByInstall(existing.get(), release)) {
            return "";
        }
        LOG.info("Deleting namespace {}, which the install of Helm release {} created", namespace, release);
        api.get().deleteNamespace(namespace);
        return waitUntilNotTerminating(api.get(), namespace, timeout).isEmpty()
                ? "; namespace " + namespace + " deleted"
                : "; namespace " + namespace + " is being deleted";
    }

    /** @return the namespace once it is not terminating, empty once it is gone or still terminating at the timeout */
    private static Optional<JsonNode> waitUntilNotTerminating(KubeApi api, String namespace, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Optional<JsonNode> now = api.namespace(namespace);
            if (now.isEmpty() || !now.get().path("metadata").has("deletionTimestamp")) {
                return now;
            }
            if (System.nanoTime() >= deadline) {
                return Optional.empty();
            }
            try {
                Thread.sleep(NAMESPACE_POLL.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("Interrupted while namespace " + namespace + " was terminating", e);
            }
        }
    }

    private ObjectNode state(Cluster cluster, JsonNode values, Optional<InstalledRelease> installed) {
        ObjectNode state = Json.object();
        state.put("cluster", cluster.name());
        state.put("clusterArn", cluster.arn());
        state.put("namespace", options.namespace());
        state.put("release", options.releaseName());
        state.put("timeoutSeconds", options.timeout().toSeconds());
        options.kubeconfig()
                .ifPresent(k -> state.put("kubeconfig", k.toAbsolutePath().toString()));
        if (options.defaultKubeconfig()) {
            state.put("defaultKubeconfig", true);
        }
        state.put("beforeRevision", installed.map(InstalledRelease::revision).orElse(0));
        state.set("values", values);
        installed.flatMap(InstalledRelease::values).ifPresent(v -> state.set("beforeValues", v));
        return state;
    }

    private List<Permission> applyPermissions(String clusterArn) {
        // Apply re-reads the endpoint and CA; through a caller's kubeconfig it makes no AWS call at all.
        return options.kubeconfig().isPresent() || options.defaultKubeconfig()
                ? List.of()
                : List.of(Permission.of("eks:DescribeCluster", clusterArn));
    }

    private ClusterConnection connection(Cluster cluster, TargetContext context) {
        if (options.kubeconfig().isPresent()) {
            return ClusterConnection.kubeconfig(
                    Kubeconfig.load(options.kubeconfig().get()));
        }
        if (options.defaultKubeconfig()) {
            return ClusterConnection.kubeconfig(defaultKubeconfig());
        }
        return eksConnection(cluster, context);
    }

    private ClusterConnection connectionForApply(JsonNode state, TargetContext context) {
        if (state.hasNonNull("kubeconfig")) {
            return ClusterConnection.kubeconfig(
                    Kubeconfig.load(Path.of(state.path("kubeconfig").asText())));
        }
        if (state.path("defaultKubeconfig").asBoolean(false)) {
            return ClusterConnection.kubeconfig(defaultKubeconfig());
        }
        String name = state.path("cluster").asText();
        return eksConnection(Clusters.describe(context, name), context);
    }

    private static Kubeconfig defaultKubeconfig() {
        return Kubeconfig.fromEnvironment(System.getenv("KUBECONFIG"), Path.of(System.getProperty("user.home")));
    }

    private ClusterConnection eksConnection(Cluster cluster, TargetContext context) {
        if (cluster.endpoint() == null
                || cluster.certificateAuthority() == null
                || cluster.certificateAuthority().data() == null) {
            throw new PlanningException("Cluster " + cluster.name() + " has no API server endpoint or certificate"
                    + " authority yet: wait until it is ACTIVE.");
        }
        EksClient eks = context.client(EksClient.class, EksClient::builder);
        EksToken tokens = new EksToken(
                cluster.name(),
                context.region(),
                eks.serviceClientConfiguration().credentialsProvider(),
                clock);
        return ClusterConnection.eks(
                cluster.endpoint(), cluster.certificateAuthority().data(), tokens);
    }

    private List<String> fargateWarnings(Cluster cluster, TargetContext context) {
        EksClient eks = context.client(EksClient.class, EksClient::builder);
        List<String> profiles = new ArrayList<>();
        String token = null;
        do {
            String next = token;
            ListFargateProfilesResponse page = context.scheduler()
                    .call(
                            EksQuotas.EKS,
                            () -> eks.listFargateProfiles(
                                    r -> r.clusterName(cluster.name()).nextToken(next)));
            profiles.addAll(page.fargateProfileNames());
            token = page.nextToken();
        } while (token != null);
        if (profiles.isEmpty()) {
            return List.of();
        }
        return List.of("Cluster " + cluster.name() + " has Fargate profiles " + String.join(", ", profiles)
                + ": DaemonSets do not run on Fargate pods, so the agent does not collect their logs (use a"
                + " sidecar or Fargate's built-in log router for them).");
    }

    private List<String> kubernetesPermissionNotes(String clusterName) {
        return List.of("Kubernetes access for the agent DaemonSet on cluster " + clusterName + ": the caller's IAM"
                + " identity needs an EKS access entry (or aws-auth mapping) to a group with these RBAC rules, which"
                + " EksTarget.kubernetesRbac(plan, group) writes as Role and ClusterRole YAML: "
                + InstallerRbac.summary(options.namespace(), options.releaseName())
                + ". The AmazonEKSClusterAdminPolicy access policy covers all of it, and also lets uninstall delete"
                + " the namespace when the install created it (with these rules the namespace exists first, and"
                + " stays). The EKS token itself needs no IAM permission (sts:GetCallerIdentity is always allowed).");
    }

    private Change.Builder base(String resourceId, ChangeAction action) {
        return Change.builder()
                .target("eks")
                .resourceType(RESOURCE_TYPE)
                .resourceId(resourceId)
                .action(action);
    }

    private String releaseLabel() {
        return options.namespace() + "/" + options.releaseName() + " (chart " + ChartFiles.NAME + ")";
    }

    /**
     * @param clusterArn the cluster's ARN
     * @param namespace the release namespace
     * @param release the release name
     * @return the release's unique id: the cluster ARN, then {@code /helm/<namespace>/<release>}
     */
    static String resourceId(String clusterArn, String namespace, String release) {
        return clusterArn + "/helm/" + namespace + "/" + release;
    }
}
