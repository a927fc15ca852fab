package com.cloudaeye.agent.lambda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.ApplyException;
import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.Journal;
import com.cloudaeye.agent.JournalException;
import com.cloudaeye.agent.JournalStore;
import com.cloudaeye.agent.ProgressListener;
import com.cloudaeye.agent.ResourceResult;
import com.cloudaeye.agent.S3JournalStore;
import com.cloudaeye.agent.testing.Moto;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.lambda.model.Architecture;
import software.amazon.awssdk.services.lambda.model.FunctionConfiguration;
import software.amazon.awssdk.services.lambda.model.Layer;
import software.amazon.awssdk.services.lambda.model.Runtime;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;

/**
 * A rollback started by another worker from an S3 journal takes the journal's lease like a resume does: refused, with
 * nothing changed, while the worker that wrote the journal holds a live lease (it may still be applying), and carried
 * out once that lease expired.
 */
class S3JournalRollbackIT {
    private static final List<String> FUNCTIONS = List.of("orders", "payments");

    private final String bucket = "rollbacks-" + System.nanoTime();
    private S3Client s3;
    private LambdaFixtures fixtures;
    private String layer;

    @BeforeEach
    void createFunctions() {
        Moto.reset();
        s3 = Moto.s3();
        s3.createBucket(b -> b.bucket(bucket));
        fixtures = new LambdaFixtures();
        layer = fixtures.layer("cloudaeye-x86", Architecture.X86_64);
        FUNCTIONS.forEach(
                name -> fixtures.function(name, Runtime.PYTHON3_12, Architecture.X86_64, Map.of("STAGE", "prod")));
    }

