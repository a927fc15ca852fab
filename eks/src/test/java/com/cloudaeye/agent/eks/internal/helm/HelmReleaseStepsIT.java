package com.cloudaeye.agent.eks.internal.helm;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.AttributeChange;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.Journal;
import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.ResourceResult;
import com.cloudaeye.agent.Secret;
import com.cloudaeye.agent.eks.AgentDaemonSet;
import com.cloudaeye.agent.eks.EksTarget;
import com.cloudaeye.agent.eks.testing.EksOnKubeCluster;
import com.cloudaeye.agent.eks.testing.KubeCluster;
import com.cloudaeye.agent.spi.support.AwsActions;
import com.fasterxml.jackson.databind.JsonNode;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.marcnuri.helm.Helm;
import com.marcnuri.helm.Release;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Helm release's plan and apply steps through the installer's EKS path on the real API server ({@link
 * KubeCluster}), with the default release and namespace {@code cloudaeye-agent}: the plan (read-only, the token
 * redacted, the IAM policy, the RBAC), the namespace the install creates or finds, an apply or uninstall that already
 * landed, a release changed behind the plan's back, an upgrade's diff, a caller's kubeconfig, Fargate warnings. The
 * faults a real server cannot produce on demand stay in {@link HelmReleaseComponentTest}.
 */
class HelmReleaseStepsIT {
    private static final String TOKEN = "tok-9b2e77d04c";
    private static final String NAMESPACE = "cloudaeye-agent";
    private static final String ACCESS_KEY = "AKIDHELMRELEASESTEPSIT";
    private static final String USER = "eks:" + ACCESS_KEY;

    private static final String CLUSTER_ARN = "arn:aws:eks:us-east-1:123456789012:cluster/prod-eks";
    private static final String RELEASE_ID = CLUSTER_ARN + "/helm/cloudaeye-agent/cloudaeye-agent";

    /** The defaults, with a timeout short enough for a failing test to end quickly. */
    private static final AgentDaemonSet DEFAULTS =
            AgentDaemonSet.builder().timeout(Duration.ofSeconds(60)).build();

    @RegisterExtension
    static final EksOnKubeCluster CLUSTER =
            EksOnKubeCluster.clusterAdmin(ACCESS_KEY).release(NAMESPACE);

    @TempDir
    Path journals;

    @Test
    void plan_whenNotInstalled_createsRelease_readOnly_withSecretRedacted() {
        long mark = KubeCluster.auditMark();
        try (AgentInstaller installer = installer(DEFAULTS)) {
            Plan plan = installer.plan();

            Change change = only(plan);
            assertThat(change.action()).isEqualTo(ChangeAction.CREATE);
            assertThat(change.resourceId()).isEqualTo(RELEASE_ID);
            assertThat(change.permissions()).containsExactly(Permission.of("eks:DescribeCluster", CLUSTER_ARN));
            assertThat(plan.readPermissions()).contains(Permission.of("eks:ListFargateProfiles", CLUSTER_ARN));
            assertThat(change.attributes())
                    .extracting(AttributeChange::name)
                    .contains("Release", "DaemonSet/cloudaeye-agent", "Secret/cloudaeye-agent");
            assertThat(change.attributes())
                    .filteredOn(a -> a.name().startsWith("Secret/"))
                    .singleElement()
                    .satisfies(a -> {
                        assertThat(a.sensitive()).isTrue();
                        assertThat(a.after()).contains(Secret.REDACTED);
                    });
            assertThat(plan.notes()).anySatisfy(n -> assertThat(n).contains("clusterroles", "cloudaeye-agent"));
            assertThat(plan.requiredPolicy().toJson()).isEqualTo(resource("/golden/policy-install.json"));
            assertThat(plan.toJson()).doesNotContain(TOKEN);
            assertThat(plan.toString()).doesNotContain(TOKEN);
            assertThat(change.targetState().toString()).doesNotContain(TOKEN);
            assertThat(installer.calls().keySet()).isNotEmpty().allMatch(AwsActions::isReadOnly);
            List<JsonNode> audited = KubeCluster.audited(USER, mark);
            assertThat(audited).noneMatch(KubeCluster::isWrite);
            assertThat(audited)
                    .as("the refusal and the install's word on the namespace share one read of it")
                    .filteredOn(e -> e.path("verb").asText().equals("get")
                            && e.path("objectRef").path("resource").asText().equals("namespaces")
                            && e.path("objectRef").path("name").asText().equals(NAMESPACE))
                    .hasSize(1);
        }
    }

