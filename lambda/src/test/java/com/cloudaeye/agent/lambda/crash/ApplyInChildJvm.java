package com.cloudaeye.agent.lambda.crash;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.Secret;
import com.cloudaeye.agent.lambda.LambdaTarget;
import com.cloudaeye.agent.testing.ChildJvm;
import com.cloudaeye.agent.testing.Moto;
import java.net.URI;
import java.nio.file.Path;
import software.amazon.awssdk.services.lambda.model.Architecture;

/**
 * Runs one installer operation in its own JVM, so a test can kill it with {@code SIGKILL} half-way and continue in a
 * fresh JVM. Arguments: {@code apply|resume|rollback ENDPOINT JOURNAL_DIR LAYER_ARN RATE [JOURNAL_FILE]}; RATE is the
 * Lambda control-plane rate the installer allows itself (low, to make the apply slow enough to kill). Prints the
 * {@link ChildJvm#printResult RESULT} line.
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
                // Stops after the kill point of ChildJvm.applyAndKill, when it started this child.
                .listener(ChildJvm.pauseAfterApplied())
                .agent(a -> a.logsEndpoint(ENDPOINT).apiToken(Secret.of(TOKEN)))
                .target(LambdaTarget.builder()
                        .functions("crash-*")
                        .layer(Architecture.X86_64, layer)
                        .build())
                .rateLimit("lambda.control-plane", rate)
                .journalDirectory(journals)
                .build()) {
            ChildJvm.perform(installer, mode, args.length > 5 ? Path.of(args[5]) : null);
        }
    }
}
