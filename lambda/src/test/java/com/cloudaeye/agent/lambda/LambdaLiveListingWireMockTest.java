package com.cloudaeye.agent.lambda;

import static com.cloudaeye.agent.lambda.LambdaWireMockTest.LAYER;
import static com.cloudaeye.agent.lambda.LambdaWireMockTest.USER_LAYER;
import static com.cloudaeye.agent.lambda.LambdaWireMockTest.fn;
import static com.cloudaeye.agent.lambda.LambdaWireMockTest.function;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.put;
import static com.github.tomakehurst.wiremock.client.WireMock.putRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.Pacing;
import com.cloudaeye.agent.ResourceResult;
import com.cloudaeye.agent.ResourceResult.Outcome;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.lambda.model.Architecture;

/**
 * An endpoint without {@code RevisionId} (an emulator), a plan of many functions: the live read before each update is
 * one pass of {@code ListFunctions} shared by the updates, not one {@code GetFunction} each, and it still keeps a
 * function changed since planning from being overwritten.
 */
class LambdaLiveListingWireMockTest {
    private WireMockServer aws;

    @BeforeEach
    void start() {
        aws = LambdaWireMock.start("python3.12");
    }

    @AfterEach
    void stop() {
        aws.stop();
    }

    @Test
    void apply_withoutRevisionIds_readsTheFunctionsInOnePassOfListFunctions_insteadOfOneGetFunctionEach() {
        stubListing(listing(plain("a"), plain("b"), plain("c")), listing(plain("a"), plain("b"), plain("c")));
        try (AgentInstaller installer = installer()) {
            ApplyResult result = installer.apply(installer.plan());

            assertThat(result.status()).as(result.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            assertThat(result.calls())
                    .as(
                            "no GetFunction: passes of ListFunctions before the updates; nothing polled after a Successful answer")
                    .containsEntry("lambda:UpdateFunctionConfiguration", 3L)
                    .doesNotContainKey("lambda:GetFunction");
            assertThat(result.calls().get("lambda:ListFunctions"))
                    .as("one pass, unless a check asked more than a second after the first")
                    .isBetween(1L, 3L);
        }
    }

    @Test
    void apply_withoutRevisionIds_underAShare_readsEachFunction_andListsNothingInTheSharedBucket() {
        stubListing(listing(plain("a"), plain("b"), plain("c")), listing(plain("a"), plain("b"), plain("c")));
        try (AgentInstaller installer = installer(Pacing.share(0.6))) {
            ApplyResult result = installer.apply(installer.plan());

            assertThat(result.status()).as(result.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            assertThat(result.calls())
                    .as("the shared bucket is the limit: no pass of ListFunctions, one GetFunction (its own bucket)"
                            + " before each update")
                    .containsEntry("lambda:UpdateFunctionConfiguration", 3L)
                    .containsEntry("lambda:GetFunction", 3L)
                    .doesNotContainKey("lambda:ListFunctions");
        }
    }

    @Test
    void apply_withoutRevisionIds_whenTheListingShowsAFunctionChangedSincePlanning_skipsIt_andUpdatesTheOthers() {
        String changed = plain("b").replace("\"Layers\":[]", "\"Layers\":[{\"Arn\":\"" + USER_LAYER + "\"}]");
        stubListing(listing(plain("a"), plain("b"), plain("c")), listing(plain("a"), changed, plain("c")));
        try (AgentInstaller installer = installer()) {
            ApplyResult result = installer.apply(installer.plan());

            assertThat(result.results())
                    .filteredOn(r -> r.change().resourceId().endsWith(":b"))
                    .singleElement()
                    .satisfies(r -> {
                        assertThat(r.outcome()).isEqualTo(Outcome.SKIPPED);
                        assertThat(r.message())
                                .hasValueSatisfying(m -> assertThat(m).contains("changed since planning"));
                    });
            assertThat(result.results())
                    .filteredOn(r -> !r.change().resourceId().endsWith(":b"))
                    .extracting(ResourceResult::outcome)
                    .containsOnly(Outcome.APPLIED);
            aws.verify(0, putRequestedFor(urlPathMatching(fn("b") + "/configuration")));
            aws.verify(2, putRequestedFor(urlPathMatching(fn("[ac]") + "/configuration")));
        }
    }

    private AgentInstaller installer() {
        return installer(Pacing.adaptive());
    }

    private AgentInstaller installer(Pacing pacing) {
        return LambdaWireMock.installer(aws, "https://logs.example.cloudaeye.com", "tok-123")
                .pacing(pacing)
                .target(LambdaTarget.builder()
                        .functions("*")
                        .layer(Architecture.X86_64, LAYER)
                        .build())
                .retries(6, Duration.ofMillis(5))
                .withoutJournal()
                .build();
    }

    /** The plan's ListFunctions answers the first, every later one (the apply's pass) the second. */
    private void stubListing(String planned, String atApply) {
        aws.stubFor(get(urlPathMatching("/2015-03-31/functions/?"))
                .inScenario("listing")
                .whenScenarioStateIs(Scenario.STARTED)
                .willReturn(okJson(planned))
                .willSetStateTo("planned"));
        aws.stubFor(get(urlPathMatching("/2015-03-31/functions/?"))
                .inScenario("listing")
                .whenScenarioStateIs("planned")
                .willReturn(okJson(atApply)));
        for (String name : new String[] {"a", "b", "c"}) { // planning reads each changed function's tags
            aws.stubFor(get(urlPathMatching(fn(name)))
                    .willReturn(okJson("{\"Configuration\":" + plain(name) + ",\"Tags\":{}}")));
            aws.stubFor(put(urlPathMatching(fn(name) + "/configuration"))
                    .willReturn(
                            okJson(plain(name).replace("\"Layers\":[]", "\"Layers\":[{\"Arn\":\"" + LAYER + "\"}]"))));
        }
    }

    /** A function as an emulator answers it: no RevisionId, its update final at once. */
    private static String plain(String name) {
        return function(name, "none", "Successful").replace("\"RevisionId\":\"none\",", "");
    }

    private static String listing(String... functions) {
        return "{\"Functions\":[" + String.join(",", functions) + "]}";
    }
}