    @Test
    void kubernetesRbac_ofAPlan_isTheRoleAndClusterRoleOfItsRelease_boundToTheGroup() {
        try (AgentInstaller installer = installer(DEFAULTS)) {
            Plan plan = installer.plan();

            assertThat(EksTarget.kubernetesRbac(plan, "installers"))
                    .containsOnlyKeys("prod-eks")
                    .hasEntrySatisfying(
                            "prod-eks",
                            yaml -> assertThat(yaml)
                                    .contains(
                                            "kind: Role\n",
                                            "namespace: cloudaeye-agent\n",
                                            "kind: ClusterRole\n",
                                            "kind: Group\n  name: \"installers\"",
                                            "resourceNames: [\"cloudaeye-agent\"]"));
            assertThat(plan.notes()).anySatisfy(n -> assertThat(n).contains("EksTarget.kubernetesRbac"));
            assertThatThrownBy(() -> EksTarget.kubernetesRbac(plan, " "))
                    .isInstanceOf(com.cloudaeye.agent.ConfigurationException.class);
        }
    }

    @Test
    void install_createsTheMissingNamespace_andUninstallDeletesIt() {
        try (AgentInstaller installer = installer(DEFAULTS)) {
            Plan plan = installer.plan();
            assertThat(only(plan).attributes())
                    .filteredOn(a -> a.name().equals("Namespace/cloudaeye-agent"))
                    .singleElement()
                    .satisfies(a -> assertThat(a.after())
                            .hasValueSatisfying(v -> assertThat(v).contains("uninstall deletes it")));
            assertThat(installer.apply(plan).isSuccess()).isTrue();
            assertThat(namespaceNames()).contains("cloudaeye-agent");

            Plan uninstall = installer.planUninstall();
            assertThat(only(uninstall).attributes())
                    .extracting(AttributeChange::name)
                    .contains("Namespace/cloudaeye-agent");
            ApplyResult removed = installer.apply(uninstall);

            assertThat(removed.isSuccess()).as(removed.toString()).isTrue();
            assertThat(removed.results())
                    .singleElement()
                    .satisfies(r -> assertThat(r.message())
                            .hasValueSatisfying(m -> assertThat(m).contains("namespace cloudaeye-agent deleted")));
            assertThat(namespaceNames()).doesNotContain("cloudaeye-agent");
        }
    }

    @Test
    void uninstall_keepsANamespaceThatExistedBeforeTheInstall() {
        try (KubernetesClient admin = KubeCluster.admin()) {
            admin.namespaces()
                    .resource(KubeObjects.namespace(NAMESPACE, Map.of()))
                    .create();
        }
        try (AgentInstaller installer = installer(DEFAULTS)) {
            Plan plan = installer.plan();
            assertThat(only(plan).attributes())
                    .extracting(AttributeChange::name)
                    .doesNotContain("Namespace/cloudaeye-agent");
            assertThat(installer.apply(plan).isSuccess()).isTrue();

            Plan uninstall = installer.planUninstall();
            assertThat(only(uninstall).reason())
                    .hasValueSatisfying(r -> assertThat(r).contains("Namespace cloudaeye-agent stays"));
            assertThat(installer.apply(uninstall).isSuccess()).isTrue();

            assertThat(helmList()).isEmpty();
            assertThat(namespaceNames()).contains("cloudaeye-agent");
        }
    }

    @Test
    void plan_inANamespaceWhosePodSecurityForbidsHostPaths_skipsNamingTheLabel_andApplyChangesNothing() {
        try (KubernetesClient admin = KubeCluster.admin()) {
            admin.namespaces()
                    .resource(KubeObjects.namespace(
                            NAMESPACE, Map.of("pod-security.kubernetes.io/enforce", "restricted")))
                    .create();
        }
        try (AgentInstaller installer = installer(DEFAULTS)) {
            Plan plan = installer.plan();

            // The agent reads the node's logs through hostPath volumes, which PodSecurity's baseline and restricted
            // levels reject: the DaemonSet would be created and never get a pod.
            Change change = only(plan);
            assertThat(change.action()).as(change.toString()).isEqualTo(ChangeAction.SKIP);
            assertThat(change.reason())
                    .hasValueSatisfying(r -> assertThat(r)
                            .contains(
                                    "Namespace " + NAMESPACE,
                                    "pod-security.kubernetes.io/enforce=restricted",
                                    "hostPath",
                                    "privileged"));
            ApplyResult result = installer.apply(plan);

            assertThat(result.status()).as(result.toString()).isEqualTo(ApplyResult.Status.NOTHING_TO_DO);
            assertThat(helmList()).isEmpty();
        }
    }

