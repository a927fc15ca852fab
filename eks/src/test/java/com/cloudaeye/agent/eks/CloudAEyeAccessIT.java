package com.cloudaeye.agent.eks;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.Journal;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.ResourceResult;
import com.cloudaeye.agent.testing.Moto;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.cloudformation.CloudFormationClient;
import software.amazon.awssdk.services.cloudformation.model.Stack;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.iam.model.AccessKeyMetadata;
import software.amazon.awssdk.services.iam.model.AttachedPolicy;
import software.amazon.awssdk.services.iam.model.NoSuchEntityException;
import software.amazon.awssdk.services.iam.model.Role;

/** CloudAEye's access against moto: the IAM-user stack, its key and the key limit, the cross-account role. */
class CloudAEyeAccessIT {
    private static final String USER = "CloudAEyeServiceAccount";
    private static final String CLOUDAEYE_ACCOUNT = "111122223333";
    private static final String EXTERNAL_ID = "cloudaeye-tenant-4711";
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path journals;

    private final List<AccessKey> sink = new CopyOnWriteArrayList<>();
    private IamClient iam;
    private CloudFormationClient cfn;

    @BeforeEach
    void cluster() {
        Moto.reset();
        MotoEks.createCluster(MotoEks.CLUSTER);
        iam = MotoEks.iam();
        cfn = MotoEks.cloudFormation();
    }

    @AfterEach
    void close() {
        iam.close();
        cfn.close();
    }

    private AgentInstaller userStack(String reuseKey) {
        return MotoEks.installer(MotoEks.target()
                        .cloudAEyeAccess(a -> {
                            a.iamUserStack().accessKeySink(sink::add);
                            if (reuseKey != null) {
                                a.reuseAccessKey(reuseKey);
                            }
                        })
                        .build())
                .journalDirectory(journals)
                .build();
    }

    private AgentInstaller role(String account, String externalId) {
        return MotoEks.installer(MotoEks.target()
                        .cloudAEyeAccess(a -> a.crossAccountRole(account, externalId))
                        .build())
                .journalDirectory(journals)
                .build();
    }

    private List<String> keyIds() {
        return iam.listAccessKeys(r -> r.userName(USER)).accessKeyMetadata().stream()
                .map(AccessKeyMetadata::accessKeyId)
                .sorted()
                .collect(Collectors.toList());
    }

