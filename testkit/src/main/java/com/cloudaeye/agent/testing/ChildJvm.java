package com.cloudaeye.agent.testing;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.Journal;
import com.cloudaeye.agent.ProgressListener;
import com.cloudaeye.agent.ResourceResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/**
 * Runs an installer in a separate JVM for the crash-recovery tests: start it with the test class path, kill it with
 * SIGKILL once its journal records enough applied changes, or run it to the end and read its {@link Result}.
 *
 * <p>The child's {@code main} builds its installer and hands it to {@link #perform}, which runs the operation and
 * prints the one {@code RESULT} line that {@link #run} parses in the test JVM.
 */
public final class ChildJvm {
    private static final Pattern RESULT = Pattern.compile(
            "RESULT status=(\\w+) APPLIED=(\\d+) SKIPPED=(\\d+) FAILED=(\\d+) UNKNOWN=(\\d+) NOT_ATTEMPTED=(\\d+)"
                    + " journal=(.*)");

    private ChildJvm() {}

    /**
     * What a child's operation ended with, as its {@code RESULT} line said.
     *
     * @param status the overall status
     * @param applied changes applied
     * @param skipped changes skipped
     * @param failed changes failed
     * @param unknown changes that may have landed, unconfirmed
     * @param notAttempted changes not attempted
     * @param journal the operation's journal; absent when nothing needed to change
     * @param output everything the child printed, for assertion messages
     */
    public record Result(
            ApplyResult.Status status,
            int applied,
            int skipped,
            int failed,
            int unknown,
            int notAttempted,
            Optional<Path> journal,
            String output) {
        /** @return the journal, which an operation that changed something always has */
        public Path journalPath() {
            return journal.orElseThrow(() -> new AssertionError("the child wrote no journal:\n" + output));
        }
    }

    /** The variable that tells a child's {@link #pauseAfterApplied()} listener after how many changes to stop. */
    public static final String PAUSE_AFTER_APPLIED = "CLOUDAEYE_TEST_PAUSE_AFTER_APPLIED";

    /**
     * For a child's installer ({@code AgentInstallerBuilder.listener}): when {@link #applyAndKill} started the child,
     * the apply stops reporting once that many changes are applied (their journal lines are written first) and waits
     * to be killed; otherwise it does nothing. Core reports outcomes one at a time, so no further outcome is
     * reported and the apply cannot finish.
     *
     * @return the listener
     */
    public static ProgressListener pauseAfterApplied() {
        String after = System.getenv(PAUSE_AFTER_APPLIED);
        if (after == null) {
            return new ProgressListener() {};
        }
        int limit = Integer.parseInt(after);
        AtomicInteger applied = new AtomicInteger();
        return new ProgressListener() {
            @Override
            public void finished(ResourceResult result, Progress progress) {
                if (result.outcome() == ResourceResult.Outcome.APPLIED && applied.incrementAndGet() >= limit) {
                    awaitKill();
                }
            }
        };
    }

