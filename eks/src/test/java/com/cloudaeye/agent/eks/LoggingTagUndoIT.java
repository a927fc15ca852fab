package com.cloudaeye.agent.eks;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.Journal;
import com.cloudaeye.agent.ResourceResult;
import com.cloudaeye.agent.eks.internal.ControlPlaneLogging;
import com.cloudaeye.agent.testing.Moto;
import com.cloudaeye.agent.testing.ThrottlingProxy;
import com.cloudaeye.agent.testing.ThrottlingProxy.Fault;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.eks.EksClient;
import software.amazon.awssdk.services.eks.model.LogSetup;

/**
 * The logging change records its log types in the cluster tag first, then sends UpdateClusterConfig. When the update
 * is refused, the tag is restored, so that FAILED (nothing changed) holds; when that cannot be confirmed, the change
 * is UNKNOWN, journals the tag, and a rollback removes it: checked against the live cluster, with the log types
 * reverted too when the update landed after all, and only the tag when it did not (whatever else changed since).
 */
class LoggingTagUndoIT {
    @TempDir
    Path journals;

    @BeforeEach
    void cluster() {
        Moto.reset();
        MotoEks.createCluster(MotoEks.CLUSTER);
    }

    @Test
    void apply_whenTheUpdateIsRefused_restoresTheTag_andIsFailed() {
        ApplyResult result = applyRefusing("UpdateClusterConfig");

        assertThat(result.status()).as(result.toString()).isEqualTo(ApplyResult.Status.FAILED);
        assertThat(result.withOutcome(ResourceResult.Outcome.FAILED)).hasSize(1);
        assertThat(tags()).as("nothing changed: the tag is gone again").doesNotContainKey(ControlPlaneLogging.TAG);
        assertThat(enabledTypes()).isZero();
    }

    @Test
    void apply_whenTheUpdateAndTheTagsRestoreAreRefused_isUnknown_andRollbackRemovesTheTag() {
        ApplyResult result = applyRefusing("UpdateClusterConfig", "UntagResource");

        assertThat(result.withOutcome(ResourceResult.Outcome.FAILED))
                .as(result.toString())
                .isEmpty();
        assertThat(result.withOutcome(ResourceResult.Outcome.UNKNOWN))
                .as(result.toString())
                .singleElement()
                .satisfies(r -> assertThat(r.message())
                        .hasValueSatisfying(m -> assertThat(m).contains(ControlPlaneLogging.TAG, "roll back")));
        Journal journal = Journal.read(result.journal().orElseThrow());
        assertThat(journal.sent())
                .singleElement()
                .satisfies(j -> assertThat(j.appliedState()).isNotNull())
                .satisfies(j -> assertThat(j.state().orElseThrow().path("tag").asText())
                        .isEqualTo(tags().get(ControlPlaneLogging.TAG)));
        assertThat(tags()).containsKey(ControlPlaneLogging.TAG);

        try (AgentInstaller direct = installer().journalDirectory(journals).build()) {
            ApplyResult rolledBack = direct.rollback(journal);

            assertThat(rolledBack.isSuccess()).as(rolledBack.toString()).isTrue();
        }
        assertThat(tags()).doesNotContainKey(ControlPlaneLogging.TAG);
        assertThat(enabledTypes()).isZero();
    }

    /**
     * As above, and someone enables another log type by hand before the rollback: the rollback reads the journaled
     * tag, sees that the update did not land (its types are off), restores the tag and leaves the other type on.
     */
    @Test
    void rollback_ofAnUnknownChangeWithItsTag_whenLoggingChangedSince_restoresTheTag_andKeepsTheOtherType() {
        EksTarget target = MotoEks.target().logTypes(LogType.API, LogType.AUDIT).build();
        ApplyResult result = applyRefusing(target, "UpdateClusterConfig", "UntagResource");
        assertThat(result.withOutcome(ResourceResult.Outcome.UNKNOWN))
                .as(result.toString())
                .hasSize(1);
        assertThat(tags()).containsEntry(ControlPlaneLogging.TAG, "api,audit");
        try (EksClient eks = MotoEks.eks()) {
            eks.updateClusterConfig(r -> r.name(MotoEks.CLUSTER)
                    .logging(l -> l.clusterLogging(LogSetup.builder()
                            .enabled(true)
                            .typesWithStrings("scheduler")
                            .build())));
        }

        ApplyResult rolledBack = rollback(result);

        assertThat(rolledBack.withOutcome(ResourceResult.Outcome.APPLIED))
                .as(rolledBack.toString())
                .hasSize(1);
        assertThat(tags()).doesNotContainKey(ControlPlaneLogging.TAG);
        assertThat(enabledTypes()).isEqualTo(1);
    }

