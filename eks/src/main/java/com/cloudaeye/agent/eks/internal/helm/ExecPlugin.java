package com.cloudaeye.agent.eks.internal.helm;

import com.cloudaeye.agent.ConfigurationException;
import com.cloudaeye.agent.PlanningException;
import com.cloudaeye.agent.spi.support.Json;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * An exec credential plugin, as client-go runs it: the command with its args and env, {@code
 * KUBERNETES_EXEC_INFO} describing a non-interactive call, the {@code ExecCredential} read from its output and
 * kept until its {@code expirationTimestamp}.
 */
final class ExecPlugin implements KubeCredentials.Authorization {
    private static final long EXEC_TIMEOUT_SECONDS = 60;

    private final Kubeconfig config;
    private final ObjectNode exec;
    private @Nullable String token;
    private @Nullable Instant expires;

    ExecPlugin(Kubeconfig config, ObjectNode exec) throws KubeCredentials.Unsupported {
        this.config = config;
        this.exec = exec;
        if ("Always".equals(exec.path("interactiveMode").asText())) {
            throw new KubeCredentials.Unsupported("exec interactiveMode Always");
        }
    }

    @Override
    public synchronized Optional<String> header() {
        Instant now = Instant.now();
        if (token == null || (expires != null && !now.isBefore(expires.minusSeconds(60)))) {
            run();
        }
        return Optional.of("Bearer " + token);
    }

    private void run() {
        String command = exec.path("command").asText("");
        String user = config.userName().orElse("");
        if (command.isEmpty()) {
            throw new ConfigurationException(
                    config.source() + ": the exec plugin of user '" + user + "' has no command.");
        }
        List<String> args = new java.util.ArrayList<>();
        args.add(command);
        exec.path("args").forEach(a -> args.add(a.asText()));
        ProcessBuilder builder = new ProcessBuilder(args).redirectError(ProcessBuilder.Redirect.DISCARD);
        exec.path("env")
                .forEach(e -> builder.environment()
                        .put(e.path("name").asText(), e.path("value").asText()));
        ObjectNode info = Json.object();
        String apiVersion = exec.path("apiVersion").asText("client.authentication.k8s.io/v1beta1");
        info.put("apiVersion", apiVersion);
        info.put("kind", "ExecCredential");
        ObjectNode spec = info.putObject("spec");
        spec.put("interactive", false);
        if (exec.path("provideClusterInfo").asBoolean(false)) {
            ObjectNode cluster = spec.putObject("cluster");
            cluster.put("server", config.server());
            if (config.cluster().hasNonNull("certificate-authority-data")) {
                cluster.put(
                        "certificate-authority-data",
                        config.cluster().path("certificate-authority-data").asText());
            }
            cluster.put(
                    "insecure-skip-tls-verify",
                    config.cluster().path("insecure-skip-tls-verify").asBoolean(false));
        }
        builder.environment().put("KUBERNETES_EXEC_INFO", info.toString());
        JsonNode credential;
        try {
            Process process = builder.start();
            process.getOutputStream().close();
            byte[] out;
            try (InputStream in = process.getInputStream()) {
                out = in.readAllBytes();
            }
            if (!process.waitFor(EXEC_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw failure(command, "did not finish within " + EXEC_TIMEOUT_SECONDS + " seconds");
            }
            if (process.exitValue() != 0) {
                throw failure(command, "exited with " + process.exitValue());
            }
            credential = Json.parse(new ByteArrayInputStream(out));
        } catch (IOException e) {
            throw failure(
                    command,
                    "could not run or printed no ExecCredential JSON ("
                            + e.getClass().getSimpleName() + ")");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw failure(command, "was interrupted");
        }
        String value = credential.path("status").path("token").asText("");
        if (value.isEmpty()) {
            throw failure(
                    command,
                    "printed an ExecCredential without status.token (client certificates from"
                            + " exec plugins are left to Helm)");
        }
        token = value;
        String expiry = credential.path("status").path("expirationTimestamp").asText("");
        expires = expiry.isEmpty() ? null : Instant.parse(expiry);
    }

    private PlanningException failure(String command, String what) {
        return new PlanningException(config.source() + ": the exec credential plugin " + command + " of user '"
                + config.userName().orElse("") + "' " + what + ": run it by hand to see why.");
    }
}
