package com.cloudaeye.agent.lambda;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.Journal;
import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.testing.CallResources;
import com.cloudaeye.agent.testing.Moto;
import com.cloudaeye.agent.testing.ThrottlingProxy;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.lambda.model.AliasConfiguration;
import software.amazon.awssdk.services.lambda.model.Architecture;
import software.amazon.awssdk.services.lambda.model.Layer;
import software.amazon.awssdk.services.lambda.model.Runtime;

/**
 * Aliases against moto: the chosen alias moves to the published version that has the agent, a weighted one stays
 * unless asked, and rollback moves each back to exactly the version and weights it had. moto has no provisioned
 * concurrency API, so a WireMock proxy in front of it answers that one read (no alias has any).
 */
class LambdaAliasIT {
    private static final String ARN = "arn:aws:lambda:" + Moto.REGION.id() + ":" + Moto.ACCOUNT + ":function:served";

    @TempDir
    Path journals;

    private LambdaFixtures fixtures;
    private WireMockServer proxy;
    private String layer;

    @BeforeEach
    void account() {
        Moto.reset();
        fixtures = new LambdaFixtures();
        layer = fixtures.layer("cloudaeye-x86", Architecture.X86_64);
        proxy = new WireMockServer(WireMockConfiguration.options().dynamicPort());
        proxy.start();
        proxy.stubFor(any(anyUrl())
                .atPriority(10)
                .willReturn(aResponse().proxiedFrom(Moto.endpoint().toString())));
        proxy.stubFor(get(urlPathMatching("/2019-09-30/functions/[^/]+/provisioned-concurrency"))
                .atPriority(1)
                .willReturn(okJson("{\"ProvisionedConcurrencyConfigs\":[]}")));
    }

    @AfterEach
    void close() {
        fixtures.close();
        proxy.stop();
    }

    private AgentInstaller installer(LambdaTarget.Builder target) {
        return fixtures.installer(target.functions("served")
                        .layer(Architecture.X86_64, layer)
                        .build())
                .endpointOverride(URI.create(proxy.baseUrl()))
                .journalDirectory(journals)
                .build();
    }

    /** Function "served" with versions 1 and 2; alias live at 1, alias canary at 1 with 10 % on 2. */
    private void servedFunction() {
        fixtures.function("served", Runtime.PYTHON3_12, Architecture.X86_64, Map.of("STAGE", "prod"));
        fixtures.lambda.publishVersion(r -> r.functionName("served"));
        fixtures.lambda.updateFunctionConfiguration(
                r -> r.functionName("served").environment(e -> e.variables(Map.of("STAGE", "prod2"))));
        fixtures.lambda.publishVersion(r -> r.functionName("served"));
        fixtures.lambda.createAlias(r -> r.functionName("served").name("live").functionVersion("1"));
        fixtures.lambda.createAlias(r -> r.functionName("served")
                .name("canary")
                .functionVersion("1")
                .routingConfig(c -> c.additionalVersionWeights(Map.of("2", 0.1))));
    }

    private AliasConfiguration alias(String name) {
        var a = fixtures.lambda.getAlias(r -> r.functionName("served").name(name));
        return AliasConfiguration.builder()
                .name(a.name())
                .functionVersion(a.functionVersion())
                .routingConfig(a.routingConfig())
                .build();
    }

    private List<String> layersOf(String version) {
        return fixtures
                .lambda
                .getFunction(r -> r.functionName("served").qualifier(version))
                .configuration()
                .layers()
                .stream()
                .map(Layer::arn)
                .toList();
    }

