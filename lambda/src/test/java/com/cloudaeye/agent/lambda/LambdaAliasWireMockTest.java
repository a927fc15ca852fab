package com.cloudaeye.agent.lambda;

import static com.cloudaeye.agent.lambda.LambdaWireMockTest.ACCOUNT;
import static com.cloudaeye.agent.lambda.LambdaWireMockTest.LAYER;
import static com.cloudaeye.agent.lambda.LambdaWireMockTest.error;
import static com.cloudaeye.agent.lambda.LambdaWireMockTest.fn;
import static com.cloudaeye.agent.lambda.LambdaWireMockTest.function;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.matchingJsonPath;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.put;
import static com.github.tomakehurst.wiremock.client.WireMock.putRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.AttributeChange;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.Journal;
import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.ResourceResult.Outcome;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import software.amazon.awssdk.services.lambda.model.Architecture;

/**
 * The version that serves traffic, where moto cannot show it: provisioned concurrency, a pending version, a lost
 * UpdateAlias answer, SnapStart, and the runtime table's skips.
 */
class LambdaAliasWireMockTest {
    static final String ARN = "arn:aws:lambda:us-east-1:" + ACCOUNT + ":function:a";
    static final String PC_PATH = "/2019-09-30/functions/([^/]*%3A)?a/provisioned-concurrency";

    @TempDir
    Path journals;

    private WireMockServer aws;

    @BeforeEach
    void start() {
        aws = LambdaWireMock.start();
        aws.stubFor(get(urlPathMatching(PC_PATH))
                .withQueryParam("List", equalTo("ALL"))
                .willReturn(okJson("{\"ProvisionedConcurrencyConfigs\":[]}")));
    }

    @AfterEach
    void stop() {
        aws.stop();
    }

    private AgentInstaller installer(UnaryOperator<LambdaTarget.Builder> options) {
        return LambdaWireMock.installer(aws, "https://logs.example.cloudaeye.com", "tok-123")
                .target(options.apply(LambdaTarget.builder().functions("a").layer(Architecture.X86_64, LAYER))
                        .build())
                .retries(3, Duration.ofMillis(5))
                .journalDirectory(journals)
                .build();
    }

    /** Function a, its update (answered Successful) and its publication as version 7. */
    private void stubFunctionA(String config) {
        aws.stubFor(get(urlPathMatching(fn("a"))).willReturn(okJson("{\"Configuration\":" + config + ",\"Tags\":{}}")));
        aws.stubFor(
                put(urlPathMatching(fn("a") + "/configuration")).willReturn(okJson(function("a", "r2", "Successful"))));
        aws.stubFor(post(urlPathMatching(fn("a") + "/versions"))
                .willReturn(okJson("{\"Version\":\"7\",\"FunctionName\":\"a\",\"State\":\"Active\"}")));
        aws.stubFor(get(urlPathMatching(fn("a") + "%3A7"))
                .willReturn(okJson("{\"Configuration\":" + function("a", "r2", "Successful") + "}")));
    }

    private void stubAliases(String... aliases) {
        aws.stubFor(get(urlPathMatching(fn("a") + "/aliases"))
                .willReturn(okJson("{\"Aliases\":[" + String.join(",", aliases) + "]}")));
    }

    static String alias(String name, String version, String weights) {
        return "{\"Name\":\"" + name + "\",\"AliasArn\":\"" + ARN + ":" + name + "\",\"FunctionVersion\":\"" + version
                + "\",\"RevisionId\":\"alias-" + name + "-r1\""
                + (weights.isEmpty() ? "" : ",\"RoutingConfig\":{\"AdditionalVersionWeights\":{" + weights + "}}")
                + "}";
    }

