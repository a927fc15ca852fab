package com.cloudaeye.agent.lambda;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.Journal;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.ResourceResult;
import com.cloudaeye.agent.Secret;
import com.cloudaeye.agent.testing.Moto;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.lambda.model.Architecture;
import software.amazon.awssdk.services.lambda.model.FunctionConfiguration;
import software.amazon.awssdk.services.lambda.model.Layer;
import software.amazon.awssdk.services.lambda.model.Runtime;

/**
 * What a careful user checks after an install against moto: rollback and uninstall give back exactly the
 * before-state (a replaced token included, a user value equal to ours included), and a function changed after
 * planning keeps the change although moto returns no RevisionId to guard it.
 */
class LambdaRestoreIT {
    private static final String OLD_TOKEN = "cae-old-token-31c5e8a0";

    @TempDir
    Path journals;

    private LambdaFixtures fixtures;
    private String oldLayer;
    private String newLayer;
    private String userLayer;

    @BeforeEach
    void account() {
        Moto.reset();
        fixtures = new LambdaFixtures();
        oldLayer = fixtures.layer("cloudaeye-x86", Architecture.X86_64);
        newLayer = fixtures.layer("cloudaeye-x86", Architecture.X86_64);
        userLayer = fixtures.layer("user-utils", Architecture.X86_64, Architecture.ARM64);
    }

    @AfterEach
    void close() {
        fixtures.close();
    }

    private AgentInstaller installer(String function, String token) {
        return fixtures.installer(LambdaTarget.builder()
                        .functions(function)
                        .layer(Architecture.X86_64, newLayer)
                        .build())
                .agent(a -> a.logsEndpoint(LambdaFixtures.ENDPOINT).apiToken(Secret.of(token)))
                .journalDirectory(journals)
                .build();
    }

