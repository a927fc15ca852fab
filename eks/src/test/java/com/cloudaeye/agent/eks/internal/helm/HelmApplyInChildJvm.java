package com.cloudaeye.agent.eks.internal.helm;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.Secret;
import com.cloudaeye.agent.eks.AgentDaemonSet;
import com.cloudaeye.agent.eks.EksTarget;
import com.cloudaeye.agent.testing.ChildJvm;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;

/**
 * Installs the agent's Helm release on the real API server in a JVM of its own, so that {@link HelmCrashIT} can kill
 * it. Arguments: {@code apply|resume|rollback EKS_ENDPOINT JOURNAL_DIR ACCESS_KEY NAME [JOURNAL_FILE]}. The image tag
 * {@code fail-on-arm64} passes Helm's wait at once and keeps the installer's rollout wait going for 30 s.
 */
public final class HelmApplyInChildJvm {
    /** The agent token (a test value). */
    public static final String TOKEN = "tok-crash-helm-2b9c";

    private HelmApplyInChildJvm() {}

    /** @param args see the class comment */
    public static void main(String[] args) {
        String name = args[4];
        try (AgentInstaller installer = AgentInstaller.builder()
                .region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(args[3], "test")))
                .endpointOverride(URI.create(args[1]))
                .agent(a -> a.logsEndpoint("https://logs.example.cloudaeye.com").apiToken(Secret.of(TOKEN)))
                .target(EksTarget.builder()
                        .cluster("prod-eks")
                        .daemonSet(AgentDaemonSet.builder()
                                .namespace(name)
                                .releaseName(name)
                                .tag("fail-on-arm64")
                                .timeout(Duration.ofSeconds(30))
                                .build())
                        .build())
                .journalDirectory(Path.of(args[2]))
                .build()) {
            ChildJvm.perform(installer, args[0], args.length > 5 ? Path.of(args[5]) : null);
        }
    }
}