    /**
     * UpdateClusterConfig landed but its answer was lost, its retry was refused and the read-back too: UNKNOWN with
     * the tag journaled. The rollback sees that the update landed after all and reverts the log types with the tag.
     */
    @Test
    void rollback_ofAnUnknownChangeWithItsTag_whenTheUpdateLandedAfterAll_revertsTheTypesAndTheTag() {
        EksTarget target = MotoEks.target().logTypes(LogType.API).build();
        ApplyResult result;
        try (AgentInstaller direct = MotoEks.installer(target).withoutJournal().build();
                ThrottlingProxy proxy = ThrottlingProxy.builder()
                        .target(Moto.endpoint())
                        .lostThenDenied("UpdateClusterConfig", "UpdateClusterConfig", "DescribeCluster")
                        .start();
                AgentInstaller faulted = faulted(target, proxy)) {
            result = faulted.apply(direct.plan());
            assertThat(proxy.faults()).containsEntry(Fault.LOST_RESPONSE, 1L);
        }
        assertThat(result.withOutcome(ResourceResult.Outcome.UNKNOWN))
                .as(result.toString())
                .hasSize(1);
        assertThat(Journal.read(result.journal().orElseThrow()).sent())
                .singleElement()
                .satisfies(j ->
                        assertThat(j.state().orElseThrow().path("tag").asText()).isEqualTo("api"));
        assertThat(enabledTypes()).as("the update landed").isEqualTo(1);

        ApplyResult rolledBack = rollback(result);

        assertThat(rolledBack.isSuccess()).as(rolledBack.toString()).isTrue();
        assertThat(tags()).doesNotContainKey(ControlPlaneLogging.TAG);
        assertThat(enabledTypes()).isZero();
    }

    private ApplyResult rollback(ApplyResult result) {
        try (AgentInstaller fresh =
                MotoEks.environment().journalDirectory(journals).build()) {
            return fresh.rollback(Journal.read(result.journal().orElseThrow()));
        }
    }

    private ApplyResult applyRefusing(String... operations) {
        return applyRefusing(MotoEks.target().controlPlaneLogging(true).build(), operations);
    }

    private ApplyResult applyRefusing(EksTarget target, String... operations) {
        try (AgentInstaller direct = MotoEks.installer(target).withoutJournal().build();
                ThrottlingProxy proxy = ThrottlingProxy.builder()
                        .target(Moto.endpoint())
                        .fault(Fault.ACCESS_DENIED, 1.0)
                        .faultOnly(operations)
                        .start();
                AgentInstaller faulted = faulted(target, proxy)) {
            ApplyResult result = faulted.apply(direct.plan());
            assertThat(proxy.faults()).containsKey(Fault.ACCESS_DENIED);
            assertThat(proxy.requests("TagResource"))
                    .as("the tag was set first")
                    .isEqualTo(1);
            return result;
        }
    }

    private AgentInstaller faulted(EksTarget target, ThrottlingProxy proxy) {
        return MotoEks.installer(target)
                .endpointOverride(proxy.endpoint())
                .retries(3, Duration.ofMillis(10))
                .journalDirectory(journals)
                .build();
    }

    private static com.cloudaeye.agent.AgentInstallerBuilder installer() {
        return MotoEks.installer(MotoEks.target().controlPlaneLogging(true).build());
    }

    private static Map<String, String> tags() {
        try (EksClient eks = MotoEks.eks()) {
            return eks.describeCluster(r -> r.name(MotoEks.CLUSTER)).cluster().tags();
        }
    }

    private static long enabledTypes() {
        try (EksClient eks = MotoEks.eks()) {
            return eks.describeCluster(r -> r.name(MotoEks.CLUSTER)).cluster().logging().clusterLogging().stream()
                    .filter(LogSetup::enabled)
                    .mapToLong(s -> s.types().size())
                    .sum();
        }
    }
}
