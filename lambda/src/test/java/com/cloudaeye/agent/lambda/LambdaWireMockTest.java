package com.cloudaeye.agent.lambda;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
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
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.ResourceResult.Outcome;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.MappingBuilder;
import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import com.github.tomakehurst.wiremock.client.ScenarioMappingBuilder;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.lambda.model.Architecture;

/** What moto cannot show: paging, asynchronous updates, conflicts, stale revisions, throttling, partial failure. */
class LambdaWireMockTest {
    static final String ACCOUNT = "111122223333";
    static final String LAYER = "arn:aws:lambda:us-east-1:" + ACCOUNT + ":layer:cloudaeye-x86:3";

    @TempDir
    Path journals;

    private WireMockServer aws;

    @BeforeEach
    void start() {
        aws = LambdaWireMock.start("python3.12");
    }

    @AfterEach
    void stop() {
        aws.stop();
    }

    private AgentInstaller installer(String... functions) {
        return LambdaWireMock.installer(aws, "https://logs.example.cloudaeye.com", "tok-123")
                .target(LambdaTarget.builder()
                        .functions(functions)
                        .layer(Architecture.X86_64, LAYER)
                        .publishVersion(true)
                        .build())
                .retries(6, Duration.ofMillis(5))
                .journalDirectory(journals)
                .build();
    }

    @Test
    void plan_pagesThroughListFunctions_fiftyAtATime() {
        aws.stubFor(get(urlPathMatching("/2015-03-31/functions/?"))
                .withQueryParam("MaxItems", equalTo("50"))
                .withQueryParam("Marker", com.github.tomakehurst.wiremock.client.WireMock.absent())
                .willReturn(okJson("{\"Functions\":[" + function("a", "r1", "Successful") + ","
                        + function("b", "r1", "Successful") + "],\"NextMarker\":\"page2\"}")));
        aws.stubFor(get(urlPathMatching("/2015-03-31/functions/?"))
                .withQueryParam("Marker", equalTo("page2"))
                .willReturn(okJson("{\"Functions\":[" + function("c", "r1", "Successful") + "]}")));
        for (String name : List.of("a", "b", "c")) {
            aws.stubFor(get(urlPathMatching(fn(name))).willReturn(okJson(getFunction(name, "r1", "Successful"))));
        }
        try (AgentInstaller installer = installer("*")) {
            Plan plan = installer.plan();
            assertThat(plan.mutations()).hasSize(3);
            // ListFunctions returns no tags: a function the plan changes costs one GetFunction (Lambda's 100/s
            // quota, not the shared 15/s one) to learn whether a CloudFormation stack owns it. The listing, of every
            // version, showed none published: no function has an alias serving anything but $LATEST, so no
            // ListAliases.
            assertThat(installer.calls())
                    .containsEntry("lambda:ListFunctions", 2L)
                    .containsEntry("lambda:GetLayerVersion", 1L)
                    .containsEntry("cloudfront:ListDistributions", 1L)
                    .containsEntry("lambda:GetFunction", 3L)
                    .hasSize(4);
            aws.verify(
                    2,
                    getRequestedFor(urlPathMatching("/2015-03-31/functions/?"))
                            .withQueryParam("FunctionVersion", equalTo("ALL")));
        }
    }

    /**
     * A function as AWS's {@code ListFunctions} lists it: a subset of the configuration, without {@code State} or
     * {@code LastUpdateStatus} (only {@code GetFunction} returns them). Moto's listing has them; AWS's does not.
     */
    private static String listedByAws(String name) {
        return function(name, "r1", "Successful")
                .replace("\"State\":\"Active\",", "")
                .replace("\"LastUpdateStatus\":\"Successful\",", "");
    }

