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
 * is UNKNOWN, journals the tag, and a rollback removes it.
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

    private ApplyResult applyRefusing(String... operations) {
        try (AgentInstaller direct = installer().withoutJournal().build();
                ThrottlingProxy proxy = ThrottlingProxy.builder()
                        .target(Moto.endpoint())
                        .fault(Fault.ACCESS_DENIED, 1.0)
                        .faultOnly(operations)
                        .start();
                AgentInstaller faulted = installer()
                        .endpointOverride(proxy.endpoint())
                        .retries(3, Duration.ofMillis(10))
                        .journalDirectory(journals)
                        .build()) {
            ApplyResult result = faulted.apply(direct.plan());
            assertThat(proxy.faults()).containsKey(Fault.ACCESS_DENIED);
            assertThat(proxy.requests("TagResource"))
                    .as("the tag was set first")
                    .isEqualTo(1);
            return result;
        }
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
