package com.cloudaeye.agent.ecs.crash;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.Secret;
import com.cloudaeye.agent.ecs.EcsTarget;
import com.cloudaeye.agent.testing.ChildJvm;
import com.cloudaeye.agent.testing.Moto;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Runs one ECS installer operation in its own JVM, so a test can kill it with {@code SIGKILL} half-way and continue in
 * a fresh JVM. Arguments: {@code apply|resume|rollback ENDPOINT JOURNAL_DIR CLUSTER ROUTER_IMAGE RATE [JOURNAL_FILE]};
 * RATE is the {@code UpdateService} and {@code RegisterTaskDefinition} rate the installer allows itself (low, to make
 * the apply slow enough to kill). Prints the {@link ChildJvm#printResult RESULT} line.
 */
public final class EcsApplyInChildJvm {
    /** The API token the child installs (a test value). */
    public static final String TOKEN = "cae-ecs-crash-token-9f8e7d";
    /** The logs endpoint the child installs. */
    public static final String ENDPOINT = "https://logs.example.cloudaeye.com";

    private EcsApplyInChildJvm() {}

    /**
     * @param args see the class comment
     */
    public static void main(String[] args) {
        String mode = args[0];
        URI endpoint = URI.create(args[1]);
        Path journals = Path.of(args[2]);
        String cluster = args[3];
        String image = args[4];
        double rate = Double.parseDouble(args[5]);
        try (AgentInstaller installer = AgentInstaller.builder()
                .region(Moto.REGION)
                .endpointOverride(endpoint)
                .credentialsProvider(Moto.credentials())
                // Stops after the kill point of ChildJvm.applyAndKill, when it started this child.
                .listener(ChildJvm.pauseAfterApplied())
                .agent(a -> a.logsEndpoint(ENDPOINT).apiToken(Secret.of(TOKEN)))
                .target(EcsTarget.builder()
                        .cluster(cluster)
                        .services("*")
                        .sidecar(s -> s.image(image))
                        .updateServices(true)
                        .waitForStable(Duration.ofSeconds(10), Duration.ofMillis(20))
                        .build())
                .rateLimit("ecs.service-modify", rate)
                .rateLimit("ecs.task-definition-modify", rate)
                .journalDirectory(journals)
                .build()) {
            ChildJvm.perform(installer, mode, args.length > 6 ? Path.of(args[6]) : null);
        }
    }
}
