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
import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.PlanningException;
import com.cloudaeye.agent.ResourceResult;
import com.cloudaeye.agent.Secret;
import com.cloudaeye.agent.eks.AgentDaemonSet;
import com.cloudaeye.agent.eks.EksTarget;
import com.cloudaeye.agent.spi.support.AwsActions;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import com.marcnuri.helm.Helm;
import com.marcnuri.helm.Release;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;

/**
 * The Helm path through the real installer against {@link KubernetesApiServer}, a test server that can fail a chosen
 * request and answers any token: EKS answered by WireMock, Helm by helm-java, the EKS token made from static
 * credentials. What a real API server proves (install, re-plan, upgrade, rollback and uninstall on live objects, the
 * rollout, RBAC) is in {@link HelmReleaseIT} and {@link InstallerRbacIT}; these tests keep what needs the shim: an
 * injected server error, a release changed behind the plan's back, a lost journal entry, and no server at all.
 */
class HelmReleaseComponentTest {
    private static final String TOKEN = "tok-9b2e77d04c";
    /** The bearer token of a caller's kubeconfig; the mock server accepts any. */
    private static final String KUBE_TOKEN = "kube-3f9a1c77e2";

    private static final String CLUSTER_ARN = "arn:aws:eks:us-east-1:123456789012:cluster/prod-eks";
    private static final String RELEASE_ID = CLUSTER_ARN + "/helm/cloudaeye-agent/cloudaeye-agent";

    /** The defaults, with a timeout short enough for a failing test to end quickly. */
    private static final AgentDaemonSet DEFAULTS =
            AgentDaemonSet.builder().timeout(java.time.Duration.ofSeconds(30)).build();

    private static WireMockServer aws;

    private KubernetesApiServer kubernetes;

    @TempDir
    Path journals;

    @BeforeAll
    static void startAws() {
        aws = new WireMockServer(WireMockConfiguration.options().dynamicPort());
        aws.start();
    }

    @AfterAll
    static void stopAws() {
        aws.stop();
    }

    @BeforeEach
    void startKubernetes() {
        kubernetes = new KubernetesApiServer();
        stubCluster(kubernetes.url(), "ACTIVE");
        stubFargateProfiles("list-fargate-profiles-empty.json");
    }

    @AfterEach
    void stopKubernetes() {
        kubernetes.close();
        aws.resetAll();
    }

