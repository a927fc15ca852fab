package com.cloudaeye.agent.eks;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.ResourceResult;
import com.cloudaeye.agent.Secret;
import com.cloudaeye.agent.eks.testing.KubeCluster;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;

/**
 * The agent DaemonSet through the EKS token on a real kube-apiserver ({@link KubeCluster}): EKS is answered by WireMock
 * with the API server as the cluster's endpoint and its certificate as the cluster's CA, and the API server takes the
 * token through scripts/k8s.sh's stand-in for EKS's IAM authenticator (which, having no STS, checks no signature; the
 * token's identity gets cluster-admin, like an access entry with AmazonEKSClusterAdminPolicy). Helm and the library's
 * own reads work with the token; an unchanged re-plan is a no-op; uninstall leaves the namespaces as they were.
 */
class EksTokenRealClusterIT {
    private static final String TOKEN = "cae-eks-token-path-9f3e";
    private static final String NAMESPACE = "cloudaeye-agent";

    @TempDir
    Path work;

    /** The access key of the installer's credentials: its EKS token authenticates as "eks:" and this. */
    private final String accessKeyId =
            "AKIDW19" + Long.toHexString(System.nanoTime()).toUpperCase(java.util.Locale.ROOT);

    private WireMockServer aws;
    private KubeCluster.User eksUser;
    private KubernetesClient kubernetes;

    @BeforeEach
    void start() {
        eksUser = KubeCluster.eksUser(accessKeyId).grantClusterRole("cluster-admin");
        aws = new WireMockServer(WireMockConfiguration.options().dynamicPort());
        aws.start();
        aws.stubFor(get(urlPathEqualTo("/clusters/prod-eks"))
                .willReturn(aResponse()
                        .withHeader("Content-Type", "application/json")
                        .withBody(fixture("describe-cluster.json")
                                .replace("${endpoint}", KubeCluster.server())
                                .replace("${status}", "ACTIVE")
                                .replace("${ca}", KubeCluster.certificateAuthorityData()))));
        aws.stubFor(get(urlPathEqualTo("/clusters/prod-eks/fargate-profiles"))
                .willReturn(aResponse()
                        .withHeader("Content-Type", "application/json")
                        .withBody(fixture("list-fargate-profiles-empty.json"))));
        kubernetes = KubeCluster.admin();
    }

    @AfterEach
    void stop() {
        kubernetes.close();
        eksUser.delete();
        aws.stop();
    }

    @Test
    void eksToken_installs_replansToNoOp_andUninstallLeavesTheNamespacesAsTheyWere() {
        Set<String> before = namespaces();
        try (AgentInstaller installer = installer()) {
            ApplyResult applied = installer.apply(installer.plan());
            assertThat(applied.isSuccess()).as(applied.toString()).isTrue();
            assertThat(kubernetes
                            .apps()
                            .daemonSets()
                            .inNamespace(NAMESPACE)
                            .withName("cloudaeye-agent")
                            .get())
                    .isNotNull();

            Plan again = installer.plan();
            assertThat(again.changes())
                    .singleElement()
                    .satisfies(c -> assertThat(c.action()).as(again.toString()).isEqualTo(ChangeAction.NO_OP));
            assertThat(installer.apply(again).results()).noneMatch(r -> r.outcome() == ResourceResult.Outcome.APPLIED);

            ApplyResult removed = installer.apply(installer.planUninstall());
            assertThat(removed.isSuccess()).as(removed.toString()).isTrue();
        }
        assertThat(namespaces()).isEqualTo(before);
    }

    private AgentInstaller installer() {
        return AgentInstaller.builder()
                .region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKeyId, "test")))
                .endpointOverride(URI.create(aws.baseUrl()))
                .agent(a -> a.logsEndpoint("https://logs.example.cloudaeye.com").apiToken(Secret.of(TOKEN)))
                .target(EksTarget.builder()
                        .cluster("prod-eks")
                        .daemonSet(AgentDaemonSet.builder()
                                .timeout(Duration.ofMinutes(2))
                                .build())
                        .build())
                .journalDirectory(work.resolve("journals"))
                .build();
    }

    private Set<String> namespaces() {
        return kubernetes.namespaces().list().getItems().stream()
                .map(n -> n.getMetadata().getName())
                .collect(Collectors.toCollection(TreeSet::new));
    }

    private static String fixture(String name) {
        try (InputStream in = EksTokenRealClusterIT.class.getResourceAsStream("/fixtures/eks/" + name)) {
            assertThat(in).as(name).isNotNull();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
