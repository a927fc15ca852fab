package com.cloudaeye.agent.eks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.Journal;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.eks.internal.access.CrossAccountRoleAccess;
import com.cloudaeye.agent.eks.internal.access.IamUserStackAccess;
import com.cloudaeye.agent.internal.JournalWriter;
import com.cloudaeye.agent.testing.Moto;
import com.fasterxml.jackson.databind.JsonNode;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.cloudformation.CloudFormationClient;
import software.amazon.awssdk.services.cloudformation.model.Capability;
import software.amazon.awssdk.services.cloudformation.model.Parameter;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.iam.model.NoSuchEntityException;

/**
 * An apply killed inside CloudAEye's access, after its create call reached AWS and before the journal recorded the
 * outcome: the journal says STARTING, the role or stack exists. A resume must finish the change without creating it
 * a second time (AWS would refuse: the names are fixed), and a rollback must remove it.
 */
class InterruptedAccessIT {
    private static final String CLOUDAEYE_ACCOUNT = "111122223333";
    private static final String EXTERNAL_ID = "cloudaeye-tenant-4711";

    @TempDir
    Path journals;

    private final List<AccessKey> keys = new CopyOnWriteArrayList<>();
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

    @Test
    void resume_ofARoleKilledBeforeItsPolicy_finishesTheRole_withoutCreatingItTwice() {
        try (AgentInstaller installer = installer(roleTarget())) {
            Journal killed = killedAfterCreateRole(installer);

            ApplyResult result = installer.resume(killed);

            assertThat(result.status()).as(result.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            String policy = iam.getRolePolicy(r ->
                            r.roleName(CrossAccountRoleAccess.ROLE_NAME).policyName(CrossAccountRoleAccess.POLICY_NAME))
                    .policyDocument();
            assertThat(URLDecoder.decode(policy, StandardCharsets.UTF_8))
                    .contains("logs:FilterLogEvents", "/aws/eks/" + MotoEks.CLUSTER + "/cluster");
            assertThat(installer.plan().mutations()).isEmpty();
        }
    }

    @Test
    void rollback_ofARoleKilledBeforeItsPolicy_deletesTheRole() {
        try (AgentInstaller installer = installer(roleTarget())) {
            Journal killed = killedAfterCreateRole(installer);

            ApplyResult result = installer.rollback(killed);

            assertThat(result.status()).as(result.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            assertThatThrownBy(() -> iam.getRole(r -> r.roleName(CrossAccountRoleAccess.ROLE_NAME)))
                    .isInstanceOf(NoSuchEntityException.class);
        }
    }

    @Test
    void resume_ofAStackKilledAfterCreateStack_keepsTheStack_andCreatesTheKey() {
        try (AgentInstaller installer = installer(stackTarget())) {
            Journal killed = killedAfterCreateStack(installer);

            ApplyResult result = installer.resume(killed);

            assertThat(result.status()).as(result.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            assertThat(cfn.describeStacks().stacks()).hasSize(1);
            assertThat(keys).hasSize(1);
            assertThat(iam.listAccessKeys(r -> r.userName(IamUserStackAccess.USER_NAME))
                            .accessKeyMetadata())
                    .hasSize(1);
        }
    }

    @Test
    void rollback_ofAStackKilledAfterCreateStack_deletesTheStackAndItsUser() {
        try (AgentInstaller installer = installer(stackTarget())) {
            Journal killed = killedAfterCreateStack(installer);

            ApplyResult result = installer.rollback(killed);

            assertThat(result.status()).as(result.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            assertThat(cfn.describeStacks().stacks())
                    .allMatch(s -> s.stackStatusAsString().equals("DELETE_COMPLETE"));
            assertThatThrownBy(() -> iam.getUser(r -> r.userName(IamUserStackAccess.USER_NAME)))
                    .isInstanceOf(NoSuchEntityException.class);
        }
    }

    /** What a SIGKILL right after CreateRole leaves: the role, without its policy; the journal says STARTING. */
    private Journal killedAfterCreateRole(AgentInstaller installer) {
        Plan plan = installer.plan();
        Change change = only(plan, CrossAccountRoleAccess.ROLE_TYPE);
        JsonNode s = change.targetState();
        iam.createRole(r -> r.roleName(CrossAccountRoleAccess.ROLE_NAME)
                .description(s.path("description").asText())
                .assumeRolePolicyDocument(s.path("trustPolicy").asText()));
        return startedOnly(plan, change);
    }

    /** What a SIGKILL right after CreateStack leaves: the stack (moto completes it at once); the journal: STARTING. */
    private Journal killedAfterCreateStack(AgentInstaller installer) {
        Plan plan = installer.plan();
        Change change = only(plan, IamUserStackAccess.STACK_TYPE);
        JsonNode s = change.targetState();
        cfn.createStack(r -> r.stackName(IamUserStackAccess.STACK_NAME)
                .templateBody(s.path("template").asText())
                .parameters(Parameter.builder()
                        .parameterKey("ClusterName")
                        .parameterValue(s.path("cluster").asText())
                        .build())
                .capabilities(Capability.CAPABILITY_NAMED_IAM));
        return startedOnly(plan, change);
    }

    private Journal startedOnly(Plan plan, Change change) {
        Path path;
        try (JournalWriter journal = JournalWriter.create(journals, plan)) {
            journal.record(Journal.Event.STARTING, change, null, null);
            path = journal.path();
        }
        return Journal.read(path);
    }

    private static Change only(Plan plan, String type) {
        return plan.mutations().stream()
                .filter(c -> c.resourceType().equals(type))
                .findFirst()
                .orElseThrow();
    }

    private static EksTarget roleTarget() {
        return target().cloudAEyeAccess(a -> a.crossAccountRole(CLOUDAEYE_ACCOUNT, EXTERNAL_ID))
                .build();
    }

    private EksTarget stackTarget() {
        return target().cloudAEyeAccess(a -> a.iamUserStack().accessKeySink(keys::add))
                .build();
    }

    private static EksTarget.Builder target() {
        return EksTarget.builder().cluster(MotoEks.CLUSTER).waits(Duration.ofMillis(50), Duration.ofSeconds(10));
    }

    private AgentInstaller installer(EksTarget target) {
        return MotoEks.installer(target).journalDirectory(journals).build();
    }
}