    @Test
    void userStack_createsStackUserPolicyAndOneKey_andHandsTheKeyOnlyToTheSink() throws Exception {
        try (AgentInstaller installer = userStack(null)) {
            ApplyResult result = installer.apply(installer.plan());

            assertThat(result.status()).as(result.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
        }
        Stack stack = cfn.describeStacks(r -> r.stackName("CloudAEyeServiceAccountStack"))
                .stacks()
                .get(0);
        assertThat(stack.stackStatusAsString()).isEqualTo("CREATE_COMPLETE");
        assertThat(stack.outputs()).as("no output can show a secret").isEmpty();
        assertThat(iam.getUser(r -> r.userName(USER)).user().userName()).isEqualTo(USER);
        List<AttachedPolicy> attached =
                iam.listAttachedUserPolicies(r -> r.userName(USER)).attachedPolicies();
        assertThat(attached).extracting(AttachedPolicy::policyName).containsExactly("CloudAEyeServiceAccountPolicy");
        String policyArn = attached.get(0).policyArn();
        String version = iam.getPolicy(r -> r.policyArn(policyArn)).policy().defaultVersionId();
        String document = URLDecoder.decode(
                iam.getPolicyVersion(r -> r.policyArn(policyArn).versionId(version))
                        .policyVersion()
                        .document(),
                StandardCharsets.UTF_8);
        JsonNode statement = JSON.readTree(document).path("Statement").get(0);
        assertThat(statement.path("Action").toString())
                .contains("logs:GetLogEvents")
                .doesNotContain("*\"");
        assertThat(statement.path("Resource").toString())
                .contains("arn:aws:logs:us-east-1:" + Moto.ACCOUNT + ":log-group:/aws/eks/prod-eks/cluster")
                .doesNotContain("log-group:*");
        assertThat(sink).hasSize(1);
        assertThat(keyIds()).containsExactly(sink.get(0).accessKeyId());
        assertThat(sink.get(0).secretAccessKey().reveal()).isNotBlank();
        assertThat(sink.get(0).toString())
                .doesNotContain(sink.get(0).secretAccessKey().reveal());
    }

    @Test
    void userStack_secondRun_withTheHeldKey_isNoOp_andWithoutIt_skipsWithoutANewKey() {
        try (AgentInstaller installer = userStack(null)) {
            installer.apply(installer.plan());
        }
        String held = sink.get(0).accessKeyId();
        try (AgentInstaller installer = userStack(held)) {
            Plan again = installer.plan();
            assertThat(again.isEmpty()).as(again.toString()).isTrue();
            assertThat(again.changes()).extracting(Change::action).containsOnly(ChangeAction.NO_OP);
        }
        try (AgentInstaller installer = userStack(null)) {
            Plan again = installer.plan();
            assertThat(again.isEmpty()).as(again.toString()).isTrue();
            Change key = keyChange(again);
            assertThat(key.action()).isEqualTo(ChangeAction.SKIP);
            assertThat(key.reason()).hasValueSatisfying(r -> assertThat(r).contains(held, "reuseAccessKey"));
            installer.apply(again);
        }
        assertThat(keyIds()).containsExactly(held);
        assertThat(sink).hasSize(1);
    }

    @Test
    void userStack_whenTheUserHasTwoKeys_neverCreatesAThird() {
        try (AgentInstaller installer = userStack(null)) {
            installer.apply(installer.plan());
        }
        iam.createAccessKey(r -> r.userName(USER));
        assertThat(keyIds()).hasSize(2);

        try (AgentInstaller installer = userStack("AKIAIOSFODNN7EXAMPLE")) {
            Plan plan = installer.plan();
            Change key = keyChange(plan);
            assertThat(key.action()).isEqualTo(ChangeAction.SKIP);
            assertThat(key.reason()).hasValueSatisfying(r -> assertThat(r).contains("2 access keys", "limit"));
            ApplyResult result = installer.apply(plan);
            assertThat(result.status()).isEqualTo(ApplyResult.Status.NOTHING_TO_DO);
        }
        assertThat(keyIds()).hasSize(2);
        assertThat(sink).hasSize(1);
    }

    @Test
    void userStack_whenAKeyIsNamedButGone_createsOneNewKey() {
        try (AgentInstaller installer = userStack(null)) {
            installer.apply(installer.plan());
        }
        String first = sink.get(0).accessKeyId();
        iam.deleteAccessKey(r -> r.userName(USER).accessKeyId(first));

        try (AgentInstaller installer = userStack(first)) {
            Plan plan = installer.plan();
            assertThat(keyChange(plan).action()).isEqualTo(ChangeAction.CREATE);
            assertThat(installer.apply(plan).isSuccess()).isTrue();
        }
        assertThat(sink).hasSize(2);
        assertThat(keyIds()).containsExactly(sink.get(1).accessKeyId());
    }

    @Test
    void userStack_uninstall_deletesKeysStackAndUser() {
        try (AgentInstaller installer = userStack(null)) {
            installer.apply(installer.plan());
            Plan uninstall = installer.planUninstall();
            assertThat(uninstall.mutations())
                    .extracting(Change::resourceType)
                    .containsExactlyInAnyOrder("AWS::CloudFormation::Stack", "AWS::IAM::AccessKey");
            ApplyResult removed = installer.apply(uninstall);
            assertThat(removed.status()).as(removed.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            assertThat(installer.planUninstall().isEmpty()).isTrue();
        }
        assertUserGone();
    }

    @Test
    void userStack_rollbackOfTheInstallJournal_removesWhatItCreated() {
        try (AgentInstaller installer = userStack(null)) {
            ApplyResult applied = installer.apply(installer.plan());
            Journal journal = Journal.read(applied.journal().orElseThrow());
            ApplyResult rolledBack = installer.rollback(journal);
            assertThat(rolledBack.status()).as(rolledBack.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
        }
        assertUserGone();
    }

    @Test
    void userStack_rollbackOfAnApplyThatFoundTheStack_keepsTheStackAndItsUser() {
        try (AgentInstaller installer = userStack(null)) {
            installer.apply(installer.plan());
        }
        String first = sink.get(0).accessKeyId();
        iam.deleteAccessKey(r -> r.userName(USER).accessKeyId(first));
        try (AgentInstaller installer = userStack(null)) {
            Plan plan = installer.plan();
            assertThat(plan.mutations()).extracting(Change::resourceType).containsExactly("AWS::IAM::AccessKey");
            Journal journal = Journal.read(installer.apply(plan).journal().orElseThrow());
            installer.rollback(journal);
        }
        assertThat(cfn.describeStacks(r -> r.stackName("CloudAEyeServiceAccountStack"))
                        .stacks())
                .extracting(Stack::stackStatusAsString)
                .containsExactly("CREATE_COMPLETE");
        assertThat(iam.getUser(r -> r.userName(USER)).user().userName()).isEqualTo(USER);
    }

    @Test
    void userStack_whenTheStackServesAnotherCluster_skipsWithTheReason() {
        MotoEks.createCluster("other-eks");
        try (AgentInstaller other = MotoEks.installer(EksTarget.builder()
                        .cluster("other-eks")
                        .cloudAEyeAccess(a -> a.iamUserStack().accessKeySink(sink::add))
                        .build())
                .withoutJournal()
                .build()) {
            other.apply(other.plan());
        }
        try (AgentInstaller installer = userStack(null)) {
            Plan plan = installer.plan();
            assertThat(plan.isEmpty()).isTrue();
            assertThat(plan.changes()).hasSize(1);
            Change stack = plan.changes().first();
            assertThat(stack.action()).isEqualTo(ChangeAction.SKIP);
            assertThat(stack.reason()).hasValueSatisfying(r -> assertThat(r).contains("other-eks"));
            assertThat(installer.planUninstall().isEmpty())
                    .as("never deletes another cluster's access")
                    .isTrue();
        }
    }

    @Test
    void userStack_whenTheUserOrPolicyExistsOutsideTheStack_skipsInsteadOfFailingAtApply() {
        iam.createPolicy(r -> r.policyName("CloudAEyeServiceAccountPolicy")
                .policyDocument("{\"Version\":"
                        + "\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"logs:GetLogEvents\","
                        + "\"Resource\":\"*\"}]}"));
        try (AgentInstaller installer = userStack(null)) {
            Plan plan = installer.plan();
            assertThat(plan.isEmpty()).isTrue();
            assertThat(plan.changes().first().reason())
                    .hasValueSatisfying(r -> assertThat(r).contains("managed policy", "delete-policy"));
        }
        iam.createUser(r -> r.userName(USER));
        try (AgentInstaller installer = userStack(null)) {
            Plan plan = installer.plan();
            assertThat(plan.isEmpty()).isTrue();
            assertThat(plan.changes().first().reason())
                    .hasValueSatisfying(r -> assertThat(r).contains("IAM user", "exists but not through the stack"));
        }
        assertThat(sink).isEmpty();
    }

    @Test
    void crossAccountRole_trustsOnlyCloudAEyeWithTheExternalId_isIdempotent_andUninstallDeletesIt() throws Exception {
        try (AgentInstaller installer = role(CLOUDAEYE_ACCOUNT, EXTERNAL_ID)) {
            Plan plan = installer.plan();
            assertThat(plan.notes()).anySatisfy(n -> assertThat(n).contains("no key", "long-lived"));
            ApplyResult result = installer.apply(plan);
            assertThat(result.status()).as(result.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);

            Role role =
                    iam.getRole(r -> r.roleName("CloudAEyeServiceAccountRole")).role();
            JsonNode trust = JSON.readTree(URLDecoder.decode(role.assumeRolePolicyDocument(), StandardCharsets.UTF_8))
                    .path("Statement")
                    .get(0);
            assertThat(trust.path("Principal").path("AWS").asText())
                    .isEqualTo("arn:aws:iam::" + CLOUDAEYE_ACCOUNT + ":root");
            assertThat(trust.path("Condition")
                            .path("StringEquals")
                            .path("sts:ExternalId")
                            .asText())
                    .isEqualTo(EXTERNAL_ID);
            String policy = URLDecoder.decode(
                    iam.getRolePolicy(r -> r.roleName("CloudAEyeServiceAccountRole")
                                    .policyName("CloudAEyeServiceAccountPolicy"))
                            .policyDocument(),
                    StandardCharsets.UTF_8);
            assertThat(policy).contains("/aws/eks/prod-eks/cluster").doesNotContain("log-group:*");

            Plan again = installer.plan();
            assertThat(again.isEmpty()).as(again.toString()).isTrue();

            ApplyResult removed = installer.uninstall();
            assertThat(removed.status()).as(removed.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
        }
        assertThat(iam.listRoles().roles()).extracting(Role::roleName).doesNotContain("CloudAEyeServiceAccountRole");
        assertThat(sink).as("no key in role mode").isEmpty();
    }

    @Test
    void crossAccountRole_whenTheExternalIdChanges_updatesOnlyTheTrust() {
        try (AgentInstaller installer = role(CLOUDAEYE_ACCOUNT, EXTERNAL_ID)) {
            installer.apply(installer.plan());
        }
        try (AgentInstaller installer = role(CLOUDAEYE_ACCOUNT, "cloudaeye-tenant-4712")) {
            Plan plan = installer.plan();
            Change change = plan.mutations().get(0);
            assertThat(change.action()).isEqualTo(ChangeAction.UPDATE);
            assertThat(change.permissions()).extracting(p -> p.action()).containsExactly("iam:UpdateAssumeRolePolicy");
            ApplyResult result = installer.apply(plan);
            assertThat(result.withOutcome(ResourceResult.Outcome.APPLIED)).hasSize(1);
            assertThat(installer.plan().isEmpty()).isTrue();
        }
    }

    @Test
    void plans_policies_matchTheGoldenFiles() {
        try (AgentInstaller installer = MotoEks.installer(MotoEks.target()
                        .controlPlaneLogging(true)
                        .cloudAEyeAccess(a -> a.iamUserStack().accessKeySink(sink::add))
                        .build())
                .withoutJournal()
                .build()) {
            assertThat(installer.plan().requiredPolicy().toJson())
                    .isEqualTo(ControlPlaneLoggingTest.fixture("golden/user-stack-install-policy.json"));
            installer.apply(installer.plan());
            assertThat(installer.planUninstall().requiredPolicy().toJson())
                    .isEqualTo(ControlPlaneLoggingTest.fixture("golden/user-stack-uninstall-policy.json"));
        }
        try (AgentInstaller installer = role(CLOUDAEYE_ACCOUNT, EXTERNAL_ID)) {
            assertThat(installer.plan().requiredPolicy().toJson())
                    .isEqualTo(ControlPlaneLoggingTest.fixture("golden/role-install-policy.json"));
        }
    }

    /** The estate as before the install: no stack, no user, no managed policy, and a plan creates them again. */
    private void assertUserGone() {
        assertThat(cfn.listStacks().stackSummaries())
                .allSatisfy(s -> assertThat(s.stackStatusAsString()).isEqualTo("DELETE_COMPLETE"));
        try {
            iam.getUser(r -> r.userName(USER));
            throw new AssertionError("the user " + USER + " still exists");
        } catch (NoSuchEntityException expected) {
            assertThat(expected.statusCode()).isEqualTo(404);
        }
        String policy = "arn:aws:iam::123456789012:policy/CloudAEyeServiceAccountPolicy";
        try {
            iam.getPolicy(r -> r.policyArn(policy));
            throw new AssertionError("the stack's policy " + policy + " outlived the stack");
        } catch (NoSuchEntityException expected) {
            assertThat(expected.statusCode()).isEqualTo(404);
        }
        try (AgentInstaller installer = userStack(null)) {
            assertThat(installer.plan().mutations())
                    .as("planning again creates the stack and the key again")
                    .extracting(c -> c.resourceType() + " " + c.action())
                    .containsExactlyInAnyOrder("AWS::CloudFormation::Stack CREATE", "AWS::IAM::AccessKey CREATE");
        }
    }

    private static Change keyChange(Plan plan) {
        return plan.changes().stream()
                .filter(c -> c.resourceType().equals("AWS::IAM::AccessKey"))
                .findFirst()
                .orElseThrow();
    }
}
