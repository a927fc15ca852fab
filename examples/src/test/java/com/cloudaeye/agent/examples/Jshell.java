package com.cloudaeye.agent.examples;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
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

    /**
     * How jshell runs the snippets: in its own JVM (the README's command) or in its default second JVM, which it
     * starts and drives over a debugger connection.
     */
    enum Execution {
        /**
         * {@code --no-startup --execution local}, as the README documents it: 1.3-2.1 s less start-up per script than
         * the default (docs/BENCHMARKS.md).
         */
        LOCAL,
        /** jshell's default, which the scripts support too. */
        REMOTE
    }

    /** Runs one script from {@code examples/jshell} in {@code work} with the README's command (local execution). */
    static Run run(Path work, Map<String, String> env, String script) {
        return run(work, env, script, Execution.LOCAL);
    }

    /** Runs one script from {@code examples/jshell} in {@code work}, with only {@code env} set of the AWS and CloudAEye variables. */
    static Run run(Path work, Map<String, String> env, String script, Execution execution) {
        // The README's commands. C1 only (TieredStopAtLevel=1) speeds up jshell's start-up, and these scripts run no
        // hot loops. -J flags reach jshell's own JVM, -R flags the remote one. Under local execution jshell's own JVM
        // runs the snippets and needs the jar on its class path too: with --class-path alone the scripts compile but
        // the jar's classes fail to load (NoClassDefFoundError, JDK 17). It also resolves only the JDK modules jshell
        // needs: ALL-DEFAULT adds those a java -cp run has (fleet.jsh's S3 client needs jdk.net).
        List<String> command = new ArrayList<>(List.of(JSHELL.toString()));
        if (execution == Execution.LOCAL) {
            command.addAll(List.of(
                    "--no-startup", // the scripts import what they use, so jshell's ten startup imports are not needed
                    "--execution",
                    "local",
                    "-J-XX:TieredStopAtLevel=1",
                    "-J--add-modules=ALL-DEFAULT",
                    "-J--class-path=" + JAR));
        } else {
            command.addAll(List.of("-J-XX:TieredStopAtLevel=1", "-R-XX:TieredStopAtLevel=1"));
        }
        String jvm = execution == Execution.LOCAL ? "-J" : "-R";
        command.addAll(List.of(
                "--class-path",
                JAR.toString(),
                jvm + "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                SCRIPTS.resolve(script).toString()));
        return execute(command, work, env, script);
    }

    /**
     * Runs {@code examples/jshell/cloudaeye-jshell} with {@code args} in {@code work}, with only {@code env} set of
     * the AWS and CloudAEye variables, and this JDK as {@code JAVA_HOME} (so it runs this JDK's jshell).
     */
    static Run launcher(Path work, Map<String, String> env, String... args) {
        List<String> command =
                new ArrayList<>(List.of(SCRIPTS.resolve("cloudaeye-jshell").toString()));
        command.addAll(List.of(args));
        Map<String, String> withJdk = new HashMap<>(env);
        withJdk.put("JAVA_HOME", System.getProperty("java.home"));
        return execute(command, work, withJdk, "cloudaeye-jshell");
    }

    private static Run execute(List<String> command, Path work, Map<String, String> env, String name) {
        ProcessBuilder builder =
                new ProcessBuilder(command).directory(work.toFile()).redirectErrorStream(true);
        Map<String, String> environment = builder.environment();
        environment.keySet().removeIf(k -> k.startsWith("AWS_") || k.startsWith("CLOUDAEYE_"));
        environment.putAll(env);
        try {
            Process process = builder.start();
            process.getOutputStream().close(); // no interactive input: a script without /exit would end here
            CompletableFuture<String> output = CompletableFuture.supplyAsync(() -> read(process.getInputStream()));
            if (!process.waitFor(2, TimeUnit.MINUTES)) {
                process.destroyForcibly();
                throw new AssertionError(name + " did not finish in 2 minutes");
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
