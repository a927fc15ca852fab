package com.cloudaeye.agent.testing;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.Journal;
import com.cloudaeye.agent.testing.ThrottlingProxy.Fault;
import com.cloudaeye.agent.testing.ThrottlingProxy.Request;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/**
 * The randomized crash test every target shares. For one seed it runs an apply in a child JVM behind a {@link
 * ThrottlingProxy} that injects the seed's faults, holds the mutating request the seed picks (the k-th one, or the
 * first of an operation the target names, such as {@code CreateAccessKey}), kills the child with SIGKILL while that
 * request waits, then lets the request reach the service or drops it (the seed decides: the kill came after or before
 * the request left), and continues in a fresh JVM: resume or rollback, again by the seed, through a proxy without
 * faults. It checks the invariants:
 *
 * <ul>
 *   <li>in each run, each resource took each mutating call at most once (the requests that reached the service);
 *       across the killed apply and its resume, the target's create-once calls landed at most once in all;
 *   <li>the killed run's journal matches the live state: applied is installed, never started or failed is untouched,
 *       and the change whose mutation was in flight is interrupted (started, no outcome; an interrupted or unknown change
 *       may be anywhere between);
 *   <li>the end state is the plan's (resume) or the state before (rollback), for every resource;
 *   <li>no secret (the API token, an access key's secret) is in any file of the test's directory: journals and the
 *       children's output.
 * </ul>
 *
 * <p>A failure prints the seed and the command that runs it alone ({@link Seeds#run}).
 */
public final class CrashHarness {
    /** A subject's state of a resource that is as it was before the install. */
    public static final String BEFORE = "before";
    /** A subject's state of a resource that is as the install plans it. */
    public static final String INSTALLED = "installed";

    private CrashHarness() {}

    /** What a target's crash test supplies. */
    public interface Subject {
        /** @return the class whose {@code main} runs one operation and calls {@link ChildJvm#perform} */
        Class<?> child();

        /**
         * @param mode {@code apply}, {@code resume} or {@code rollback}
         * @param endpoint the proxy the child talks to
         * @param journals the directory the child writes its journal to
         * @param journal the journal it resumes or rolls back; null for {@code apply}
         * @return the child's arguments
         */
        List<String> args(String mode, URI endpoint, Path journals, @Nullable Path journal);

        /**
         * The live state of every resource the test follows, read directly from moto, keyed like {@link
         * #changeKey}: {@link #BEFORE}, {@link #INSTALLED}, or anything else (which fails the test) naming what is
         * there instead.
         *
         * @param work the test's directory, with the children's output
         * @return the state per resource
         * @throws Exception when it cannot be read
         */
        Map<String, String> state(Path work) throws Exception;

        /**
         * @param request a request that reached the service
         * @return the key of the resource a mutating request changes (as {@link #changeKey} names it); empty for a
         *     read
         */
        default Optional<String> mutationKey(Request request) {
            return isMutating(request)
                    ? Optional.of(new CallResources(Moto.REGION.id(), Moto.ACCOUNT)
                            .of(request)
                            .get(0)
                            .resource())
                    : Optional.empty();
        }

        /**
         * @param change a planned change
         * @return the key of its resource
         */
        default String changeKey(Change change) {
            return change.resourceId();
        }

        /** @return how many mutating requests a full apply sends: the kill point is drawn among them */
        int mutations();

        /** @return operations that get a kill point of their own for a third of the seeds, e.g. CreateAccessKey */
        default List<String> killPoints() {
            return List.of();
        }

        /** @return actions that land at most once per resource across the killed apply and its resume */
        Set<String> onceAcrossRuns();

        /**
         * @param work the test's directory
         * @return values that must never be written to disk: the API token, access keys' secrets
         * @throws Exception when they cannot be read
         */
        List<String> secrets(Path work) throws Exception;
    }

    /**
     * @param request a request
     * @return true unless its operation reads (Describe, List, Get, Head)
     */
    public static boolean isMutating(Request request) {
        String op = operation(request);
        return !(op.startsWith("Describe") || op.startsWith("List") || op.startsWith("Get") || op.startsWith("Head"));
    }

    private static String operation(Request request) {
        return request.action().substring(request.action().indexOf(':') + 1);
    }

    /**
     * Runs one seed.
     *
     * @param seed the seed
     * @param module the module of the test, e.g. {@code ecs}
     * @param suite the test's class name
     * @param work a fresh directory for the journals and the children's output
     * @param subject the target's side
     * @throws Exception the failure, with the seed and the command that reproduces it
     */
    public static void run(long seed, String module, String suite, Path work, Subject subject) throws Exception {
        Seeds.run(seed, module, suite, () -> new Run(seed, work, subject).run());
    }

    /** One seed's run. */
    private static final class Run {
        private final Path work;
        private final Subject subject;
        private final double faultRate;
        private final @Nullable String killOperation;
        private final int killAt;
        private final boolean heldLands;
        private final boolean resume;
        private final long seed;

