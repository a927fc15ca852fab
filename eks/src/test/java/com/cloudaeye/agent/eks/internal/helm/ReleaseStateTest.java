package com.cloudaeye.agent.eks.internal.helm;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.spi.support.Json;
import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The typed state of a Helm release change reads what plans and journals written before it hold, and writes it back
 * to the letter: the same keys, in the same order, absent ones left out.
 */
class ReleaseStateTest {
    @Test
    void releaseState_ofAnUpgradeThroughTheDefaultKubeconfig_writesTheSameJson() throws Exception {
        JsonNode old = Json.parse(
                "{\"cluster\":\"prod\",\"clusterArn\":\"arn:aws:eks:us-east-1:123456789012:cluster/prod\","
                        + "\"namespace\":\"cloudaeye\",\"release\":\"agent\",\"timeoutSeconds\":300,\"defaultKubeconfig\":true,"
                        + "\"beforeRevision\":2,\"values\":{\"image\":{\"tag\":\"1.2\"}},\"beforeValues\":{\"image\":{\"tag\":\"1.1\"}}}");

        ReleaseState state = ReleaseState.fromJson(old);

        assertThat(Json.compact(state.toJson())).isEqualTo(Json.compact(old));
        assertThat(state.usesDefaultKubeconfig()).isTrue();
        assertThat(state.timeout()).isEqualTo(Duration.ofMinutes(5));
        assertThat(state.throughKubeconfig()).isTrue();
        assertThat(state.label()).isEqualTo("cloudaeye/agent");
    }

    @Test
    void releaseState_ofAFirstInstallFromAnOlderPlan_readsWithDefaults() throws Exception {
        JsonNode old = Json.parse("{\"cluster\":\"prod\",\"clusterArn\":\"arn\",\"namespace\":\"cloudaeye\","
                + "\"release\":\"agent\",\"kubeconfig\":\"/home/me/.kube/config\",\"beforeRevision\":0,\"values\":{}}");

        ReleaseState state = ReleaseState.fromJson(old);

        assertThat(Json.compact(state.toJson())).isEqualTo(Json.compact(old));
        assertThat(state.timeout())
                .as("AgentDaemonSet's default, which plans made before the timeout was recorded were made with")
                .isEqualTo(Duration.ofMinutes(5));
        assertThat(state.throughKubeconfig()).isTrue();
        assertThat(state.usesDefaultKubeconfig()).isFalse();
        assertThat(state.beforeValues()).isNull();
    }
}
