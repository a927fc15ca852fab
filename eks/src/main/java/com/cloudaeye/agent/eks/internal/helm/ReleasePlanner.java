package com.cloudaeye.agent.eks.internal.helm;

import com.cloudaeye.agent.AttributeChange;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.eks.AgentDaemonSet;
import com.cloudaeye.agent.eks.internal.ComponentPlanner;
import com.cloudaeye.agent.eks.internal.EksQuotas;
import com.cloudaeye.agent.spi.TargetContext;
import com.cloudaeye.agent.spi.TargetPlan;
import com.cloudaeye.agent.spi.support.Json;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.eks.EksClient;
import software.amazon.awssdk.services.eks.model.Cluster;
import software.amazon.awssdk.services.eks.model.ClusterStatus;
import software.amazon.awssdk.services.eks.model.ListFargateProfilesResponse;

/**
 * Plans the agent DaemonSet's Helm release from the target's {@link AgentDaemonSet} options: renders the chart
 * client-side and compares its objects with the manifests of the installed release (create, upgrade or no-op), or
 * plans its uninstall. Reaches the cluster with an EKS token made from the caller's AWS credentials, or through the
 * caller's kubeconfig. Each change carries in its {@link ReleaseState} everything {@link HelmReleaseComponent} needs
 * to apply and roll it back, the options included.
 *
 * <p>An install or upgrade where the agent cannot run is skipped with the reason and the fix: a cluster of Fargate
 * nodes only, a namespace being deleted or labelled with a PodSecurity level that rejects hostPath volumes, and, when
 * the namespace exists, whatever the API server's admission refuses in a server-side dry run of one agent pod ({@link
 * PodPreflight}: a cluster-wide PodSecurity default, a ResourceQuota, a ValidatingAdmissionPolicy, a webhook). A caller
 * who may not create pods gets a note that the dry run could not run instead.
 */
public final class ReleasePlanner implements ComponentPlanner {
    private static final Logger LOG = LoggerFactory.getLogger(ReleasePlanner.class);
    static final String POD_SECURITY_ENFORCE = "pod-security.kubernetes.io/enforce";
    private static final String FARGATE_NODE_LABEL = "eks.amazonaws.com/compute-type";

    private final AgentDaemonSet options;

    /** @param options how the DaemonSet is installed */
    public ReleasePlanner(AgentDaemonSet options) {
        this.options = options;
    }

    @Override
    public java.util.Set<String> resourceTypes() {
        return java.util.Set.of(HelmReleaseComponent.RESOURCE_TYPE);
    }