    private static void awaitKill() {
        try {
            Thread.sleep(TimeUnit.MINUTES.toMillis(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * The body of a child's {@code main}: runs one operation and prints its {@code RESULT} line.
     *
     * @param installer the child's installer
     * @param mode {@code apply} (plan, then apply), {@code resume} or {@code rollback}
     * @param journal the journal to resume or roll back; null for {@code apply}
     * @return the operation's result
     */
    public static ApplyResult perform(AgentInstaller installer, String mode, @Nullable Path journal) {
        ApplyResult result = switch (mode) {
            case "apply" -> installer.apply(installer.plan());
            case "resume" -> installer.resume(Journal.read(require(journal, mode)));
            case "rollback" -> installer.rollback(Journal.read(require(journal, mode)));
            default -> throw new IllegalArgumentException("unknown mode " + mode + ": apply, resume or rollback");
        };
        printResult(result);
        return result;
    }

    private static Path require(@Nullable Path journal, String mode) {
        if (journal == null) {
            throw new IllegalArgumentException(mode + " needs a journal file");
        }
        return journal;
    }

    /**
     * Prints the line {@code RESULT status=... APPLIED=n SKIPPED=n FAILED=n UNKNOWN=n NOT_ATTEMPTED=n journal=...} that {@link
     * #run} parses. It holds counts and a path only, never a secret.
     *
     * @param result the child's result
     */
    public static void printResult(ApplyResult result) {
        Map<ResourceResult.Outcome, Long> counts = result.results().stream()
                .collect(Collectors.groupingBy(ResourceResult::outcome, Collectors.counting()));
        StringBuilder line = new StringBuilder("RESULT status=").append(result.status());
        for (ResourceResult.Outcome o : ResourceResult.Outcome.values()) {
            line.append(' ').append(o).append('=').append(counts.getOrDefault(o, 0L));
        }
        line.append(" journal=").append(result.journal().map(Path::toString).orElse(""));
        System.out.println(line);
    }

    /**
     * A child's arguments for one mode.
     */
    @FunctionalInterface
    public interface Arguments {
        /**
         * @param mode {@code apply}, {@code resume} or {@code rollback}
         * @param journals the directory the child writes its journal to
         * @param journal the journal it resumes or rolls back; null for {@code apply}
         * @return the arguments of the child's {@code main}
         */
        List<String> of(String mode, Path journals, @Nullable Path journal);
    }

    /**
     * Starts an apply in a child and kills it with SIGKILL once its journal records {@code applied} applied changes.
     * Its journal directory and its output ({@code apply-*.log}) go into {@code work}. A child whose installer has
     * the {@link #pauseAfterApplied()} listener stops there until it is killed, so a loaded machine cannot let it
     * finish before the kill.
     *
     * @param main the class whose {@code main} runs in the child; it calls {@link #perform}
     * @param work the test's working directory
     * @param args the child's arguments
     * @param applied how many applied changes to wait for
     * @return the killed apply's journal
     * @throws Exception when it cannot start, waiting is interrupted or a file cannot be read
     */
    public static Path applyAndKill(Class<?> main, Path work, Arguments args, int applied) throws Exception {
        Path journals = Files.createDirectories(work.resolve("journals-apply-" + System.nanoTime()));
        Path log = work.resolve("apply-" + System.nanoTime() + ".log");
        Process child = start(
                main, log, args.of("apply", journals, null), Map.of(PAUSE_AFTER_APPLIED, String.valueOf(applied)));
        Path journal = killAfterApplied(child, log, journals, applied);
        assertThat(Files.readString(log))
                .as("the killed child reported no result")
                .doesNotContain("RESULT");
        return journal;
    }

    /**
     * Runs a child to success (exit status 0) and parses its {@code RESULT} line. Its journal directory and its output
     * ({@code MODE-*.log}) go into {@code work}.
     *
     * @param main the class whose {@code main} runs in the child; it calls {@link #perform}
     * @param work the test's working directory
     * @param args the child's arguments
     * @param mode {@code resume} or {@code rollback}
     * @param journal the journal to continue
     * @return the child's result
     * @throws Exception when it cannot start, waiting is interrupted or a file cannot be read
     */
    public static Result run(Class<?> main, Path work, Arguments args, String mode, Path journal) throws Exception {
        Path journals = Files.createDirectories(work.resolve("journals-" + mode + "-" + System.nanoTime()));
        Path log = work.resolve(mode + "-" + System.nanoTime() + ".log");
        return parse(awaitSuccess(start(main, log, args.of(mode, journals, journal)), log, mode), mode);
    }

    /**
     * @param work a test's working directory
     * @return the output of every child that ran in it
     * @throws IOException when a log cannot be read
     */
    public static String output(Path work) throws IOException {
        StringBuilder all = new StringBuilder();
        try (Stream<Path> files = Files.list(work)) {
            for (Path log :
                    files.filter(f -> f.toString().endsWith(".log")).sorted().toList()) {
                all.append(Files.readString(log));
            }
        }
        return all.toString();
    }

    /**
     * @param output a child's output
     * @param what what the child did, for messages
     * @return the result its {@code RESULT} line reports
     */
    public static Result parse(String output, String what) {
        Matcher m = output.lines()
                .map(RESULT::matcher)
                .filter(Matcher::matches)
                .findFirst()
                .orElseThrow(() -> new AssertionError("no RESULT line from " + what + ":\n" + output));
        return new Result(
                ApplyResult.Status.valueOf(m.group(1)),
                Integer.parseInt(m.group(2)),
                Integer.parseInt(m.group(3)),
                Integer.parseInt(m.group(4)),
                Integer.parseInt(m.group(5)),
                Integer.parseInt(m.group(6)),
                m.group(7).isBlank() ? Optional.empty() : Optional.of(Path.of(m.group(7))),
                output);
    }

    /**
     * @param main the class whose {@code main} runs in the child
     * @param log where the child's output (stdout and stderr) goes
     * @param args the child's arguments
     * @return the running child
     * @throws IOException when it cannot start
     */
    public static Process start(Class<?> main, Path log, List<String> args) throws IOException {
        return start(main, log, args, Map.of());
    }

    /**
     * @param main the class whose {@code main} runs in the child
     * @param log where the child's output (stdout and stderr) goes
     * @param args the child's arguments
     * @param environment variables to set in the child, on top of this JVM's environment
     * @return the running child
     * @throws IOException when it cannot start
     */
    public static Process start(Class<?> main, Path log, List<String> args, Map<String, String> environment)
            throws IOException {
        // A killed child runs no shutdown hook, so what it extracted to its temp directory (helm-java's 90 MB native
        // library) would stay in /tmp for good: each child gets its own, deleted once the child has ended.
        Path tmp = Files.createTempDirectory("cloudaeye-child-");
        Process child;
        try {
            child = launch(main, log, args, environment, tmp);
        } catch (IOException e) {
            deleteTree(tmp);
            throw e;
        }
        var unused = child.onExit().thenRun(() -> deleteTree(tmp)); // deleteTree reports its own failure
        return child;
    }

    /**
     * Starts a child whose {@code java.io.tmpdir} is the caller's directory, kept after the child ends: for tests
     * that check what a killed child left there (a later child given the same directory finds it too).
     *
     * @param main the class whose {@code main} runs in the child
     * @param log where the child's output (stdout and stderr) goes
     * @param args the child's arguments
     * @param tmpdir the child's temp directory; the caller deletes it
     * @return the running child
     * @throws IOException when it cannot start
     */
    public static Process startInTempDirectory(Class<?> main, Path log, List<String> args, Path tmpdir)
            throws IOException {
        return launch(main, log, args, Map.of(), Files.createDirectories(tmpdir));
    }

    private static Process launch(
            Class<?> main, Path log, List<String> args, Map<String, String> environment, Path tmpdir)
            throws IOException {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                classPath(),
                "-Djava.io.tmpdir=" + tmpdir,
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                main.getName()));
        command.addAll(args);
        ProcessBuilder builder =
                new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().putAll(environment);
        return builder.start();
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(f);
            }
        } catch (IOException e) {
            System.err.println("could not delete a child JVM's temp directory " + dir + ": " + e);
        }
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
