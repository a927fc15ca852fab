package com.cloudaeye.agent.eks;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.Journal;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.ResourceResult;
import com.cloudaeye.agent.eks.internal.access.CrossAccountRoleAccess;
import com.cloudaeye.agent.eks.internal.access.IamUserStackAccess;
import com.cloudaeye.agent.testing.Moto;
import com.cloudaeye.agent.testing.ThrottlingProxy;
import com.cloudaeye.agent.testing.ThrottlingProxy.Fault;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import software.amazon.awssdk.services.eks.EksClient;
import software.amazon.awssdk.services.eks.model.LogSetup;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.iam.model.AccessKeyMetadata;

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

    /**
     * The scheduler retries a call whose answer was lost, and the retry is refused (access denied): the first attempt
     * landed, so the read-back finds the change and it is applied, never FAILED (which says nothing changed).
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"TagResource", "UpdateClusterConfig", "CreateRole", "PutRolePolicy"})
    void aLostAnswerWhoseRetryIsDenied_isReadBack_andReportedApplied(String operation) {
        try (AgentInstaller direct = MotoEks.installer(target()).build();
                ThrottlingProxy proxy = ThrottlingProxy.builder()
                        .target(Moto.endpoint())
                        .lostThenDenied(operation, operation)
                        .start();
                AgentInstaller faulted = faulted(target(), proxy)) {
            ApplyResult result = faulted.apply(direct.plan());

            assertThat(proxy.faults()).containsEntry(Fault.LOST_RESPONSE, 1L).containsEntry(Fault.ACCESS_DENIED, 1L);
            assertThat(result.status()).as(result.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            assertThat(direct.plan().mutations()).as("nothing left to do").isEmpty();
        }
    }

    /**
     * As above, but the read-back is denied too: the change may have landed, so it is UNKNOWN (never FAILED), its
     * message says what to do, and a resume finishes it.
     */
    @ParameterizedTest(name = "{0}, read back with {1}")
    @CsvSource({"UpdateClusterConfig, DescribeCluster", "CreateRole, GetRole", "CreateStack, DescribeStacks"})
    void aLostAnswerWhoseReadBackIsDenied_isUnknown_andResumeFinishes(String operation, String readBack) {
        List<AccessKey> sink = new CopyOnWriteArrayList<>();
        EksTarget target = operation.equals("CreateStack") ? userStack(sink) : target();
        ApplyResult result;
        try (AgentInstaller direct = MotoEks.installer(target).build();
                ThrottlingProxy proxy = ThrottlingProxy.builder()
                        .target(Moto.endpoint())
                        .lostThenDenied(operation, operation, readBack)
                        .start();
                AgentInstaller faulted = faulted(target, proxy)) {
            result = faulted.apply(direct.plan());
            assertThat(proxy.faults()).containsEntry(Fault.LOST_RESPONSE, 1L);
        }
        assertThat(result.withOutcome(ResourceResult.Outcome.UNKNOWN))
                .as(result.toString())
                .isNotEmpty()
                .allSatisfy(r -> assertThat(r.message())
                        .hasValueSatisfying(m -> assertThat(m).contains("roll back")));
        assertThat(result.status()).isNotEqualTo(ApplyResult.Status.FAILED);
        try (AgentInstaller direct =
                MotoEks.installer(target).journalDirectory(journals).build()) {
            ApplyResult resumed = direct.resume(Journal.read(result.journal().orElseThrow()));
            assertThat(resumed.isSuccess()).as(resumed.toString()).isTrue();
            assertThat(direct.plan().mutations()).as("nothing left to do").isEmpty();
        }
    }

    /**
     * A CreateAccessKey whose answer was lost and whose retry was refused made a key nobody holds: it is deleted, so
     * the change is FAILED truthfully (nothing is left), and a re-run hands over the only key.
     */
    @Test
    void aLostCreateAccessKeyAnswer_whoseRetryIsDenied_leavesNoKey() {
        List<AccessKey> sink = new CopyOnWriteArrayList<>();
        try (ThrottlingProxy proxy = ThrottlingProxy.builder()
                        .target(Moto.endpoint())
                        .lostThenDenied("CreateAccessKey", "CreateAccessKey")
                        .start();
                AgentInstaller faulted = faulted(userStack(sink), proxy)) {
            ApplyResult result = faulted.apply(faulted.plan());

            assertThat(proxy.faults()).containsEntry(Fault.ACCESS_DENIED, 1L);
            assertThat(result.withOutcome(ResourceResult.Outcome.FAILED))
                    .as(result.toString())
                    .singleElement()
                    .satisfies(r -> assertThat(r.change().resourceType()).isEqualTo(IamUserStackAccess.KEY_TYPE));
            assertThat(sink).isEmpty();
            assertThat(accessKeyIds())
                    .as("the key whose secret was lost is deleted")
                    .isEmpty();
        }
    }

    private AgentInstaller faulted(EksTarget target, ThrottlingProxy proxy) {
        return MotoEks.installer(target)
                .endpointOverride(proxy.endpoint())
                .retries(3, Duration.ofMillis(10))
                .journalDirectory(journals)
                .build();
    }

    /**
     * CreateAccessKey has no idempotency token and its secret is only in its answer: a key whose answer was lost is
     * deleted before the retry, so the user ends with exactly the key the sink received.
     */
    @Test
    void aLostCreateAccessKeyAnswer_leavesNoOrphanedKey_andTheRetryHandsOverTheOnlyKey() {
        List<AccessKey> sink = new CopyOnWriteArrayList<>();
        try (ThrottlingProxy proxy = ThrottlingProxy.builder()
                        .target(Moto.endpoint())
                        .fault(Fault.LOST_RESPONSE, 1.0)
                        .faultOnly("CreateAccessKey")
                        .maxFaults(1)
                        .start();
                AgentInstaller faulted = MotoEks.installer(userStack(sink))
                        .endpointOverride(proxy.endpoint())
                        .retries(3, Duration.ofMillis(10))
                        .journalDirectory(journals)
                        .build()) {
            ApplyResult result = faulted.apply(faulted.plan());

            assertThat(proxy.faultsInjected())
                    .as("the first CreateAccessKey answer was lost")
                    .isEqualTo(1);
            assertThat(proxy.requests("CreateAccessKey")).isEqualTo(2);
            assertThat(result.status()).as(result.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            assertThat(sink).hasSize(1);
            assertThat(accessKeyIds()).containsExactly(sink.get(0).accessKeyId());
        }
    }

    @Test
    void everyCreateAccessKeyAnswerLost_failsTheKeyChange_leavesNoKey_andAReRunHandsOverOne() {
        List<AccessKey> sink = new CopyOnWriteArrayList<>();
        try (ThrottlingProxy proxy = ThrottlingProxy.builder()
                        .target(Moto.endpoint())
                        .fault(Fault.LOST_RESPONSE, 1.0)
                        .faultOnly("CreateAccessKey")
                        .start();
                AgentInstaller faulted = MotoEks.installer(userStack(sink))
                        .endpointOverride(proxy.endpoint())
                        .retries(2, Duration.ofMillis(10))
                        .journalDirectory(journals)
                        .build()) {
            ApplyResult result = faulted.apply(faulted.plan());

            assertThat(proxy.requests("CreateAccessKey")).isEqualTo(2);
            assertThat(result.status()).as(result.toString()).isEqualTo(ApplyResult.Status.PARTIAL);
            assertThat(result.withOutcome(ResourceResult.Outcome.FAILED))
                    .singleElement()
                    .satisfies(r -> assertThat(r.change().resourceType()).isEqualTo(IamUserStackAccess.KEY_TYPE));
            assertThat(sink).isEmpty();
            assertThat(accessKeyIds())
                    .as("both keys whose secret was lost are deleted")
                    .isEmpty();
        }
        try (AgentInstaller direct = MotoEks.installer(userStack(sink)).build()) {
            ApplyResult rerun = direct.apply(direct.plan());

            assertThat(rerun.status()).as(rerun.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            assertThat(sink).hasSize(1);
            assertThat(accessKeyIds()).containsExactly(sink.get(0).accessKeyId());
        }
    }

    private static EksTarget userStack(List<AccessKey> sink) {
        return MotoEks.target()
                .cloudAEyeAccess(a -> a.iamUserStack().accessKeySink(sink::add))
                .build();
    }

    private static List<String> accessKeyIds() {
        try (IamClient iam = MotoEks.iam()) {
            return iam.listAccessKeys(r -> r.userName(IamUserStackAccess.USER_NAME)).accessKeyMetadata().stream()
                    .map(AccessKeyMetadata::accessKeyId)
                    .toList();
        }
    }
}