    @Test
    void plan_whenNotInstalled_createsRelease_readOnly_withSecretRedacted() {
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
            assertThat(kubernetes.requests()).allMatch(r -> r.startsWith("GET "));
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
        kubernetes
                .client()
                .namespaces()
                .resource(new io.fabric8.kubernetes.api.model.NamespaceBuilder()
                        .withNewMetadata()
                        .withName("cloudaeye-agent")
                        .endMetadata()
                        .build())
                .create();
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
    void apply_whenTheInstallFails_deletesTheNamespaceItCreated() {
        kubernetes.failNext("POST", "/apis/apps/v1/namespaces/cloudaeye-agent/daemonsets");
        try (AgentInstaller installer = installer(DEFAULTS)) {
            ApplyResult failed = installer.apply(installer.plan());

            assertThat(failed.isSuccess()).isFalse();
            assertThat(namespaceNames()).doesNotContain("cloudaeye-agent");
        }
    }

    @Test
    void uninstall_whenKilledAfterHelmUninstalled_deletesTheLeftNamespaceOnTheNextRun() {
        try (AgentInstaller installer = installer(DEFAULTS)) {
            assertThat(installer.apply(installer.plan()).isSuccess()).isTrue();
            // What a kill between Helm's uninstall and the namespace deletion leaves.
            Helm.uninstall("cloudaeye-agent")
                    .withNamespace("cloudaeye-agent")
                    .withKubeConfigContents(kubernetes.kubeconfig())
                    .call();

            Plan uninstall = installer.planUninstall();
            assertThat(only(uninstall).action()).isEqualTo(ChangeAction.DELETE);
            assertThat(installer.apply(uninstall).isSuccess()).isTrue();

            assertThat(namespaceNames()).doesNotContain("cloudaeye-agent");
        }
    }

    @Test
    void apply_whenTheApiServerFailsTheDaemonSet_reportsFailed_leavesNoRelease_andAReRunInstalls() throws IOException {
        kubernetes.failNext("POST", "/apis/apps/v1/namespaces/cloudaeye-agent/daemonsets");
        try (AgentInstaller installer = installer(DEFAULTS)) {
            ApplyResult failed = installer.apply(installer.plan());

            assertThat(kubernetes.requests()).contains("  injected 500");
            assertThat(failed.results())
                    .singleElement()
                    .satisfies(r -> assertThat(r.outcome()).isEqualTo(ResourceResult.Outcome.FAILED));
            assertThat(failed.toString()).doesNotContain(TOKEN);
            assertThat(helmList())
                    .as("an atomic first install that failed leaves no release behind")
                    .isEmpty();

            Plan again = installer.plan();
            assertThat(only(again).action()).isEqualTo(ChangeAction.CREATE);
            ApplyResult rerun = installer.apply(again);
            assertThat(rerun.isSuccess()).as(rerun.toString()).isTrue();
            assertThat(helmList())
                    .singleElement()
                    .satisfies(r -> assertThat(r.getStatus()).isEqualTo("deployed"));
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
        Path kubeconfig = Files.writeString(journals.resolve("kubeconfig.yaml"), kubernetes.kubeconfig());
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
    void callerKubeconfig_inFlowStyle_isAccepted_andItsTokenStaysOutOfPlansAndJournals() throws IOException {
        String flow = "{apiVersion: v1, kind: Config, current-context: mock,"
                + " clusters: [{name: mock, cluster: {server: '" + kubernetes.url() + "',"
                + " certificate-authority-data: " + kubernetes.certificateAuthorityData() + "}}],"
                + " contexts: [{name: mock, context: {cluster: mock, user: mock}}],"
                + " users: [{name: mock, user: {token: " + KUBE_TOKEN + "}}]}";
        Path kubeconfig = Files.writeString(journals.resolve("flow.yaml"), flow);
        AgentDaemonSet options =
                AgentDaemonSet.builder().from(DEFAULTS).kubeconfig(kubeconfig).build();
        try (AgentInstaller installer = installer(options)) {
            ApplyResult applied = installer.apply(installer.plan());
            assertThat(applied.isSuccess()).as(applied.toString()).isTrue();

            Plan again = installer.plan();
            assertThat(only(again).action()).isEqualTo(ChangeAction.NO_OP);
            assertThat(again.toJson()).doesNotContain(KUBE_TOKEN);
            assertThat(Files.readString(applied.journal().orElseThrow())).doesNotContain(KUBE_TOKEN, TOKEN);
        }
    }

    @Test
    void callerKubeconfig_whenMalformed_failsBeforeAnyHelmCall() throws IOException {
        Path kubeconfig = Files.writeString(journals.resolve("broken.yaml"), "apiVersion: v1\nkind: Config\n");
        AgentDaemonSet options =
                AgentDaemonSet.builder().from(DEFAULTS).kubeconfig(kubeconfig).build();
        try (AgentInstaller installer = installer(options)) {
            assertThatThrownBy(installer::plan)
                    .isInstanceOf(com.cloudaeye.agent.ConfigurationException.class)
                    .hasMessageContaining("has no current-context");
        }
        // Only the test server's own fake controller called it.
        assertThat(kubernetes.requests()).noneMatch(r -> r.contains("/namespaces/"));
    }

    @Test
    void plan_withFargateProfiles_warnsThatDaemonSetsDoNotRunThere() {
        stubFargateProfiles("list-fargate-profiles.json");
        try (AgentInstaller installer = installer(DEFAULTS)) {
            Change change = only(installer.plan());

            assertThat(change.warnings())
                    .singleElement()
                    .asString()
                    .contains("fp-default, fp-batch", "DaemonSets do not run on Fargate");
        }
    }

    @Test
    void plan_whenApiServerUnreachable_failsClearly_andInstallsNothing() throws IOException {
        int closedPort;
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        stubCluster("https://127.0.0.1:" + closedPort, "ACTIVE");
        try (AgentInstaller installer = installer(DEFAULTS)) {
            assertThatThrownBy(installer::plan)
                    .isInstanceOf(PlanningException.class)
                    .hasMessageContaining("Could not reach the Kubernetes API server https://127.0.0.1:" + closedPort)
                    .hasMessageNotContaining(TOKEN);
        }
        assertThat(kubernetes.requests()).allMatch(r -> r.startsWith("GET "));
        assertThat(kubernetes.client().namespaces().list().getItems()).isEmpty();
    }

    @Test
    void plan_whenClusterNotActive_skipsWithReason() {
        stubCluster(kubernetes.url(), "CREATING");
        try (AgentInstaller installer = installer(DEFAULTS)) {
            Change change = only(installer.plan());

            assertThat(change.action()).isEqualTo(ChangeAction.SKIP);
            assertThat(change.reason()).hasValueSatisfying(r -> assertThat(r).contains("CREATING"));
        }
    }

    private List<String> namespaceNames() {
        return kubernetes.client().namespaces().list().getItems().stream()
                .map(n -> n.getMetadata().getName())
                .toList();
    }

    private List<Release> helmList() {
        try {
            Path kubeconfig = Files.createTempFile(journals, "kubeconfig", ".yaml");
            Files.writeString(kubeconfig, kubernetes.kubeconfig());
            return Helm.list().withKubeConfig(kubeconfig).allNamespaces().call();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private AgentInstaller installer(AgentDaemonSet options) {
        return AgentInstaller.builder()
                .region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("AKIDTEST", "test")))
                .endpointOverride(URI.create(aws.baseUrl()))
                .agent(a -> a.logsEndpoint("https://logs.example.cloudaeye.com").apiToken(Secret.of(TOKEN)))
                .target(EksTarget.builder()
                        .cluster("prod-eks")
                        .daemonSet(options)
                        .build())
                .journalDirectory(journals)
                .build();
    }

    private void stubCluster(String endpoint, String status) {
        aws.stubFor(get(urlPathEqualTo("/clusters/prod-eks"))
                .willReturn(aResponse()
                        .withHeader("Content-Type", "application/json")
                        .withBody(fixture("describe-cluster.json")
                                .replace("${endpoint}", endpoint)
                                .replace("${status}", status)
                                .replace("${ca}", kubernetes.certificateAuthorityData()))));
    }

    private static void stubFargateProfiles(String fixture) {
        aws.stubFor(get(urlPathEqualTo("/clusters/prod-eks/fargate-profiles"))
                .willReturn(aResponse()
                        .withHeader("Content-Type", "application/json")
                        .withBody(fixture(fixture))));
    }

    private static String fixture(String name) {
        return resource("/fixtures/eks/" + name);
    }

    private static String resource(String name) {
        try (var in = HelmReleaseComponentTest.class.getResourceAsStream(name)) {
            assertThat(in).as(name).isNotNull();
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Change only(Plan plan) {
        assertThat(plan.changes()).as(plan.toString()).hasSize(1);
        return plan.changes().first();
    }
}
