package com.cloudaeye.agent.testing;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.Journal;
import com.cloudaeye.agent.testing.ThrottlingProxy.Fault;
import com.cloudaeye.agent.testing.ThrottlingProxy.Request;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/** One seed's run. */
final class CrashRun {
    private final Path work;
    private final CrashHarness.Subject subject;
    private final double faultRate;
    private final @Nullable String killOperation;
    private final int killAt;
    private final boolean heldLands;
    private final boolean resume;
    private final long seed;

    CrashRun(long seed, Path work, CrashHarness.Subject subject) {
        Random draw = new Random(seed);
        this.seed = seed;
        this.work = work;
        this.subject = subject;
        this.faultRate = new double[] {0, 0.05, 0.15}[draw.nextInt(3)];
        List<String> points = subject.killPoints();
        this.killOperation = !points.isEmpty() && draw.nextInt(3) == 0 ? points.get(draw.nextInt(points.size())) : null;
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
                .allSatisfy((k, v) -> assertThat(v).as(k).isEqualTo(CrashHarness.BEFORE));

        KillPoint kill = new KillPoint(seed, subject, killOperation, killAt, heldLands);
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
            faults.faultEvenly(faultRate, Fault.transientKinds());
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
                    .as(
                            "the change whose %s was in flight is interrupted in %s",
                            CrashHarness.operation(held.get()), killed)
                    .contains(key);
            assertThat(output()).as("the killed child reported no result").doesNotContain("RESULT");
        }
        assertJournalMatchesLiveState(killed, CrashHarness.INSTALLED, CrashHarness.BEFORE);
        assertNoSecretOnDisk();

        String mode = resume ? "resume" : "rollback";
        List<Request> recoveryLanded;
        ChildJvm.Result result;
        try (ThrottlingProxy clean =
                ThrottlingProxy.builder().target(Moto.endpoint()).unlimited().start()) {
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
        String end = resume ? CrashHarness.INSTALLED : CrashHarness.BEFORE;
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

    /** Within one run, no resource took the same mutating call twice (a repeat with the same token is one call). */
    private void assertOncePerRun(String run, List<Request> landed) {
        Map<String, Long> counts = callsPerResource(List.of(landed));
        assertThat(counts)
                .as("mutating calls that reached the service per resource in %s", run)
                .allSatisfy((k, n) -> assertThat(n).as(k).isLessThanOrEqualTo(allowed(k, counts)));
    }

    /**
     * @param runs the requests that reached the service, per run
     * @return per "action resource", how many calls reached the service. A call sent again with the same client
     *     request token (EKS's {@code clientRequestToken}, CloudFormation's {@code ClientRequestToken}) counts once:
     *     AWS answers a repeat with the first call's result (moto does not deduplicate, so it reaches moto twice). So
     *     does a call that sets a value ({@link CrashHarness.Subject#idempotent()}) sent again with the same body in
     *     the same run, as the scheduler retries it after a lost answer; sent again by the next run, it counts twice
     */
    private Map<String, Long> callsPerResource(List<List<Request>> runs) {
        AtomicLong unique = new AtomicLong();
        return IntStream.range(0, runs.size())
                .boxed()
                .flatMap(run -> runs.get(run).stream()
                        .flatMap(r -> subject
                                .mutationKey(r)
                                .map(k -> r.action() + " " + k + "\0"
                                        + clientRequestToken(r)
                                                .or(() -> subject.idempotent().contains(r.action())
                                                        ? Optional.of(run + "=" + r.body())
                                                        : Optional.empty())
                                                .orElseGet(() -> "#" + unique.incrementAndGet()))
                                .stream()))
                .distinct()
                .map(k -> k.substring(0, k.indexOf('\0')))
                .collect(Collectors.groupingBy(k -> k, Collectors.counting()));
    }

    private static final Pattern CLIENT_REQUEST_TOKEN =
            Pattern.compile("\"clientRequestToken\"\\s*:\\s*\"([^\"]+)\"|(?:^|[?&])ClientRequestToken=([^&]+)");

    /** @return the request's client request token (JSON body or query parameter), if it has one */
    private static Optional<String> clientRequestToken(Request request) {
        Matcher m = CLIENT_REQUEST_TOKEN.matcher(request.body());
        return m.find() ? Optional.of(m.group(1) != null ? m.group(1) : m.group(2)) : Optional.empty();
    }

    /** Once, unless the call was undone in the run (then once more for each undo). */
    private long allowed(String actionAndResource, Map<String, Long> counts) {
        String action = actionAndResource.substring(0, actionAndResource.indexOf(' '));
        String resource = actionAndResource.substring(action.length());
        String undo = subject.undoneBy().get(action);
        return undo == null ? 1L : 1L + counts.getOrDefault(undo + resource, 0L);
    }

    private void assertOnceAcrossRuns(List<Request> apply, List<Request> resumed) {
        Map<String, Long> counts = callsPerResource(Stream.of(apply, resumed)
                .map(run -> run.stream()
                        .filter(r -> subject.onceAcrossRuns().contains(r.action()))
                        .toList())
                .toList());
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
}
