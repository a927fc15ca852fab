package com.cloudaeye.agent.eks;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.ResourceResult;
import com.cloudaeye.agent.eks.testing.EksOnKubeCluster;
import com.cloudaeye.agent.eks.testing.KubeCluster;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent DaemonSet through the EKS token on a real kube-apiserver ({@link KubeCluster}): EKS is answered by WireMock
 * with the API server as the cluster's endpoint and its certificate as the cluster's CA, and the API server takes the
 * token through scripts/k8s.sh's stand-in for EKS's IAM authenticator (which, having no STS, checks no signature; the
 * token's identity gets cluster-admin, like an access entry with AmazonEKSClusterAdminPolicy). Helm and the library's
 * own reads work with the token; an unchanged re-plan is a no-op; uninstall leaves the namespaces as they were.
 */
class EksTokenRealClusterIT {
    private static final String TOKEN = "cae-eks-token-path-9f3e";

    /** The EKS identity of the installer's access key has cluster-admin; the release's namespace goes after each test. */
    @RegisterExtension
    static final EksOnKubeCluster CLUSTER =
            EksOnKubeCluster.clusterAdmin("AKIDEKSTOKENREALCLUSTERIT").release("cloudaeye-agent");

    @TempDir
    Path work;

    private KubernetesClient kubernetes;

    @BeforeEach
    void start() {
        kubernetes = KubeCluster.admin();
    }

    @AfterEach
    void stop() {
        kubernetes.close();
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
                            .inNamespace("cloudaeye-agent")
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
        return CLUSTER.installer(
                AgentDaemonSet.builder().timeout(Duration.ofMinutes(2)).build(), TOKEN, work.resolve("journals"));
    }

    private Set<String> namespaces() {
        return kubernetes.namespaces().list().getItems().stream()
                .map(n -> n.getMetadata().getName())
                .collect(Collectors.toCollection(TreeSet::new));
    }
}