        Run(long seed, Path work, Subject subject) {
            Random draw = new Random(seed);
            this.seed = seed;
            this.work = work;
            this.subject = subject;
            this.faultRate = new double[] {0, 0.05, 0.15}[draw.nextInt(3)];
            List<String> points = subject.killPoints();
            this.killOperation =
                    !points.isEmpty() && draw.nextInt(3) == 0 ? points.get(draw.nextInt(points.size())) : null;
            this.killAt = killOperation != null ? 1 : 1 + draw.nextInt(subject.mutations());
            this.heldLands = draw.nextBoolean();
            this.resume = draw.nextBoolean();
        }

        void run() throws Exception {
            System.out.printf(
                    "Crash seed %d: %.0f %% faults; kill at the %s; the held request %s; then %s%n",
                    seed,
                    faultRate * 100,
                    killOperation != null ? "first " + killOperation : "mutating request #" + killAt,
                    heldLands ? "lands" : "is dropped",
                    resume ? "resume" : "rollback");
            assertThat(subject.state(work))
                    .as("the fixture's state")
                    .allSatisfy((k, v) -> assertThat(v).as(k).isEqualTo(BEFORE));

            KillPoint kill = new KillPoint();
            List<Request> applyLanded;
            Optional<Request> held;
            Path journals = Files.createDirectories(work.resolve("journals-apply"));
            ThrottlingProxy.Builder faults = ThrottlingProxy.builder()
                    .target(Moto.endpoint())
                    .unlimited()
                    .latency(Duration.ofMillis(5))
                    .slowResponse(Duration.ofMillis(300))
                    .seed(seed)
                    .gate(kill);
            if (faultRate > 0) {
                faults.faultEvenly(faultRate, Fault.values());
            }
            try (ThrottlingProxy proxy = faults.start()) {
                Path log = work.resolve("apply.log");
                Process child =
                        ChildJvm.start(subject.child(), log, subject.args("apply", proxy.endpoint(), journals, null));
                held = kill.await(child, log);
                proxy.awaitIdle();
                applyLanded = proxy.landedRequests();
                System.out.println("Crash seed " + seed + ": the apply's proxy: " + proxy + " " + proxy.faults());
            }
            Optional<Path> written;
            try (Stream<Path> files = Files.list(journals)) {
                written = files.findFirst();
            }
            assertThat(written).as("the apply's journal:\n" + output()).isPresent();
            Path journalFile = written.orElseThrow();
            Journal killed = Journal.read(journalFile);
            assertOncePerRun("the killed apply", applyLanded);
            if (held.isPresent()) {
                String key = subject.mutationKey(held.get())
                        .orElseThrow(() -> new AssertionError("no resource for the held request " + held.get()));
                assertThat(killed.interrupted().stream().map(subject::changeKey))
                        .as("the change whose %s was in flight is interrupted in %s", operation(held.get()), killed)
                        .contains(key);
                assertThat(output()).as("the killed child reported no result").doesNotContain("RESULT");
            }
            assertJournalMatchesLiveState(killed, INSTALLED, BEFORE);
            assertNoSecretOnDisk();

            String mode = resume ? "resume" : "rollback";
            List<Request> recoveryLanded;
            ChildJvm.Result result;
            try (ThrottlingProxy clean = ThrottlingProxy.builder()
                    .target(Moto.endpoint())
                    .unlimited()
                    .start()) {
                Path dir = Files.createDirectories(work.resolve("journals-" + mode));
                Path log = work.resolve(mode + ".log");
                Process child =
                        ChildJvm.start(subject.child(), log, subject.args(mode, clean.endpoint(), dir, journalFile));
                result = ChildJvm.parse(ChildJvm.awaitSuccess(child, log, mode), mode);
                recoveryLanded = clean.landedRequests();
            }
            assertThat(result.status())
                    .as("%s status, killed journal:\n%s\n%s", mode, Files.readString(journalFile), result.output())
                    .isIn(ApplyResult.Status.SUCCEEDED, ApplyResult.Status.NOTHING_TO_DO);
            assertThat(result.failed() + result.unknown())
                    .as("failed or unknown in the %s:\n%s", mode, result.output())
                    .isZero();
            assertOncePerRun("the " + mode, recoveryLanded);
            if (resume) {
                assertOnceAcrossRuns(applyLanded, recoveryLanded);
            }
            String end = resume ? INSTALLED : BEFORE;
            assertThat(subject.state(work))
                    .as("after the %s; killed journal:\n%s", mode, Files.readString(journalFile))
                    .allSatisfy((k, v) -> assertThat(v).as(k).isEqualTo(end));
            if (result.journal().isPresent()) {
                Journal recovered = Journal.read(result.journal().get());
                assertThat(recovered.interrupted())
                        .as("interrupted in the %s", mode)
                        .isEmpty();
            }
            assertNoSecretOnDisk();
        }

