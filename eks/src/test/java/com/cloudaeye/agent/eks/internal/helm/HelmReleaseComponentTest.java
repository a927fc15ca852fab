package com.cloudaeye.agent.eks.internal.helm;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.Journal;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.PlanningException;
import com.cloudaeye.agent.ResourceResult;
import com.cloudaeye.agent.Secret;
import com.cloudaeye.agent.eks.AgentDaemonSet;
import com.cloudaeye.agent.eks.EksTarget;
import com.cloudaeye.agent.internal.JournalWriter;
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
import java.util.Map;
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
 * What a real API server cannot be made to do on demand: the Helm path through the installer against {@link
 * KubernetesApiServer}, a test server that fails a chosen request with a 500 (the install's namespace is then deleted,
 * nothing is left, a re-run installs), and the plan's own errors that need no working server (an unreachable API
 * server, a cluster not yet active, a malformed kubeconfig). Everything else about the Helm release runs on the real
 * control plane: {@link HelmReleaseIT}, {@link HelmReleaseStepsIT}, {@link HelmCrashIT}, {@link InstallerRbacIT}.
 */
class HelmReleaseComponentTest {
    private static final String TOKEN = "tok-9b2e77d04c";
    /** Our own reads of the release (selector owner=helm first; Helm's own reads put name first). */
    private static final String RELEASE_READS =
            "/api/v1/namespaces/cloudaeye-agent/secrets?labelSelector=owner%3Dhelm%2Cname";

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
    void apply_whenTheInstallFails_deletesTheNamespaceItCreated() {
        kubernetes.failNext("POST", "/apis/apps/v1/namespaces/cloudaeye-agent/daemonsets");
        try (AgentInstaller installer = installer(DEFAULTS)) {
            ApplyResult failed = installer.apply(installer.plan());

            assertThat(failed.isSuccess()).isFalse();
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
    void apply_whenTheInstallFails_andTheReleaseCannotBeReadBack_isUnknownNeverFailed() {
        try (AgentInstaller installer = installer(DEFAULTS)) {
            Plan plan = installer.plan();
            kubernetes.failNext("POST", "/apis/apps/v1/namespaces/cloudaeye-agent/daemonsets");
            // Our own release reads (selector owner=helm first; Helm's own reads put name first): the apply's read
            // before its start passes, the read-back after the failed install fails.
            kubernetes.failAllAfter(
                    "GET", "/api/v1/namespaces/cloudaeye-agent/secrets?labelSelector=owner%3Dhelm%2Cname", 1);
            ApplyResult result = installer.apply(plan);

            assertThat(kubernetes.requests()).contains("  injected 500");
            assertThat(result.results()).singleElement().satisfies(r -> {
                assertThat(r.outcome()).isEqualTo(ResourceResult.Outcome.UNKNOWN);
                assertThat(r.message())
                        .hasValueSatisfying(
                                m -> assertThat(m).contains("reading release").contains("resume"));
            });
            assertThat(result.toString()).doesNotContain(TOKEN);
        }
    }

    @Test
    void resume_whenReadingTheReleaseFails_isUnknownNeverFailed() {
        try (AgentInstaller installer = installer(DEFAULTS)) {
            // An apply killed after its change landed, before its journal said so (this server takes no Helm
            // upgrade, so an install stands for any change).
            Plan plan = installer.plan();
            assertThat(installer.apply(plan).isSuccess()).isTrue();
            Journal interrupted = startedOnly(plan);
            // The resume plans again (one release read), then its apply reads the release: that read fails.
            kubernetes.failAllAfter("GET", RELEASE_READS, 1);

            ApplyResult resumed = installer.resume(interrupted);

            assertThat(resumed.results()).singleElement().satisfies(r -> {
                assertThat(r.outcome()).as(r.toString()).isEqualTo(ResourceResult.Outcome.UNKNOWN);
                assertThat(r.message())
                        .hasValueSatisfying(m -> assertThat(m)
                                .contains("reading release cloudaeye-agent/cloudaeye-agent failed", "HTTP 500")
                                .contains("resume"));
            });
        }
    }

    @Test
    void resume_ofAChangeThatLanded_whenItsRolloutCannotBeRead_isUnknownNeverFailed() {
        try (AgentInstaller installer = installer(DEFAULTS)) {
            Plan plan = installer.plan();
            assertThat(installer.apply(plan).isSuccess()).isTrue();
            Journal interrupted = startedOnly(plan);
            kubernetes.failAllAfter("GET", "/apis/apps/v1/namespaces/cloudaeye-agent/daemonsets", 0);

            ApplyResult resumed = installer.resume(interrupted);

            assertThat(resumed.results()).singleElement().satisfies(r -> {
                assertThat(r.outcome()).as(r.toString()).isEqualTo(ResourceResult.Outcome.UNKNOWN);
                assertThat(r.message())
                        .hasValueSatisfying(m -> assertThat(m).contains("already at revision 1", "HTTP 500"));
            });
        }
    }

    /** What a SIGKILL inside the release change leaves in the journal: its STARTING line, no outcome. */
    private Journal startedOnly(Plan plan) {
        Path path;
        try (JournalWriter journal = JournalWriter.create(journals, plan)) {
            journal.record(Journal.Event.STARTING, plan.mutations().get(0), null, null);
            path = journal.path();
        }
        return Journal.read(path);
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

    @Test
    void plan_onAClusterWhoseOnlyNodesAreFargate_skipsNamingTheProfiles_andApplyInstallsNothing() {
        // A Fargate-only cluster (the real control plane of the ITs has other nodes too, shared by every test).
        stubFargateProfiles("list-fargate-profiles.json");
        kubernetes
                .client()
                .nodes()
                .resource(KubeObjects.node(
                        "fargate-ip-10-0-1-7.ec2.internal", Map.of("eks.amazonaws.com/compute-type", "fargate")))
                .create();
        try (AgentInstaller installer = installer(DEFAULTS)) {
            Plan plan = installer.plan();

            Change change = only(plan);
            assertThat(change.action()).as(change.toString()).isEqualTo(ChangeAction.SKIP);
            assertThat(change.reason())
                    .hasValueSatisfying(r -> assertThat(r)
                            .contains("prod-eks", "fp-default, fp-batch", "no node but Fargate's", "node group"));
            ApplyResult result = installer.apply(plan);

            assertThat(result.status()).as(result.toString()).isEqualTo(ApplyResult.Status.NOTHING_TO_DO);
            assertThat(helmList()).isEmpty();
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