    @Test
    void plan_saysWhatEachAliasServes_andMovesOnlyTheChosenUnweightedOnes() {
        stubFunctionA(function("a", "r1", "Successful"));
        stubAliases(
                alias("canary", "3", "\"4\":0.1"),
                alias("dev", "$LATEST", ""),
                alias("live", "3", ""),
                alias("old", "2", ""));
        try (AgentInstaller installer = installer(t -> t.moveAliases("live", "canary"))) {
            Plan plan = installer.plan();

            Change change = plan.mutations().get(0);
            assertThat(change.attributes())
                    .contains(AttributeChange.of("Alias live", "3", "the version this change publishes"))
                    .noneMatch(a -> a.name().contains("canary") || a.name().contains("old"));
            assertThat(String.join("\n", change.warnings()))
                    .contains("alias canary is not moved: it routes traffic by weight (3 (+ version 4 at 10.0%))")
                    .contains(".moveWeightedAliases(true)")
                    .contains("alias dev serves $LATEST")
                    .contains("alias old serves version 2, which this change does not touch");
            assertThat(change.permissions())
                    .as("publishing, although publishVersion is off; the alias ARN exactly")
                    .contains(
                            Permission.of("lambda:PublishVersion", ARN),
                            Permission.of("lambda:UpdateAlias", ARN + ":live"),
                            Permission.of("lambda:GetAlias", ARN + ":live"))
                    .noneMatch(p ->
                            p.resource().endsWith(":canary") || p.resource().endsWith(":old"));
            assertThat(plan.toString()).contains("Alias live");
            assertThat(installer.calls())
                    .containsEntry("lambda:ListAliases", 1L)
                    .containsEntry("lambda:ListProvisionedConcurrencyConfigs", 1L);
        }
    }