        /** Within one run, no resource took the same mutating call twice. */
        private void assertOncePerRun(String run, List<Request> landed) {
            Map<String, Long> counts = landed.stream()
                    .flatMap(r -> subject.mutationKey(r).map(k -> r.action() + " " + k).stream())
                    .collect(Collectors.groupingBy(k -> k, Collectors.counting()));
            assertThat(counts)
                    .as("mutating calls that reached the service per resource in %s", run)
                    .allSatisfy((k, n) -> assertThat(n).as(k).isEqualTo(1L));
        }

        private void assertOnceAcrossRuns(List<Request> apply, List<Request> resumed) {
            Map<String, Long> counts = Stream.concat(apply.stream(), resumed.stream())
                    .filter(r -> subject.onceAcrossRuns().contains(r.action()))
                    .flatMap(r -> subject.mutationKey(r).map(k -> r.action() + " " + k).stream())
                    .collect(Collectors.groupingBy(k -> k, Collectors.counting()));
            assertThat(counts)
                    .as("create-once calls across the killed apply and its resume")
                    .allSatisfy((k, n) -> assertThat(n).as(k).isEqualTo(1L));
        }

        /** Applied changes are {@code ifApplied}; never started, failed or skipped ones are {@code ifNot}. */
        private void assertJournalMatchesLiveState(Journal journal, String ifApplied, String ifNot) throws Exception {
            Map<String, String> live = subject.state(work);
            for (Change change : journal.plan().mutations()) {
                String key = subject.changeKey(change);
                String now = live.get(key);
                if (now == null) {
                    continue; // a resource the subject does not follow (e.g. an ECS revision, which rollback keeps)
                }
                Optional<Journal.Entry> last = journal.last(change);
                Journal.Event event = last.map(Journal.Entry::event).orElse(null);
                // An interrupted or unknown change may be anywhere between (a change of several calls, a key whose
                // answer was lost): the end state after the resume or rollback is what counts for it.
                if (event != Journal.Event.STARTING && event != Journal.Event.UNKNOWN) {
                    assertThat(now)
                            .as(key + " journaled " + (event == null ? "not started" : event))
                            .isEqualTo(event == Journal.Event.APPLIED ? ifApplied : ifNot);
                }
            }
        }

        private void assertNoSecretOnDisk() throws Exception {
            List<String> secrets = subject.secrets(work);
            assertThat(secrets).as("the subject names its secrets").isNotEmpty();
            try (Stream<Path> files = Files.walk(work)) {
                for (Path f : files.filter(Files::isRegularFile).toList()) {
                    String text = Files.readString(f);
                    for (String secret : secrets) {
                        assertThat(text.contains(secret))
                                .as("a secret is in " + work.relativize(f))
                                .isFalse();
                    }
                }
            }
        }

        private String output() throws IOException {
            return ChildJvm.output(work);
        }

        /** Holds the seed's request, lets the test kill the child, then lets that request through or drops it. */
        private final class KillPoint implements ThrottlingProxy.Gate {
            private final AtomicInteger seen = new AtomicInteger();
            private final CompletableFuture<Request> reached = new CompletableFuture<>();
            private final CountDownLatch released = new CountDownLatch(1);

            @Override
            public boolean pass(Request request) throws InterruptedException {
                if (!reached.isDone() && matches(request) && seen.incrementAndGet() == killAt) {
                    reached.complete(request);
                    released.await();
                    return heldLands;
                }
                if (reached.isDone()) {
                    released.await();
                    return false; // sent after the held one: the kill came first
                }
                return true;
            }

            private boolean matches(Request request) {
                return killOperation != null
                        ? operation(request).equals(killOperation)
                        : isMutating(request) && subject.mutationKey(request).isPresent();
            }

            /** @return the held request, after the child was killed; empty when the child finished first */
            Optional<Request> await(Process child, Path log) throws Exception {
                try {
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
                    while (!reached.isDone()) {
                        if (!child.isAlive()) {
                            System.out.println("Crash seed " + seed + ": the apply finished before the kill point");
                            assertThat(child.exitValue())
                                    .as("the apply's exit code:\n" + Files.readString(log))
                                    .isZero();
                            return Optional.empty();
                        }
                        assertThat(System.nanoTime())
                                .as("the kill point within 3 minutes")
                                .isLessThan(deadline);
                        Thread.sleep(10);
                    }
                    child.destroyForcibly();
                    assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
                    Request r = reached.get();
                    System.out.println("Crash seed " + seed + ": killed while " + r.action() + " " + r.path()
                            + " waited; it " + (heldLands ? "lands" : "is dropped"));
                    return Optional.of(r);
                } finally {
                    child.destroyForcibly();
                    released.countDown();
                }
            }
        }
    }
}
