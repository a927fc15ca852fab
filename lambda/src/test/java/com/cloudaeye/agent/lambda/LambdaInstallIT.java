package com.cloudaeye.agent.lambda;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.Journal;
import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.PolicyDocument;
import com.cloudaeye.agent.ResourceResult;
import com.cloudaeye.agent.Secret;
import com.cloudaeye.agent.testing.Moto;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.lambda.model.Architecture;
import software.amazon.awssdk.services.lambda.model.FunctionConfiguration;
import software.amazon.awssdk.services.lambda.model.Layer;
import software.amazon.awssdk.services.lambda.model.Runtime;

/**
 * A realistic account in moto: 36 functions of mixed runtimes and both architectures, plus the hard cases (an image
 * function, one with five layers, one near the 4 KB environment limit, one with a user value in our variable, an
 * incompatible runtime, an excluded one). Plan, policy, apply, re-plan, uninstall back to the original, exactly.
 */
class LambdaInstallIT {
    @TempDir
    Path journals;

    private LambdaFixtures fixtures;
    private String x86Layer;
    private String armLayer;
    private String userLayer;
    private final Map<String, FunctionConfiguration> originals = new LinkedHashMap<>();

    @BeforeEach
    void createAccount() {
        Moto.reset();
        fixtures = new LambdaFixtures();
        x86Layer = fixtures.layer("cloudaeye-x86", Architecture.X86_64);
        armLayer = fixtures.layer("cloudaeye-arm", Architecture.ARM64);
        String[] userLayers = new String[5];
        for (int i = 0; i < 5; i++) {
            userLayers[i] = fixtures.layer("user-layer-" + i, Architecture.X86_64, Architecture.ARM64);
        }
        userLayer = userLayers[4];
        for (int i = 0; i < 14; i++) {
            add(fixtures.function(
                    "py-" + i,
                    Runtime.PYTHON3_12,
                    Architecture.X86_64,
                    Map.of("STAGE", "prod"),
                    i % 3 == 0 ? new String[] {userLayers[0], userLayers[1]} : new String[0]));
        }
        for (int i = 0; i < 10; i++) {
            add(fixtures.function("node-" + i, Runtime.NODEJS20_X, Architecture.ARM64, Map.of("LOG_LEVEL", "info")));
        }
        for (int i = 0; i < 6; i++) {
            add(fixtures.function("java-" + i, Runtime.JAVA21, Architecture.X86_64, Map.of()));
        }
        add(fixtures.function("five-layers", Runtime.PYTHON3_12, Architecture.X86_64, Map.of(), userLayers));
        add(fixtures.function(
                "big-env", Runtime.PYTHON3_12, Architecture.X86_64, Map.of("BLOB", "x".repeat(4096 - 60))));
        add(fixtures.function(
                "user-endpoint",
                Runtime.PYTHON3_12,
                Architecture.X86_64,
                Map.of(LambdaTarget.ENDPOINT_VARIABLE, "https://mine.example.com")));
        add(fixtures.function("ruby-app", Runtime.RUBY3_3, Architecture.X86_64, Map.of()));
        add(fixtures.function("legacy-batch", Runtime.PYTHON3_12, Architecture.X86_64, Map.of()));
        fixtures.lambda.createFunction(r -> r.functionName("image-fn")
                .packageType("Image")
                .role(fixtures.roleArn)
                .code(c -> c.imageUri(Moto.ACCOUNT + ".dkr.ecr.us-east-1.amazonaws.com/app:latest")));
        add(fixtures.config("image-fn"));
    }

    private void add(FunctionConfiguration config) {
        originals.put(config.functionName(), config);
    }

    @AfterEach
    void close() {
        fixtures.close();
    }

    private AgentInstaller installer(boolean force) {
        return fixtures.installer(LambdaTarget.builder()
                        .functions("*")
                        .exclude("legacy-*")
                        .layer(Architecture.X86_64, x86Layer)
                        .layer(Architecture.ARM64, armLayer)
                        .forceEnvironment(force)
                        .build())
                .journalDirectory(journals)
                .build();
    }