    @Test
    void planOfAGlob_listsTheAliasesOfTheFunctionWithPublishedVersions_only_andMovesTheChosenOne() {
        servedFunction();
        fixtures.function("service-plain", Runtime.PYTHON3_12, Architecture.X86_64, Map.of("STAGE", "prod"));
        String plain = ARN.replace(":served", ":service-plain");
        try (AgentInstaller installer = fixtures.installer(LambdaTarget.builder()
                        .moveAliases("live")
                        .functions("serv*")
                        .layer(Architecture.X86_64, layer)
                        .build())
                .endpointOverride(URI.create(proxy.baseUrl()))
                .journalDirectory(journals)
                .build()) {
            Plan plan = installer.plan();

            assertThat(plan.mutations())
                    .as("moto lists every version with FunctionVersion=ALL; each function is planned once, by its"
                            + " unqualified ARN")
                    .extracting(Change::resourceId)
                    .containsExactlyInAnyOrder(ARN, plain);
            assertThat(plan.readPermissions())
                    .filteredOn(p -> p.action().equals("lambda:ListAliases"))
                    .containsExactly(Permission.of("lambda:ListAliases", ARN));
            ApplyResult result = installer.apply(plan);

            assertThat(result.status()).as(result.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            assertThat(layersOf(alias("live").functionVersion())).contains(layer);
            assertThat(fixtures.lambda
                            .getFunction(r -> r.functionName("service-plain"))
                            .configuration()
                            .layers())
                    .extracting(Layer::arn)
                    .contains(layer);
        }
    }

    @Test
    void install_movesTheChosenAlias_toAVersionWithTheAgent_andRollbackMovesItBack() {
        servedFunction();
        Journal journal;
        try (ThrottlingProxy wire = ThrottlingProxy.builder()
                        .target(URI.create(proxy.baseUrl()))
                        .unlimited()
                        .start();
                AgentInstaller installer = fixtures.installer(LambdaTarget.builder()
                                .moveAliases("live", "canary")
                                .functions("served")
                                .layer(Architecture.X86_64, layer)
                                .build())
                        .endpointOverride(wire.endpoint())
                        .journalDirectory(journals)
                        .build()) {
            Plan plan = installer.plan();
            Change change = plan.mutations().get(0);
            assertThat(change.warnings()).anyMatch(w -> w.startsWith("alias canary is not moved"));

            ApplyResult result = installer.apply(plan);

            assertThat(result.status()).as(result.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            // Every call on the wire, on the resource AWS authorizes (the alias ARN for UpdateAlias), is granted.
            CallResources resources = new CallResources(Moto.REGION.id(), Moto.ACCOUNT);
            Set<Permission> used = new TreeSet<>();
            wire.requestLog().forEach(r -> used.addAll(resources.of(r)));
            assertThat(used)
                    .contains(Permission.of("lambda:UpdateAlias", ARN + ":live"))
                    .allMatch(p -> plan.requiredPolicy().allows(p), "allowed by the plan's policy");
            assertThat(plan.requiredPolicy().allows(Permission.of("lambda:UpdateAlias", ARN + ":canary")))
                    .as("the weighted alias stays: no grant")
                    .isFalse();
            String served = alias("live").functionVersion();
            assertThat(served).isEqualTo("3");
            assertThat(layersOf(served)).containsExactly(layer);
            assertThat(alias("canary").functionVersion())
                    .as("weighted: not moved")
                    .isEqualTo("1");
            journal = Journal.read(result.journal().orElseThrow());
        }
        try (AgentInstaller installer = installer(LambdaTarget.builder().moveAliases("live"))) {
            ApplyResult rolledBack = installer.rollback(journal);

            assertThat(rolledBack.status()).as(rolledBack.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            assertThat(alias("live").functionVersion()).isEqualTo("1");
            assertThat(layersOf("$LATEST")).isEmpty();
        }
    }

    /**
     * The apply died after publishing version 3 and moving live to it, before journaling the outcome: the journal
     * holds the change as started only. Rollback recognises version 3 as the apply's (published later, with the
     * agent) and moves live back to 1.
     */
    @Test
    void rollback_ofAnApplyThatDiedAfterMovingTheAlias_movesItBack() throws Exception {
        servedFunction();
        Path journalFile;
        try (AgentInstaller installer = installer(LambdaTarget.builder().moveAliases("live"))) {
            ApplyResult result = installer.apply(installer.plan());
            assertThat(result.status()).as(result.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            journalFile = result.journal().orElseThrow();
        }
        assertThat(alias("live").functionVersion()).isEqualTo("3");
        // What a crash before the outcome was journaled leaves: the STARTING line, no APPLIED line.
        List<String> lines = Files.readAllLines(journalFile);
        Files.write(
                journalFile,
                lines.stream().filter(l -> !l.contains("\"event\":\"APPLIED\"")).toList());
        Journal journal = Journal.read(journalFile);
        assertThat(journal.interrupted()).hasSize(1);

        try (AgentInstaller installer = installer(LambdaTarget.builder())) {
            Plan rollback = installer.planRollback(journal);
            ApplyResult rolledBack = installer.apply(rollback);

            assertThat(rolledBack.status()).as(rolledBack.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            assertThat(alias("live").functionVersion()).isEqualTo("1");
            assertThat(layersOf("$LATEST")).isEmpty();
            assertThat(rollback.readPermissions())
                    .as("the version read to recognise it")
                    .contains(Permission.of("lambda:GetFunction", ARN + ":3"));
        }
    }

    @Test
    void install_withMoveWeightedAliases_movesAllTraffic_andRollbackRestoresTheWeights() {
        servedFunction();
        Journal journal;
        try (AgentInstaller installer =
                installer(LambdaTarget.builder().moveAliases("canary").moveWeightedAliases(true))) {
            ApplyResult result = installer.apply(installer.plan());

            assertThat(result.status()).as(result.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            AliasConfiguration canary = alias("canary");
            assertThat(canary.functionVersion()).isEqualTo("3");
            assertThat(
                            canary.routingConfig() == null
                                    ? Map.of()
                                    : canary.routingConfig().additionalVersionWeights())
                    .isEmpty();
            journal = Journal.read(result.journal().orElseThrow());
        }
        try (AgentInstaller installer = installer(LambdaTarget.builder())) {
            Plan rollback = installer.planRollback(journal);
            assertThat(rollback.changes().first().action()).isEqualTo(ChangeAction.UPDATE);

            ApplyResult rolledBack = installer.apply(rollback);

            assertThat(rolledBack.status()).as(rolledBack.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            AliasConfiguration canary = alias("canary");
            assertThat(canary.functionVersion()).isEqualTo("1");
            assertThat(canary.routingConfig().additionalVersionWeights()).isEqualTo(Map.of("2", 0.1));
        }
    }

    @Test
    void uninstall_withMoveAliases_movesTheAliasToAnAgentFreeVersion() {
        servedFunction();
        try (AgentInstaller installer = installer(LambdaTarget.builder().moveAliases("live"))) {
            installer.apply(installer.plan());
            assertThat(layersOf(alias("live").functionVersion())).containsExactly(layer);

            ApplyResult removed = installer.uninstall();

            assertThat(removed.status()).as(removed.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            String served = alias("live").functionVersion();
            assertThat(served).isEqualTo("4");
            assertThat(layersOf(served)).isEmpty();
        }
    }

    @Test
    void install_withMoveAliases_afterAnInstallWithout_movesOnlyTheAlias_andRollbackMovesItBack() {
        servedFunction();
        try (AgentInstaller installer = installer(LambdaTarget.builder())) {
            installer.apply(installer.plan());
        }
        assertThat(layersOf(alias("live").functionVersion())).isEmpty();
        Journal journal;
        try (AgentInstaller installer = installer(LambdaTarget.builder().moveAliases("live"))) {
            Plan plan = installer.plan();

            Change change = plan.mutations().get(0);
            assertThat(change.reason().orElseThrow())
                    .contains("the agent is installed, but alias live serves a version published without it");
            assertThat(change.attributes()).extracting(a -> a.name()).containsExactly("Alias live");
            assertThat(plan.requiredPolicy().allows(Permission.of("lambda:UpdateFunctionConfiguration", ARN)))
                    .as("the function itself is not updated")
                    .isFalse();
            ApplyResult result = installer.apply(plan);

            assertThat(result.status()).as(result.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            assertThat(layersOf(alias("live").functionVersion())).containsExactly(layer);
            assertThat(installer.plan().isEmpty())
                    .as("the alias serves the agent now")
                    .isTrue();
            journal = Journal.read(result.journal().orElseThrow());
        }
        try (AgentInstaller installer = installer(LambdaTarget.builder())) {
            ApplyResult rolledBack = installer.rollback(journal);

            assertThat(rolledBack.status()).as(rolledBack.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            assertThat(alias("live").functionVersion()).isEqualTo("1");
            assertThat(layersOf("$LATEST")).as("the first install stays").containsExactly(layer);
        }
    }

    @Test
    void uninstall_withMoveAliases_afterAnUninstallWithout_movesTheAliasOffTheAgent() {
        servedFunction();
        try (AgentInstaller installer = installer(LambdaTarget.builder().moveAliases("live"))) {
            installer.apply(installer.plan());
        }
        try (AgentInstaller installer = installer(LambdaTarget.builder())) {
            installer.uninstall();
        }
        assertThat(layersOf(alias("live").functionVersion())).containsExactly(layer);
        try (AgentInstaller installer = installer(LambdaTarget.builder().moveAliases("live"))) {
            Plan plan = installer.planUninstall();

            assertThat(plan.mutations().get(0).reason().orElseThrow())
                    .contains("the agent is removed, but alias live serves a version published with it");
            ApplyResult result = installer.apply(plan);

            assertThat(result.status()).as(result.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            assertThat(layersOf(alias("live").functionVersion())).isEmpty();
        }
    }

    @Test
    void rollback_leavesAnAliasSomeoneMovedSince_andSaysSo() {
        servedFunction();
        Journal journal;
        try (AgentInstaller installer = installer(LambdaTarget.builder().moveAliases("live"))) {
            journal = Journal.read(installer.apply(installer.plan()).journal().orElseThrow());
        }
        fixtures.lambda.updateAlias(r -> r.functionName("served").name("live").functionVersion("2"));
        try (AgentInstaller installer = installer(LambdaTarget.builder())) {
            Plan rollback = installer.planRollback(journal);

            assertThat(rollback.changes().first().warnings())
                    .anyMatch(w -> w.contains("alias live serves 2, not the version 3 the apply moved it to"));
            installer.apply(rollback);
            assertThat(alias("live").functionVersion()).isEqualTo("2");
        }
    }
}