    @Test
    void
            apply_whenTheNamespaceBecameRestrictedAfterPlanning_failsBeforeHelmQuotingThePodSecurityRefusal_andLeavesNoRelease() {
        try (KubernetesClient admin = KubeCluster.admin()) {
            admin.namespaces()
                    .resource(KubeObjects.namespace(NAMESPACE, Map.of()))
                    .create();
        }
        // A timeout the failure must come well before: the apply's pre-flight (a dry-run pod) asks admission again
        // before Helm runs. (Without a pre-flight, the DaemonSet's FailedCreate events end the wait: InstallerRbacIT.)
        Duration timeout = Duration.ofMinutes(5);
        try (AgentInstaller installer = installer(
                AgentDaemonSet.builder().from(DEFAULTS).timeout(timeout).build())) {
            Plan plan = installer.plan();
            assertThat(only(plan).action()).as(plan.toString()).isEqualTo(ChangeAction.CREATE);
            try (KubernetesClient admin = KubeCluster.admin()) {
                admin.namespaces().withName(NAMESPACE).edit(n -> {
                    n.getMetadata().getLabels().put("pod-security.kubernetes.io/enforce", "restricted");
                    return n;
                });
            }

            long started = System.nanoTime();
            ApplyResult result = installer.apply(plan);
            Duration took = Duration.ofNanos(System.nanoTime() - started);

            assertThat(result.results())
                    .as(result.toString())
                    .singleElement()
                    .satisfies(r -> assertThat(r.outcome()).isEqualTo(ResourceResult.Outcome.FAILED));
            assertThat(result.results().get(0).message())
                    .hasValueSatisfying(m -> assertThat(m)
                            .contains(
                                    "was not changed",
                                    "refuses the agent's pods in namespace " + NAMESPACE,
                                    "violates PodSecurity \"restricted:latest\"",
                                    "kubectl label --overwrite namespace " + NAMESPACE
                                            + " pod-security.kubernetes.io/enforce=privileged")
                            .doesNotContain(TOKEN));
            System.out.printf(
                    "The refused install failed after %d s (timeout %d s): %s%n",
                    took.toSeconds(),
                    timeout.toSeconds(),
                    result.results().get(0).message().orElse(""));
            assertThat(took).as("the failure came before the timeout").isLessThan(timeout.dividedBy(3));
            // Helm never ran: no release, nothing to roll back.
            assertThat(helmList()).isEmpty();
            try (KubernetesClient admin = KubeCluster.admin()) {
                assertThat(admin.apps()
                                .daemonSets()
                                .inNamespace(NAMESPACE)
                                .withName("cloudaeye-agent")
                                .get())
                        .isNull();
            }
            Plan rollback = installer.planRollback(Journal.read(result.journal().orElseThrow()));
            ApplyResult rolledBack = installer.apply(rollback);
            assertThat(rolledBack.isSuccess()).as(rolledBack.toString()).isTrue();
            assertThat(helmList()).isEmpty();
        }
    }

    @Test
    void plan_inANamespaceOfSomeoneElseThatIsBeingDeleted_skipsNamingItsFinalizers_andApplyChangesNothing() {
        try (KubernetesClient admin = KubeCluster.admin()) {
            admin.namespaces()
                    .resource(new NamespaceBuilder()
                            .withNewMetadata()
                            .withName(NAMESPACE)
                            .addToFinalizers("example.com/hold")
                            .endMetadata()
                            .build())
                    .create();
            admin.namespaces().withName(NAMESPACE).delete();
            try (AgentInstaller installer = installer(DEFAULTS)) {
                Plan plan = installer.plan();

                // Kubernetes refuses new objects in a terminating namespace: the install would wait out its timeout
                // for the namespace to go, and then fail.
                Change change = only(plan);
                assertThat(change.action()).as(change.toString()).isEqualTo(ChangeAction.SKIP);
                assertThat(change.reason())
                        .hasValueSatisfying(r ->
                                assertThat(r).contains("Namespace " + NAMESPACE, "being deleted", "example.com/hold"));
                ApplyResult result = installer.apply(plan);

                assertThat(result.status()).as(result.toString()).isEqualTo(ApplyResult.Status.NOTHING_TO_DO);
                assertThat(helmList()).isEmpty();
            } finally {
                admin.namespaces().withName(NAMESPACE).edit(n -> {
                    n.getMetadata().setFinalizers(List.of());
                    return n;
                });
            }
        }
    }