    @Test
    void plan_updatesEveryFitFunction_andSkipsEachHardCaseWithItsReason() {
        try (AgentInstaller installer = installer(false)) {
            Plan plan = installer.plan();

            assertThat(plan.changes()).hasSize(originals.size() - 1); // legacy-batch is excluded
            assertThat(plan.mutations()).hasSize(30);
            Map<String, String> skips = plan.changes().stream()
                    .filter(c -> c.action() == ChangeAction.SKIP)
                    .collect(Collectors.toMap(c -> name(c), c -> c.reason().orElseThrow()));
            assertThat(skips).containsOnlyKeys("five-layers", "big-env", "user-endpoint", "ruby-app", "image-fn");
            assertThat(skips.get("five-layers")).contains("5 layers");
            assertThat(skips.get("big-env")).contains("4 KB");
            assertThat(skips.get("user-endpoint"))
                    .contains(LambdaTarget.ENDPOINT_VARIABLE)
                    .contains("forceEnvironment");
            assertThat(skips.get("ruby-app")).contains("ruby3.3");
            assertThat(skips.get("image-fn")).contains("image");

            Change arm = change(plan, "node-0");
            assertThat(arm.attributes().get(0).after()).hasValue(armLayer);
            Change withUserLayers = change(plan, "py-0");
            assertThat(withUserLayers.attributes().get(0).after().orElseThrow())
                    .as("user layers keep their order, ours is appended")
                    .isEqualTo(String.join(", ", layerArns(originals.get("py-0"))) + ", " + x86Layer);
        }
    }

    @Test
    void policy_isScopedToThePlannedFunctionsAndLayers() {
        try (AgentInstaller installer = installer(false)) {
            Plan plan = installer.plan();
            PolicyDocument policy = plan.requiredPolicy();
            String arn = "arn:aws:lambda:us-east-1:" + Moto.ACCOUNT + ":function:";

            assertThat(policy.allows(Permission.of("lambda:UpdateFunctionConfiguration", arn + "py-1")))
                    .isTrue();
            assertThat(policy.allows(Permission.of("lambda:UpdateFunctionConfiguration", arn + "five-layers")))
                    .as("skipped functions get no write permission")
                    .isFalse();
            assertThat(policy.allows(Permission.of("lambda:UpdateFunctionConfiguration", arn + "legacy-batch")))
                    .isFalse();
            assertThat(policy.allows(Permission.of("lambda:ListFunctions", "*")))
                    .isTrue();
            assertThat(policy.allows(Permission.of("lambda:GetLayerVersion", x86Layer)))
                    .isTrue();
            assertThat(policy.allows(Permission.of("lambda:PublishVersion", arn + "py-1")))
                    .as("publishVersion is off")
                    .isFalse();
            assertThat(policy.statements())
                    .allSatisfy(s -> assertThat(s.resources()).allMatch(r -> r.equals("*") || !r.contains("*")));
            assertThat(policy.statements().stream().filter(s -> s.resources().contains("*")))
                    .as("only the reads AWS does not scope by resource (the Lambda@Edge check's included)")
                    .allSatisfy(s ->
                            assertThat(s.actions()).isSubsetOf("lambda:ListFunctions", "cloudfront:ListDistributions"));
        }
    }

