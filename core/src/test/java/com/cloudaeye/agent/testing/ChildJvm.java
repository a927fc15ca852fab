package com.cloudaeye.agent.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Runs an installer in a separate JVM for the crash-recovery tests: start it with the test class path, kill it with
 * SIGKILL once its journal records enough applied changes, or wait for it to succeed.
 */
public final class ChildJvm {
    private ChildJvm() {}

    /**
     * @param main the class whose {@code main} runs in the child
     * @param log where the child's output (stdout and stderr) goes
     * @param args the child's arguments
     * @return the running child
     * @throws IOException when it cannot start
     */
    public static Process start(Class<?> main, Path log, List<String> args) throws IOException {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                classPath(),
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                main.getName()));
        command.addAll(args);
        return new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
    }

    /**
     * Waits until the journals in a directory record {@code applied} applied changes, then kills the child with
     * SIGKILL (no shutdown hooks, no finally blocks).
     *
     * @param child the child, writing its journal into {@code journals}
     * @param log the child's output, shown when it ends too early
     * @param journals the child's journal directory
     * @param applied how many APPLIED lines to wait for
     * @return the killed apply's journal file
     * @throws Exception when waiting is interrupted or a file cannot be read
     */
    public static Path killAfterApplied(Process child, Path log, Path journals, int applied) throws Exception {
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (appliedLines(journals) < applied) {
                assertThat(child.isAlive())
                        .as("the child ended before it could be killed:\n" + Files.readString(log))
                        .isTrue();
                assertThat(System.nanoTime()).as("no journal progress").isLessThan(deadline);
                Thread.sleep(20);
            }
            child.destroyForcibly();
            assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
        } finally {
            child.destroyForcibly();
        }
        try (Stream<Path> files = Files.list(journals)) {
            return files.findFirst().orElseThrow();
        }
    }

    /**
     * @param child the child
     * @param log its output
     * @param what what it does, for messages
     * @return its output, after it exited with status 0 within three minutes
     * @throws Exception when waiting is interrupted or the log cannot be read
     */
    public static String awaitSuccess(Process child, Path log, String what) throws Exception {
        try {
            assertThat(child.waitFor(180, TimeUnit.SECONDS))
                    .as(what + " finished")
                    .isTrue();
        } finally {
            child.destroyForcibly();
        }
        String out = Files.readString(log);
        assertThat(child.exitValue()).as(what + " exit code, output:\n" + out).isZero();
        return out;
    }

    /** The test class path: failsafe's own property when it runs tests from a manifest-only jar. */
    private static String classPath() {
        String surefire = System.getProperty("surefire.test.class.path");
        return surefire != null && !surefire.isBlank() ? surefire : System.getProperty("java.class.path");
    }

    private static long appliedLines(Path journals) throws IOException {
        try (Stream<Path> files = Files.list(journals)) {
            long n = 0;
            for (Path f : files.toList()) {
                n += Files.readAllLines(f).stream()
                        .filter(l -> l.contains("\"event\":\"APPLIED\""))
                        .count();
            }
            return n;
        }
    }
}
