package com.cloudaeye.agent.eks;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.Journal;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.eks.internal.access.IamUserStackAccess;
import com.cloudaeye.agent.testing.Moto;
import java.nio.file.Files;
import java.nio.file.Path;
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
 * that key, by the id its apply journaled, and never another key of the user.
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