    @Test
    void rollback_ofAnUpgradeThatReplacedTheToken_restoresTheEarlierToken_orLeavesTheFunctionWhole() throws Exception {
        FunctionConfiguration before = fixtures.function(
                "upgraded",
                Runtime.PYTHON3_12,
                Architecture.X86_64,
                Map.of(LambdaTarget.TOKEN_VARIABLE, OLD_TOKEN, "STAGE", "prod"),
                oldLayer);
        Journal journal;
        try (AgentInstaller installer = installer("upgraded", LambdaFixtures.TOKEN)) {
            ApplyResult upgrade = installer.apply(installer.plan());
            assertThat(upgrade.status()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            String journalText = Files.readString(upgrade.journal().orElseThrow());
            assertThat(journalText).doesNotContain(OLD_TOKEN).doesNotContain(LambdaFixtures.TOKEN);
            journal = Journal.read(upgrade.journal().orElseThrow());

            // The installer's own settings hold the new token: restoring half (layers, endpoint) would leave a
            // function that is neither before nor after; it is left whole, with the way to restore it.
            Plan rollback = installer.planRollback(journal);
            Change change = rollback.changes().first();
            assertThat(change.action()).isEqualTo(ChangeAction.SKIP);
            assertThat(change.reason())
                    .hasValueSatisfying(r -> assertThat(r)
                            .contains("earlier " + LambdaTarget.TOKEN_VARIABLE)
                            .contains(".agent(a -> a.apiToken(...))"));
            assertThat(rollback.toJson() + rollback).doesNotContain(OLD_TOKEN);
        }
        assertThat(variables(fixtures.config("upgraded")))
                .containsEntry(LambdaTarget.TOKEN_VARIABLE, LambdaFixtures.TOKEN)
                .containsEntry(LambdaTarget.ENDPOINT_VARIABLE, LambdaFixtures.ENDPOINT);

        try (AgentInstaller withTheEarlierToken = installer("upgraded", OLD_TOKEN)) {
            ApplyResult rolledBack = withTheEarlierToken.rollback(journal);
            assertThat(rolledBack.status()).as(rolledBack.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
        }
        FunctionConfiguration after = fixtures.config("upgraded");
        assertThat(layerArns(after)).containsExactly(oldLayer);
        assertThat(variables(after)).isEqualTo(variables(before));
    }

    @Test
    void uninstall_keepsAValueTheUserHadBeforeInstall_evenWhenItEqualsOurs() {
        FunctionConfiguration before = fixtures.function(
                "mine-equal",
                Runtime.PYTHON3_12,
                Architecture.X86_64,
                Map.of(LambdaTarget.ENDPOINT_VARIABLE, LambdaFixtures.ENDPOINT, "STAGE", "prod"));
        try (AgentInstaller installer = installer("mine-equal", LambdaFixtures.TOKEN)) {
            assertThat(installer.apply(installer.plan()).status()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            assertThat(variables(fixtures.config("mine-equal")))
                    .containsEntry(LambdaTarget.ENDPOINT_VARIABLE, LambdaFixtures.ENDPOINT)
                    .containsEntry(LambdaTarget.TOKEN_VARIABLE, LambdaFixtures.TOKEN);
            assertThat(installer.plan().mutations())
                    .as("installed and up to date")
                    .isEmpty();

            ApplyResult removed = installer.uninstall();
            assertThat(removed.status()).as(removed.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
        }
        FunctionConfiguration after = fixtures.config("mine-equal");
        assertThat(layerArns(after)).isEmpty();
        assertThat(variables(after)).isEqualTo(variables(before));
    }

    @Test
    void apply_whenAUserAddedALayerAfterPlanning_skipsTheFunction_andTheUsersLayerSurvives_withoutARevisionId() {
        fixtures.function("late-layer", Runtime.PYTHON3_12, Architecture.X86_64, Map.of("STAGE", "prod"));
        try (AgentInstaller installer = installer("late-layer", LambdaFixtures.TOKEN)) {
            Plan plan = installer.plan();
            fixtures.lambda.updateFunctionConfiguration(
                    r -> r.functionName("late-layer").layers(userLayer));
            assertThat(fixtures.config("late-layer").revisionId())
                    .as("moto gives no RevisionId: only the planned before-state can guard the update")
                    .isNull();

            ApplyResult result = installer.apply(plan);

            ResourceResult r = result.results().get(0);
            assertThat(r.outcome()).isEqualTo(ResourceResult.Outcome.SKIPPED);
            assertThat(r.message()).hasValueSatisfying(m -> assertThat(m).contains("changed since planning"));
            assertThat(result.calls()).doesNotContainKey("lambda:UpdateFunctionConfiguration");
        }
        FunctionConfiguration after = fixtures.config("late-layer");
        assertThat(layerArns(after)).containsExactly(userLayer);
        assertThat(variables(after)).containsOnlyKeys("STAGE");
    }

    @Test
    void apply_whenNothingChangedAfterPlanning_updatesTheFunction() {
        fixtures.function("steady", Runtime.PYTHON3_12, Architecture.X86_64, Map.of("STAGE", "prod"));
        try (AgentInstaller installer = installer("steady", LambdaFixtures.TOKEN)) {
            ApplyResult result = installer.apply(installer.plan());
            assertThat(result.status()).as(result.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
        }
        assertThat(layerArns(fixtures.config("steady"))).containsExactly(newLayer);
    }

    @Test
    void tokenByReference_replacesOurPlainToken_namesTheRolesPermission_andRollsBack() {
        String secret = "arn:aws:secretsmanager:us-east-1:" + Moto.ACCOUNT + ":secret:cloudaeye-token-AbCdEf";
        fixtures.function("by-ref", Runtime.PYTHON3_12, Architecture.X86_64, Map.of("STAGE", "prod"));
        try (AgentInstaller plain = installer("by-ref", LambdaFixtures.TOKEN)) {
            Plan plan = plain.plan();
            assertThat(plan.notes())
                    .anyMatch(n -> n.contains("plain environment value") && n.contains(".apiTokenSecretArn("));
            assertThat(plain.apply(plan).status()).isEqualTo(ApplyResult.Status.SUCCEEDED);
        }
        FunctionConfiguration installed = fixtures.config("by-ref");
        try (AgentInstaller byReference = fixtures.installer(LambdaTarget.builder()
                        .functions("by-ref")
                        .layer(Architecture.X86_64, newLayer)
                        .apiTokenSecretArn(secret)
                        .build())
                .journalDirectory(journals)
                .build()) {
            Plan plan = byReference.plan();
            assertThat(plan.notes()).noneMatch(n -> n.contains("plain environment value"));
            Change change = plan.mutations().get(0);
            assertThat(change.warnings())
                    .anyMatch(w -> w.contains(installed.role())
                            && w.contains(secret)
                            && w.contains("secretsmanager:GetSecretValue"));
            assertThat(plan.toJson()).doesNotContain(LambdaFixtures.TOKEN);
            ApplyResult result = byReference.apply(plan);
            assertThat(result.status()).as(result.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            assertThat(variables(fixtures.config("by-ref")))
                    .containsEntry(LambdaTarget.TOKEN_ARN_VARIABLE, secret)
                    .containsEntry(LambdaTarget.ENDPOINT_VARIABLE, LambdaFixtures.ENDPOINT)
                    .doesNotContainKey(LambdaTarget.TOKEN_VARIABLE);
            assertThat(byReference.plan().mutations())
                    .as("installed and up to date")
                    .isEmpty();

            // The installer's settings hold the plain token the apply removed: the rollback puts it back.
            ApplyResult rolledBack =
                    byReference.rollback(Journal.read(result.journal().orElseThrow()));
            assertThat(rolledBack.status()).as(rolledBack.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
        }
        assertThat(variables(fixtures.config("by-ref"))).isEqualTo(variables(installed));
    }

    private static Map<String, String> variables(FunctionConfiguration c) {
        return c.environment() == null || c.environment().variables() == null
                ? Map.of()
                : c.environment().variables();
    }

    private static List<String> layerArns(FunctionConfiguration c) {
        return c.layers().stream().map(Layer::arn).toList();
    }
}
