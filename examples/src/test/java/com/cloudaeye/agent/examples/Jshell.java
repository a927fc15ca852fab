package com.cloudaeye.agent.examples;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Runs the operators' jshell scripts as they would: the real {@code jshell} of this JDK, the shaded jar on its class path. */
final class Jshell {
    /** The shaded jar (made by the package phase). */
    static final Path JAR = Path.of("target", "cloudaeye-agent-all.jar").toAbsolutePath();

    private static final Path SCRIPTS = Path.of("jshell").toAbsolutePath();
    private static final Path JSHELL = Path.of(System.getProperty("java.home"), "bin", "jshell");

    /** What one script run printed (standard output and error together) and its exit status. */
    record Run(int exitStatus, String output) {}

    private Jshell() {}

    /** Runs one script from {@code examples/jshell} in {@code work}, with only {@code env} set of the AWS and CloudAEye variables. */
    static Run run(Path work, Map<String, String> env, String script) {
        ProcessBuilder builder = new ProcessBuilder(
                        JSHELL.toString(),
                        // C1 only: halves jshell's start-up, and these scripts run no hot loops.
                        "-J-XX:TieredStopAtLevel=1",
                        "-R-XX:TieredStopAtLevel=1",
                        "--class-path",
                        JAR.toString(),
                        "-R-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                        SCRIPTS.resolve(script).toString())
                .directory(work.toFile())
                .redirectErrorStream(true);
        Map<String, String> environment = builder.environment();
        environment.keySet().removeIf(k -> k.startsWith("AWS_") || k.startsWith("CLOUDAEYE_"));
        environment.putAll(env);
        try {
            Process process = builder.start();
            process.getOutputStream().close(); // no interactive input: a script without /exit would end here
            CompletableFuture<String> output = CompletableFuture.supplyAsync(() -> read(process.getInputStream()));
            if (!process.waitFor(2, TimeUnit.MINUTES)) {
                process.destroyForcibly();
                throw new AssertionError(script + " did not finish in 2 minutes");
            }
            return new Run(process.exitValue(), output.join());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    private static String read(InputStream in) {
        try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
