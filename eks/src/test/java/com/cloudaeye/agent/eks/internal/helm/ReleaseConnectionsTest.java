package com.cloudaeye.agent.eks.internal.helm;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.cloudaeye.agent.ConfigurationException;
import com.cloudaeye.agent.spi.support.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The check before an apply's first change: a release change's kubeconfig must still be usable, and a change through
 * an EKS token needs no file.
 */
class ReleaseConnectionsTest {
    @TempDir
    Path work;

    private static ReleaseState throughKubeconfig(Path file) throws Exception {
        return ReleaseState.fromJson(
                Json.parse("{\"cluster\":\"prod\",\"clusterArn\":\"arn\",\"namespace\":\"cloudaeye\","
                        + "\"release\":\"agent\",\"kubeconfig\":" + Json.compact(file.toString())
                        + ",\"beforeRevision\":0,\"values\":{}}"));
    }

    @Test
    void checkUsable_whenTheKubeconfigIsGone_namesTheFileTheReleaseAndTheFix() throws Exception {
        Path gone = work.resolve("gone.kubeconfig");

        assertThatThrownBy(() -> ReleaseConnections.checkUsable(throughKubeconfig(gone)))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining(gone.toString())
                .hasMessageContaining("cloudaeye/agent on EKS cluster prod")
                .hasMessageContaining("restore " + gone)
                .hasMessageContaining("AgentDaemonSet.kubeconfig(...)")
                .hasMessageEndingWith("pointing at the file where it is now.")
                .as("what changed is core's to say: it checks every target before any applies")
                .hasMessageNotContaining("changed nothing");
    }

    @Test
    void checkUsable_whenTheKubeconfigNoLongerParses_isRefused() throws Exception {
        Path broken = Files.writeString(work.resolve("broken.kubeconfig"), "current-context: [unclosed\n");

        assertThatThrownBy(() -> ReleaseConnections.checkUsable(throughKubeconfig(broken)))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining(broken.toString())
                .hasMessageContaining("YAML");
    }

    @Test
    void checkUsable_whenTheCurrentContextIsMissing_isRefused() throws Exception {
        Path noContext = Files.writeString(
                work.resolve("other.kubeconfig"),
                "apiVersion: v1\nkind: Config\ncurrent-context: prod\ncontexts: []\nclusters: []\nusers: []\n");

        assertThatThrownBy(() -> ReleaseConnections.checkUsable(throughKubeconfig(noContext)))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("current-context 'prod'");
    }

    @Test
    void checkUsable_throughAnEksToken_needsNoFile() throws Exception {
        ReleaseState eks = ReleaseState.fromJson(Json.parse("{\"cluster\":\"prod\",\"clusterArn\":\"arn\","
                + "\"namespace\":\"cloudaeye\",\"release\":\"agent\",\"beforeRevision\":0,\"values\":{}}"));

        assertThatCode(() -> ReleaseConnections.checkUsable(eks)).doesNotThrowAnyException();
    }
}
