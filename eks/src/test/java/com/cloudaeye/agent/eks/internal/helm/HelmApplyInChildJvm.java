package com.cloudaeye.agent.eks.internal.helm;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.eks.AgentDaemonSet;
import com.cloudaeye.agent.eks.testing.EksOnKubeCluster;
import com.cloudaeye.agent.testing.ChildJvm;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Installs the agent's Helm release on the real API server in a JVM of its own, so that {@link HelmCrashIT} can kill
 * it. Arguments: {@code apply|resume|rollback EKS_ENDPOINT JOURNAL_DIR ACCESS_KEY NAME TAG [JOURNAL_FILE]}. The image
 * tag {@code fail-on-arm64} passes Helm's wait at once and keeps the installer's rollout wait going for 30 s; any
 * other rolls out.
 */
public final class HelmApplyInChildJvm {
    /** The agent token (a test value). */
    public static final String TOKEN = "tok-crash-helm-2b9c";

    private HelmApplyInChildJvm() {}

    /**
     * @param name the release's and its namespace's name
     * @param tag the agent image's tag
     * @return the options the child installs with
     */
    public static AgentDaemonSet daemonSet(String name, String tag) {
        return AgentDaemonSet.builder()
                .namespace(name)
                .releaseName(name)
                .tag(tag)
                .timeout(Duration.ofSeconds(30))
                .build();
    }

    /** @param args see the class comment */
    public static void main(String[] args) {
        try (AgentInstaller installer =
                EksOnKubeCluster.installer(args[1], args[3], daemonSet(args[4], args[5]), TOKEN, Path.of(args[2]))) {
            ChildJvm.perform(installer, args[0], args.length > 6 ? Path.of(args[6]) : null);
        }
    }
}