    @Test
    void apply_thenPlan_isEmpty_thenUninstall_restoresEveryFunctionExactly() throws IOException {
        try (AgentInstaller installer = installer(false)) {
            ApplyResult result = installer.apply(installer.plan());
            assertThat(result.status()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            assertThat(result.withOutcome(ResourceResult.Outcome.APPLIED)).hasSize(30);
            assertThat(result.calls())
                    .as("one update per changed function")
                    .containsEntry("lambda:UpdateFunctionConfiguration", 30L);

            FunctionConfiguration installed = fixtures.config("py-0");
            assertThat(layerArns(installed)).endsWith(x86Layer);
            assertThat(installed.environment().variables())
                    .containsEntry("STAGE", "prod")
                    .containsEntry(LambdaTarget.ENDPOINT_VARIABLE, LambdaFixtures.ENDPOINT)
                    .containsEntry(LambdaTarget.TOKEN_VARIABLE, LambdaFixtures.TOKEN);
            assertThat(fixtures.config("user-endpoint").environment().variables())
                    .as("a user's value is never overwritten")
                    .containsEntry(LambdaTarget.ENDPOINT_VARIABLE, "https://mine.example.com");

            assertThat(installer.plan().mutations()).isEmpty();

            ApplyResult removed = installer.uninstall();
            assertThat(removed.status()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            assertThat(removed.results()).hasSize(30);
            assertThat(installer.planUninstall().mutations()).isEmpty();
            originals.forEach((name, original) -> assertSameConfiguration(name, original));

            String journal = Files.readString(result.journal().orElseThrow());
            assertThat(journal).doesNotContain(LambdaFixtures.TOKEN).doesNotContain("STAGE");
        }
    }

    @Test
    void forcedEnvironment_savesTheUserValue_andUninstallRestoresIt() {
        try (AgentInstaller installer = installer(true)) {
            Plan plan = installer.plan();
            assertThat(change(plan, "user-endpoint").action()).isEqualTo(ChangeAction.UPDATE);
            assertThat(plan.toString() + plan.toJson()).doesNotContain("https://mine.example.com");
            assertThat(installer.apply(plan).isSuccess()).isTrue();
            assertThat(fixtures.config("user-endpoint").environment().variables())
                    .containsEntry(LambdaTarget.ENDPOINT_VARIABLE, LambdaFixtures.ENDPOINT)
                    .containsEntry(
                            LambdaTarget.SAVED_PREFIX + LambdaTarget.ENDPOINT_VARIABLE, "https://mine.example.com");

            assertThat(installer.uninstall().isSuccess()).isTrue();
            assertSameConfiguration("user-endpoint", originals.get("user-endpoint"));
        }
    }

    @Test
    void rollback_restoresTheJournaledBeforeStates_andSkipsFunctionsChangedSince() {
        try (AgentInstaller installer = installer(false)) {
            ApplyResult result = installer.apply(installer.plan());
            Journal journal = Journal.read(result.journal().orElseThrow());
            assertThat(journal.applied()).hasSize(30);

            // Someone changes one function after our apply: rollback must not clobber it.
            List<String> layers = new ArrayList<>(layerArns(fixtures.config("java-0")));
            layers.add(userLayer);
            fixtures.lambda.updateFunctionConfiguration(
                    r -> r.functionName("java-0").layers(layers));

            Plan rollback = installer.planRollback(journal);
            assertThat(change(rollback, "java-0").action()).isEqualTo(ChangeAction.SKIP);
            assertThat(change(rollback, "java-0").reason())
                    .hasValueSatisfying(r -> assertThat(r).contains("changed"));
            ApplyResult rolledBack = installer.apply(rollback);
            assertThat(rolledBack.isSuccess()).as(rolledBack.toString()).isTrue();
            assertThat(rolledBack.results()).hasSize(29);
            originals.forEach((name, original) -> {
                if (!name.equals("java-0")) {
                    assertSameConfiguration(name, original);
                }
            });
        }
    }

    @Test
    void rollbackOfAnUninstall_putsBackTheLayerTheAgentVariablesAndTheSavedUserValue() throws IOException {
        try (AgentInstaller installer = installer(true)) {
            assertThat(installer.apply(installer.plan()).isSuccess()).isTrue();
            FunctionConfiguration installed = fixtures.config("user-endpoint");
            FunctionConfiguration installedPy = fixtures.config("py-1");
            ApplyResult removed = installer.uninstall();
            assertThat(removed.isSuccess()).isTrue();
            assertSameConfiguration("user-endpoint", originals.get("user-endpoint"));
            Path journalFile = removed.journal().orElseThrow();

            Plan rollback = installer.planRollback(Journal.read(journalFile));
            assertThat(change(rollback, "user-endpoint").action()).isEqualTo(ChangeAction.UPDATE);
            ApplyResult rolledBack = installer.apply(rollback);

            assertThat(rolledBack.isSuccess()).as(rolledBack.toString()).isTrue();
            assertSameConfiguration("user-endpoint", installed);
            assertThat(variables(fixtures.config("user-endpoint")))
                    .containsEntry(LambdaTarget.ENDPOINT_VARIABLE, LambdaFixtures.ENDPOINT)
                    .containsEntry(LambdaTarget.TOKEN_VARIABLE, LambdaFixtures.TOKEN)
                    .containsEntry(
                            LambdaTarget.SAVED_PREFIX + LambdaTarget.ENDPOINT_VARIABLE, "https://mine.example.com");
            assertSameConfiguration("py-1", installedPy);
            String texts = Files.readString(journalFile)
                    + rollback
                    + rollback.toJson()
                    + Files.readString(rolledBack.journal().orElseThrow());
            assertThat(texts).doesNotContain(LambdaFixtures.TOKEN).doesNotContain("https://mine.example.com");
        }
    }

    @Test
    void rollbackOfAnUninstall_withAnotherToken_restoresNothing_andSaysHow() {
        Path journalFile;
        try (AgentInstaller installer = installer(false)) {
            assertThat(installer.apply(installer.plan()).isSuccess()).isTrue();
            ApplyResult removed = installer.uninstall();
            assertThat(removed.isSuccess()).isTrue();
            journalFile = removed.journal().orElseThrow();
        }
        String otherToken = "cae-other-token-1a2b3c";
        try (AgentInstaller other = fixtures.installer(LambdaTarget.builder()
                        .functions("*")
                        .layer(Architecture.X86_64, x86Layer)
                        .layer(Architecture.ARM64, armLayer)
                        .build())
                .agent(a -> a.logsEndpoint(LambdaFixtures.ENDPOINT).apiToken(Secret.of(otherToken)))
                .journalDirectory(journals)
                .build()) {
            Plan rollback = other.planRollback(Journal.read(journalFile));

            Change py = change(rollback, "py-1");
            assertThat(py.action()).isEqualTo(ChangeAction.SKIP);
            assertThat(py.reason().orElse(""))
                    .contains("not restored")
                    .contains(LambdaTarget.TOKEN_VARIABLE)
                    .contains("install");
            assertThat(rollback.mutations()).isEmpty();
            assertThat(other.apply(rollback).isSuccess()).isTrue();
            assertSameConfiguration("py-1", originals.get("py-1"));
            assertThat(rollback.toString() + rollback.toJson())
                    .doesNotContain(LambdaFixtures.TOKEN)
                    .doesNotContain(otherToken);
        }
    }

    @Test
    void uninstall_afterAUserRemovedOurLayer_removesOnlyTheVariablesTheInstallAdded() {
        try (AgentInstaller installer = installer(false)) {
            assertThat(installer.apply(installer.plan()).isSuccess()).isTrue();
            assertThat(variables(fixtures.config("py-1")))
                    .containsEntry(
                            LambdaTarget.INSTALLED_VARIABLES,
                            LambdaTarget.TOKEN_VARIABLE + "," + LambdaTarget.ENDPOINT_VARIABLE);
            // The user takes our layer off by hand, and sets a variable of their own that looks like ours.
            Map<String, String> env = new LinkedHashMap<>(variables(fixtures.config("py-1")));
            env.put("CLOUDAEYE_LOG_LEVEL", "debug");
            fixtures.lambda.updateFunctionConfiguration(
                    r -> r.functionName("py-1").layers(List.of()).environment(e -> e.variables(env)));

            ApplyResult removed = installer.uninstall();

            assertThat(removed.isSuccess()).as(removed.toString()).isTrue();
            assertThat(variables(fixtures.config("py-1")))
                    .isEqualTo(Map.of("STAGE", "prod", "CLOUDAEYE_LOG_LEVEL", "debug"));
            assertSameConfiguration("user-endpoint", originals.get("user-endpoint"));
        }
    }

    private void assertSameConfiguration(String name, FunctionConfiguration original) {
        FunctionConfiguration now = fixtures.config(name);
        assertThat(layerArns(now)).as(name + " layers").isEqualTo(layerArns(original));
        assertThat(variables(now)).as(name + " environment").isEqualTo(variables(original));
    }

    private static Map<String, String> variables(FunctionConfiguration c) {
        return c.environment() == null || c.environment().variables() == null
                ? Map.of()
                : c.environment().variables();
    }

    private static List<String> layerArns(FunctionConfiguration c) {
        return c.layers().stream().map(Layer::arn).toList();
    }

    private static Change change(Plan plan, String name) {
        return plan.changes().stream()
                .filter(c -> name(c).equals(name))
                .findFirst()
                .orElseThrow(() -> new AssertionError(name + " is not in the plan:\n" + plan));
    }

    private static String name(Change c) {
        return c.resourceId().substring(c.resourceId().lastIndexOf(':') + 1);
    }
}
