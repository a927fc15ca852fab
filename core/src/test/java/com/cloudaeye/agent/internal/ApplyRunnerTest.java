package com.cloudaeye.agent.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.AgentInstallerBuilder;
import com.cloudaeye.agent.ApplyException;
import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.ApplyResult.Status;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.Journal;
import com.cloudaeye.agent.JournalStore;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.ProgressListener;
import com.cloudaeye.agent.ResourceResult;
import com.cloudaeye.agent.ResourceResult.Outcome;
import com.cloudaeye.agent.spi.support.Json;
import com.cloudaeye.agent.testing.FakeTarget;
import com.cloudaeye.agent.testing.FakeTarget.Behaviour;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;

/** The apply machinery (ApplyRunner through AgentInstaller.apply) with a fake target and no AWS. */
class ApplyRunnerTest {
    @TempDir
    Path journals;

    private AgentInstallerBuilder installer(FakeTarget... targets) {
        AgentInstallerBuilder b = AgentInstaller.builder()
                .region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("AKID", "SECRET")))
                .journalDirectory(journals);
        for (FakeTarget t : targets) {
            b.target(t);
        }
        return b;
    }

    /** @return a target of two resources, a1 and a2, that behave so */
    private static FakeTarget fake(Behaviour a1, Behaviour a2) {
        return new FakeTarget("fake", null).resource("a1", a1).resource("a2", a2);
    }

    /**
     * @param installer the installer to build, apply its plan with, and close
     * @return the apply's journal
     */
    private static Path appliedJournal(AgentInstallerBuilder installer) {
        try (AgentInstaller built = installer.build()) {
            return built.apply(built.plan()).journal().orElseThrow();
        }
    }

    private static List<Outcome> outcomes(ApplyResult result) {
        return result.results().stream().map(ResourceResult::outcome).toList();
    }

    @Test
    void everyChangeApplied_isSucceeded_inPlanOrder() {
        FakeTarget fake =
                new FakeTarget("fake", journals).resource("a1", Behaviour.APPLY).resource("a2", Behaviour.APPLY);
        try (AgentInstaller installer = installer(fake).build()) {
            ApplyResult result = installer.apply(installer.plan());

            assertThat(result.status()).isEqualTo(Status.SUCCEEDED);
            assertThat(result.isSuccess()).isTrue();
            assertThat(result.results())
                    .extracting(r -> r.change().resourceId())
                    .containsExactly(FakeTarget.arn("a1"), FakeTarget.arn("a2"));
            assertThat(outcomes(result)).containsOnly(Outcome.APPLIED);
            assertThat(result.withOutcome(Outcome.APPLIED)).hasSize(2);
            assertThat(result.journal()).isPresent();
        }
    }

    @Test
    void journal_isWrittenBeforeAndAfterEachMutation() {
        FakeTarget fake =
                new FakeTarget("fake", journals).resource("a1", Behaviour.APPLY).resource("a2", Behaviour.APPLY);
        try (AgentInstaller installer = installer(fake).build()) {
            ApplyResult result = installer.apply(installer.plan());

            assertThat(fake.log())
                    .containsExactly(
                            "journal STARTING a1",
                            "mutate a1",
                            "journal APPLIED a1",
                            "journal STARTING a2",
                            "mutate a2",
                            "journal APPLIED a2");
            Journal journal = Journal.read(result.journal().orElseThrow());
            assertThat(journal.applied()).hasSize(2);
            assertThat(journal.unfinished()).isEmpty();
            assertThat(journal.appliedState(journal.applied().get(0)))
                    .hasValueSatisfying(
                            s -> assertThat(s.path("after").asText()).isEqualTo("a1"));
        }
    }

    @Test
    void oneFailure_doesNotStopTheOthers_andTheStatusIsPartial() {
        FakeTarget fake = new FakeTarget("fake", null)
                .resource("a1", Behaviour.APPLY)
                .resource("a2", Behaviour.FAIL)
                .resource("a3", Behaviour.APPLY);
        try (AgentInstaller installer = installer(fake).build()) {
            ApplyResult result = installer.apply(installer.plan());

            assertThat(outcomes(result)).containsExactly(Outcome.APPLIED, Outcome.FAILED, Outcome.APPLIED);
            assertThat(result.status()).isEqualTo(Status.PARTIAL);
            assertThat(result.isSuccess()).isFalse();
            assertThat(result.results().get(1).message()).hasValue("AccessDenied on " + FakeTarget.arn("a2"));
            assertThat(result.toString())
                    .startsWith("Apply partial")
                    .contains("2 applied, 0 skipped, 1 failed, 0 unknown, 0 not attempted")
                    .contains("failed " + FakeTarget.arn("a2"));
        }
    }

    @Test
    void noChangeApplied_isFailed() {
        FakeTarget fake = fake(Behaviour.FAIL, Behaviour.SKIP);
        try (AgentInstaller installer = installer(fake).build()) {
            ApplyResult result = installer.apply(installer.plan());

            assertThat(outcomes(result)).containsExactly(Outcome.FAILED, Outcome.SKIPPED);
            assertThat(result.status()).isEqualTo(Status.FAILED);
        }
    }

    @Test
    void aChangeTheTargetNeverReported_isNotAttempted() {
        FakeTarget fake = fake(Behaviour.APPLY, Behaviour.SILENT);
        try (AgentInstaller installer = installer(fake).build()) {
            ApplyResult result = installer.apply(installer.plan());

            assertThat(outcomes(result)).containsExactly(Outcome.APPLIED, Outcome.NOT_ATTEMPTED);
            assertThat(result.results().get(1).message()).hasValue("the apply stopped first");
            assertThat(result.status()).isEqualTo(Status.PARTIAL);
        }
    }

    @Test
    void maxFailures_stopsStartingNewChanges_inThisAndLaterTargets() {
        FakeTarget first =
                new FakeTarget("first", null).resource("a1", Behaviour.FAIL).resource("a2", Behaviour.APPLY);
        FakeTarget second = new FakeTarget("second", null).resource("b1", Behaviour.APPLY);
        try (AgentInstaller installer = installer(first, second).maxFailures(1).build()) {
            ApplyResult result = installer.apply(installer.plan());

            assertThat(outcomes(result)).containsExactly(Outcome.FAILED, Outcome.NOT_ATTEMPTED, Outcome.NOT_ATTEMPTED);
            assertThat(result.status()).isEqualTo(Status.FAILED);
            assertThat(first.log()).containsExactly("mutate a1", "stop");
            assertThat(second.log()).as("the second target is not called").isEmpty();
        }
    }

    /** Starts every change at once on its own thread, through {@code start}, and fails each admitted one. */
    private static final class ConcurrentFailingTarget extends FakeTarget {
        final java.util.concurrent.atomic.AtomicInteger mutations = new java.util.concurrent.atomic.AtomicInteger();

        ConcurrentFailingTarget(int resources) {
            super("concurrent", null);
            for (int i = 0; i < resources; i++) {
                resource("c" + i, Behaviour.FAIL);
            }
        }

        @Override
        public void apply(List<com.cloudaeye.agent.Change> changes, com.cloudaeye.agent.spi.ApplyContext context) {
            java.util.concurrent.ExecutorService threads = java.util.concurrent.Executors.newFixedThreadPool(8);
            try {
                List<java.util.concurrent.CompletableFuture<Void>> all = new ArrayList<>();
                for (com.cloudaeye.agent.Change c : changes) {
                    all.add(java.util.concurrent.CompletableFuture.supplyAsync(() -> c, threads)
                            .thenCompose(change -> context.start(change)
                                    .thenRunAsync(
                                            () -> {
                                                mutations.incrementAndGet();
                                                context.failed(change, "AccessDenied", null);
                                            },
                                            threads))
                            .exceptionally(refused -> null));
                }
                all.forEach(java.util.concurrent.CompletableFuture::join);
            } finally {
                threads.shutdown();
            }
        }
    }

    @Test
    void maxFailures_countsChangesInFlight_soConcurrentStartsNeverMakeMoreFailures() {
        ConcurrentFailingTarget target = new ConcurrentFailingTarget(20);
        try (AgentInstaller installer = installer(target).maxFailures(3).build()) {
            ApplyResult result = installer.apply(installer.plan());

            assertThat(target.mutations.get()).isEqualTo(3);
            assertThat(result.withOutcome(Outcome.FAILED)).hasSize(3);
            assertThat(result.withOutcome(Outcome.NOT_ATTEMPTED))
                    .hasSize(17)
                    .allSatisfy(r -> assertThat(r.message().orElseThrow())
                            .startsWith("not started: the apply stopped after 3 change(s) failed"));
        }
    }

    /**
     * A target that cannot apply its changes with what the installer holds (as EKS without a key sink, or with a
     * kubeconfig moved since planning): its check refuses, and its apply checks first too, as EKS's does.
     */
    private static final class RefusingTarget extends FakeTarget {
        private final RuntimeException refusal;
        final List<String> checks = Collections.synchronizedList(new ArrayList<>());

        RefusingTarget(String name, RuntimeException refusal) {
            super(name, null);
            this.refusal = refusal;
        }

        @Override
        public void checkApply(
                List<com.cloudaeye.agent.Change> changes, com.cloudaeye.agent.spi.TargetContext context) {
            checks.add("check " + changes.size());
            throw refusal;
        }

        @Override
        public void apply(List<com.cloudaeye.agent.Change> changes, com.cloudaeye.agent.spi.ApplyContext context) {
            checkApply(changes, context);
            super.apply(changes, context);
        }
    }

    private static RefusingTarget refusing(String name) {
        return new RefusingTarget(
                name,
                new com.cloudaeye.agent.ConfigurationException(
                        "The plan changes " + FakeTarget.arn("b1") + " through a file that is gone: restore it."));
    }

    private List<Path> journalFiles() throws java.io.IOException {
        try (Stream<Path> files = Files.list(journals)) {
            return files.toList();
        }
    }

    @Test
    void aTargetThatRefusesItsChanges_changesNothingOfThePlan_evenWhatAnEarlierTargetWouldApply() throws Exception {
        FakeTarget first =
                new FakeTarget("first", null).resource("a1", Behaviour.APPLY).resource("a2", Behaviour.APPLY);
        RefusingTarget second = refusing("second");
        second.resource("b1", Behaviour.APPLY);
        try (AgentInstaller installer = installer(first, second).build()) {
            Plan plan = installer.plan();

            ApplyException refused = catchThrowableOfType(ApplyException.class, () -> installer.apply(plan));

            assertThat(refused).as("the apply must be refused").isNotNull();
            assertThat(first.log()).as("the first target applied nothing").isEmpty();
            assertThat(second.checks).containsExactly("check 1");
            assertThat(second.log()).as("the refusing target applied nothing").isEmpty();
            assertThat(refused.getCause())
                    .isInstanceOf(com.cloudaeye.agent.ConfigurationException.class)
                    .hasMessageContaining("restore it");
            assertThat(refused.getMessage())
                    .startsWith("The plan changes " + FakeTarget.arn("b1"))
                    .contains("Nothing was changed");
            assertThat(outcomes(refused.result()))
                    .containsExactly(Outcome.NOT_ATTEMPTED, Outcome.NOT_ATTEMPTED, Outcome.NOT_ATTEMPTED);
            assertThat(refused.result().results())
                    .allSatisfy(r -> assertThat(r.message().orElseThrow())
                            .contains("second target refused the plan before any change started"));
            assertThat(refused.result().journal())
                    .as("no journal: nothing started")
                    .isEmpty();
            assertThat(journalFiles()).isEmpty();
        }
    }

    @Test
    void aCheckThatThrowsAnUnexpectedError_refusesThePlanToo_namingTheTarget() {
        FakeTarget first = new FakeTarget("first", null).resource("a1", Behaviour.APPLY);
        RefusingTarget second = new RefusingTarget("second", new IllegalStateException("a bug"));
        second.resource("b1", Behaviour.APPLY);
        try (AgentInstaller installer = installer(first, second).build()) {
            Plan plan = installer.plan();

            ApplyException refused = catchThrowableOfType(ApplyException.class, () -> installer.apply(plan));

            assertThat(refused).as("the apply must be refused").isNotNull();
            assertThat(first.log()).isEmpty();
            assertThat(refused.getMessage())
                    .contains("second target's check")
                    .contains("a bug")
                    .contains("Nothing was changed");
            assertThat(outcomes(refused.result())).containsOnly(Outcome.NOT_ATTEMPTED);
        }
    }

    @Test
    void aResumeThatATargetRefuses_changesNothing_andLeavesTheJournalAsItWas() throws Exception {
        FakeTarget flaky =
                new FakeTarget("first", null).resource("a1", Behaviour.APPLY).resource("a2", Behaviour.FAIL);
        FakeTarget interrupted = new FakeTarget("second", null).resource("b1", Behaviour.SILENT);
        Path journal = appliedJournal(installer(flaky, interrupted));
        byte[] before = Files.readAllBytes(journal);
        FakeTarget healthy =
                new FakeTarget("first", null).resource("a1", Behaviour.APPLY).resource("a2", Behaviour.APPLY);
        RefusingTarget second = refusing("second");
        second.resource("b1", Behaviour.APPLY);
        try (AgentInstaller installer = installer(healthy, second).build()) {
            ApplyException refused =
                    catchThrowableOfType(ApplyException.class, () -> installer.resume(Journal.read(journal)));

            assertThat(refused).as("the resume must be refused").isNotNull();
            assertThat(healthy.log()).as("a2 was not applied").isEmpty();
            assertThat(refused.getMessage())
                    .contains("restore it")
                    .contains("Nothing was changed")
                    .contains("the journal " + journal + " is as it was");
            assertThat(refused.result().results())
                    .extracting(r -> r.change().resourceId())
                    .containsExactly(FakeTarget.arn("a2"), FakeTarget.arn("b1"));
            assertThat(outcomes(refused.result())).containsOnly(Outcome.NOT_ATTEMPTED);
            assertThat(refused.result().journal()).isEmpty();
        }
        assertThat(journalFiles()).as("no new journal").containsExactly(journal);
        assertThat(Files.readAllBytes(journal))
                .as("the resumed journal is unchanged")
                .isEqualTo(before);
    }

    @Test
    void maxFailures_notReached_letsEverythingRun() {
        FakeTarget fake = fake(Behaviour.FAIL, Behaviour.APPLY);
        try (AgentInstaller installer = installer(fake).maxFailures(2).build()) {
            assertThat(outcomes(installer.apply(installer.plan()))).containsExactly(Outcome.FAILED, Outcome.APPLIED);
        }
    }

    @Test
    void aTargetThatCannotGoOn_givesAnApplyExceptionCarryingTheResult() {
        FakeTarget fake = fake(Behaviour.APPLY, Behaviour.THROW);
        try (AgentInstaller installer = installer(fake).build()) {
            Plan plan = installer.plan();

            assertThatThrownBy(() -> installer.apply(plan)).isInstanceOfSatisfying(ApplyException.class, e -> {
                assertThat(e.getMessage()).contains("disk full");
                assertThat(outcomes(e.result())).containsExactly(Outcome.APPLIED, Outcome.NOT_ATTEMPTED);
                assertThat(e.result().journal()).isPresent();
            });
        }
    }

    @Test
    void anUnknownOutcome_isPartialNeverFailed_journaledUnknown_andSaysWhatToDo() {
        FakeTarget fake = fake(Behaviour.UNKNOWN, Behaviour.FAIL);
        try (AgentInstaller installer = installer(fake).build()) {
            ApplyResult result = installer.apply(installer.plan());

            assertThat(outcomes(result)).containsExactly(Outcome.UNKNOWN, Outcome.FAILED);
            assertThat(result.status())
                    .as("an unknown outcome may have changed something: never FAILED (nothing changed)")
                    .isEqualTo(Status.PARTIAL);
            assertThat(result.toString())
                    .contains("0 applied, 0 skipped, 1 failed, 1 unknown, 0 not attempted")
                    .contains("unknown " + FakeTarget.arn("a1"))
                    .contains("resume or roll back");
            Journal journal = Journal.read(result.journal().orElseThrow());
            assertThat(journal.unknown()).extracting(c -> c.resourceId()).containsExactly(FakeTarget.arn("a1"));
            assertThat(journal.last(journal.unknown().get(0)).orElseThrow().event())
                    .isEqualTo(Journal.Event.UNKNOWN);
        }
    }

    @Test
    void unknownOutcomes_countTowardsMaxFailures() {
        FakeTarget fake = fake(Behaviour.UNKNOWN, Behaviour.APPLY);
        try (AgentInstaller installer = installer(fake).maxFailures(1).build()) {
            assertThat(outcomes(installer.apply(installer.plan())))
                    .containsExactly(Outcome.UNKNOWN, Outcome.NOT_ATTEMPTED);
        }
    }

    @Test
    void aChangeNotStartedForAFailedChangeItNeeds_isNotAttempted_andTheRootCauseCountsOnce() {
        FakeTarget fake = new FakeTarget("fake", null)
                .resource("a1", Behaviour.FAIL)
                .resource("a2", Behaviour.NEEDS_PREVIOUS)
                .resource("a3", Behaviour.NEEDS_PREVIOUS)
                .resource("a4", Behaviour.APPLY);
        List<ProgressListener.Progress> progress = Collections.synchronizedList(new ArrayList<>());
        ProgressListener listener = new ProgressListener() {
            @Override
            public void finished(ResourceResult result, ProgressListener.Progress p) {
                progress.add(p);
            }
        };
        try (AgentInstaller installer =
                installer(fake).maxFailures(2).listener(listener).build()) {
            ApplyResult result = installer.apply(installer.plan());

            assertThat(outcomes(result))
                    .as("one failure, not three: a4 still runs under maxFailures(2)")
                    .containsExactly(Outcome.FAILED, Outcome.NOT_ATTEMPTED, Outcome.NOT_ATTEMPTED, Outcome.APPLIED);
            assertThat(result.results().get(1).message())
                    .hasValue("not started: " + FakeTarget.arn("a1") + " did not land");
            assertThat(progress).extracting(ProgressListener.Progress::failed).containsExactly(1, 1, 1, 1);
            Journal journal = Journal.read(result.journal().orElseThrow());
            assertThat(journal.sent())
                    .as("never started, so nothing to roll back, and resume starts them")
                    .extracting(j -> j.change().resourceId())
                    .containsExactly(FakeTarget.arn("a1"), FakeTarget.arn("a4"));
        }
    }

    @Test
    void aChangeNotStartedForAChangeThatLanded_isItsOwnFailure_andCounts() {
        FakeTarget fake = new FakeTarget("fake", null)
                .resource("a1", Behaviour.APPLY)
                .resource("a2", Behaviour.NEEDS_PREVIOUS)
                .resource("a3", Behaviour.APPLY);
        try (AgentInstaller installer = installer(fake).maxFailures(1).build()) {
            assertThat(outcomes(installer.apply(installer.plan())))
                    .containsExactly(Outcome.APPLIED, Outcome.FAILED, Outcome.NOT_ATTEMPTED);
        }
    }

    @Test
    void rollback_receivesEveryChangeWhoseMutationWasSent_withItsEventAndAppliedState() {
        FakeTarget fake = new FakeTarget("fake", null)
                .resource("a1", Behaviour.APPLY)
                .resource("a2", Behaviour.UNKNOWN)
                .resource("a3", Behaviour.FAIL)
                .resource("a4", Behaviour.SKIP)
                .resource("a5", Behaviour.SILENT);
        try (AgentInstaller installer = installer(fake).build()) {
            ApplyResult result = installer.apply(installer.plan());
            Plan rollback = installer.planRollback(Journal.read(result.journal().orElseThrow()));

            assertThat(fake.journaledForRollback())
                    .as("applied, unknown, and failed after it started; never skipped or not started")
                    .containsExactly(
                            "a1 APPLIED {\"after\":\"a1\"}", "a2 UNKNOWN {\"maybe\":\"a2\"}", "a3 FAILED null");
            assertThat(rollback.mutations()).hasSize(3);
        }
    }

    @Test
    void resume_handsAnUnknownChangeBackToItsTarget_toBeCheckedLive() {
        FakeTarget fake = new FakeTarget("fake", null).resource("a1", Behaviour.UNKNOWN);
        try (AgentInstaller installer = installer(fake).build()) {
            ApplyResult first = installer.apply(installer.plan());
            fake.resource("a1", Behaviour.APPLY);

            ApplyResult resumed = installer.resume(Journal.read(first.journal().orElseThrow()));

            assertThat(outcomes(resumed)).containsExactly(Outcome.APPLIED);
            assertThat(fake.log()).containsExactly("mutate a1", "mutate a1");
        }
    }

    @Test
    void twoChangesForOneResource_areRejectedBeforeAnythingIsApplied() {
        FakeTarget fake =
                new FakeTarget("fake", null).resource("a1", Behaviour.APPLY).duplicate("a1");
        try (AgentInstaller installer = installer(fake).build()) {
            assertThatThrownBy(installer::plan)
                    .isInstanceOf(com.cloudaeye.agent.PlanningException.class)
                    .hasMessageContaining("The fake target planned two changes for " + FakeTarget.arn("a1"))
                    .hasMessageContaining("at most one change per resource");
            assertThat(fake.log()).isEmpty();
        }
    }

    @Test
    void aJournalLineThatFailsAfterAMutation_keepsTheTrueOutcome_stopsTheApply_andRaisesOneJournalException() {
        FakeTarget fake = new FakeTarget("fake", null)
                .resource("a1", Behaviour.APPLY)
                .resource("a2", Behaviour.APPLY)
                .resource("a3", Behaviour.APPLY);
        JournalWriter.failing = line -> line.path("event").asText().equals("APPLIED")
                && line.path("resourceId").asText().endsWith("/a2");
        try (AgentInstaller installer = installer(fake).build()) {
            Plan plan = installer.plan();

            assertThatThrownBy(() -> installer.apply(plan)).isInstanceOfSatisfying(ApplyException.class, e -> {
                assertThat(e.getCause()).isInstanceOf(com.cloudaeye.agent.JournalException.class);
                assertThat(e.getMessage()).contains("No space left on device").contains("resume or roll back");
                assertThat(outcomes(e.result()))
                        .as("a2 landed: the result says so although the journal could not")
                        .containsExactly(Outcome.APPLIED, Outcome.APPLIED, Outcome.NOT_ATTEMPTED);
                Journal journal = Journal.read(e.result().journal().orElseThrow());
                assertThat(journal.interrupted())
                        .as("the journal shows a2 started, which rollback and resume check live")
                        .extracting(c -> c.resourceId())
                        .containsExactly(FakeTarget.arn("a2"));
            });
            assertThat(fake.log()).containsExactly("mutate a1", "mutate a2", "stop");
        } finally {
            JournalWriter.failing = null;
        }
    }

    @Test
    void aStartThatCannotBeJournaled_isNotMutated_andIsNotAttempted() {
        FakeTarget fake = fake(Behaviour.APPLY, Behaviour.APPLY);
        JournalWriter.failing = line -> line.path("event").asText().equals("STARTING")
                && line.path("resourceId").asText().endsWith("/a2");
        try (AgentInstaller installer = installer(fake).build()) {
            Plan plan = installer.plan();

            assertThatThrownBy(() -> installer.apply(plan)).isInstanceOfSatisfying(ApplyException.class, e -> {
                assertThat(e.getCause()).isInstanceOf(com.cloudaeye.agent.JournalException.class);
                assertThat(outcomes(e.result())).containsExactly(Outcome.APPLIED, Outcome.NOT_ATTEMPTED);
                assertThat(e.result().results().get(1).message().orElseThrow())
                        .startsWith("not started: the journal could not be written");
            });
            assertThat(fake.log()).containsExactly("mutate a1");
        } finally {
            JournalWriter.failing = null;
        }
    }

    @Test
    void aTargetReportingAChangeTwice_isABugThatIsNotHidden() {
        FakeTarget fake = new FakeTarget("fake", null).resource("a1", Behaviour.REPORT_TWICE);
        try (AgentInstaller installer = installer(fake).build()) {
            Plan plan = installer.plan();
            assertThatThrownBy(() -> installer.apply(plan))
                    .isInstanceOf(ApplyException.class)
                    .hasMessageContaining("unexpected error")
                    .hasRootCauseInstanceOf(IllegalStateException.class)
                    .hasRootCauseMessage("Target reported " + FakeTarget.arn("a1") + " twice");
        }
    }

    /** The first report is the truth: a second one must neither count as a failure nor reach the journal. */
    @Test
    void aSecondReportOfAnAppliedChange_isRefused_beforeItIsCountedOrJournaled() {
        FakeTarget fake = new FakeTarget("fake", null).resource("a1", Behaviour.APPLY_THEN_FAIL);
        try (AgentInstaller installer = installer(fake).build()) {
            Plan plan = installer.plan();
            ApplyException e = catchThrowableOfType(ApplyException.class, () -> installer.apply(plan));

            assertThat(e).hasRootCauseMessage("Target reported " + FakeTarget.arn("a1") + " twice");
            assertThat(outcomes(e.result())).containsExactly(Outcome.APPLIED);
            Journal journal = Journal.read(e.result().journal().orElseThrow());
            assertThat(journal.applied()).extracting(Change::resourceId).containsExactly(FakeTarget.arn("a1"));
            assertThat(journal.last(journal.applied().get(0)))
                    .hasValueSatisfying(entry -> assertThat(entry.event()).isEqualTo(Journal.Event.APPLIED));
        }
    }

    /** A listener is the caller's code: its bug must not stop the apply or change an outcome. */
    @Test
    void aListenerThatThrows_changesNoOutcome_andTheApplyGoesOn() {
        List<String> heard = Collections.synchronizedList(new ArrayList<>());
        ProgressListener throwing = new ProgressListener() {
            @Override
            public void started(Plan plan, int total) {
                heard.add("started");
                throw new IllegalStateException("listener bug at start");
            }

            @Override
            public void finished(ResourceResult result, Progress progress) {
                heard.add(result.change().resourceId());
                throw new IllegalStateException("listener bug");
            }
        };
        FakeTarget fake =
                new FakeTarget("fake", journals).resource("a1", Behaviour.APPLY).resource("a2", Behaviour.APPLY);
        try (AgentInstaller installer = installer(fake).listener(throwing).build()) {
            ApplyResult result = installer.apply(installer.plan());

            assertThat(result.status()).isEqualTo(Status.SUCCEEDED);
            assertThat(outcomes(result)).containsExactly(Outcome.APPLIED, Outcome.APPLIED);
            assertThat(heard).containsExactly("started", FakeTarget.arn("a1"), FakeTarget.arn("a2"));
            assertThat(Journal.read(result.journal().orElseThrow()).applied()).hasSize(2);
        }
    }

    @Test
    void aPlanWithoutMutations_isNothingToDo_andWritesNoJournal() throws Exception {
        try (AgentInstaller installer = installer(new FakeTarget("fake", null)).build()) {
            ApplyResult result = installer.apply(installer.plan());

            assertThat(result.status()).isEqualTo(Status.NOTHING_TO_DO);
            assertThat(result.isSuccess()).isTrue();
            assertThat(result.journal()).isEmpty();
            try (Stream<Path> files = Files.list(journals)) {
                assertThat(files).isEmpty();
            }
        }
    }

    @Test
    void withoutJournal_appliesAndWritesNoFile() throws Exception {
        FakeTarget fake = new FakeTarget("fake", null).resource("a1", Behaviour.APPLY);
        try (AgentInstaller installer = installer(fake).withoutJournal().build()) {
            ApplyResult result = installer.apply(installer.plan());

            assertThat(result.status()).isEqualTo(Status.SUCCEEDED);
            assertThat(result.journal()).isEmpty();
            try (Stream<Path> files = Files.list(journals)) {
                assertThat(files).isEmpty();
            }
        }
    }

    @Test
    void listener_hearsTheStartAndEveryOutcome_withProgress() {
        List<String> heard = Collections.synchronizedList(new ArrayList<>());
        ProgressListener listener = new ProgressListener() {
            @Override
            public void started(Plan plan, int total) {
                heard.add("started " + total);
            }

            @Override
            public void finished(ResourceResult result, Progress progress) {
                heard.add(result.outcome() + " " + progress.done() + "/" + progress.total() + " failed="
                        + progress.failed());
            }
        };
        FakeTarget fake = fake(Behaviour.FAIL, Behaviour.APPLY);
        try (AgentInstaller installer = installer(fake).listener(listener).build()) {
            installer.apply(installer.plan());
        }
        assertThat(heard).containsExactly("started 2", "FAILED 1/2 failed=1", "APPLIED 2/2 failed=1");
    }

    @Test
    void planRollback_asksTheTargetToRestoreEveryChangeThatWasStarted() {
        FakeTarget fake = new FakeTarget("fake", null)
                .resource("a1", Behaviour.APPLY)
                .resource("a2", Behaviour.FAIL)
                .resource("a3", Behaviour.APPLY);
        try (AgentInstaller installer = installer(fake).build()) {
            ApplyResult result = installer.apply(installer.plan());

            Plan rollback = installer.planRollback(Journal.read(result.journal().orElseThrow()));

            assertThat(rollback.kind()).isEqualTo(Plan.Kind.ROLLBACK);
            assertThat(fake.rollbackRequests())
                    .as("a2 failed after it started: its target checks it against the live state")
                    .containsExactly(List.of(FakeTarget.arn("a1"), FakeTarget.arn("a2"), FakeTarget.arn("a3")));
            assertThat(rollback.mutations()).hasSize(3);
        }
    }

    @Test
    void resume_appliesOnlyWhatTheJournalDidNotRecordAsApplied() {
        FakeTarget flaky = new FakeTarget("fake", null)
                .resource("a1", Behaviour.APPLY)
                .resource("a2", Behaviour.FAIL)
                .resource("a3", Behaviour.SILENT);
        Path journal = appliedJournal(installer(flaky));
        FakeTarget healthy = new FakeTarget("fake", null)
                .resource("a1", Behaviour.APPLY)
                .resource("a2", Behaviour.APPLY)
                .resource("a3", Behaviour.APPLY);
        try (AgentInstaller installer = installer(healthy).build()) {
            ApplyResult resumed = installer.resume(Journal.read(journal));

            assertThat(resumed.results())
                    .extracting(r -> r.change().resourceId())
                    .containsExactly(FakeTarget.arn("a2"), FakeTarget.arn("a3"));
            assertThat(resumed.status()).isEqualTo(Status.SUCCEEDED);
            assertThat(healthy.log()).containsExactly("mutate a2", "mutate a3");
        }
    }

    @Test
    void rollback_ofAResumedApply_undoesWhatTheInterruptedApplyAndTheResumeBothSent() {
        FakeTarget first = fake(Behaviour.APPLY, Behaviour.SKIP);
        Path interrupted = appliedJournal(installer(first));
        FakeTarget second = fake(Behaviour.APPLY, Behaviour.APPLY);
        try (AgentInstaller installer = installer(second).build()) {
            ApplyResult resumed = installer.resume(Journal.read(interrupted));
            assertThat(resumed.results())
                    .extracting(r -> r.change().resourceId())
                    .containsExactly(FakeTarget.arn("a2"));

            installer.rollback(Journal.read(resumed.journal().orElseThrow()));

            assertThat(second.rollbackRequests())
                    .as("one journal holds the run: the rollback of the resume's undoes the first apply's change too")
                    .containsExactly(List.of(FakeTarget.arn("a1"), FakeTarget.arn("a2")));
        }
    }

    @Test
    void resume_withAStoreThatStartsANewJournal_carriesTheInterruptedOnesLinesIntoIt() {
        JournalStore store = new NewJournalOnResume(new FileJournalStore(journals));
        FakeTarget first = fake(Behaviour.APPLY, Behaviour.SKIP);
        Path interrupted = appliedJournal(installer(first).journalStore(store));
        FakeTarget second = fake(Behaviour.APPLY, Behaviour.APPLY);
        try (AgentInstaller installer = installer(second).journalStore(store).build()) {
            Path resumed = installer.resume(Journal.read(interrupted)).journal().orElseThrow();
            assertThat(resumed).isNotEqualTo(interrupted);

            installer.rollback(Journal.read(resumed));

            assertThat(second.rollbackRequests()).containsExactly(List.of(FakeTarget.arn("a1"), FakeTarget.arn("a2")));
        }
    }

    /** A store that keeps {@link JournalStore#resume}'s default: a resume starts a new journal. */
    private record NewJournalOnResume(JournalStore files) implements JournalStore {
        @Override
        public JournalStore below(String name) {
            return new NewJournalOnResume(files.below(name));
        }

        @Override
        public Writer create(Plan plan) {
            return files.create(plan);
        }

        @Override
        public List<String> read(String location) {
            return files.read(location);
        }

        @Override
        public List<String> list() {
            return files.list();
        }
    }

    @Test
    void resume_ofAnInterruptedRollback_finishesTheJournaledRollback_insteadOfPlanningAnInstall() {
        FakeTarget healthy = fake(Behaviour.APPLY, Behaviour.APPLY);
        Path applied = appliedJournal(installer(healthy));
        FakeTarget dying = fake(Behaviour.APPLY, Behaviour.SILENT);
        Path rollback;
        try (AgentInstaller installer = installer(dying).build()) {
            rollback = installer.rollback(Journal.read(applied)).journal().orElseThrow();
        }
        FakeTarget again = fake(Behaviour.APPLY, Behaviour.APPLY);
        try (AgentInstaller installer = installer(again).build()) {
            ApplyResult resumed = installer.resume(Journal.read(rollback));

            assertThat(resumed.results())
                    .extracting(r -> r.change().resourceId())
                    .containsExactly(FakeTarget.arn("a2"));
            assertThat(resumed.results().get(0).change().reason()).hasValue("restore the journaled before-state");
            assertThat(Journal.read(resumed.journal().orElseThrow()).plan().kind())
                    .isEqualTo(Plan.Kind.ROLLBACK);
            assertThat(again.log()).containsExactly("mutate a2");
        }
    }

    @Test
    void result_reportsNoCallsWhenTheTargetMadeNone_andSerializes() {
        FakeTarget fake = new FakeTarget("fake", null).resource("a1", Behaviour.APPLY);
        try (AgentInstaller installer = installer(fake).build()) {
            ApplyResult result = installer.apply(installer.plan());
            assertThat(result.calls()).isEmpty();
            assertThat(result.throttled()).isZero();
            assertThat(result.toJson()).contains("\"status\" : \"SUCCEEDED\"").contains(FakeTarget.arn("a1"));
            assertThat(Json.read(result.toJson(), ApplyResult.class)).isEqualTo(result);
        }
    }
}
