package com.cloudaeye.agent.eks;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.Journal;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.ResourceResult;
import com.cloudaeye.agent.eks.internal.access.IamUserStackAccess;
import com.cloudaeye.agent.internal.JournalWriter;
import com.cloudaeye.agent.testing.Moto;
import com.cloudaeye.agent.testing.ThrottlingProxy;
import com.cloudaeye.agent.testing.ThrottlingProxy.Fault;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.iam.model.AccessKeyMetadata;

/**
 * An install that only added an access key to CloudAEye's user (its stack existed before): the rollback deletes exactly
 * that key, by the id its apply journaled, and never another key of the user; without a journaled id (its answer was
 * lost, or the apply was killed before it), the key the user did not have when planned.
 */
class AccessKeyRollbackIT {
    @TempDir
    Path journals;

    private final List<AccessKey> sink = new CopyOnWriteArrayList<>();

    @BeforeEach
    void stackWithoutKey() {
        Moto.reset();
        MotoEks.createCluster(MotoEks.CLUSTER);
        try (AgentInstaller first = MotoEks.installer(target()).withoutJournal().build()) {
            ApplyResult result = first.apply(first.plan());
            assertThat(result.status()).as(result.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
        }
        // The key's secret was lost: its owner deleted it, and a new install makes one on the existing stack.
        try (IamClient iam = MotoEks.iam()) {
            iam.deleteAccessKey(r -> r.userName(IamUserStackAccess.USER_NAME)
                    .accessKeyId(sink.remove(0).accessKeyId()));
        }
    }

    @Test
    void rollback_deletesTheKeyTheInstallCreated_andNoOtherKeyOfTheUser() throws Exception {
        Journal journal;
        try (AgentInstaller installer =
                MotoEks.installer(target()).journalDirectory(journals).build()) {
            Plan plan = installer.plan();
            assertThat(plan.mutations())
                    .extracting(c -> c.resourceType() + " " + c.action())
                    .containsExactly(IamUserStackAccess.KEY_TYPE + " CREATE");
            ApplyResult result = installer.apply(plan);
            assertThat(result.status()).as(result.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            journal = Journal.read(result.journal().orElseThrow());
        }
        String created = sink.get(0).accessKeyId();
        String other;
        try (IamClient iam = MotoEks.iam()) {
            other = iam.createAccessKey(r -> r.userName(IamUserStackAccess.USER_NAME))
                    .accessKey()
                    .accessKeyId();
        }
        assertThat(keys()).containsExactlyInAnyOrder(created, other);

        // A fresh installer without a target, as an operator would roll back from the journal alone.
        try (AgentInstaller fresh =
                MotoEks.environment().journalDirectory(journals).build()) {
            Plan rollback = fresh.planRollback(journal);
            assertThat(rollback.mutations())
                    .singleElement()
                    .satisfies(c -> assertThat(c.action()).isEqualTo(ChangeAction.DELETE))
                    .satisfies(c -> assertThat(c.reason())
                            .hasValueSatisfying(
                                    r -> assertThat(r).contains(created).doesNotContain(other)));

            ApplyResult rolledBack = fresh.rollback(journal);

            assertThat(rolledBack.status()).as(rolledBack.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
        }
        assertThat(keys()).as("only the key the install created is gone").containsExactly(other);
        String secret = sink.get(0).secretAccessKey().reveal();
        try (Stream<Path> files = Files.walk(journals)) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                assertThat(Files.readString(file)).as(file.toString()).doesNotContain(secret);
            }
        }
    }

    /**
     * CreateAccessKey's answer was lost (the key landed, its secret with it), the retry's clean-up was refused and so
     * was its read-back: UNKNOWN, no key id journaled. The rollback deletes the key the user did not have when planned.
     */
    @Test
    void rollback_ofAKeyChangeWhoseAnswerWasLost_deletesTheKeyTheUserDidNotHaveBefore() {
        Journal journal;
        try (AgentInstaller direct =
                        MotoEks.installer(target()).withoutJournal().build();
                ThrottlingProxy proxy = ThrottlingProxy.builder()
                        .target(Moto.endpoint())
                        .lostThenDenied("CreateAccessKey", "CreateAccessKey", "ListAccessKeys", "DeleteAccessKey")
                        .start();
                AgentInstaller faulted = MotoEks.installer(target())
                        .endpointOverride(proxy.endpoint())
                        .retries(3, Duration.ofMillis(10))
                        .journalDirectory(journals)
                        .build()) {
            ApplyResult result = faulted.apply(direct.plan());

            assertThat(proxy.faults()).containsEntry(Fault.LOST_RESPONSE, 1L);
            assertThat(result.withOutcome(ResourceResult.Outcome.UNKNOWN))
                    .as(result.toString())
                    .singleElement()
                    .satisfies(r -> assertThat(r.change().resourceType()).isEqualTo(IamUserStackAccess.KEY_TYPE));
            journal = Journal.read(result.journal().orElseThrow());
        }
        assertThat(sink).as("the secret was lost with the answer").isEmpty();
        List<String> lost = keys();
        assertThat(lost).as("the lost answer's key landed").hasSize(1);

        assertRollbackDeletes(journal, lost.get(0));
    }

    /** An apply killed between CreateAccessKey's request and its answer: STARTING journaled, the key landed. */
    @Test
    void rollback_ofAKeyChangeKilledBeforeItsAnswer_deletesTheKeyTheUserDidNotHaveBefore() throws Exception {
        String secret;
        Journal killed;
        try (AgentInstaller installer =
                MotoEks.installer(target()).journalDirectory(journals).build()) {
            Plan plan = installer.plan();
            String made;
            try (IamClient iam = MotoEks.iam()) {
                var key = iam.createAccessKey(r -> r.userName(IamUserStackAccess.USER_NAME))
                        .accessKey();
                made = key.accessKeyId();
                secret = key.secretAccessKey();
            }
            killed = startedOnly(plan);
            assertThat(keys()).containsExactly(made);

            assertRollbackDeletes(killed, made);
        }
        try (Stream<Path> files = Files.walk(journals)) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                assertThat(Files.readString(file)).as(file.toString()).doesNotContain(secret);
            }
        }
    }

    /** Killed before CreateAccessKey landed: the user has only the keys it had, and the rollback changes nothing. */
    @Test
    void rollback_ofAKeyChangeKilledBeforeItLanded_isANoOp() {
        try (AgentInstaller installer =
                MotoEks.installer(target()).journalDirectory(journals).build()) {
            Journal killed = startedOnly(installer.plan());

            assertThat(installer.planRollback(killed).changes())
                    .singleElement()
                    .satisfies(c -> assertThat(c.action()).isEqualTo(ChangeAction.NO_OP));
            ApplyResult rolledBack = installer.rollback(killed);
            assertThat(rolledBack.isSuccess()).as(rolledBack.toString()).isTrue();
        }
        assertThat(keys()).isEmpty();
    }

    private void assertRollbackDeletes(Journal journal, String key) {
        try (AgentInstaller fresh =
                MotoEks.environment().journalDirectory(journals).build()) {
            Plan rollback = fresh.planRollback(journal);
            assertThat(rollback.mutations())
                    .as(rollback.toString())
                    .singleElement()
                    .satisfies(c -> assertThat(c.action()).isEqualTo(ChangeAction.DELETE))
                    .satisfies(c -> assertThat(c.reason())
                            .hasValueSatisfying(r -> assertThat(r).contains(key)));

            ApplyResult rolledBack = fresh.rollback(journal);

            assertThat(rolledBack.status()).as(rolledBack.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
        }
        assertThat(keys()).as("the key the install made is gone").isEmpty();
    }

    /** What a SIGKILL inside the key change leaves in the journal: its STARTING line, no outcome. */
    private Journal startedOnly(Plan plan) {
        Change change = plan.mutations().stream()
                .filter(c -> c.resourceType().equals(IamUserStackAccess.KEY_TYPE))
                .findFirst()
                .orElseThrow();
        Path path;
        try (JournalWriter journal = JournalWriter.create(journals, plan)) {
            journal.record(Journal.Event.STARTING, change, null, null);
            path = journal.path();
        }
        return Journal.read(path);
    }

    private EksTarget target() {
        return MotoEks.target()
                .cloudAEyeAccess(a -> a.iamUserStack().accessKeySink(sink::add))
                .build();
    }

    private static List<String> keys() {
        try (IamClient iam = MotoEks.iam()) {
            return iam.listAccessKeys(r -> r.userName(IamUserStackAccess.USER_NAME)).accessKeyMetadata().stream()
                    .map(AccessKeyMetadata::accessKeyId)
                    .toList();
        }
    }
}
