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

    @Test
    void beforeChart_whenNotRecorded_orAnotherChart_isNotRestored_andNamesTheHelmRollback() throws Exception {
        String older = "{\"cluster\":\"prod\",\"clusterArn\":\"arn\",\"namespace\":\"cloudaeye\","
                + "\"release\":\"agent\",\"beforeRevision\":2,\"values\":{},\"beforeValues\":{}}";

        assertThat(ReleaseState.fromJson(Json.parse(older)).beforeChartNotRestorable())
                .hasValueSatisfying(m -> assertThat(m)
                        .contains("revision 2 of release cloudaeye/agent ran a chart the plan did not record")
                        .endsWith("run 'helm rollback agent 2 -n cloudaeye'"));
        assertThat(ReleaseState.fromJson(Json.parse(older.replace("}}", "},\"beforeChart\":\"agent-9.0.0\"}")))
                        .beforeChartNotRestorable())
                .hasValueSatisfying(m -> assertThat(m).contains("ran chart agent-9.0.0, not the " + ChartFiles.ID));
        ReleaseState ours =
                ReleaseState.fromJson(Json.parse(older.replace("}}", "},\"beforeChart\":\"" + ChartFiles.ID + "\"}")));
        assertThat(ours.beforeChartNotRestorable()).isEmpty();
        assertThat(Json.compact(ours.toJson())).endsWith("\"beforeChart\":\"" + ChartFiles.ID + "\"}");
    }

    @Test
    void chartId_isTheShippedChartsNameAndVersion() throws Exception {
        try (var in = ChartFiles.class.getResourceAsStream(
                "/com/cloudaeye/agent/eks/chart/" + ChartFiles.NAME + "/Chart.yaml")) {
            String chartYaml = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            assertThat(chartYaml)
                    .contains("\nname: " + ChartFiles.NAME + "\n", "\nversion: " + ChartFiles.VERSION + "\n");
        }
    }
}