    @Override
    public TargetPlan plan(Cluster cluster, TargetContext context) {
        String resourceId = HelmReleaseComponent.resourceId(cluster.arn(), options.namespace(), options.releaseName());
        List<Permission> reads = List.of(Permission.of("eks:ListFargateProfiles", cluster.arn()));
        List<String> notes = new ArrayList<>(kubernetesPermissionNotes(cluster.name()));
        if (cluster.status() != ClusterStatus.ACTIVE) {
            return new TargetPlan(
                    List.of(base(resourceId, ChangeAction.SKIP)
                            .reason("Cluster " + cluster.name() + " is " + cluster.statusAsString()
                                    + ", not ACTIVE: install the agent once the cluster is active.")
                            .build()),
                    reads,
                    notes);
        }
        List<String> profiles = fargateProfiles(cluster, context);
        List<String> warnings = fargateWarnings(cluster, profiles);
        ObjectNode values = ChartValues.nonSecret(options, context.agent());
        Manifests desired = Manifests.parse(AgentChart.render(
                options.releaseName(),
                options.namespace(),
                values,
                context.agent().apiToken()));
        ClusterConnection connection = ReleaseConnections.forPlan(options, cluster, context);
        LOG.debug(
                "Reading release {}/{} through {}", options.namespace(), options.releaseName(), connection.describe());
        Optional<InstalledRelease> installed = connection.installedRelease(options.namespace(), options.releaseName());

        Optional<String> otherChart = installed.flatMap(this::otherChart);
        // Another chart's values are not ours to keep in a plan or journal: they may hold its secrets.
        JsonNode state = state(
                cluster,
                values,
                otherChart.isEmpty()
                        ? installed
                        : installed.map(r -> new InstalledRelease(
                                r.revision(), r.status(), r.chart(), r.manifest(), Optional.empty())));
        Change.Builder change = base(resourceId, ChangeAction.CREATE);
        change.addAllWarnings(warnings).targetState(state);
        List<Permission> applyPermissions = applyPermissions(cluster.arn());
        Optional<List<AttributeChange>> diff =
                installed.flatMap(InstalledRelease::manifest).map(m -> desired.changesFrom(Manifests.parse(m)));
        if (otherChart.isPresent()) {
            change.action(ChangeAction.SKIP).reason(otherChart.get());
        } else if (installed.isPresent()
                && (installed.get().isPending() || installed.get().isUninstalling())) {
            // Helm refuses to change a release left pending or half uninstalled; whose interrupted operation it was, a
            // plan cannot tell.
            change.action(ChangeAction.SKIP)
                    .reason(PendingReleases.reason(
                            connection, options.namespace(), options.releaseName(), installed.get()));
        } else if (installed.isPresent()
                && installed.get().isDeployed()
                && diff.isPresent()
                && diff.get().isEmpty()) {
            change.action(ChangeAction.NO_OP)
                    .reason("Release " + releaseLabel() + " revision "
                            + installed.get().revision() + " already has the manifests this plan renders.");
        } else {
            // Read once: both the refusal and a first install's word on the namespace need it.
            Optional<JsonNode> namespace = readNamespace(connection);
            // An install or upgrade where the agent cannot run would wait out its timeout for pods that never come,
            // and an upgrade's rolling update would take the running agent off the nodes it reaches first.
            Optional<String> cannotRun = namespaceRefusal(namespace)
                    .or(() -> fargateOnly(cluster, profiles, connection))
                    .or(() -> admissionRefusal(connection, namespace, desired, context, notes));
            if (cannotRun.isPresent()) {
                change.action(ChangeAction.SKIP).reason(cannotRun.get());
            } else if (installed.isEmpty()) {
                change.action(ChangeAction.CREATE)
                        .addAttributes(AttributeChange.of("Release", null, releaseLabel()))
                        .addAllAttributes(desired.changesFrom(null))
                        .addAllPermissions(applyPermissions);
                namespaceOnInstall(connection, namespace).ifPresent(change::addAttributes);
            } else {
                InstalledRelease release = installed.get();
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
        String resourceId = HelmReleaseComponent.resourceId(cluster.arn(), options.namespace(), options.releaseName());
        ClusterConnection connection = ReleaseConnections.forPlan(options, cluster, context);
        Optional<InstalledRelease> installed = connection.installedRelease(options.namespace(), options.releaseName());
        Change.Builder change = base(resourceId, ChangeAction.NO_OP);
        Optional<String> otherChart = installed.flatMap(this::otherChart);
        if (otherChart.isPresent()) {
            return new TargetPlan(
                    List.of(change.action(ChangeAction.SKIP)
                            .reason(otherChart.get())
                            .build()),
                    List.of(),
                    kubernetesPermissionNotes(cluster.name()));
        }
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

    /**
     * The plan's word on the namespace of a first install: created (and deleted by uninstall), or left alone.
     *
     * @param namespace the namespace as the plan read it through the connection (empty when missing or not readable)
     */
    private Optional<AttributeChange> namespaceOnInstall(ClusterConnection connection, Optional<JsonNode> namespace) {
        if (connection.api().isEmpty()) {
            return Optional.of(AttributeChange.of(
                    "Namespace/" + options.namespace(),
                    null,
                    "created by Helm when missing; it stays after uninstall (not readable through "
                            + connection.describe() + ")"));
        }
        return namespace.isPresent() && !createdByInstall(namespace.get())
                ? Optional.empty()
                : Optional.of(AttributeChange.of(
                        "Namespace/" + options.namespace(), null, "created by the install; uninstall deletes it"));
    }

    /**
     * @return why the installed release is not this installer's to upgrade or uninstall: it runs a chart of another
     *     name (someone else's release of that name); empty when it runs this library's chart, of any version
     */
    private Optional<String> otherChart(InstalledRelease installed) {
        if (installed.runsChart(ChartFiles.NAME)) {
            return Optional.empty();
        }
        return Optional.of("Release " + options.namespace() + "/" + options.releaseName() + " runs chart "
                + installed.chart() + ", not " + ChartFiles.NAME + ": it is not this installer's to upgrade or"
                + " uninstall. Choose another name with AgentDaemonSet.releaseName(...) (or namespace(...)), or remove"
                + " that release first (helm uninstall " + options.releaseName() + " -n " + options.namespace()
                + ").");
    }

    /**
     * @return why the release's namespace cannot take the agent: it is being deleted, and not as the namespace of an
     *     earlier install of this release (whose deletion the apply waits out), so Kubernetes accepts no new object in
     *     it; or its PodSecurity {@code enforce} level rejects the hostPath volumes the agent reads the node's logs
     *     from, so the DaemonSet would never get a pod. Empty when it can (or the namespace is missing, or not
     *     readable through the connection).
     * @param namespace the namespace as the plan read it (empty when missing or not readable)
     */
    private Optional<String> namespaceRefusal(Optional<JsonNode> namespace) {
        if (namespace.isEmpty()) {
            return Optional.empty();
        }
        JsonNode metadata = namespace.get().path("metadata");
        if (metadata.has("deletionTimestamp") && !createdByInstall(namespace.get())) {
            List<String> finalizers = new ArrayList<>();
            metadata.path("finalizers").forEach(f -> finalizers.add(f.asText()));
            return Optional.of("Namespace " + options.namespace() + " is being deleted (since "
                    + metadata.path("deletionTimestamp").asText() + ")"
                    + (finalizers.isEmpty() ? "" : ", waiting on its finalizers " + String.join(", ", finalizers))
                    + ", and Kubernetes accepts no new object in it: plan again once it is gone (kubectl get namespace "
                    + options.namespace() + "), or install into another namespace with AgentDaemonSet.namespace(...).");
        }
        String level = metadata.path("labels").path(POD_SECURITY_ENFORCE).asText("");
        if (!level.equals("baseline") && !level.equals("restricted")) {
            return Optional.empty();
        }
        return Optional.of("Namespace " + options.namespace() + " has " + POD_SECURITY_ENFORCE + "=" + level
                + ", which rejects the hostPath volumes the agent reads the node's logs from, so the DaemonSet"
                + " would get no pod: label the namespace " + POD_SECURITY_ENFORCE + "=privileged (kubectl label"
                + " --overwrite namespace " + options.namespace() + " " + POD_SECURITY_ENFORCE + "=privileged), or"
                + " install into another namespace with AgentDaemonSet.namespace(...).");
    }

    /**
     * @return why the API server refuses the agent's pods in the existing release namespace, as a server-side dry run
     *     of one pod finds it ({@link PodPreflight}: PodSecurity, also cluster-wide; ResourceQuota;
     *     ValidatingAdmissionPolicy; webhooks); empty when it admits them, or the dry run cannot run (the namespace is
     *     missing or terminating, the API is not reachable through the connection, or the caller may not create pods:
     *     then a note says so)
     * @param namespace the namespace as the plan read it (empty when missing or not readable)
     * @param notes the plan's notes, to which a pre-flight that could not run adds why
     */
    private Optional<String> admissionRefusal(
            ClusterConnection connection,
            Optional<JsonNode> namespace,
            Manifests desired,
            TargetContext context,
            List<String> notes) {
        // A missing namespace is created by the install, with nothing in it yet, and a dry run in it would only answer
        // 404: the label check stands alone there, and a refusal (a cluster-wide policy) ends a first install's wait
        // through RolloutWatch. A terminating one is an earlier install's, whose deletion the apply waits out.
        if (connection.api().isEmpty()
                || namespace.isEmpty()
                || namespace.get().path("metadata").has("deletionTimestamp")) {
            return Optional.empty();
        }
        PodPreflight.Result result = PodPreflight.check(
                connection.api().get(),
                options.namespace(),
                options.releaseName(),
                desired,
                context.agent().apiToken());
        result.note().ifPresent(notes::add);
        return result.refusal();
    }

    private Optional<JsonNode> readNamespace(ClusterConnection connection) {
        return connection.api().flatMap(api -> api.namespace(options.namespace()));
    }

    private boolean createdByInstall(JsonNode namespace) {
        return ReleaseNamespaces.createdByInstall(namespace, options.releaseName());
    }

    private JsonNode state(Cluster cluster, JsonNode values, Optional<InstalledRelease> installed) {
        return new ReleaseState(
                        cluster.name(),
                        cluster.arn(),
                        options.namespace(),
                        options.releaseName(),
                        options.timeout().toSeconds(),
                        options.kubeconfig()
                                .map(k -> k.toAbsolutePath().toString())
                                .orElse(null),
                        options.defaultKubeconfig() ? Boolean.TRUE : null,
                        installed.map(InstalledRelease::revision).orElse(0),
                        values,
                        installed.flatMap(InstalledRelease::values).orElse(null),
                        installed.map(InstalledRelease::chart).orElse(null),
                        null)
                .toJson();
    }

    private List<Permission> applyPermissions(String clusterArn) {
        return HelmReleaseComponent.applyPermissions(
                clusterArn, options.kubeconfig().isPresent() || options.defaultKubeconfig());
    }

    /**
     * @return why the agent has nowhere to run: the cluster has Fargate profiles and no node but Fargate's (DaemonSets
     *     do not run on Fargate); empty when it has another node, no Fargate profile, or its nodes are not readable
     *     through the connection
     */
    private Optional<String> fargateOnly(Cluster cluster, List<String> profiles, ClusterConnection connection) {
        if (profiles.isEmpty() || connection.api().isEmpty()) {
            return Optional.empty();
        }
        // One node that is not Fargate's is enough to know: the server filters, and stops at the first.
        JsonNode nodes = connection
                .api()
                .get()
                .read(
                        "api/v1/nodes?limit=1&labelSelector="
                                + URLEncoder.encode(FARGATE_NODE_LABEL + "!=fargate", StandardCharsets.UTF_8),
                        "list the nodes of cluster " + cluster.name() + " that are not Fargate's");
        for (JsonNode node : nodes.path("items")) {
            if (!"fargate"
                    .equals(node.path("metadata")
                            .path("labels")
                            .path(FARGATE_NODE_LABEL)
                            .asText())) {
                return Optional.empty();
            }
        }
        if (!nodes.path("metadata").path("continue").asText("").isEmpty()) {
            return Optional.empty(); // a server that ignored the selector, with more nodes to list: not known
        }
        return Optional.of("Cluster " + cluster.name() + " has Fargate profiles " + String.join(", ", profiles)
                + " and no node but Fargate's: DaemonSets do not run on Fargate pods, so the agent would have"
                + " nowhere to run. Add a managed node group (or self-managed nodes) for it, or collect the pods'"
                + " logs with Fargate's built-in log router.");
    }

    private List<String> fargateProfiles(Cluster cluster, TargetContext context) {
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
        return profiles;
    }

    private static List<String> fargateWarnings(Cluster cluster, List<String> profiles) {
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
                .resourceType(HelmReleaseComponent.RESOURCE_TYPE)
                .resourceId(resourceId)
                .action(action);
    }

    private String releaseLabel() {
        return options.namespace() + "/" + options.releaseName() + " (chart " + ChartFiles.NAME + ")";
    }
}