    @Test
    void apply_movesTheAlias_afterThePublishedVersionIsActive_andJournalsWhereItPointedBefore() throws Exception {
        stubFunctionA(function("a", "r1", "Successful"));
        stubAliases(alias("live", "3", ""));
        aws.stubFor(post(urlPathMatching(fn("a") + "/versions"))
                .willReturn(okJson("{\"Version\":\"7\",\"FunctionName\":\"a\",\"State\":\"Pending\"}")));
        aws.stubFor(get(urlPathMatching(fn("a") + "%3A7"))
                .inScenario("pending")
                .whenScenarioStateIs(Scenario.STARTED)
                .willReturn(okJson("{\"Configuration\":"
                        + function("a", "r2", "Successful").replace("Active", "Pending") + "}"))
                .willSetStateTo("active"));
        aws.stubFor(get(urlPathMatching(fn("a") + "%3A7"))
                .inScenario("pending")
                .whenScenarioStateIs("active")
                .willReturn(okJson("{\"Configuration\":" + function("a", "r2", "Successful") + "}")));
        aws.stubFor(put(urlPathMatching(fn("a") + "/aliases/live"))
                .willReturn(okJson(alias("live", "7", "").replace("alias-live-r1", "alias-live-r2"))));
        try (AgentInstaller installer = installer(t -> t.moveAliases("l*"))) {
            ApplyResult result = installer.apply(installer.plan());

            assertThat(result.status()).as(result.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            assertThat(result.results().get(0).message().orElseThrow())
                    .contains("published version 7", "moved alias live 3 -> 7");
            assertThat(result.calls().get("lambda:GetFunction"))
                    .as("read version 7 until Active: Pending, then Active")
                    .isEqualTo(2L);
            aws.verify(
                    1,
                    putRequestedFor(urlPathMatching(fn("a") + "/aliases/live"))
                            .withRequestBody(matchingJsonPath("$.FunctionVersion", equalTo("7")))
                            .withRequestBody(matchingJsonPath("$.RevisionId", equalTo("alias-live-r1"))));
            String journal = Files.readString(result.journal().orElseThrow());
            assertThat(journal).contains("\"aliases\":{\"live\":{\"version\":\"3\",\"weights\":{}}}");
            assertThat(Journal.read(result.journal().orElseThrow()).sent()).hasSize(1);
        }
    }

    @Test
    void apply_whenTheAliasHasProvisionedConcurrency_waitsUntilItIsReady() {
        stubFunctionA(function("a", "r1", "Successful"));
        stubAliases(alias("live", "3", ""));
        stubProvisioned("IN_PROGRESS", "READY");
        aws.stubFor(put(urlPathMatching(fn("a") + "/aliases/live")).willReturn(okJson(alias("live", "7", ""))));
        try (AgentInstaller installer = installer(t -> t.moveAliases("live"))) {
            Plan plan = installer.plan();
            assertThat(plan.mutations().get(0).warnings())
                    .anyMatch(w -> w.contains("alias live has provisioned concurrency"));
            ApplyResult result = installer.apply(plan);

            assertThat(result.status()).as(result.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            assertThat(result.calls().get("lambda:GetProvisionedConcurrencyConfig"))
                    .isEqualTo(2L);
        }
    }

    @Test
    void apply_whenTheProvisionedConcurrencyFails_reportsItUnknown_withAwsReason_andRollbackIncludesIt() {
        stubFunctionA(function("a", "r1", "Successful"));
        stubAliases(alias("live", "3", ""));
        stubProvisioned("IN_PROGRESS", "FAILED");
        aws.stubFor(put(urlPathMatching(fn("a") + "/aliases/live")).willReturn(okJson(alias("live", "7", ""))));
        try (AgentInstaller installer = installer(t -> t.moveAliases("live"))) {
            ApplyResult result = installer.apply(installer.plan());

            assertThat(result.withOutcome(Outcome.UNKNOWN))
                    .as(result.toString())
                    .singleElement()
                    .satisfies(r -> assertThat(r.message().orElseThrow())
                            .contains("moved alias live 3 -> 7")
                            .contains("provisioned concurrency FAILED on the new version: Not enough capacity")
                            .contains("roll back"));
        }
    }

    private void stubProvisioned(String... statuses) {
        for (int i = 0; i < statuses.length; i++) {
            var stub = get(urlPathMatching(PC_PATH))
                    .withQueryParam("Qualifier", equalTo("live"))
                    .inScenario("pc")
                    .whenScenarioStateIs(i == 0 ? Scenario.STARTED : "s" + i)
                    .willReturn(okJson("{\"RequestedProvisionedConcurrentExecutions\":5,\"Status\":\""
                            + statuses[i] + "\""
                            + (statuses[i].equals("FAILED") ? ",\"StatusReason\":\"Not enough capacity\"" : "")
                            + "}"));
            aws.stubFor(i < statuses.length - 1 ? stub.willSetStateTo("s" + (i + 1)) : stub);
        }
        aws.stubFor(get(urlPathMatching(PC_PATH))
                .withQueryParam("List", equalTo("ALL"))
                .willReturn(okJson("{\"ProvisionedConcurrencyConfigs\":[{\"FunctionArn\":\"" + ARN
                        + ":live\",\"RequestedProvisionedConcurrentExecutions\":5,\"Status\":\"READY\"}]}")));
    }

    /**
     * Function a (r1) with alias live on version 3, which an apply moves to the version it publishes (7); UpdateAlias
     * answers an error, and the alias, read back, serves {@code liveAfter}.
     */
    private void updateAliasFails(int status, String code, String message, String liveAfter) {
        stubFunctionA(function("a", "r1", "Successful"));
        stubAliases(alias("live", "3", ""));
        aws.stubFor(put(urlPathMatching(fn("a") + "/aliases/live")).willReturn(error(status, code, message)));
        aws.stubFor(get(urlPathMatching(fn("a") + "/aliases/live")).willReturn(okJson(alias("live", liveAfter, ""))));
    }

    @Test
    void apply_whenUpdateAliasLosesItsAnswer_butItLanded_readsItBack_andReportsItApplied() {
        updateAliasFails(500, "ServiceException", "connection reset after UpdateAlias", "7");
        try (AgentInstaller installer = installer(t -> t.moveAliases("live"))) {
            ApplyResult result = installer.apply(installer.plan());

            assertThat(result.status()).as(result.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            assertThat(result.results().get(0).message().orElseThrow()).contains("moved alias live 3 -> 7");
        }
    }

    @Test
    void apply_whenUpdateAliasFails_andTheAliasDidNotMove_reportsItUnknown_sinceTheFunctionWasUpdated() {
        updateAliasFails(403, "AccessDeniedException", "not allowed to update the alias", "3");
        try (AgentInstaller installer = installer(t -> t.moveAliases("live"))) {
            ApplyResult result = installer.apply(installer.plan());

            assertThat(result.withOutcome(Outcome.UNKNOWN))
                    .as(result.toString())
                    .singleElement()
                    .satisfies(r -> assertThat(r.message().orElseThrow())
                            .contains("published version 7")
                            .contains("moving alias live to version 7 failed")
                            .contains("not allowed to update the alias")
                            .doesNotContain("tok-123"));
        }
    }

    @Test
    void apply_whenTheAliasChangedSincePlanning_leavesIt_andSaysSo() {
        updateAliasFails(412, "PreconditionFailedException", "revision id mismatch", "5");
        try (AgentInstaller installer = installer(t -> t.moveAliases("live"))) {
            ApplyResult result = installer.apply(installer.plan());

            assertThat(result.withOutcome(Outcome.UNKNOWN))
                    .singleElement()
                    .satisfies(r -> assertThat(r.message().orElseThrow())
                            .contains("alias live changed since planning (it now serves 5)"));
        }
    }

    @Test
    void plan_whenSnapStartAppliesToPublishedVersions_publishesAlthoughPublishVersionIsOff() {
        stubFunctionA(function("a", "r1", "Successful")
                .replace("\"State\"", "\"SnapStart\":{\"ApplyOn\":\"PublishedVersions\"},\"State\""));
        stubAliases();
        try (AgentInstaller installer = installer(t -> t.publishVersion(false))) {
            Plan plan = installer.plan();

            Change change = plan.mutations().get(0);
            assertThat(change.warnings()).anyMatch(w -> w.startsWith("SnapStart function"));
            assertThat(change.permissions()).contains(Permission.of("lambda:PublishVersion", ARN));
            ApplyResult result = installer.apply(plan);
            assertThat(result.results().get(0).message().orElseThrow()).contains("published version 7");
            aws.verify(1, postRequestedFor(urlPathMatching(fn("a") + "/versions")));
        }
    }

    @Test
    void plan_whenACloudFrontDistributionAssociatesTheFunction_skipsItAsLambdaAtEdge() {
        stubFunctionA(function("a", "r1", "Successful"));
        aws.stubFor(get(urlPathEqualTo("/2020-05-31/distribution"))
                .willReturn(LambdaWireMockTest.distributions("<DistributionSummary><Id>E2EDGE</Id>"
                        + "<DefaultCacheBehavior><LambdaFunctionAssociations><Quantity>1</Quantity><Items>"
                        + "<LambdaFunctionAssociation><LambdaFunctionARN>" + ARN + ":3</LambdaFunctionARN>"
                        + "<EventType>viewer-request</EventType></LambdaFunctionAssociation></Items>"
                        + "</LambdaFunctionAssociations></DefaultCacheBehavior></DistributionSummary>")));
        try (AgentInstaller installer = installer(t -> t)) {
            Plan plan = installer.plan();

            assertThat(plan.changes().first().action()).isEqualTo(ChangeAction.SKIP);
            assertThat(plan.changes().first().reason().orElseThrow())
                    .contains("Lambda@Edge function (associated with CloudFront distribution E2EDGE)")
                    .contains("no environment variables");
            assertThat(plan.requiredPolicy().toJson()).contains("cloudfront:ListDistributions");
        }
    }

    @Test
    void plan_whenCloudFrontMayNotBeRead_saysAwsError_andStillPlansTheFunction() {
        stubFunctionA(function("a", "r1", "Successful"));
        aws.stubFor(get(urlPathEqualTo("/2020-05-31/distribution"))
                .willReturn(com.github.tomakehurst.wiremock.client.WireMock.aResponse()
                        .withStatus(403)
                        .withHeader("Content-Type", "text/xml")
                        .withBody("<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User:"
                                + " arn:aws:iam::111122223333:user/ci is not authorized to perform:"
                                + " cloudfront:ListDistributions</Message></Error><RequestId>1</RequestId>"
                                + "</ErrorResponse>")));
        try (AgentInstaller installer = installer(t -> t)) {
            Plan plan = installer.plan();

            assertThat(plan.changes().first().action()).isEqualTo(ChangeAction.UPDATE);
            assertThat(plan.toString())
                    .contains("Whether a function is a Lambda@Edge function could not be checked")
                    .contains("not authorized to perform: cloudfront:ListDistributions");
        }
    }

    @Test
    void plan_whenTheRuntimeHasNoExtensionsApi_orIsDeprecated_skipsTheFunction_withTheReason() {
        aws.stubFor(get(urlPathMatching("/2015-03-31/functions/?"))
                .willReturn(okJson("{\"Functions\":["
                        + function("a", "r1", "Successful").replace("python3.12", "go1.x") + ","
                        + function("b", "r1", "Successful").replace("python3.12", "nodejs16.x") + "]}")));
        try (AgentInstaller installer = LambdaWireMock.installer(aws, "https://logs.example.cloudaeye.com", "tok-123")
                .target(LambdaTarget.builder()
                        .functions("*")
                        .layer(Architecture.X86_64, LAYER)
                        .build())
                .build()) {
            Plan plan = installer.plan();

            assertThat(plan.changes()).allMatch(c -> c.action() == ChangeAction.SKIP);
            assertThat(plan.changes().first().reason().orElseThrow()).contains("go1.x has no Lambda Extensions API");
            assertThat(plan.changes().last().reason().orElseThrow()).contains("nodejs16.x is deprecated");
        }
    }

    /**
     * Plans are JSON that users may edit: an alias move the apply cannot make (no version to move to, no alias name,
     * no version it served) is refused before any mutating call, instead of failing after the update landed.
     */
    static Stream<Arguments> editedAliasMoves() {
        return Stream.of(
                Arguments.of(
                        "publish turned off, so the alias has no version to move to",
                        (UnaryOperator<String>) json -> json.replace("\"publish\" : true", "\"publish\" : false"),
                        "alias live of arn:aws:lambda:us-east-1:" + ACCOUNT + ":function:a has no toVersion"),
                Arguments.of(
                        "the alias's name removed",
                        (UnaryOperator<String>) json -> json.replace("\"name\" : \"live\"", "\"name\" : null"),
                        "an alias move without a name"),
                Arguments.of(
                        "the version it served removed",
                        (UnaryOperator<String>)
                                json -> json.replace("\"fromVersion\" : \"3\"", "\"fromVersion\" : null"),
                        "alias live of arn:aws:lambda:us-east-1:" + ACCOUNT + ":function:a has no fromVersion"),
                Arguments.of(
                        "its routing weights removed",
                        (UnaryOperator<String>) json -> json.replace("\"toWeights\" : { }", "\"toWeights\" : null"),
                        "alias live of arn:aws:lambda:us-east-1:" + ACCOUNT + ":function:a has no toWeights"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("editedAliasMoves")
    void apply_ofAPlanWithAnEditedAliasMove_isRefused_beforeAnyMutatingCall(
            String name, UnaryOperator<String> edit, String message) {
        stubFunctionA(function("a", "r1", "Successful"));
        stubAliases(alias("live", "3", ""));
        aws.stubFor(put(urlPathMatching(fn("a") + "/aliases/live")).willReturn(okJson(alias("live", "7", ""))));
        try (AgentInstaller installer = installer(t -> t.moveAliases("live"))) {
            String json = installer.plan().toJson();
            String edited = edit.apply(json);
            assertThat(edited).as("the edit applies to the plan").isNotEqualTo(json);

            String refusal;
            try {
                ApplyResult result = installer.apply(Plan.fromJson(edited));
                assertThat(result.results())
                        .singleElement()
                        .satisfies(r ->
                                assertThat(r.outcome()).as(result.toString()).isEqualTo(Outcome.FAILED));
                refusal = result.results().get(0).message().orElseThrow();
            } catch (com.cloudaeye.agent.AgentException e) {
                refusal = e.getMessage();
            }
            assertThat(refusal).contains(message).containsIgnoringCase("nothing was changed");
        }
        assertThat(aws.getAllServeEvents())
                .as("no mutating call")
                .allMatch(e -> e.getRequest().getMethod().getName().equals("GET"));
    }
}
