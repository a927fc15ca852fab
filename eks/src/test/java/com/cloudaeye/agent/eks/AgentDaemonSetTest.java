package com.cloudaeye.agent.eks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.cloudaeye.agent.ConfigurationException;
import com.cloudaeye.agent.eks.AgentDaemonSet.Toleration;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The public options, through their public API only. */
class AgentDaemonSetTest {
    @Test
    void defaults_useOwnNamespaceAndReleaseName_fiveMinuteTimeout_andEksToken() {
        AgentDaemonSet d = AgentDaemonSet.defaults();

        assertThat(d.namespace()).isEqualTo("cloudaeye-agent");
        assertThat(d.releaseName()).isEqualTo("cloudaeye-agent");
        assertThat(d.timeout()).isEqualTo(Duration.ofMinutes(5));
        assertThat(d.tolerations()).isEmpty();
        assertThat(d.kubeconfig()).isEmpty();
    }

    @Test
    void build_withAllOptions_keepsThem() {
        AgentDaemonSet d = AgentDaemonSet.builder()
                .namespace("observability")
                .releaseName("logs")
                .image("example.com/agent")
                .tag("1.2.3")
                .putResources("limits.memory", "1Gi")
                .addTolerations(Toleration.exists("dedicated", "NoSchedule"))
                .putExtraValues("priorityClassName", "high")
                .timeout(Duration.ofMinutes(10))
                .kubeconfig(Path.of("/home/me/.kube/config"))
                .build();

        assertThat(d.image()).contains("example.com/agent");
        assertThat(d.resources()).containsEntry("limits.memory", "1Gi");
        assertThat(d.tolerations()).containsExactly(new Toleration("dedicated", "Exists", null, "NoSchedule"));
        assertThat(d.kubeconfig()).contains(Path.of("/home/me/.kube/config"));
    }

    @Test
    void build_withInvalidNamespace_namesTheSettingAndTheRule() {
        assertThatThrownBy(() -> AgentDaemonSet.builder().namespace("Logs_NS").build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("namespace 'Logs_NS'")
                .hasMessageContaining("lower-case letters, digits and '-'");
    }

    @Test
    void build_withTooLongReleaseName_failsWithHelmsLimit() {
        assertThatThrownBy(() ->
                        AgentDaemonSet.builder().releaseName("a".repeat(54)).build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("53 characters");
    }

    @Test
    void build_withImageIncludingTag_asksForRepositoryOnly() {
        assertThatThrownBy(() ->
                        AgentDaemonSet.builder().image("Example.com/Agent").build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("image 'Example.com/Agent'");
        assertThatThrownBy(() -> AgentDaemonSet.builder().tag("1.0 beta").build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("tag '1.0 beta'");
    }

    @Test
    void build_withUnknownResourceOrBadQuantity_fails() {
        assertThatThrownBy(() -> AgentDaemonSet.builder()
                        .putResources("requests.gpu", "1")
                        .build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("resource 'requests.gpu'");
        assertThatThrownBy(() -> AgentDaemonSet.builder()
                        .putResources("limits.memory", "lots")
                        .build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("'lots' is not a Kubernetes quantity");
    }

    @Test
    void build_withExtraValueForTokenOrEndpoint_pointsToAgentSettings() {
        assertThatThrownBy(() -> AgentDaemonSet.builder()
                        .putExtraValues("cloudaeye.apiToken", "x")
                        .build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("agent settings")
                .hasMessageNotContaining("'x'");
        assertThatThrownBy(() -> AgentDaemonSet.builder()
                        .putExtraValues("cloudaeye", "x")
                        .build())
                .as("the whole cloudaeye map, which the token goes into")
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("extra value 'cloudaeye' is set from the installer's agent settings");
        assertThatThrownBy(() ->
                        AgentDaemonSet.builder().putExtraValues("bad path", "x").build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("dotted chart value path");
    }

    @Test
    void build_withTimeoutAboveTokenLifetime_fails() {
        assertThatThrownBy(() ->
                        AgentDaemonSet.builder().timeout(Duration.ofMinutes(11)).build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("10 minutes");
        assertThatThrownBy(() -> AgentDaemonSet.builder().timeout(Duration.ZERO).build())
                .isInstanceOf(ConfigurationException.class);
    }

    @Test
    void toleration_rejectsInvalidCombinations() {
        assertThatThrownBy(() -> new Toleration("k", "In", null, null))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("Exists or Equal");
        assertThatThrownBy(() -> new Toleration(null, "Equal", "v", null))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("without a key");
        assertThatThrownBy(() -> new Toleration("k", "Exists", "v", null))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("drop the value");
        assertThatThrownBy(() -> Toleration.exists("k", "Sometimes"))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("effect 'Sometimes'");
    }
}
