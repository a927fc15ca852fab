package com.cloudaeye.agent.eks;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.AgentInstallerBuilder;
import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.Journal;
import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.PolicyDocument;
import com.cloudaeye.agent.testing.CallResources;
import com.cloudaeye.agent.testing.Moto;
import com.cloudaeye.agent.testing.ThrottlingProxy;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.iam.IamClient;

/**
 * An install that updated CloudAEye's cross-account role, which an earlier install made (here: for a new external ID):
 * its rollback puts the earlier trust back, within the rollback plan's own policy; a trust someone changed since is
 * left as it is.
 */
class RoleRollbackIT {
    private static final String ROLE = "CloudAEyeServiceAccountRole";
    private static final String CLOUDAEYE_ACCOUNT = "111122223333";
    private static final String FIRST_ID = "cloudaeye-tenant-4711";
    private static final String SECOND_ID = "cloudaeye-tenant-4712";
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path journals;

    @BeforeEach
    void roleForTheFirstExternalId() {
        Moto.reset();
        MotoEks.createCluster(MotoEks.CLUSTER);
        try (AgentInstaller first = role(FIRST_ID).withoutJournal().build()) {
            ApplyResult result = first.apply(first.plan());
            assertThat(result.status()).as(result.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
        }
        assertThat(externalId()).isEqualTo(FIRST_ID);
    }

    private static AgentInstallerBuilder role(String externalId) {
        return MotoEks.installer(MotoEks.target()
                .cloudAEyeAccess(a -> a.crossAccountRole(CLOUDAEYE_ACCOUNT, externalId))
                .build());
    }

    /** @return the journal of an install that moved the role's trust to the second external ID */
    private Journal updateToTheSecondExternalId() {
        Journal journal;
        try (AgentInstaller installer =
                role(SECOND_ID).journalDirectory(journals).build()) {
            Plan plan = installer.plan();
            assertThat(plan.mutations()).extracting(Change::action).containsExactly(ChangeAction.UPDATE);
            ApplyResult result = installer.apply(plan);
            assertThat(result.status()).as(result.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            journal = Journal.read(result.journal().orElseThrow());
        }
        assertThat(externalId()).isEqualTo(SECOND_ID);
        return journal;
    }

    @Test
    void rollback_ofAnUpdate_putsTheEarlierTrustBack_withinTheRollbacksPolicy() {
        Journal journal = updateToTheSecondExternalId();
        try (ThrottlingProxy proxy = ThrottlingProxy.builder()
                        .target(Moto.endpoint())
                        .unlimited()
                        .start();
                AgentInstaller installer = role(SECOND_ID)
                        .endpointOverride(proxy.endpoint())
                        .journalDirectory(journals)
                        .build()) {
            Plan rollback = installer.planRollback(journal);
            assertThat(rollback.mutations())
                    .as(rollback.toString())
                    .extracting(Change::action)
                    .containsExactly(ChangeAction.UPDATE);
            ApplyResult undone = installer.apply(rollback);
            assertThat(undone.status()).as(undone.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            assertAllowed(rollback.requiredPolicy(), proxy);
        }
        assertThat(externalId()).isEqualTo(FIRST_ID);
        try (AgentInstaller installer = role(FIRST_ID).withoutJournal().build()) {
            Plan again = installer.plan();
            assertThat(again.isEmpty())
                    .as("the role is as the first install left it\n" + again)
                    .isTrue();
        }
    }

    @Test
    void rollback_whenTheTrustWasChangedSince_leavesIt() {
        Journal journal = updateToTheSecondExternalId();
        String byHand = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"
                + "\"arn:aws:iam::" + CLOUDAEYE_ACCOUNT + ":root\"},\"Action\":\"sts:AssumeRole\",\"Condition\":"
                + "{\"StringEquals\":{\"sts:ExternalId\":\"set-by-hand\"}}}]}";
        try (IamClient iam = MotoEks.iam()) {
            iam.updateAssumeRolePolicy(r -> r.roleName(ROLE).policyDocument(byHand));
        }
        try (AgentInstaller installer =
                role(SECOND_ID).journalDirectory(journals).build()) {
            Plan rollback = installer.planRollback(journal);
            assertThat(rollback.mutations()).as(rollback.toString()).isEmpty();
            assertThat(rollback.changes()).extracting(Change::action).containsExactly(ChangeAction.SKIP);
        }
        assertThat(externalId()).isEqualTo("set-by-hand");
    }

    /** Every call the proxy saw, as (action, resource) pairs, is one the policy grants. */
    private static void assertAllowed(PolicyDocument policy, ThrottlingProxy proxy) {
        CallResources resources = new CallResources(Moto.REGION.id(), Moto.ACCOUNT);
        List<Permission> used = proxy.requestLog().stream()
                .flatMap(r -> resources.of(r).stream())
                .toList();
        assertThat(used).extracting(Permission::action).contains("iam:UpdateAssumeRolePolicy");
        assertThat(used)
                .as("calls the rollback's policy does not grant:\n" + policy.toJson())
                .allMatch(policy::allows);
    }

    private static String externalId() {
        try (IamClient iam = MotoEks.iam()) {
            String document = iam.getRole(r -> r.roleName(ROLE)).role().assumeRolePolicyDocument();
            return JSON.readTree(URLDecoder.decode(document, StandardCharsets.UTF_8))
                    .path("Statement")
                    .get(0)
                    .path("Condition")
                    .path("StringEquals")
                    .path("sts:ExternalId")
                    .asText();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
