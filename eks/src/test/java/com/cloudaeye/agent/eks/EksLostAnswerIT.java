package com.cloudaeye.agent.eks;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.eks.internal.access.CrossAccountRoleAccess;
import com.cloudaeye.agent.testing.Moto;
import com.cloudaeye.agent.testing.ThrottlingProxy;
import com.cloudaeye.agent.testing.ThrottlingProxy.Fault;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import software.amazon.awssdk.services.eks.EksClient;
import software.amazon.awssdk.services.eks.model.LogSetup;
import software.amazon.awssdk.services.iam.IamClient;

/**
 * One call at a time fails after the change it belongs to may have landed: its answer is lost (the proxy forwards it
 * to moto, which applies it, and closes the connection), or a read that follows it fails. The change is still
 * reported applied, because it did land, and the next plan is empty.
 */
class EksLostAnswerIT {
    @TempDir
    Path journals;

    @BeforeEach
    void cluster() {
        Moto.reset();
        MotoEks.createCluster(MotoEks.CLUSTER);
    }

    private static EksTarget target() {
        return MotoEks.target()
                .controlPlaneLogging(true)
                .cloudAEyeAccess(a -> a.crossAccountRole("111122223333", "cloudaeye-tenant-4711"))
                .build();
    }

    @ParameterizedTest(name = "{0} ({1}), {2} attempts per call")
    @CsvSource({
        "UpdateClusterConfig, LOST_RESPONSE, 1",
        "CreateRole, LOST_RESPONSE, 1",
        "CreateRole, LOST_RESPONSE, 3",
        "PutRolePolicy, LOST_RESPONSE, 1",
        "DescribeLogGroups, SERVER_ERROR, 1",
    })
    void aChangeThatLanded_isReportedApplied_evenWhenACallOfItFailed(String operation, Fault fault, int attempts) {
        try (AgentInstaller direct = MotoEks.installer(target()).build();
                ThrottlingProxy proxy = ThrottlingProxy.builder()
                        .target(Moto.endpoint())
                        .fault(fault, 1.0)
                        .faultOnly(operation)
                        .start();
                AgentInstaller faulted = MotoEks.installer(target())
                        .endpointOverride(proxy.endpoint())
                        .retries(attempts, Duration.ofMillis(10))
                        .journalDirectory(journals)
                        .build()) {
            Plan plan = direct.plan();

            ApplyResult result = faulted.apply(plan);

            assertThat(proxy.faultsInjected()).as("the fault was injected").isPositive();
            assertThat(result.status()).as(result.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            assertThat(direct.plan().mutations()).as("nothing left to do").isEmpty();
            try (EksClient eks = MotoEks.eks();
                    IamClient iam = MotoEks.iam()) {
                assertThat(eks.describeCluster(r -> r.name(MotoEks.CLUSTER))
                                .cluster()
                                .logging()
                                .clusterLogging())
                        .filteredOn(LogSetup::enabled)
                        .flatExtracting(LogSetup::typesAsStrings)
                        .hasSize(5);
                assertThat(iam.listRolePolicies(r -> r.roleName(CrossAccountRoleAccess.ROLE_NAME))
                                .policyNames())
                        .containsExactly(CrossAccountRoleAccess.POLICY_NAME);
            }
        }
    }
}
