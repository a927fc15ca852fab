package com.cloudaeye.agent.eks.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.DaemonSetBuilder;
import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The control plane scripts/k8s.sh starts is a real one: its version, its fake nodes, RBAC, a DaemonSet rollout. */
class KubeClusterIT {
    /** One namespace per test: a deleted namespace lingers while the namespace controller empties it. */
    private static final String DAEMONSET_NAMESPACE = "kube-cluster-it-ds";

    private static final String RBAC_NAMESPACE = "kube-cluster-it-rbac";

    @TempDir
    Path dir;

    @AfterEach
    void deleteNamespaces() {
        try (KubernetesClient admin = KubeCluster.admin()) {
            admin.namespaces().withName(DAEMONSET_NAMESPACE).delete();
            admin.namespaces().withName(RBAC_NAMESPACE).delete();
        }
    }

    @Test
    void controlPlane_whenStarted_isKubernetes131WithTheFourFakeNodes() {
        try (KubernetesClient admin = KubeCluster.admin()) {
            // Helm reads the server version for the chart's kubeVersion and .Capabilities.
            assertThat(admin.getKubernetesVersion().getGitVersion()).isEqualTo("v1.31.4");
            Map<String, Node> nodes = admin.nodes().list().getItems().stream()
                    .collect(Collectors.toMap(n -> n.getMetadata().getName(), n -> n));
            assertThat(nodes)
                    .containsOnlyKeys(
                            KubeCluster.AMD64_NODE,
                            KubeCluster.ARM64_NODE,
                            KubeCluster.TAINTED_NODE,
                            KubeCluster.FARGATE_NODE);
            assertThat(nodes.get(KubeCluster.ARM64_NODE).getMetadata().getLabels())
                    .containsEntry("kubernetes.io/arch", "arm64");
            assertThat(nodes.get(KubeCluster.AMD64_NODE).getMetadata().getLabels())
                    .containsEntry("kubernetes.io/arch", "amd64");
            assertThat(nodes.get(KubeCluster.FARGATE_NODE).getMetadata().getLabels())
                    .containsEntry("eks.amazonaws.com/compute-type", "fargate");
            assertThat(nodes.get(KubeCluster.TAINTED_NODE).getSpec().getTaints())
                    .singleElement()
                    .satisfies(t -> assertThat(t.getKey() + "=" + t.getValue() + ":" + t.getEffect())
                            .isEqualTo("dedicated=logs:NoSchedule"));
            assertThat(nodes.values())
                    .allSatisfy(n -> assertThat(n.getStatus().getConditions())
                            .anySatisfy(c -> assertThat(c.getType() + "=" + c.getStatus())
                                    .isEqualTo("Ready=True")));
        }
    }

    @Test
    void daemonSet_withoutTolerations_runsReadyPodsOnTheUntaintedNodesOnly() {
        try (KubernetesClient admin = KubeCluster.admin()) {
            admin.namespaces()
                    .resource(new io.fabric8.kubernetes.api.model.NamespaceBuilder()
                            .withNewMetadata()
                            .withName(DAEMONSET_NAMESPACE)
                            .endMetadata()
                            .build())
                    .serverSideApply();
            DaemonSet created = admin.apps()
                    .daemonSets()
                    .inNamespace(DAEMONSET_NAMESPACE)
                    .resource(new DaemonSetBuilder()
                            .withNewMetadata()
                            .withName("smoke")
                            .endMetadata()
                            .withNewSpec()
                            .withNewSelector()
                            .addToMatchLabels("app", "smoke")
                            .endSelector()
                            .withNewTemplate()
                            .withNewMetadata()
                            .addToLabels("app", "smoke")
                            .endMetadata()
                            .withNewSpec()
                            .addNewContainer()
                            .withName("c")
                            .withImage("example.com/smoke:1")
                            .endContainer()
                            .endSpec()
                            .endTemplate()
                            .endSpec()
                            .build())
                    .create();
            assertThat(created.getMetadata().getUid()).isNotBlank();

            DaemonSet rolledOut = admin.apps()
                    .daemonSets()
                    .inNamespace(DAEMONSET_NAMESPACE)
                    .withName("smoke")
                    .waitUntilCondition(
                            d -> d.getStatus() != null
                                    && d.getStatus().getDesiredNumberScheduled() == 2
                                    && Integer.valueOf(2).equals(d.getStatus().getNumberReady()),
                            2,
                            TimeUnit.MINUTES);
            assertThat(rolledOut.getStatus().getNumberReady()).isEqualTo(2);
            List<Pod> pods = admin.pods()
                    .inNamespace(DAEMONSET_NAMESPACE)
                    .withLabel("app", "smoke")
                    .list()
                    .getItems();
            assertThat(pods)
                    .extracting(p -> p.getSpec().getNodeName())
                    .containsExactlyInAnyOrder(KubeCluster.AMD64_NODE, KubeCluster.ARM64_NODE);
            assertThat(pods)
                    .allSatisfy(p -> assertThat(p.getStatus().getPhase()).isEqualTo("Running"));
        }
    }

    @Test
    void user_grantedPodReadsInOneNamespace_isRefusedEverythingElse() {
        KubeCluster.User user = KubeCluster.user("pod-reader", dir)
                .grantNamespace(
                        RBAC_NAMESPACE,
                        List.of(new PolicyRuleBuilder()
                                .withApiGroups("")
                                .withResources("pods")
                                .withVerbs("get", "list")
                                .build()));
        try (KubernetesClient client = KubeCluster.client(user.kubeconfig())) {
            assertThat(client.pods().inNamespace(RBAC_NAMESPACE).list().getItems())
                    .isEmpty();
            assertThatThrownBy(
                            () -> client.secrets().inNamespace(RBAC_NAMESPACE).list())
                    .isInstanceOf(KubernetesClientException.class)
                    .satisfies(e -> assertThat(((KubernetesClientException) e).getCode())
                            .isEqualTo(403));
            assertThatThrownBy(() -> client.pods().inNamespace("default").list())
                    .isInstanceOf(KubernetesClientException.class)
                    .satisfies(e -> assertThat(((KubernetesClientException) e).getCode())
                            .isEqualTo(403));
        } finally {
            user.delete();
        }
    }
}