    /** @return the S3 location of the journal of worker A's install of every function, which succeeded */
    private String installedByWorkerA() {
        ApplyResult installed;
        try (AgentInstaller workerA = installer("worker-a")) {
            installed = workerA.apply(workerA.plan());
        }
        assertThat(installed.status()).as(installed.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
        return installed.journalLocation().orElseThrow();
    }

    /** @return the object key of a journal location in the test's bucket */
    private String keyOf(String location) {
        return location.substring(("s3://" + bucket + "/").length());
    }

    @AfterEach
    void close() {
        fixtures.close();
        s3.close();
    }

    @Test
    void rollback_isRefusedWhileAnotherWorkersLeaseIsLive_andRollsBackOnceItExpired() throws Exception {
        String location = installedByWorkerA();
        String key = keyOf(location);
        // Worker A holds the lease again, as its writer does while it applies (renewed every third of the lease).
        Instant expires = Instant.now().plusSeconds(3);
        leaseTo(key, "worker-a", expires);
        JournalStore storeB = store("worker-b");
        Journal journal = Journal.read(storeB, location);

        try (AgentInstaller workerB = installer("worker-b")) {
            assertThatThrownBy(() -> workerB.rollback(journal))
                    .isInstanceOf(JournalException.class)
                    .hasMessageContaining("is owned by worker worker-a, whose lease runs until")
                    .hasMessageContaining("Nothing was changed");
            FUNCTIONS.forEach(name -> assertThat(layers(fixtures.config(name)))
                    .as("refused: " + name + " keeps the agent")
                    .containsExactly(layer));
            assertThat(storeB.list()).as("no rollback journal was started").containsExactly(location);

            while (!Instant.now().isAfter(expires)) {
                Thread.sleep(100); // waits for the lease to end; nothing here measures time
            }
            ApplyResult rolledBack = workerB.rollback(journal);

            assertThat(rolledBack.status()).as(rolledBack.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            FUNCTIONS.forEach(name -> {
                FunctionConfiguration config = fixtures.config(name);
                assertThat(layers(config)).as(name).isEmpty();
                assertThat(config.environment().variables()).as(name).isEqualTo(Map.of("STAGE", "prod"));
            });
            assertThat(rolledBack.journalLocation()).hasValue("s3://" + bucket + "/runs/run-1/rollback.jsonl");
        }
        assertReleasedBy(
                key, "worker-b", "worker B held the install journal's lease during the rollback, and released it");
        assertThat(Journal.read(storeB, location).applied())
                .as("the install journal's lines are unchanged")
                .isEqualTo(journal.applied());
    }

    /**
     * A rollback plan reviewed and saved (its JSON), then applied by another worker: the apply takes the rolled-back
     * journal's lease as {@code rollback(Journal)} does, so it is refused, with nothing changed, while the worker that
     * wrote the journal holds a live lease, holds the lease while it applies once that lease expired, and journals
     * which journal it rolls back.
     */
    @Test
    void appliedRollbackPlan_isRefusedWhileAnotherWorkersLeaseIsLive_andAppliedUnderTheLeaseOnceItExpired()
            throws Exception {
        String location = installedByWorkerA();
        String key = keyOf(location);
        com.cloudaeye.agent.Plan reviewed;
        try (AgentInstaller planning = installer("worker-b")) {
            reviewed =
                    com.cloudaeye.agent.Plan.fromJson(planning.planRollback(Journal.read(store("worker-b"), location))
                            .toJson());
        }
        assertThat(reviewed.rollsBack())
                .as("the saved plan names the journal it undoes")
                .hasValue(location);
        Instant expires = Instant.now().plusSeconds(6); // outlasts building the installer on a loaded machine
        leaseTo(key, "worker-a", expires); // worker A is applying again (it renews its lease)
        AtomicReference<String> ownerWhileApplying = new AtomicReference<>("not started");
        ProgressListener leaseOwner = leaseOwnerAtStart(key, ownerWhileApplying);

        try (AgentInstaller workerB = builder("worker-b").listener(leaseOwner).build()) {
            assertThatThrownBy(() -> workerB.apply(reviewed))
                    .isInstanceOf(JournalException.class)
                    .hasMessageContaining(location + " is owned by worker worker-a, whose lease runs until")
                    .hasMessageContaining("Nothing was changed");
            assertThat(ownerWhileApplying.get())
                    .as("refused before the apply started")
                    .isEqualTo("not started");
            FUNCTIONS.forEach(name -> assertThat(layers(fixtures.config(name)))
                    .as("refused: " + name + " keeps the agent")
                    .containsExactly(layer));
            assertThat(store("worker-b").list())
                    .as("no rollback journal was started")
                    .containsExactly(location);

            while (!Instant.now().isAfter(expires)) {
                Thread.sleep(100); // waits for the lease to end; nothing here measures time
            }
            ApplyResult rolledBack = workerB.apply(reviewed);

            assertThat(rolledBack.status()).as(rolledBack.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            assertThat(ownerWhileApplying.get())
                    .as("worker B held the install journal's lease while it applied the rollback plan")
                    .isEqualTo("worker-b");
            String rollback = rolledBack.journalLocation().orElseThrow();
            assertThat(Journal.read(store("worker-b"), rollback).plan().rollsBack())
                    .hasValue(location);
            assertThat(s3.getObjectAsBytes(r -> r.bucket(bucket).key(keyOf(rollback)))
                            .asUtf8String())
                    .as("the rollback journal names the journal it rolls back, so its resume takes that lease too")
                    .contains("\"rollsBack\":\"" + location + "\"");
        }
        FUNCTIONS.forEach(name -> {
            FunctionConfiguration config = fixtures.config(name);
            assertThat(layers(config)).as(name).isEmpty();
            assertThat(config.environment().variables()).as(name).isEqualTo(Map.of("STAGE", "prod"));
        });
        assertReleasedBy(key, "worker-b", "released once the apply ended");
    }

    /**
     * A rollback plan is made from a run's journal, and the run goes on before the plan is applied (its worker resumes
     * it and installs on a function the plan does not cover): applying the plan would leave that function installed, so
     * it is refused, with nothing changed, and the message says to plan again.
     */
    @Test
    void appliedRollbackPlan_ofARunThatWentOnAfterThePlan_isRefused_andANewPlanUndoesAll() {
        String usersLayer = fixtures.layer("user-utils", Architecture.X86_64);
        String location = partialRunOfWorkerA(usersLayer).journalLocation().orElseThrow();
        com.cloudaeye.agent.Plan rollbackPlan;
        try (AgentInstaller planning = installer("worker-b")) {
            rollbackPlan = planning.planRollback(Journal.read(store("worker-b"), location));
        }
        assertThat(rollbackPlan.mutations())
                .extracting(Change::resourceId)
                .singleElement()
                .satisfies(arn -> assertThat(arn).endsWith(":function:orders"));
        try (AgentInstaller workerA = installer("worker-a")) {
            ApplyResult resumed = workerA.resume(Journal.read(store("worker-a"), location));
            assertThat(resumed.status()).as(resumed.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
        }
        assertThat(layers(fixtures.config("payments"))).containsExactly(usersLayer, layer);

        try (AgentInstaller workerB = installer("worker-b")) {
            assertThatThrownBy(() -> workerB.apply(rollbackPlan))
                    .isInstanceOf(JournalException.class)
                    .hasMessageContaining("went on after the plan was made")
                    .hasMessageContaining(location)
                    .hasMessageContaining("Nothing was changed")
                    .hasMessageContaining("Plan the rollback again");
            assertThat(layers(fixtures.config("orders")))
                    .as("refused: orders keeps the agent")
                    .containsExactly(layer);

            ApplyResult rolledBack = workerB.apply(workerB.planRollback(Journal.read(store("worker-b"), location)));

            assertThat(rolledBack.status()).as(rolledBack.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
        }
        assertThat(layers(fixtures.config("orders"))).as("rolled back: orders").isEmpty();
        assertThat(layers(fixtures.config("payments")))
                .as("rolled back: payments")
                .containsExactly(usersLayer);
        assertThat(s3.getObjectAsBytes(r -> r.bucket(bucket).key(keyOf(location)))
                        .response()
                        .metadata())
                .as("the refused apply released the lease it took")
                .containsEntry("cloudaeye-lease-owner", "worker-b");
    }

    /**
     * Another worker takes the install journal over right after the rollback's last change was journaled, before the
     * rollback releases its lease: the rollback's result is not lost, and the lease's loss is said.
     */
    @Test
    void rollback_whoseLeaseIsTakenJustBeforeItEnds_keepsItsResult_andSaysTheLeaseWasLost() {
        String location = installedByWorkerA();
        String key = keyOf(location);
        Journal journal = Journal.read(store("worker-b"), location);
        AtomicReference<String> takenOver = new AtomicReference<>("not yet");
        ProgressListener takeOverAtTheEnd = new ProgressListener() {
            @Override
            public void finished(ResourceResult result, Progress progress) {
                if (progress.done() == progress.total()) {
                    // The last change is journaled: worker C takes the run, as after a lapsed lease.
                    try {
                        leaseTo(key, "worker-c", Instant.now().plusSeconds(60));
                        takenOver.set("taken over");
                    } catch (RuntimeException e) {
                        takenOver.set(e.toString());
                        throw e;
                    }
                }
            }
        };

        try (AgentInstaller workerB = fixtures.installer(LambdaTarget.builder()
                        .functions(FUNCTIONS.toArray(String[]::new))
                        .layer(Architecture.X86_64, layer)
                        .build())
                .journalStore(store("worker-b"))
                .listener(takeOverAtTheEnd)
                .build()) {
            Throwable thrown = catchThrowable(() -> workerB.rollback(journal));

            assertThat(takenOver.get()).isEqualTo("taken over");
            assertThat(thrown)
                    .isInstanceOf(ApplyException.class)
                    .hasMessageContaining("The rollback ended (SUCCEEDED), but this worker lost the lease on the"
                            + " rolled-back journal " + location)
                    .hasMessageContaining("worker-c")
                    .hasCauseInstanceOf(JournalException.class)
                    .satisfies(e -> {
                        ApplyResult result = ((ApplyException) e).result();
                        assertThat(result.status()).isEqualTo(ApplyResult.Status.SUCCEEDED);
                        assertThat(result.results()).hasSize(FUNCTIONS.size());
                        assertThat(result.journalLocation()).hasValue("s3://" + bucket + "/runs/run-1/rollback.jsonl");
                    });
        }
        FUNCTIONS.forEach(
                name -> assertThat(layers(fixtures.config(name))).as(name).isEmpty());
        assertThat(s3.getObjectAsBytes(r -> r.bucket(bucket).key(key))
                        .response()
                        .metadata())
                .as("worker B did not overwrite worker C's lease")
                .containsEntry("cloudaeye-lease-owner", "worker-c");
    }

    /**
     * A rollback interrupted part way is resumed by another worker: like the rollback, the resume holds the lease of
     * the install journal it rolls back (recorded in the rollback journal's plan line), so it is refused, with nothing
     * changed, while a third worker's lease on the install journal is live, and it holds that lease while it applies.
     */
    @Test
    void resumedRollback_holdsTheRolledBackJournalsLease_andIsRefusedWhileAnotherWorkersLeaseIsLive() throws Exception {
        String location = installedByWorkerA();
        String key = keyOf(location);
        Journal journal = Journal.read(store("worker-a"), location);
        // Worker A's rollback meets a deleted "payments", so the rollback journal is left with work to resume.
        ProgressListener deletePayments = new ProgressListener() {
            @Override
            public void started(com.cloudaeye.agent.Plan plan, int total) {
                fixtures.lambda.deleteFunction(r -> r.functionName("payments"));
            }
        };
        ApplyResult interrupted;
        try (AgentInstaller workerA =
                builder("worker-a").listener(deletePayments).build()) {
            interrupted = resultOf(() -> workerA.rollback(journal));
        }
        String rollback = interrupted.journalLocation().orElseThrow();
        assertThat(Journal.read(store("worker-b"), rollback).unfinished())
                .as(interrupted.toString())
                .isNotEmpty();
        assertThat(s3.getObjectAsBytes(r -> r.bucket(bucket).key(rollback.substring(("s3://" + bucket + "/").length())))
                        .asUtf8String())
                .as("the rollback journal names the journal it rolls back")
                .contains("\"rollsBack\":\"" + location + "\"");
        fixtures.function("payments", Runtime.PYTHON3_12, Architecture.X86_64, Map.of("STAGE", "prod"), layer);
        Instant expires = Instant.now().plusSeconds(3);
        leaseTo(key, "worker-c", expires); // worker C acts on the install's run meanwhile
        Journal toResume = Journal.read(store("worker-b"), rollback);
        AtomicReference<String> ownerWhileResuming = new AtomicReference<>("not started");
        ProgressListener leaseOwner = leaseOwnerAtStart(key, ownerWhileResuming);

        try (AgentInstaller workerB = builder("worker-b").listener(leaseOwner).build()) {
            assertThatThrownBy(() -> workerB.resume(toResume))
                    .isInstanceOf(JournalException.class)
                    .hasMessageContaining(location + " is owned by worker worker-c, whose lease runs until")
                    .hasMessageContaining("Nothing was changed");
            assertThat(ownerWhileResuming.get())
                    .as("refused before the apply started")
                    .isEqualTo("not started");
            assertThat(layers(fixtures.config("payments")))
                    .as("refused: payments keeps the agent")
                    .containsExactly(layer);

            while (!Instant.now().isAfter(expires)) {
                Thread.sleep(100); // waits for the lease to end; nothing here measures time
            }
            ApplyResult resumed = workerB.resume(toResume);

            assertThat(resumed.journalLocation()).as(resumed.toString()).hasValue(rollback);
            assertThat(ownerWhileResuming.get())
                    .as("worker B held the install journal's lease while it resumed the rollback")
                    .isEqualTo("worker-b");
        }
        assertReleasedBy(key, "worker-b", "released once the resume ended");
    }

    /**
     * A worker reads a run's journal, and the run goes on before its rollback takes the lease (the worker that applied
     * resumes it): the rollback undoes what the journal holds once it holds the lease, not the copy read before.
     */
    @Test
    void rollback_ofAJournalReadBeforeItsRunWentOn_undoesWhatTheRunSentSince() {
        String usersLayer = fixtures.layer("user-utils", Architecture.X86_64);
        ApplyResult partial = partialRunOfWorkerA(usersLayer);
        String location = partial.journalLocation().orElseThrow();
        Journal readByWorkerB = Journal.read(store("worker-b"), location);
        assertThat(readByWorkerB.sent())
                .as(partial.toString())
                .extracting(j -> j.change().resourceId())
                .singleElement()
                .satisfies(arn -> assertThat(arn).endsWith(":function:orders"));
        // The run goes on: worker A resumes it, appending to the same journal.
        try (AgentInstaller workerA = installer("worker-a")) {
            ApplyResult resumed = workerA.resume(Journal.read(store("worker-a"), location));
            assertThat(resumed.status()).as(resumed.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
        }
        assertThat(layers(fixtures.config("payments"))).containsExactly(usersLayer, layer);

        try (AgentInstaller workerB = installer("worker-b")) {
            ApplyResult rolledBack = workerB.rollback(readByWorkerB);

            assertThat(rolledBack.status()).as(rolledBack.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
        }
        assertThat(layers(fixtures.config("orders"))).as("rolled back: orders").isEmpty();
        assertThat(layers(fixtures.config("payments")))
                .as("rolled back: payments")
                .containsExactly(usersLayer);
    }

    /**
     * A worker reads a run's journal, and the run goes on before that worker resumes it: the resume reads the journal
     * again and goes on from what the run did since, instead of a plan made from the old copy (which would apply again
     * what the run finished, and which taking the journal over refuses, as the journal has grown).
     */
    @Test
    void resume_ofAJournalReadBeforeItsRunWentOn_resumesFromTheJournalAsItIsNow() {
        String usersLayer = fixtures.layer("user-utils", Architecture.X86_64);
        ApplyResult partial = partialRunOfWorkerA(usersLayer);
        String location = partial.journalLocation().orElseThrow();
        Journal readByWorkerB = Journal.read(store("worker-b"), location);
        assertThat(readByWorkerB.unfinished())
                .as(partial.toString())
                .extracting(Change::resourceId)
                .singleElement()
                .satisfies(arn -> assertThat(arn).endsWith(":function:payments"));
        try (AgentInstaller workerA = installer("worker-a")) {
            ApplyResult resumed = workerA.resume(Journal.read(store("worker-a"), location));
            assertThat(resumed.status()).as(resumed.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
        }
        // After the run finished, the owner of "payments" takes the agent off it again.
        fixtures.lambda.updateFunctionConfiguration(
                r -> r.functionName("payments").layers(usersLayer));

        ApplyResult resumedByB;
        try (AgentInstaller workerB = installer("worker-b")) {
            resumedByB = workerB.resume(readByWorkerB);
        }

        assertThat(resumedByB.status())
                .as("nothing left: the run finished since B read it; %s", resumedByB)
                .isEqualTo(ApplyResult.Status.NOTHING_TO_DO);
        assertThat(layers(fixtures.config("payments")))
                .as("the finished run is not applied again")
                .containsExactly(usersLayer);
        assertThat(Journal.read(store("worker-b"), location).unfinished()).isEmpty();
    }

    /**
     * Worker A plans the install, then the owner of "payments" adds a layer to it, so worker A's apply of that plan
     * skips it: the run has work left.
     *
     * @return worker A's apply
     */
    private ApplyResult partialRunOfWorkerA(String usersLayer) {
        com.cloudaeye.agent.Plan plan;
        try (AgentInstaller planning = installer("worker-a")) {
            plan = planning.plan();
        }
        fixtures.lambda.updateFunctionConfiguration(
                r -> r.functionName("payments").layers(usersLayer));
        try (AgentInstaller workerA = installer("worker-a")) {
            return workerA.apply(plan);
        }
    }

    /** Asserts that {@code owner} held the journal's lease last and released it (its expiry is past). */
    private void assertReleasedBy(String key, String owner, String when) {
        GetObjectResponse after =
                s3.getObjectAsBytes(r -> r.bucket(bucket).key(key)).response();
        assertThat(after.metadata()).containsEntry("cloudaeye-lease-owner", owner);
        assertThat(Long.parseLong(after.metadata().get("cloudaeye-lease-expires")))
                .as(when)
                .isLessThanOrEqualTo(Instant.now().toEpochMilli());
    }

    /** @return a listener that records, when an apply starts, which worker holds the journal's lease */
    private ProgressListener leaseOwnerAtStart(String key, AtomicReference<String> owner) {
        return new ProgressListener() {
            @Override
            public void started(com.cloudaeye.agent.Plan plan, int total) {
                owner.set(s3.getObjectAsBytes(r -> r.bucket(bucket).key(key))
                        .response()
                        .metadata()
                        .get("cloudaeye-lease-owner"));
            }
        };
    }

    private static ApplyResult resultOf(java.util.function.Supplier<ApplyResult> apply) {
        try {
            return apply.get();
        } catch (ApplyException e) {
            return e.result(); // a rollback that stopped part way: its result is what the test needs
        }
    }

    /**
     * Puts a journal object back with another worker's lease, as that worker's takeover would: its lease line (which
     * readers skip) is new, so the object's ETag changes as with every real write.
     */
    private void leaseTo(String key, String owner, Instant expires) {
        StringBuilder body = new StringBuilder();
        s3.getObjectAsBytes(r -> r.bucket(bucket).key(key))
                .asUtf8String()
                .lines()
                .filter(l -> !l.startsWith("{\"cloudaeye-lease\""))
                .forEach(l -> body.append(l).append('\n'));
        body.append("{\"cloudaeye-lease\":{\"owner\":\"")
                .append(owner)
                .append("\",\"write\":\"")
                .append(UUID.randomUUID())
                .append("\"}}\n");
        s3.putObject(
                r -> r.bucket(bucket)
                        .key(key) // unconditional: the lease holder's renewals change the ETag meanwhile
                        .metadata(Map.of(
                                "cloudaeye-lease-owner",
                                owner,
                                "cloudaeye-lease-expires",
                                Long.toString(expires.toEpochMilli()))),
                RequestBody.fromString(body.toString()));
    }

    private AgentInstaller installer(String owner) {
        return builder(owner).build();
    }

    private com.cloudaeye.agent.AgentInstallerBuilder builder(String owner) {
        return fixtures.installer(LambdaTarget.builder()
                        .functions(FUNCTIONS.toArray(String[]::new))
                        .layer(Architecture.X86_64, layer)
                        .build())
                .journalStore(store(owner));
    }

    private JournalStore store(String owner) {
        return S3JournalStore.builder()
                .client(s3)
                .bucket(bucket)
                .prefix("runs/run-1/")
                .owner(owner)
                .lease(Duration.ofSeconds(3))
                .build();
    }

    private static List<String> layers(FunctionConfiguration config) {
        return config.layers().stream().map(Layer::arn).toList();
    }
}
