package com.cloudaeye.agent.eks.internal.helm;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.eks.AgentDaemonSet;
import com.cloudaeye.agent.eks.testing.EksOnKubeCluster;
import com.cloudaeye.agent.eks.testing.EksOnKubeCluster.Running;
import com.cloudaeye.agent.eks.testing.KubeCluster;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pre-flight ({@link PodPreflight}) against a cluster-wide PodSecurity default, which no namespace label shows: the
 * installer talks to an API server whose admission configuration enforces {@code baseline} in every namespace without
 * a level of its own ({@link KubeCluster#podSecurityBaselineKubeconfig()}, a second server of the same control plane),
 * so the plan's label check finds nothing and only the server's dry run can tell that the agent's hostPath volumes are
 * refused. EKS's managed API server takes no such configuration (every namespace there defaults to privileged); a
 * self-managed cluster's may, and the installer also works through a caller's kubeconfig. The controllers go through
 * the other server, which has no default; what these tests check is the plan's verdict and that nothing is changed,
 * which come from the installer's own requests.
 */
class ClusterPodSecurityIT {
    private static final String TOKEN = "tok-cluster-pss-5e1a";
    private static final String ENFORCE = "pod-security.kubernetes.io/enforce";

    @RegisterExtension
    static final EksOnKubeCluster CLUSTER = EksOnKubeCluster.clusterAdmin("AKIDCLUSTERPSSIT")
            .podSecurityBaselineServer()
            .releasePerTest("pss");

    @TempDir
    Path journals;

    private String name;

    @BeforeEach
    void name() {
        name = CLUSTER.name();
    }

    @Test
    void install_intoAnUnlabelledNamespace_isSkippedNamingTheClusterWideDefault_andCreatesNothing() {
        namespace(Map.of());

        planAndApply_isSkipped(
                options().build(),
                "refuses the agent's pods in namespace " + name,
                "violates PodSecurity \"baseline:latest\"",
                "hostPath volumes",
                "kubectl label --overwrite namespace " + name + " " + ENFORCE + "=privileged",
                "cluster-wide admission configuration");
        assertThat(CLUSTER.helmList()).isEmpty();
        try (KubernetesClient admin = KubeCluster.admin()) {
            assertThat(admin.apps().daemonSets().inNamespace(name).list().getItems())
                    .isEmpty();
        }
    }

    @Test
    void upgrade_afterTheNamespaceLostItsPrivilegedLabel_isSkipped_andTheRunningAgentIsUntouched() {
        // The plan's fix, applied: a privileged label overrides the cluster-wide default, and the install goes ahead.
        namespace(Map.of(ENFORCE, "privileged"));
        try (AgentInstaller installer = installer(options().build())) {
            ApplyResult result = installer.apply(installer.plan());
            assertThat(result.isSuccess()).as(result.toString()).isTrue();
        }
        Running before = CLUSTER.running();
        assertThat(before.pods()).isNotEmpty();
        try (KubernetesClient admin = KubeCluster.admin()) {
            admin.namespaces()
                    .withName(name)
                    .edit(ns -> new NamespaceBuilder(ns)
                            .editMetadata()
                            .removeFromLabels(ENFORCE)
                            .endMetadata()
                            .build());
        }

        planAndApply_isSkipped(
                options().tag("2.0.0").build(),
                "violates PodSecurity \"baseline:latest\"",
                "cluster-wide admission configuration");
        assertThat(CLUSTER.running()).isEqualTo(before);
        assertThat(CLUSTER.helmList())
                .singleElement()
                .satisfies(r -> assertThat(r.getRevision()).isEqualTo("1"));
    }

    /** Creates the test's namespace with these labels (and no other PodSecurity level), as its owner would. */
    private void namespace(Map<String, String> labels) {
        try (KubernetesClient admin = KubeCluster.admin()) {
            admin.namespaces()
                    .resource(new NamespaceBuilder()
                            .withNewMetadata()
                            .withName(name)
                            .withLabels(labels)
                            .endMetadata()
                            .build())
                    .create();
        }
    }

    private AgentDaemonSet.Builder options() {
        return AgentDaemonSet.builder().namespace(name).releaseName(name).timeout(Duration.ofMinutes(2));
    }

    private void planAndApply_isSkipped(AgentDaemonSet options, String... reason) {
        try (AgentInstaller installer = installer(options)) {
            SkippedPlan.planAndApply_isSkipped(installer, TOKEN, reason);
        }
    }

    private AgentInstaller installer(AgentDaemonSet options) {
        return CLUSTER.installer(options, TOKEN, journals);
    }
}