    @Test
    void plan_glob_onAnAwsShapedListing_skipsAFunctionWhoseLastUpdateFailed_withoutAnExtraRead() {
        aws.stubFor(get(urlPathMatching("/2015-03-31/functions/?"))
                .willReturn(okJson("{\"Functions\":[" + listedByAws("a") + "," + listedByAws("b") + "]}")));
        aws.stubFor(get(urlPathMatching(fn("a")))
                .willReturn(okJson(getFunction("a", "r1", "Failed")
                        .replace(
                                "\"LastUpdateStatus\":\"Failed\"",
                                "\"LastUpdateStatus\":\"Failed\",\"LastUpdateStatusReason\":\"ENI limit reached\","
                                        + "\"LastUpdateStatusReasonCode\":\"EniLimitExceeded\""))));
        aws.stubFor(get(urlPathMatching(fn("b"))).willReturn(okJson(getFunction("b", "r1", "Successful"))));
        aws.stubFor(
                put(urlPathMatching(fn("b") + "/configuration")).willReturn(okJson(function("b", "r2", "Successful"))));
        stubPublish("b");
        try (AgentInstaller installer = installer("*")) {
            Plan plan = installer.plan();

            assertThat(plan.changes())
                    .filteredOn(c -> c.resourceId().endsWith(":function:a"))
                    .singleElement()
                    .satisfies(c -> {
                        assertThat(c.action()).isEqualTo(com.cloudaeye.agent.ChangeAction.SKIP);
                        assertThat(c.reason().orElseThrow()).contains("its last update failed (ENI limit reached)");
                    });
            assertThat(plan.mutations())
                    .singleElement()
                    .satisfies(c -> assertThat(c.resourceId()).endsWith(":function:b"));
            assertThat(installer.calls())
                    .as("the status comes from the GetFunction that reads each updated function's tags anyway")
                    .containsEntry("lambda:GetFunction", 2L);

            ApplyResult result = installer.apply(plan);
            assertThat(result.status()).as(result.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            aws.verify(0, putRequestedFor(urlPathMatching(fn("a") + "/configuration")));
            aws.verify(1, putRequestedFor(urlPathMatching(fn("b") + "/configuration")));
        }
    }

    @Test
    void apply_waitsForTheInProgressUpdate_beforePublishing() {
        stubGetFunctionThroughUpdate("a", "InProgress", "InProgress", "Successful");
        aws.stubFor(
                put(urlPathMatching(fn("a") + "/configuration")).willReturn(okJson(function("a", "r2", "InProgress"))));
        aws.stubFor(post(urlPathMatching(fn("a") + "/versions"))
                .willReturn(okJson("{\"Version\":\"7\",\"FunctionName\":\"a\"}")));
        try (AgentInstaller installer = installer("a")) {
            ApplyResult result = installer.apply(installer.plan());

            assertThat(result.status()).as(result.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            assertThat(result.results().get(0).message()).hasValue("published version 7");
            assertThat(result.calls().get("lambda:GetFunction"))
                    .as("three polls, until the update is final; no read before it")
                    .isEqualTo(3L);
            aws.verify(
                    1,
                    putRequestedFor(urlPathMatching(fn("a") + "/configuration"))
                            .withRequestBody(com.github.tomakehurst.wiremock.client.WireMock.matchingJsonPath(
                                    "$.RevisionId", equalTo("r1"))));
            // Published against the revision the update produced, after it finished.
            aws.verify(
                    1,
                    postRequestedFor(urlPathMatching(fn("a") + "/versions"))
                            .withRequestBody(com.github.tomakehurst.wiremock.client.WireMock.matchingJsonPath(
                                    "$.RevisionId", equalTo("r2"))));
        }
    }

    @Test
    void apply_retriesResourceConflict_afterTheOtherUpdateFinishes() {
        stubGetFunctionThroughUpdate("a", "Successful");
        answerInTurn(
                "conflict",
                () -> put(urlPathMatching(fn("a") + "/configuration")),
                error(409, "ResourceConflictException", "An update is in progress"),
                okJson(function("a", "r2", "Successful")));
        stubPublish("a");
        try (AgentInstaller installer = installer("a")) {
            ApplyResult result = installer.apply(installer.plan());
            assertThat(result.status()).as(result.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            aws.verify(2, putRequestedFor(urlPathMatching(fn("a") + "/configuration")));
        }
    }

    /**
     * A function Lambda is still creating (State {@code Pending}, e.g. while it sets up VPC network interfaces, which
     * can take minutes) refuses every update with {@code ResourceConflictException} until it is {@code Active}; its
     * {@code LastUpdateStatus} is not {@code InProgress}. The apply waits for it to become Active and then sends the
     * update once, instead of re-sending it after each read that still shows it Pending (which, with the conflict
     * retries spent within about two seconds, reported a function being created as FAILED).
     */
    @Test
    void apply_whenTheFunctionIsStillBeingCreated_waitsUntilItIsActive_beforeSendingTheUpdateAgain() {
        String pending = getFunction("a", "r1", "Successful")
                .replace("\"State\":\"Active\"", "\"State\":\"Pending\",\"StateReasonCode\":\"Creating\"");
        String scenario = "creating";
        List<String> states = List.of(Scenario.STARTED, "read 1", "read 2", "read 3");
        for (int i = 0; i < states.size(); i++) {
            // The plan's read, then three more while Lambda is still creating the function.
            aws.stubFor(get(urlPathMatching(fn("a")))
                    .inScenario(scenario)
                    .whenScenarioStateIs(states.get(i))
                    .willReturn(okJson(pending))
                    .willSetStateTo(i + 1 < states.size() ? states.get(i + 1) : "active"));
            aws.stubFor(put(urlPathMatching(fn("a") + "/configuration"))
                    .inScenario(scenario)
                    .whenScenarioStateIs(states.get(i))
                    .willReturn(error(
                            409,
                            "ResourceConflictException",
                            "The operation cannot be performed at this time. The function is currently in the"
                                    + " following state: Pending")));
        }
        aws.stubFor(get(urlPathMatching(fn("a")))
                .inScenario(scenario)
                .whenScenarioStateIs("active")
                .willReturn(okJson(getFunction("a", "r1", "Successful"))));
        aws.stubFor(put(urlPathMatching(fn("a") + "/configuration"))
                .inScenario(scenario)
                .whenScenarioStateIs("active")
                .willReturn(okJson(function("a", "r2", "Successful"))));
        stubPublish("a");
        try (AgentInstaller installer = installer("a")) {
            ApplyResult result = installer.apply(installer.plan());

            assertThat(result.status()).as(result.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            assertThat(aws.findAll(putRequestedFor(urlPathMatching(fn("a") + "/configuration"))))
                    .as("one update refused while Pending, then one once the function is Active; none re-sent while"
                            + " it is still Pending")
                    .hasSize(2);
        }
    }

    @Test
    void apply_withoutRevisionIds_whenTheUpdateInProgressAddedALayer_reportsIt_andSendsNoSecondUpdate() {
        String planned = getFunction("a", "r1", "Successful").replace("\"RevisionId\":\"r1\",", "");
        String changed = planned.replace("\"Layers\":[]", "\"Layers\":[{\"Arn\":\"" + USER_LAYER + "\"}]");
        aws.stubFor(get(urlPathMatching(fn("a")))
                .inScenario("emulator")
                .whenScenarioStateIs(Scenario.STARTED)
                .willReturn(okJson(planned)));
        aws.stubFor(put(urlPathMatching(fn("a") + "/configuration"))
                .inScenario("emulator")
                .whenScenarioStateIs(Scenario.STARTED)
                .willReturn(error(409, "ResourceConflictException", "An update is in progress"))
                .willSetStateTo("someone else's update landed"));
        aws.stubFor(get(urlPathMatching(fn("a")))
                .inScenario("emulator")
                .whenScenarioStateIs("someone else's update landed")
                .willReturn(okJson(changed)));
        try (AgentInstaller installer = installer("a")) {
            ApplyResult result = installer.apply(installer.plan());
            assertThat(result.results()).singleElement().satisfies(r -> {
                assertThat(r.outcome()).isEqualTo(Outcome.SKIPPED);
                assertThat(r.message()).hasValueSatisfying(m -> assertThat(m).contains("changed since planning"));
            });
            aws.verify(1, putRequestedFor(urlPathMatching(fn("a") + "/configuration")));
        }
    }

    @Test
    void apply_afterItsOwnPlan_sendsTheUpdateAtOnce_withThePlannedRevision_andPollsOnlyWhileInProgress() {
        stubGetFunctionThroughUpdate("a", "InProgress", "Successful");
        aws.stubFor(
                put(urlPathMatching(fn("a") + "/configuration")).willReturn(okJson(function("a", "r2", "InProgress"))));
        stubPublish("a");
        try (AgentInstaller installer = installer("a")) {
            ApplyResult result = installer.apply(installer.plan());

            assertThat(result.status()).as(result.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            assertThat(result.calls())
                    .as("no read before the update; two polls until it is no longer in progress")
                    .containsEntry("lambda:GetFunction", 2L)
                    .containsEntry("lambda:UpdateFunctionConfiguration", 1L)
                    .containsEntry("lambda:PublishVersion", 1L);
            aws.verify(
                    1,
                    putRequestedFor(urlPathMatching(fn("a") + "/configuration"))
                            .withRequestBody(com.github.tomakehurst.wiremock.client.WireMock.matchingJsonPath(
                                    "$.RevisionId", equalTo("r1")))
                            .withRequestBody(com.github.tomakehurst.wiremock.client.WireMock.matchingJsonPath(
                                    "$.Environment.Variables.STAGE", equalTo("prod"))));
        }
    }

    @Test
    void apply_whenTheUpdateAnswersSuccessful_readsNothing() {
        stubGetFunctionThroughUpdate("a");
        stubUpdateAnswersSuccessful("a");
        try (AgentInstaller installer = installer("a")) {
            ApplyResult result = installer.apply(installer.plan());

            assertThat(result.status()).as(result.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            assertThat(result.calls()).doesNotContainKey("lambda:GetFunction");
            aws.verify(
                    1,
                    postRequestedFor(urlPathMatching(fn("a") + "/versions"))
                            .withRequestBody(com.github.tomakehurst.wiremock.client.WireMock.matchingJsonPath(
                                    "$.RevisionId", equalTo("r2"))));
        }
    }

    @Test
    void apply_afterItsOwnPlan_checksTheLayerAgainstWhatThePlanRead_withoutReadingItAgain() {
        stubGetFunctionThroughUpdate("a");
        stubUpdateAnswersSuccessful("a");
        try (AgentInstaller installer = installer("a")) {
            ApplyResult result = installer.apply(installer.plan());

            assertThat(result.status()).as(result.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            assertThat(result.calls()).doesNotContainKey("lambda:GetLayerVersion");
            aws.verify(1, getRequestedFor(urlPathMatching(".*/layers/.*/versions/3")));
        }
    }

    @Test
    void apply_ofAPlanReadFromJson_byAnotherInstaller_readsTheLayerBeforeTheUpdate() {
        aws.stubFor(get(urlPathMatching(fn("a"))).willReturn(okJson(getFunction("a", "r1", "Successful"))));
        stubUpdateAnswersSuccessful("a");
        Plan plan;
        try (AgentInstaller planning = installer("a")) {
            plan = planning.plan();
        }
        try (AgentInstaller installer = installer("a")) {
            ApplyResult result = installer.apply(Plan.fromJson(plan.toJson()));

            assertThat(result.status()).as(result.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            assertThat(result.calls()).containsEntry("lambda:GetLayerVersion", 1L);
            aws.verify(2, getRequestedFor(urlPathMatching(".*/layers/.*/versions/3")));
        }
    }

    @Test
    void apply_whenTheFunctionChangedSincePlanning_reportsIt_andSendsNoUpdate() {
        // Planning reads r1; by the apply, someone else has changed the function (r9).
        answerInTurn(
                "stale",
                () -> get(urlPathMatching(fn("a"))),
                okJson(getFunction("a", "r1", "Successful")),
                okJson(getFunction("a", "r9", "Successful")));
        Plan plan;
        try (AgentInstaller planning = installer("a")) {
            plan = planning.plan();
        }
        // A plan reviewed as JSON and applied by another installer: it reads the function before the update.
        try (AgentInstaller installer = installer("a")) {
            ApplyResult result = installer.apply(Plan.fromJson(plan.toJson()));
            assertThat(result.results()).singleElement().satisfies(r -> {
                assertThat(r.outcome()).isEqualTo(Outcome.SKIPPED);
                assertThat(r.message()).hasValueSatisfying(m -> assertThat(m).contains("changed since planning"));
            });
            aws.verify(0, putRequestedFor(urlPathMatching(fn("a") + "/configuration")));
        }
    }

    @Test
    void apply_whenLambdaRejectsTheRevision_reportsPreconditionFailed_asSkipped() {
        stubGetFunctionThroughUpdate("a", "Successful");
        aws.stubFor(put(urlPathMatching(fn("a") + "/configuration"))
                .willReturn(error(412, "PreconditionFailedException", "The RevisionId provided does not match")));
        try (AgentInstaller installer = installer("a")) {
            ApplyResult result = installer.apply(installer.plan());
            assertThat(result.results()).singleElement().satisfies(r -> {
                assertThat(r.outcome()).isEqualTo(Outcome.SKIPPED);
                assertThat(r.message()).hasValueSatisfying(m -> assertThat(m).contains("RevisionId"));
            });
            aws.verify(1, putRequestedFor(urlPathMatching(fn("a") + "/configuration")));
        }
    }

    @Test
    void apply_retriesThrottlingAndServerErrors() {
        stubGetFunctionThroughUpdate("a", "Successful");
        answerInTurn(
                "flaky",
                () -> put(urlPathMatching(fn("a") + "/configuration")),
                error(429, "TooManyRequestsException", "Rate exceeded"),
                error(500, "ServiceException", "Internal error"),
                okJson(function("a", "r2", "Successful")));
        stubPublish("a");
        try (AgentInstaller installer = installer("a")) {
            ApplyResult result = installer.apply(installer.plan());
            assertThat(result.status()).as(result.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            assertThat(result.throttled()).isEqualTo(1);
            aws.verify(3, putRequestedFor(urlPathMatching(fn("a") + "/configuration")));
        }
    }

    @Test
    void apply_oneFailingFunction_doesNotStopTheOthers_andTheResultIsPartial() {
        for (String name : new String[] {"a", "b", "c"}) {
            stubGetFunctionThroughUpdate(name, "Successful");
            stubPublish(name);
            aws.stubFor(put(urlPathMatching(fn(name) + "/configuration"))
                    .willReturn(
                            name.equals("b")
                                    ? error(400, "InvalidParameterValueException", "Layers are too large")
                                    : okJson(function(name, "r2", "Successful"))));
        }
        try (AgentInstaller installer = installer("a", "b", "c")) {
            ApplyResult result = installer.apply(installer.plan());

            assertThat(result.status()).isEqualTo(ApplyResult.Status.PARTIAL);
            assertThat(result.isSuccess()).isFalse();
            assertThat(result.withOutcome(Outcome.APPLIED)).hasSize(2);
            assertThat(result.withOutcome(Outcome.FAILED)).singleElement().satisfies(r -> {
                assertThat(r.change().resourceId()).endsWith(":function:b");
                assertThat(r.message()).hasValue("InvalidParameterValueException: Layers are too large");
            });
            assertThat(result.toString()).doesNotContain("tok-123");
        }
    }

    @Test
    void apply_withMaxFailures_startsNoMoreUpdatesThanTheLimit_althoughFunctionsRunConcurrently() {
        String[] names = {"a", "b", "c", "d", "e", "f", "g", "h"};
        for (String name : names) {
            stubGetFunctionThroughUpdate(name, "Successful");
            aws.stubFor(put(urlPathMatching(fn(name) + "/configuration"))
                    .willReturn(error(400, "InvalidParameterValueException", "Layers are too large")
                            .withFixedDelay(200))); // all in flight at once, none answered yet
        }
        try (AgentInstaller installer = LambdaWireMock.installer(aws, "https://logs.example.cloudaeye.com", "tok-123")
                .target(LambdaTarget.builder()
                        .functions(names)
                        .layer(Architecture.X86_64, LAYER)
                        .build())
                .journalDirectory(journals)
                .maxFailures(2)
                .build()) {
            ApplyResult result = installer.apply(installer.plan());

            assertThat(result.withOutcome(Outcome.FAILED)).hasSize(2);
            assertThat(result.withOutcome(Outcome.NOT_ATTEMPTED))
                    .hasSize(6)
                    .allSatisfy(r -> assertThat(r.message().orElseThrow()).contains("not started", "maxFailures(2)"));
            aws.verify(2, putRequestedFor(urlPathMatching("/2015-03-31/functions/.*/configuration")));
        }
    }

    /** UpdateFunctionConfiguration always answers 500 (the answer lost); GetFunction: planning, then {@code after}. */
    private void stubLostUpdate(String name, ResponseDefinitionBuilder after) {
        aws.stubFor(put(urlPathMatching(fn(name) + "/configuration"))
                .willReturn(error(500, "ServiceException", "connection reset after the update")));
        // The apply sends its update without reading first: the second read is the read-back.
        answerInTurn(
                "lost-" + name,
                () -> get(urlPathMatching(fn(name))),
                okJson(getFunction(name, "r1", "Successful")),
                after);
        stubPublish(name);
    }

    /** GetFunction's answer for function {@code a} once the agent is installed. */
    private static String installedA() {
        return "{\"Configuration\":"
                + function("a", "r2", "Successful")
                        .replace("\"Layers\":[]", "\"Layers\":[{\"Arn\":\"" + LAYER + "\"}]")
                        .replace(
                                "{\"STAGE\":\"prod\"}",
                                "{\"STAGE\":\"prod\",\"CLOUDAEYE_INSTALLED_VARIABLES\":\"CLOUDAEYE_API_TOKEN,CLOUDAEYE_LOGS_ENDPOINT\",\"CLOUDAEYE_LOGS_ENDPOINT\":"
                                        + "\"https://logs.example.cloudaeye.com\",\"CLOUDAEYE_API_TOKEN\":\"tok-123\"}")
                + ",\"Tags\":{}}";
    }

    @Test
    void apply_whenTheUpdatesAnswerIsLost_butItLanded_readsItBack_andReportsItApplied() {
        stubLostUpdate("a", okJson(installedA()));
        try (AgentInstaller installer = installer("a")) {
            ApplyResult result = installer.apply(installer.plan());

            assertThat(result.status()).as(result.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            assertThat(result.results().get(0).message().orElseThrow()).contains("answer was lost");
        }
    }

    @Test
    void apply_whenALostAttemptLanded_andTheRetriesWereThrottled_readsItBack_andReportsItApplied() {
        stubLostUpdate("a", okJson(installedA()));
        // The first attempt lands but its answer is lost (500); every retry is throttled until the attempts run out.
        answerInTurn(
                "throttled-after-lost",
                () -> put(urlPathMatching(fn("a") + "/configuration")),
                error(500, "ServiceException", "connection reset after the update"),
                error(429, "TooManyRequestsException", "Rate exceeded"));
        try (AgentInstaller installer = installer("a")) {
            ApplyResult result = installer.apply(installer.plan());

            assertThat(result.status()).as(result.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            assertThat(result.results().get(0).message().orElseThrow()).contains("answer was lost");
        }
    }

    @Test
    void apply_whenTheUpdatesAnswerIsLost_andItDidNotLand_reportsItFailed() {
        stubLostUpdate("a", okJson(getFunction("a", "r1", "Successful")));
        try (AgentInstaller installer = installer("a")) {
            ApplyResult result = installer.apply(installer.plan());

            assertThat(result.status()).as(result.toString()).isEqualTo(ApplyResult.Status.FAILED);
            assertThat(result.results().get(0).message())
                    .hasValue("ServiceException: connection reset after the update");
        }
    }

    /**
     * Lambda's refusal of an environment over its 4 KB limit quotes the whole environment it measured, the token and
     * every user value in it ({@code String measured: {...}}). The outcome (failed when the read-back shows nothing
     * landed, unknown when the read-back fails too) says why, and neither it, the journal nor the result holds a value.
     */
    @Test
    void apply_whenLambdaRefusesTheEnvironment_quotingIt_reportsWhy_withoutTheTokenOrAnyValue() throws Exception {
        String measured = "Lambda was unable to configure your environment variables because the environment"
                + " variables you have provided exceeded the 4KB limit. String measured:"
                + " {\\\"CLOUDAEYE_API_TOKEN\\\":\\\"tok-123\\\",\\\"CLOUDAEYE_LOGS_ENDPOINT\\\":"
                + "\\\"https://logs.example.cloudaeye.com\\\",\\\"STAGE\\\":\\\"user-secret-value\\\"}";
        aws.stubFor(get(urlPathMatching(fn("a"))).willReturn(okJson(getFunction("a", "r1", "Successful"))));
        // b's read-back, after planning, is denied.
        answerInTurn(
                "b",
                () -> get(urlPathMatching(fn("b"))),
                okJson(getFunction("b", "r1", "Successful")),
                error(403, "AccessDeniedException", "not allowed to read it back"));
        for (String name : List.of("a", "b")) {
            aws.stubFor(put(urlPathMatching(fn(name) + "/configuration"))
                    .willReturn(error(400, "InvalidParameterValueException", measured)));
        }
        try (AgentInstaller installer = installer("a", "b")) {
            ApplyResult result = installer.apply(installer.plan());

            assertThat(result.results())
                    .hasSize(2)
                    .allSatisfy(r -> assertThat(r.message().orElseThrow())
                            .contains("InvalidParameterValueException", "exceeded the 4KB limit")
                            .doesNotContain("tok-123", "user-secret-value"));
            assertThat(result.withOutcome(Outcome.FAILED))
                    .singleElement()
                    .satisfies(r -> assertThat(r.change().resourceId()).endsWith(":function:a"));
            assertThat(result.withOutcome(Outcome.UNKNOWN))
                    .singleElement()
                    .satisfies(r -> assertThat(r.change().resourceId()).endsWith(":function:b"));
            assertThat(result.toString() + result.toJson()).doesNotContain("tok-123", "user-secret-value");
            try (var files = java.nio.file.Files.walk(journals)) {
                for (Path file :
                        files.filter(java.nio.file.Files::isRegularFile).toList()) {
                    assertThat(java.nio.file.Files.readString(file))
                            .as("journal %s", file)
                            .doesNotContain("tok-123", "user-secret-value");
                }
            }
        }
    }

    @Test
    void apply_whenTheUpdatesAnswerIsLost_andTheReadBackFailsToo_reportsItUnknown_andRollbackIncludesIt() {
        stubLostUpdate("a", error(403, "AccessDeniedException", "not allowed to read it back"));
        try (AgentInstaller installer = installer("a")) {
            ApplyResult result = installer.apply(installer.plan());

            assertThat(result.status()).as(result.toString()).isEqualTo(ApplyResult.Status.PARTIAL);
            assertThat(result.withOutcome(Outcome.UNKNOWN))
                    .singleElement()
                    .satisfies(r -> assertThat(r.message().orElseThrow())
                            .contains("the outcome is unknown", "not allowed to read it back")
                            .doesNotContain("tok-123"));
            assertThat(com.cloudaeye.agent.Journal.read(result.journal().orElseThrow())
                            .sent())
                    .as("rollback gets it, to check it live")
                    .hasSize(1);
        }
    }

    /** GetFunction's answer for function {@code a} with the agent's configuration, but its last update failed. */
    private static String installedAButFailed() {
        return installedA()
                .replace(
                        "\"LastUpdateStatus\":\"Successful\"",
                        "\"LastUpdateStatus\":\"Failed\",\"LastUpdateStatusReason\":\"ENI limit reached\","
                                + "\"LastUpdateStatusReasonCode\":\"EniLimitExceeded\"");
    }

    /**
     * The first UpdateFunctionConfiguration lands but its answer is lost (500); the scheduler's retry gets {@code
     * retried}. GetFunction: planning, then {@code after}.
     */
    private void stubLostUpdateThen(ResponseDefinitionBuilder retried, ResponseDefinitionBuilder after) {
        stubLostUpdate("a", after);
        answerInTurn(
                "retried-after-lost",
                () -> put(urlPathMatching(fn("a") + "/configuration")),
                error(500, "ServiceException", "connection reset after the update"),
                retried);
    }

    @Test
    void apply_whenALostAttemptLanded_andTheRetryGets412_butLambdaReportsTheUpdateFailed_reportsUnknown() {
        stubLostUpdateThen(
                error(412, "PreconditionFailedException", "The RevisionId provided does not match"),
                okJson(installedAButFailed()));
        try (AgentInstaller installer = installer("a")) {
            ApplyResult result = installer.apply(installer.plan());

            assertUnknown(result, "Lambda reports the update failed", "ENI limit reached");
            aws.verify(2, putRequestedFor(urlPathMatching(fn("a") + "/configuration")));
            aws.verify(0, postRequestedFor(urlPathMatching(fn("a") + "/versions")));
        }
    }

    /**
     * The update's own answer says it failed (no poll needed), and shows the new configuration: Lambda saved it but it
     * did not take effect, so the change is neither applied nor absent.
     */
    @Test
    void apply_whenTheUpdatesOwnAnswerSaysItFailed_withTheNewConfiguration_reportsUnknown_notFailed() {
        String failed = installedAButFailed();
        aws.stubFor(get(urlPathMatching(fn("a"))).willReturn(okJson(getFunction("a", "r1", "Successful"))));
        stubPublish("a");
        aws.stubFor(put(urlPathMatching(fn("a") + "/configuration"))
                .willReturn(okJson(failed.substring("{\"Configuration\":".length(), failed.lastIndexOf(",\"Tags\"")))));
        try (AgentInstaller installer = installer("a")) {
            ApplyResult result = installer.apply(installer.plan());

            assertUnknown(result, "Lambda reports the update failed", "ENI limit reached");
            aws.verify(0, postRequestedFor(urlPathMatching(fn("a") + "/versions")));
        }
    }

    @Test
    void apply_ofAResumedChange_whenTheInterruptedUpdateEndedFailed_reportsUnknown_notAlreadyApplied() {
        // Planning, then the interrupted update: landed, then failed.
        answerInTurn(
                "resumed",
                () -> get(urlPathMatching(fn("a"))),
                okJson(getFunction("a", "r1", "Successful")),
                okJson(installedAButFailed()));
        stubPublish("a");
        Plan plan;
        try (AgentInstaller planning = installer("a")) {
            plan = planning.plan();
        }
        // Another process (a resume) did not plan it: it reads the function, which shows the change, failed.
        try (AgentInstaller installer = installer("a")) {
            ApplyResult result = installer.apply(Plan.fromJson(plan.toJson()));

            assertUnknown(result, "Lambda reports the update failed", "ENI limit reached");
            aws.verify(0, putRequestedFor(urlPathMatching(fn("a") + "/configuration")));
            aws.verify(0, postRequestedFor(urlPathMatching(fn("a") + "/versions")));
        }
    }

    @Test
    void apply_whenPublishingMeetsAnUpdateInProgress_thatEndsFailed_reportsUnknown_andPublishesNothingMore() {
        stubGetFunctionThroughUpdate("a");
        aws.stubFor(
                put(urlPathMatching(fn("a") + "/configuration")).willReturn(okJson(function("a", "r2", "Successful"))));
        aws.stubFor(post(urlPathMatching(fn("a") + "/versions"))
                .willReturn(error(409, "ResourceConflictException", "An update is in progress")));
        aws.stubFor(get(urlPathMatching(fn("a")))
                .inScenario("get-a")
                .whenScenarioStateIs("s0")
                .willReturn(okJson(installedAButFailed())));
        try (AgentInstaller installer = installer("a")) {
            ApplyResult result = installer.apply(installer.plan());

            assertUnknown(result, "update failed", "ENI limit reached");
            aws.verify(1, postRequestedFor(urlPathMatching(fn("a") + "/versions")));
        }
    }

    @Test
    void apply_whenPublishingIsDenied_afterTheUpdate_reportsUnknown_namingTheFunctionAndTheResume() {
        stubGetFunctionThroughUpdate("a");
        aws.stubFor(
                put(urlPathMatching(fn("a") + "/configuration")).willReturn(okJson(function("a", "r2", "Successful"))));
        aws.stubFor(post(urlPathMatching(fn("a") + "/versions"))
                .willReturn(error(403, "AccessDeniedException", "not authorized to perform lambda:PublishVersion")));
        try (AgentInstaller installer = installer("a")) {
            ApplyResult result = installer.apply(installer.plan());

            assertUnknown(
                    result,
                    "function a was updated, but publishing its version failed",
                    "resume this apply (installer.resume(journal)) to publish it, or roll back");
        }
    }

    @Test
    void apply_whenALostAttemptLanded_theRetryGets412_andTheReadBackIsDenied_reportsUnknown() {
        stubLostUpdateThen(
                error(412, "PreconditionFailedException", "The RevisionId provided does not match"),
                error(403, "AccessDeniedException", "not allowed to read it back"));
        try (AgentInstaller installer = installer("a")) {
            ApplyResult result = installer.apply(installer.plan());

            assertUnknown(result, "the outcome is unknown", "not allowed to read it back");
        }
    }

    @Test
    void apply_whenALostAttemptLanded_theRetryGets409_andTheReadBackIsDenied_reportsUnknown() {
        stubLostUpdateThen(
                error(409, "ResourceConflictException", "An update is in progress"),
                error(403, "AccessDeniedException", "not allowed to read it back"));
        try (AgentInstaller installer = installer("a")) {
            ApplyResult result = installer.apply(installer.plan());

            assertUnknown(result, "the outcome is unknown", "not allowed to read it back");
        }
    }

    @Test
    void close_fromAnotherThread_whileTheUpdateIsInFlight_endsTheApply_withTheChangeUnknown_notFailed()
            throws Exception {
        stubGetFunctionThroughUpdate("a");
        aws.stubFor(put(urlPathMatching(fn("a") + "/configuration"))
                .willReturn(okJson(function("a", "r2", "Successful")).withFixedDelay(30_000)));
        AgentInstaller installer = installer("a");
        Plan plan = installer.plan();
        java.util.concurrent.CompletableFuture<ApplyResult> applying =
                java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                    try {
                        return installer.apply(plan);
                    } catch (com.cloudaeye.agent.ApplyException e) {
                        return e.result();
                    }
                });
        while (aws.findAll(putRequestedFor(urlPathMatching(fn("a") + "/configuration")))
                .isEmpty()) {
            assertThat(applying).as("the update is sent before the apply ends").isNotDone();
            Thread.sleep(10);
        }

        installer.close(); // a shutdown hook, say: the update was sent, its answer will not come

        ApplyResult result = applying.get(10, java.util.concurrent.TimeUnit.SECONDS);
        assertUnknown(result, "the outcome is unknown", "closed");
    }

    /**
     * GetFunction answers the first read (planning) with r1, then walks through the given update statuses. The apply
     * of the installer that planned sends its update without reading the function first.
     */
    private void stubGetFunctionThroughUpdate(String name, String... statusesAfterPlan) {
        String scenario = "get-" + name;
        aws.stubFor(get(urlPathMatching(fn(name)))
                .inScenario(scenario)
                .whenScenarioStateIs(Scenario.STARTED)
                .willReturn(okJson(getFunction(name, "r1", "Successful")))
                .willSetStateTo("s0"));
        for (int i = 0; i < statusesAfterPlan.length; i++) {
            var stub = get(urlPathMatching(fn(name)))
                    .inScenario(scenario)
                    .whenScenarioStateIs("s" + i)
                    .willReturn(okJson(getFunction(name, "r2", statusesAfterPlan[i])));
            if (i < statusesAfterPlan.length - 1) {
                stub = stub.willSetStateTo("s" + (i + 1));
            }
            aws.stubFor(stub);
        }
    }

    /**
     * Stubs a request to get each answer in turn, the last one for good: a WireMock scenario of its own, whose state
     * counts the answers given.
     *
     * @param scenario the scenario's name, unique in the test
     * @param request makes the request's pattern, anew for each answer
     * @param answers the answers, in order
     */
    private void answerInTurn(String scenario, Supplier<MappingBuilder> request, ResponseDefinitionBuilder... answers) {
        for (int i = 0; i < answers.length; i++) {
            ScenarioMappingBuilder stub = request.get()
                    .inScenario(scenario)
                    .whenScenarioStateIs(i == 0 ? Scenario.STARTED : "answered " + i)
                    .willReturn(answers[i]);
            if (i + 1 < answers.length) {
                stub = stub.willSetStateTo("answered " + (i + 1));
            }
            aws.stubFor(stub);
        }
    }

    /**
     * Asserts that the apply's one result is UNKNOWN, with a message holding each text, neither "already applied" nor
     * the token.
     */
    private static void assertUnknown(ApplyResult result, String... texts) {
        assertThat(result.results()).singleElement().satisfies(r -> {
            assertThat(r.outcome()).as(result.toString()).isEqualTo(Outcome.UNKNOWN);
            assertThat(r.message().orElseThrow()).contains(texts).doesNotContain("already applied", "tok-123");
        });
    }

    /** The update of the function answers Successful at once (revision r2), and publishing it succeeds. */
    private void stubUpdateAnswersSuccessful(String name) {
        aws.stubFor(put(urlPathMatching(fn(name) + "/configuration"))
                .willReturn(okJson(function(name, "r2", "Successful"))));
        stubPublish(name);
    }

    private void stubPublish(String name) {
        aws.stubFor(post(urlPathMatching(fn(name) + "/versions"))
                .willReturn(okJson("{\"Version\":\"1\",\"FunctionName\":\"" + name + "\"}")));
    }

    static final String USER_LAYER = "arn:aws:lambda:us-east-1:" + ACCOUNT + ":layer:user-utils:2";

    static String function(String name, String revision, String lastUpdateStatus) {
        return "{\"FunctionName\":\"" + name + "\",\"FunctionArn\":\"arn:aws:lambda:us-east-1:" + ACCOUNT
                + ":function:" + name + "\",\"Runtime\":\"python3.12\",\"PackageType\":\"Zip\","
                + "\"Architectures\":[\"x86_64\"],\"RevisionId\":\"" + revision + "\",\"State\":\"Active\","
                + "\"LastUpdateStatus\":\"" + lastUpdateStatus + "\",\"Layers\":[],"
                + "\"Environment\":{\"Variables\":{\"STAGE\":\"prod\"}}}";
    }

    /**
     * @return a published version of the function as {@code ListFunctions} with {@code FunctionVersion=ALL} lists
     *     it: its own entry, its qualified ARN
     */
    static String version(String name, String version) {
        return function(name, "v" + version, "Successful")
                .replace(":function:" + name + "\"", ":function:" + name + ":" + version + "\"")
                .replace("\"Runtime\"", "\"Version\":\"" + version + "\",\"Runtime\"");
    }

    static String getFunction(String name, String revision, String lastUpdateStatus) {
        return "{\"Configuration\":" + function(name, revision, lastUpdateStatus) + ",\"Tags\":{}}";
    }

    static ResponseDefinitionBuilder error(int status, String type, String message) {
        return aResponse()
                .withStatus(status)
                .withHeader("Content-Type", "application/json")
                .withHeader("x-amzn-ErrorType", type)
                .withBody("{\"Type\":\"User\",\"message\":\"" + message + "\"}");
    }

    /** The path of a function, named by its name or its (URL-encoded) ARN. */
    static String fn(String name) {
        return "/2015-03-31/functions/([^/]*%3A)?" + name;
    }

    /**
     * Functions without aliases, and no CloudFront distribution: planning lists each updated function's aliases, and
     * in us-east-1 reads CloudFront once for Lambda@Edge associations.
     */
    static void stubNoAliases(WireMockServer aws) {
        aws.stubFor(get(urlPathMatching("/2015-03-31/functions/[^/]+/aliases"))
                .atPriority(10)
                .willReturn(okJson("{\"Aliases\":[]}")));
        aws.stubFor(
                get(urlPathEqualTo("/2020-05-31/distribution")).atPriority(10).willReturn(distributions("")));
    }

    /** ListDistributions' answer holding these {@code DistributionSummary} elements. */
    static ResponseDefinitionBuilder distributions(String summaries) {
        return aResponse()
                .withHeader("Content-Type", "text/xml")
                .withBody("<?xml version=\"1.0\" encoding=\"UTF-8\"?><DistributionList"
                        + " xmlns=\"http://cloudfront.amazonaws.com/doc/2020-05-31/\"><Marker></Marker>"
                        + "<MaxItems>100</MaxItems><IsTruncated>false</IsTruncated><Quantity>"
                        + (summaries.isEmpty() ? 0 : 1) + "</Quantity>"
                        + (summaries.isEmpty() ? "" : "<Items>" + summaries + "</Items>") + "</DistributionList>");
    }

    static String encoded(String s) {
        return java.net.URLEncoder.encode(s, java.nio.charset.StandardCharsets.UTF_8);
    }
}
