package com.cloudaeye.agent.eks;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.AgentInstallerBuilder;
import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.spi.Target;
import com.cloudaeye.agent.testing.Moto;
import com.cloudaeye.agent.testing.TargetContract;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.eks.EksClient;
import software.amazon.awssdk.services.eks.model.Cluster;
import software.amazon.awssdk.services.eks.model.LogSetup;

/** The shared target contract, for control-plane logging plus the IAM-user stack, against moto. */
class EksLoggingIT extends TargetContract {
    private final List<AccessKey> keys = new CopyOnWriteArrayList<>();

    @BeforeEach
    void cluster() {
        Moto.reset();
        MotoEks.createCluster(MotoEks.CLUSTER);
    }

    @Override
    protected Target target() {
        return MotoEks.target()
                .controlPlaneLogging(true)
                .cloudAEyeAccess(a -> a.iamUserStack().accessKeySink(keys::add))
                .build();
    }

    @Override
    protected AgentInstallerBuilder environment() {
        // The installer's sink: a fresh installer that applies a saved plan has no configured target to hold one.
        return MotoEks.environment().sink(EksTarget.ACCESS_KEY_SINK, keys::add);
    }

    @Test
    void install_enablesAllFiveTypesAndRecordsThem_andUninstallTurnsThemOffAgain() {
        try (AgentInstaller installer = MotoEks.installer(
                        MotoEks.target().controlPlaneLogging(true).build())
                .withoutJournal()
                .build()) {
            ApplyResult applied = installer.apply(installer.plan());
            assertThat(applied.status()).as(applied.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            Cluster cluster = describe();
            assertThat(enabled(cluster))
                    .containsExactly("api", "audit", "authenticator", "controllerManager", "scheduler");
            assertThat(cluster.tags())
                    .containsEntry(
                            "cloudaeye:logging-enabled-by-installer",
                            "api,audit,authenticator,controllerManager,scheduler");

            ApplyResult removed = installer.uninstall();
            assertThat(removed.status()).as(removed.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            assertThat(enabled(describe())).isEmpty();
            assertThat(describe().tags()).doesNotContainKey("cloudaeye:logging-enabled-by-installer");
        }
    }

    private static Cluster describe() {
        try (EksClient eks = MotoEks.eks()) {
            return eks.describeCluster(r -> r.name(MotoEks.CLUSTER)).cluster();
        }
    }

    private static List<String> enabled(Cluster cluster) {
        return cluster.logging().clusterLogging().stream()
                .filter(LogSetup::enabled)
                .flatMap(s -> s.typesAsStrings().stream())
                .sorted()
                .collect(Collectors.toList());
    }

    @Override
    protected Set<String> authorizationOnlyActions() {
        return Set.of(
                // moto's UpdateClusterConfig returns no update to wait on; on AWS the installer polls it.
                "eks:DescribeUpdate",
                // Read only when the stack fails.
                "cloudformation:DescribeStackEvents",
                // CloudFormation calls these with the caller's credentials to create the stack's user and policy.
                "iam:CreateUser",
                "iam:GetUser",
                "iam:CreatePolicy",
                "iam:AttachUserPolicy",
                // Only when a CreateAccessKey answer is lost: the key it made is deleted (EksLostAnswerIT).
                "iam:DeleteAccessKey");
    }

    @Override
    protected Set<String> failureAndReadBackOnlyActions() {
        return Set.of(
                // Read only after a DetachUserPolicy error, to see whether it landed (EksDeleteReadBackIT).
                "iam:ListAttachedUserPolicies",
                // Only to restore the installer's tag when the logging update is refused (LoggingTagUndoIT).
                "eks:UntagResource");
    }
}