    @Test
    void uninstall_whenKilledAfterHelmUninstalled_deletesTheLeftNamespaceOnTheNextRun() {
        try (AgentInstaller installer = installer(DEFAULTS)) {
            assertThat(installer.apply(installer.plan()).isSuccess()).isTrue();
            // What a kill between Helm's uninstall and the namespace deletion leaves.
            Helm.uninstall("cloudaeye-agent")
                    .withNamespace("cloudaeye-agent")
                    .withKubeConfig(KubeCluster.kubeconfig())
                    .call();

            Plan uninstall = installer.planUninstall();
            assertThat(only(uninstall).action()).isEqualTo(ChangeAction.DELETE);
            assertThat(installer.apply(uninstall).isSuccess()).isTrue();

            assertThat(namespaceNames()).doesNotContain("cloudaeye-agent");
        }
    }

    @Test
    void apply_ofAnInstallThatAlreadyLanded_reportsItApplied_withoutInstallingAgain() throws IOException {
        try (AgentInstaller installer = installer(DEFAULTS)) {
            // An apply killed after Helm installed the release but before its journal said so: the same plan again.
            Plan plan = installer.plan();
            assertThat(installer.apply(plan).isSuccess()).isTrue();

            ApplyResult again = installer.apply(plan);

            assertThat(again.status()).as(again.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            assertThat(again.results()).singleElement().satisfies(r -> {
                assertThat(r.outcome()).isEqualTo(ResourceResult.Outcome.APPLIED);
                assertThat(r.message()).hasValueSatisfying(m -> assertThat(m).contains("already at revision 1"));
            });
            assertThat(helmList())
                    .singleElement()
                    .satisfies(r -> assertThat(r.getRevision())
                            .as("no second Helm revision")
                            .isEqualTo("1"));
        }
    }

    @Test
    void apply_whenTheReleaseWasChangedOtherwiseSincePlanning_skipsIt() throws IOException {
        Plan plan;
        try (AgentInstaller installer = installer(DEFAULTS)) {
            plan = installer.plan();
        }
        AgentDaemonSet bigger = AgentDaemonSet.builder()
                .from(DEFAULTS)
                .putResources("limits.memory", "512Mi")
                .build();
        try (AgentInstaller other = installer(bigger)) {
            assertThat(other.apply(other.plan()).isSuccess()).isTrue();
        }
        try (AgentInstaller installer = installer(DEFAULTS)) {
            ApplyResult stale = installer.apply(plan);

            assertThat(stale.results()).singleElement().satisfies(r -> {
                assertThat(r.outcome()).isEqualTo(ResourceResult.Outcome.SKIPPED);
                assertThat(r.message())
                        .hasValueSatisfying(m -> assertThat(m).contains("changed since planning", "plan again"));
            });
            assertThat(helmList())
                    .singleElement()
                    .satisfies(r -> assertThat(r.getRevision()).isEqualTo("1"));
        }
    }

    @Test
    void apply_ofAnUninstallThatAlreadyLanded_reportsItApplied() throws IOException {
        try (AgentInstaller installer = installer(DEFAULTS)) {
            assertThat(installer.apply(installer.plan()).isSuccess()).isTrue();
            Plan uninstall = installer.planUninstall();
            assertThat(installer.apply(uninstall).isSuccess()).isTrue();

            ApplyResult again = installer.apply(uninstall);

            assertThat(again.results()).singleElement().satisfies(r -> {
                assertThat(r.outcome()).isEqualTo(ResourceResult.Outcome.APPLIED);
                assertThat(r.message()).hasValue("already uninstalled");
            });
            assertThat(helmList()).isEmpty();
        }
    }

    @Test
    void plan_whenOptionsChange_isUpgradeShowingTheDaemonSetDiff() {
        try (AgentInstaller installer = installer(DEFAULTS)) {
            assertThat(installer.apply(installer.plan()).isSuccess()).isTrue();
        }
        AgentDaemonSet bigger = AgentDaemonSet.builder()
                .from(DEFAULTS)
                .putResources("limits.memory", "512Mi")
                .build();
        try (AgentInstaller installer = installer(bigger)) {
            Change change = only(installer.plan());

            assertThat(change.action()).isEqualTo(ChangeAction.UPDATE);
            assertThat(change.attributes()).singleElement().satisfies(a -> {
                assertThat(a.name()).isEqualTo("DaemonSet/cloudaeye-agent");
                assertThat(a.before()).hasValueSatisfying(v -> assertThat(v).contains("memory: 256Mi"));
                assertThat(a.after()).hasValueSatisfying(v -> assertThat(v).contains("memory: 512Mi"));
            });
            assertThat(change.targetState().path("beforeRevision").asInt()).isEqualTo(1);
        }
    }

    @Test
    void callerKubeconfig_installsWithoutAwsPermission_andReplansToNoOp_andAChangeShowsTheDifference()
            throws IOException {
        Path kubeconfig = KubeCluster.kubeconfig();
        AgentDaemonSet options =
                AgentDaemonSet.builder().from(DEFAULTS).kubeconfig(kubeconfig).build();
        try (AgentInstaller installer = installer(options)) {
            Plan plan = installer.plan();
            assertThat(only(plan).action()).isEqualTo(ChangeAction.CREATE);
            assertThat(only(plan).permissions()).isEmpty();

            ApplyResult applied = installer.apply(plan);
            assertThat(applied.isSuccess()).as(applied.toString()).isTrue();
            assertThat(helmList())
                    .singleElement()
                    .satisfies(r -> assertThat(r.getStatus()).isEqualTo("deployed"));

            Plan again = installer.plan();
            assertThat(only(again).action()).as(again.toString()).isEqualTo(ChangeAction.NO_OP);
            assertThat(installer.apply(again).results()).noneMatch(r -> r.outcome() == ResourceResult.Outcome.APPLIED);
            assertThat(helmList())
                    .singleElement()
                    .satisfies(r -> assertThat(r.getRevision()).isEqualTo("1"));
        }
        AgentDaemonSet changed = AgentDaemonSet.builder()
                .from(options)
                .putResources("limits.memory", "300Mi")
                .build();
        try (AgentInstaller installer = installer(changed)) {
            Change update = only(installer.plan());
            assertThat(update.action()).isEqualTo(ChangeAction.UPDATE);
            assertThat(update.attributes())
                    .extracting(AttributeChange::name)
                    .containsExactly("DaemonSet/cloudaeye-agent");
        }
    }

    @Test
    void plan_withFargateProfiles_warnsThatDaemonSetsDoNotRunThere() {
        WireMockServer eks = KubeCluster.startEksApi();
        eks.stubFor(get(urlPathEqualTo("/clusters/prod-eks/fargate-profiles"))
                .willReturn(aResponse()
                        .withHeader("Content-Type", "application/json")
                        .withBody(resource("/fixtures/eks/list-fargate-profiles.json"))));
        try (AgentInstaller installer =
                EksOnKubeCluster.installer(eks.baseUrl(), CLUSTER.accessKey(), DEFAULTS, TOKEN, journals)) {
            Change change = only(installer.plan());

            assertThat(change.warnings())
                    .singleElement()
                    .asString()
                    .contains("fp-default, fp-batch", "DaemonSets do not run on Fargate");
        } finally {
            eks.stop();
        }
    }

    private static List<String> namespaceNames() {
        try (KubernetesClient admin = KubeCluster.admin()) {
            return admin.namespaces().list().getItems().stream()
                    .map(n -> n.getMetadata().getName())
                    .toList();
        }
    }

    private static List<Release> helmList() {
        return EksOnKubeCluster.helmList(NAMESPACE);
    }

    private AgentInstaller installer(AgentDaemonSet options) {
        return CLUSTER.installer(options, TOKEN, journals);
    }

    private static String resource(String name) {
        try (InputStream in = HelmReleaseStepsIT.class.getResourceAsStream(name)) {
            assertThat(in).as(name).isNotNull();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Change only(Plan plan) {
        assertThat(plan.changes()).as(plan.toString()).hasSize(1);
        return plan.changes().first();
    }
}
