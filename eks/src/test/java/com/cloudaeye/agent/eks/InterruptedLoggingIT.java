package com.cloudaeye.agent.eks;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.Journal;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.eks.internal.ControlPlaneLogging;
import com.cloudaeye.agent.internal.JournalWriter;
import com.cloudaeye.agent.testing.Moto;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.eks.EksClient;
import software.amazon.awssdk.services.eks.model.Cluster;

/**
 * An apply killed inside a logging change, after it recorded its log types in the cluster tag and before {@code
 * UpdateClusterConfig}: the journal says STARTING, the cluster has our tag and its old logging. A rollback must remove
 * the tag (the cluster is then byte-equal to its original), and a resume must finish the change.
 */
class InterruptedLoggingIT {
    private static final Map<String, String> USER_TAGS = Map.of("team", "payments");

    @TempDir
    Path journals;

    private EksClient eks;
    private Cluster original;

    @BeforeEach
    void cluster() {
        Moto.reset();
        eks = MotoEks.eks();
        eks.createCluster(r -> r.name(MotoEks.CLUSTER)
                .roleArn("arn:aws:iam::" + Moto.ACCOUNT + ":role/eks-cluster")
                .resourcesVpcConfig(v -> v.subnetIds("subnet-0a1b2c3d"))
                .tags(USER_TAGS));
        original = describe();
    }

    @AfterEach
    void close() {
        eks.close();
    }

    @Test
    void rollback_ofAnInstallKilledAfterTaggingBeforeTheUpdate_removesTheTag() {
        try (AgentInstaller installer = installer()) {
            Journal killed = killedAfterTagging(installer);

            Plan rollback = installer.planRollback(killed);
            ApplyResult result = installer.apply(rollback);

            assertThat(result.status()).as(result.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            Cluster now = describe();
            assertThat(now.tags()).isEqualTo(original.tags());
            assertThat(now.logging()).isEqualTo(original.logging());
            assertThat(rollback.requiredPolicy().actions())
                    .as("the rollback's policy: what it called, no logging update")
                    .containsAll(result.calls().keySet())
                    .doesNotContain("eks:UpdateClusterConfig");
        }
    }

    @Test
    void resume_ofAnInstallKilledAfterTaggingBeforeTheUpdate_enablesTheLogTypes() {
        try (AgentInstaller installer = installer()) {
            Journal killed = killedAfterTagging(installer);

            ApplyResult result = installer.resume(killed);

            assertThat(result.status()).as(result.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            Cluster now = describe();
            assertThat(now.tags())
                    .containsEntry("team", "payments")
                    .containsEntry(ControlPlaneLogging.TAG, "api,audit,authenticator,controllerManager,scheduler");
            assertThat(now.logging().clusterLogging())
                    .singleElement()
                    .satisfies(s -> assertThat(s.enabled()).isTrue())
                    .satisfies(s -> assertThat(s.typesAsStrings()).hasSize(5));
            assertThat(installer.plan().mutations()).isEmpty();
        }
    }

    /** What a SIGKILL right after the tag leaves: a journal with the change STARTING, and the tag on the cluster. */
    private Journal killedAfterTagging(AgentInstaller installer) {
        Plan plan = installer.plan();
        Change change = plan.mutations().get(0);
        Path path;
        try (JournalWriter journal = JournalWriter.create(journals, plan)) {
            journal.record(Journal.Event.STARTING, change, null, null);
            path = journal.path();
        }
        String tag = change.targetState().path("tagAfter").asText();
        eks.tagResource(r -> r.resourceArn(original.arn()).tags(Map.of(ControlPlaneLogging.TAG, tag)));
        return Journal.read(path);
    }

    private AgentInstaller installer() {
        return MotoEks.installer(EksTarget.builder()
                        .cluster(MotoEks.CLUSTER)
                        .controlPlaneLogging(true)
                        .waits(Duration.ofMillis(50), Duration.ofSeconds(10))
                        .build())
                .journalDirectory(journals)
                .build();
    }

    private Cluster describe() {
        return eks.describeCluster(r -> r.name(MotoEks.CLUSTER)).cluster();
    }
}
