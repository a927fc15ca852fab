package com.cloudaeye.agent.lambda.crash;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.Journal;
import com.cloudaeye.agent.ResourceResult;
import com.cloudaeye.agent.Secret;
import com.cloudaeye.agent.lambda.LambdaTarget;
import com.cloudaeye.agent.testing.Moto;
import java.net.URI;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Collectors;
import software.amazon.awssdk.services.lambda.model.Architecture;

/**
 * Runs one installer operation in its own JVM, so a test can kill it with {@code SIGKILL} half-way and continue in a
 * fresh JVM. Arguments: {@code apply|resume|rollback ENDPOINT JOURNAL_DIR LAYER_ARN RATE [JOURNAL_FILE]}; RATE is the
 * Lambda control-plane rate the installer allows itself (low, to make the apply slow enough to kill). Prints one line
 * {@code RESULT status=... APPLIED=n SKIPPED=n FAILED=n NOT_ATTEMPTED=n journal=...}.
 */
public final class ApplyInChildJvm {
    /** The API token the child installs (a test value). */
    public static final String TOKEN = "cae-crash-token-0a1b2c";
    /** The logs endpoint the child installs. */
    public static final String ENDPOINT = "https://logs.example.cloudaeye.com";

    private ApplyInChildJvm() {}

    /**
     * @param args see the class comment
     */
    public static void main(String[] args) {
        String mode = args[0];
        URI endpoint = URI.create(args[1]);
        Path journals = Path.of(args[2]);
        String layer = args[3];
        double rate = Double.parseDouble(args[4]);
        try (AgentInstaller installer = AgentInstaller.builder()
                .region(Moto.REGION)
                .endpointOverride(endpoint)
                .credentialsProvider(Moto.credentials())
                .agent(a -> a.logsEndpoint(ENDPOINT).apiToken(Secret.of(TOKEN)))
                .target(LambdaTarget.builder()
                        .functions("crash-*")
                        .layer(Architecture.X86_64, layer)
                        .build())
                .rateLimit("lambda.control-plane", rate)
                .journalDirectory(journals)
                .build()) {
            ApplyResult result = switch (mode) {
                case "apply" -> installer.apply(installer.plan());
                case "resume" -> installer.resume(Journal.read(Path.of(args[5])));
                case "rollback" -> installer.rollback(Journal.read(Path.of(args[5])));
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
