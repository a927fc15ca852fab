package com.cloudaeye.agent.ecs.crash;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.Journal;
import com.cloudaeye.agent.ResourceResult;
import com.cloudaeye.agent.Secret;
import com.cloudaeye.agent.ecs.EcsTarget;
import com.cloudaeye.agent.testing.Moto;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Runs one ECS installer operation in its own JVM, so a test can kill it with {@code SIGKILL} half-way and continue in
 * a fresh JVM. Arguments: {@code apply|resume|rollback ENDPOINT JOURNAL_DIR CLUSTER ROUTER_IMAGE RATE [JOURNAL_FILE]};
 * RATE is the {@code UpdateService} and {@code RegisterTaskDefinition} rate the installer allows itself (low, to make
 * the apply slow enough to kill). Prints one line
 * {@code RESULT status=... APPLIED=n SKIPPED=n FAILED=n NOT_ATTEMPTED=n journal=...}.
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
            ApplyResult result = switch (mode) {
                case "apply" -> installer.apply(installer.plan());
                case "resume" -> installer.resume(Journal.read(Path.of(args[6])));
                case "rollback" -> installer.rollback(Journal.read(Path.of(args[6])));
                default -> throw new IllegalArgumentException("unknown mode " + mode);
            };
            Map<ResourceResult.Outcome, Long> counts = result.results().stream()
                    .collect(Collectors.groupingBy(ResourceResult::outcome, Collectors.counting()));
            StringBuilder line = new StringBuilder("RESULT status=").append(result.status());
            for (ResourceResult.Outcome o : ResourceResult.Outcome.values()) {
                line.append(' ').append(o).append('=').append(counts.getOrDefault(o, 0L));
            }
            line.append(" journal=").append(result.journal().map(Path::toString).orElse(""));
            System.out.println(line);
        }
    }
}
