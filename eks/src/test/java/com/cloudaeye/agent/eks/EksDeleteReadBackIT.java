package com.cloudaeye.agent.eks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.Journal;
import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.ResourceResult;
import com.cloudaeye.agent.eks.internal.access.IamUserStackAccess;
import com.cloudaeye.agent.testing.Moto;
import com.cloudaeye.agent.testing.ThrottlingProxy;
import com.cloudaeye.agent.testing.ThrottlingProxy.Fault;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import software.amazon.awssdk.services.cloudformation.CloudFormationClient;
import software.amazon.awssdk.services.cloudformation.model.StackSummary;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.iam.model.AccessKeyMetadata;
import software.amazon.awssdk.services.iam.model.AttachedPolicy;

/**
 * The delete calls of an uninstall or a rollback of CloudAEye's IAM-user stack ({@code DetachUserPolicy}, {@code
 * DeleteStack}, {@code DeleteAccessKey}) are read back after any error: gone is applied, still there is failed (or,
 * when an earlier call of the same change landed, unknown), unreadable is unknown, and resume finishes it.
 */
class EksDeleteReadBackIT {
    @TempDir
    Path journals;

    private final List<AccessKey> sink = new CopyOnWriteArrayList<>();
    private Journal installed;

    @BeforeEach
    void installed() {
        Moto.reset();
        MotoEks.createCluster(MotoEks.CLUSTER);
        try (AgentInstaller direct = direct()) {
            ApplyResult result = direct.apply(direct.plan());
            assertThat(result.status()).as(result.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            installed = Journal.read(result.journal().orElseThrow());
        }
        assertThat(sink).hasSize(1);
    }

    /** The first answer is lost after the call landed, and its retry is refused: the read-back finds it done. */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"DetachUserPolicy", "DeleteStack", "DeleteAccessKey"})
    void uninstall_whenALostDeleteAnswersRetryIsDenied_readsItBack_andSucceeds(String operation) {
        ApplyResult result;
        try (AgentInstaller direct = direct();
                ThrottlingProxy proxy = ThrottlingProxy.builder()
                        .target(Moto.endpoint())
                        .lostThenDenied(operation, operation)
                        .start();
                AgentInstaller faulted = faulted(proxy)) {
            result = faulted.apply(direct.planUninstall());

            assertThat(proxy.faults()).containsEntry(Fault.LOST_RESPONSE, 1L).containsEntry(Fault.ACCESS_DENIED, 1L);
        }
        assertThat(result.status()).as(result.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
        assertStackGone();
    }

    @Test
    void rollback_whenALostDeleteStackAnswersRetryIsDenied_readsItBack_andSucceeds() {
        ApplyResult result;
        try (ThrottlingProxy proxy = ThrottlingProxy.builder()
                        .target(Moto.endpoint())
                        .lostThenDenied("DeleteStack", "DeleteStack")
                        .start();
                AgentInstaller faulted = faulted(proxy)) {
            result = faulted.rollback(installed);

            assertThat(proxy.faults()).containsEntry(Fault.ACCESS_DENIED, 1L);
        }
        assertThat(result.status()).as(result.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
        assertStackGone();
    }

    /** As above, but the read-back is denied too: unknown (never failed), saying what to do; resume finishes it. */
    @ParameterizedTest(name = "{0}, read back with {1}")
    @CsvSource({
        "DetachUserPolicy, ListAttachedUserPolicies",
        "DeleteStack, DescribeStacks",
        "DeleteAccessKey, ListAccessKeys"
    })
    void uninstall_whenTheReadBackOfALostDeleteIsDenied_isUnknown_andResumeFinishes(String operation, String read) {
        ApplyResult result;
        try (AgentInstaller direct = direct();
                ThrottlingProxy proxy = ThrottlingProxy.builder()
                        .target(Moto.endpoint())
                        .lostThenDenied(operation, operation, read)
                        .start();
                AgentInstaller faulted = faulted(proxy)) {
            result = faulted.apply(direct.planUninstall());

            assertThat(proxy.faults()).containsEntry(Fault.LOST_RESPONSE, 1L);
        }
        assertThat(result.withOutcome(ResourceResult.Outcome.UNKNOWN))
                .as(result.toString())
                .singleElement()
                .satisfies(r -> assertThat(r.message())
                        .hasValueSatisfying(m -> assertThat(m).contains(operation, "roll back")));
        assertThat(result.withOutcome(ResourceResult.Outcome.FAILED))
                .as(result.toString())
                .isEmpty();
        try (AgentInstaller direct = direct()) {
            ApplyResult resumed = direct.resume(Journal.read(result.journal().orElseThrow()));
            assertThat(resumed.isSuccess()).as(resumed.toString()).isTrue();
        }
        assertStackGone();
    }

    /** Refused outright: nothing changed, so the change is failed and the policy still attached. */
    @Test
    void uninstall_whenDetachUserPolicyIsRefused_isFailed_andThePolicyStaysAttached() {
        ApplyResult result = uninstallRefusing("DetachUserPolicy");

        assertThat(result.withOutcome(ResourceResult.Outcome.FAILED))
                .as(result.toString())
                .singleElement()
                .satisfies(r -> assertThat(r.change().resourceType()).isEqualTo(IamUserStackAccess.STACK_TYPE));
        assertThat(attachedPolicies()).containsExactly(IamUserStackAccess.POLICY_NAME);
    }

    @Test
    void uninstall_whenDeleteAccessKeyIsRefused_isFailed_andTheKeyStays() {
        ApplyResult result = uninstallRefusing("DeleteAccessKey");

        assertThat(result.withOutcome(ResourceResult.Outcome.FAILED))
                .as(result.toString())
                .anySatisfy(r -> assertThat(r.change().resourceType()).isEqualTo(IamUserStackAccess.KEY_TYPE));
        assertThat(result.withOutcome(ResourceResult.Outcome.APPLIED))
                .as(result.toString())
                .noneSatisfy(r -> assertThat(r.change().resourceType()).isEqualTo(IamUserStackAccess.KEY_TYPE));
    }

    /**
     * DeleteStack refused after the policy was detached: the policy is attached again, so nothing of the change is
     * left and it is failed, naming the refusal; uninstalling again then finishes.
     */
    @Test
    void uninstall_whenDeleteStackIsRefusedAfterTheDetach_reattachesThePolicy_andIsFailed() {
        ApplyResult result = uninstallRefusing("DeleteStack");

        assertThat(result.withOutcome(ResourceResult.Outcome.UNKNOWN))
                .as(result.toString())
                .isEmpty();
        assertThat(result.withOutcome(ResourceResult.Outcome.FAILED))
                .as(result.toString())
                .singleElement()
                .satisfies(r -> assertThat(r.message())
                        .hasValueSatisfying(m -> assertThat(m).contains("DeleteStack", "attached again")));
        assertThat(attachedPolicies()).containsExactly(IamUserStackAccess.POLICY_NAME);
        try (AgentInstaller direct = direct()) {
            ApplyResult again = direct.apply(direct.planUninstall());
            assertThat(again.isSuccess()).as(again.toString()).isTrue();
        }
        assertStackGone();
    }

    /**
     * An uninstall that stopped after detaching the policy leaves the stack without access: an install plans to attach
     * the policy again instead of seeing nothing to do.
     */
    @Test
    void install_whenAHalfDoneUninstallDetachedThePolicy_attachesItAgain() {
        try (IamClient iam = MotoEks.iam()) {
            String policyArn = iam.listAttachedUserPolicies(r -> r.userName(IamUserStackAccess.USER_NAME))
                    .attachedPolicies()
                    .get(0)
                    .policyArn();
            iam.detachUserPolicy(r -> r.userName(IamUserStackAccess.USER_NAME).policyArn(policyArn));
        }
        try (AgentInstaller direct = MotoEks.installer(MotoEks.target()
                        .cloudAEyeAccess(a -> a.iamUserStack()
                                .accessKeySink(sink::add)
                                .reuseAccessKey(sink.get(0).accessKeyId()))
                        .build())
                .journalDirectory(journals)
                .build()) {
            Plan plan = direct.plan();
            assertThat(plan.mutations()).as(plan.toString()).singleElement().satisfies(c -> {
                assertThat(c.resourceType()).isEqualTo(IamUserStackAccess.STACK_TYPE);
                assertThat(c.action()).isEqualTo(ChangeAction.UPDATE);
                assertThat(c.permissions()).extracting(Permission::action).contains("iam:AttachUserPolicy");
            });

            ApplyResult result = direct.apply(plan);

            assertThat(result.status()).as(result.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            assertThat(attachedPolicies()).containsExactly(IamUserStackAccess.POLICY_NAME);
            assertThat(direct.plan().isEmpty()).isTrue();
        }
    }

    /**
     * Termination protection turned on after the uninstall was planned and before it is applied (moto has none: {@link
     * TerminationProtection} emulates it in front of moto, refusing DeleteStack as AWS does). The apply reads the stack
     * first and deletes nothing: the key (whose secret cannot come back) and the policy's attachment stay, both
     * changes are skipped naming the fix, and once protection is off a new plan and apply uninstall.
     */
    @Test
    void uninstall_whenTerminationProtectionIsTurnedOnAfterPlanning_deletesNothing_andAfterItIsOffUninstalls()
            throws IOException {
        List<ApplyResult> results = new ArrayList<>();
        try (AgentInstaller direct = direct();
                ThrottlingProxy proxy = ThrottlingProxy.builder()
                        .target(new TerminationProtection(Moto.endpoint()))
                        .start();
                AgentInstaller guarded = faulted(proxy);
                CloudFormationClient cfn = CloudFormationClient.builder()
                        .region(Moto.REGION)
                        .credentialsProvider(Moto.credentials())
                        .endpointOverride(proxy.endpoint())
                        .build()) {
            Plan uninstall = direct.planUninstall();
            assertThat(uninstall.mutations())
                    .as(uninstall.toString())
                    .extracting(c -> c.resourceType() + " " + c.action())
                    .contains(IamUserStackAccess.STACK_TYPE + " DELETE", IamUserStackAccess.KEY_TYPE + " DELETE");

            cfn.updateTerminationProtection(
                    r -> r.stackName(IamUserStackAccess.STACK_NAME).enableTerminationProtection(true));
            assertThatThrownBy(() -> cfn.deleteStack(r -> r.stackName(IamUserStackAccess.STACK_NAME)))
                    .as("the emulation refuses DeleteStack as AWS does")
                    .hasMessageContaining("cannot be deleted while TerminationProtection is enabled");
            proxy.resetCounters();

            ApplyResult refused = guarded.apply(uninstall);
            results.add(refused);

            assertThat(refused.withOutcome(ResourceResult.Outcome.SKIPPED))
                    .as(refused.toString())
                    .extracting(r -> r.change().resourceType())
                    .containsExactlyInAnyOrder(IamUserStackAccess.STACK_TYPE, IamUserStackAccess.KEY_TYPE);
            assertThat(refused.withOutcome(ResourceResult.Outcome.SKIPPED))
                    .allSatisfy(r -> assertThat(r.message())
                            .hasValueSatisfying(m -> assertThat(m)
                                    .contains(
                                            IamUserStackAccess.STACK_NAME,
                                            "termination protection",
                                            "aws cloudformation update-termination-protection"
                                                    + " --no-enable-termination-protection --stack-name "
                                                    + IamUserStackAccess.STACK_NAME)));
            assertThat(List.of("DeleteAccessKey", "DetachUserPolicy", "DeleteStack", "AttachUserPolicy"))
                    .allSatisfy(
                            call -> assertThat(proxy.requests(call)).as(call).isZero());
            try (IamClient iam = MotoEks.iam()) {
                assertThat(iam.listAccessKeys(r -> r.userName(IamUserStackAccess.USER_NAME))
                                .accessKeyMetadata())
                        .extracting(AccessKeyMetadata::accessKeyId)
                        .containsExactly(sink.get(0).accessKeyId());
            }
            assertThat(attachedPolicies()).containsExactly(IamUserStackAccess.POLICY_NAME);

            cfn.updateTerminationProtection(
                    r -> r.stackName(IamUserStackAccess.STACK_NAME).enableTerminationProtection(false));
            ApplyResult again = guarded.apply(guarded.planUninstall());
            results.add(again);

            assertThat(again.status()).as(again.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
        }
        assertStackGone();
        assertNoSecretIn(results);
    }

    /** Neither the key's secret nor the agent's token is in a result's message or a journal. */
    private void assertNoSecretIn(List<ApplyResult> results) throws IOException {
        StringBuilder all = new StringBuilder();
        for (ApplyResult result : results) {
            all.append(result).append('\n');
            result.results().forEach(r -> all.append(r.message().orElse("")).append('\n'));
        }
        try (Stream<Path> files = Files.list(journals)) {
            for (Path file : files.toList()) {
                all.append(Files.readString(file)).append('\n');
            }
        }
        assertThat(all).contains(IamUserStackAccess.STACK_NAME);
        assertThat(all.toString())
                .doesNotContain(sink.get(0).secretAccessKey().reveal())
                .doesNotContain("cloudaeye-api-token-for-tests");
    }

    private ApplyResult uninstallRefusing(String operation) {
        try (AgentInstaller direct = direct();
                ThrottlingProxy proxy = ThrottlingProxy.builder()
                        .target(Moto.endpoint())
                        .fault(Fault.ACCESS_DENIED, 1.0)
                        .faultOnly(operation)
                        .start();
                AgentInstaller faulted = faulted(proxy)) {
            ApplyResult result = faulted.apply(direct.planUninstall());
            assertThat(proxy.faults()).containsEntry(Fault.ACCESS_DENIED, 1L);
            return result;
        }
    }

    private AgentInstaller direct() {
        return MotoEks.installer(target()).journalDirectory(journals).build();
    }

    private AgentInstaller faulted(ThrottlingProxy proxy) {
        return MotoEks.installer(target())
                .endpointOverride(proxy.endpoint())
                .retries(3, Duration.ofMillis(10))
                .journalDirectory(journals)
                .build();
    }

    private EksTarget target() {
        return MotoEks.target()
                .cloudAEyeAccess(a -> a.iamUserStack().accessKeySink(sink::add))
                .build();
    }

    private static void assertStackGone() {
        try (CloudFormationClient cfn = MotoEks.cloudFormation()) {
            assertThat(cfn.listStacks().stackSummaries())
                    .extracting(StackSummary::stackStatusAsString)
                    .containsOnly("DELETE_COMPLETE");
        }
        try (IamClient iam = MotoEks.iam()) {
            assertThat(iam.listUsers().users()).noneMatch(u -> u.userName().equals(IamUserStackAccess.USER_NAME));
        }
    }

    private static List<String> attachedPolicies() {
        try (IamClient iam = MotoEks.iam()) {
            return iam
                    .listAttachedUserPolicies(r -> r.userName(IamUserStackAccess.USER_NAME))
                    .attachedPolicies()
                    .stream()
                    .map(AttachedPolicy::policyName)
                    .toList();
        }
    }
}
