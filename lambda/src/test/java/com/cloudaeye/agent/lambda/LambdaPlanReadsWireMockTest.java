package com.cloudaeye.agent.lambda;

import static com.cloudaeye.agent.lambda.LambdaWireMockTest.LAYER;
import static com.cloudaeye.agent.lambda.LambdaWireMockTest.error;
import static com.cloudaeye.agent.lambda.LambdaWireMockTest.fn;
import static com.cloudaeye.agent.lambda.LambdaWireMockTest.function;
import static com.cloudaeye.agent.lambda.LambdaWireMockTest.version;
import static com.github.tomakehurst.wiremock.client.WireMock.absent;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.AgentInstallerBuilder;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.ManagedResources;
import com.cloudaeye.agent.Pacing;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.PlanningException;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.matching.UrlPattern;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import com.github.tomakehurst.wiremock.stubbing.ServeEvent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.lambda.model.Architecture;

/**
 * Planning keeps the shared bucket busy: the reads of a listed function that the plan updates, its aliases ({@code
 * ListAliases}, the shared bucket) and its tags ({@code GetFunction}, its own bucket), start together, so neither
 * bucket waits until the other's reads of every function are done; and the next page of {@code ListFunctions} is
 * asked for before the functions of this page queue their reads, so the bucket does not stand idle while it comes;
 * the first page is asked for beside the layer's check. A plan that updates nothing reads no CloudFront (only an update can break
 * a Lambda@Edge function), so a run with nothing to do neither calls it nor loads its client; a plan that updates
 * reads CloudFront beside the functions' own reads, not before them.
 */
class LambdaPlanReadsWireMockTest {
    private static final String READ = "a function's tags were read";
    private static final String LISTED = "a function's aliases were listed";
    private static final String PAGED = "the functions were listed";

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
    void plan_readsAFunctionsTags_beforeTheAliasesOfEveryFunctionAreListed() {
        aws.stubFor(get(urlPathMatching("/2015-03-31/functions/?"))
                .willReturn(okJson("{\"Functions\":[" + plain("a") + "," + plain("b") + "," + plain("c") + "]}")));
        for (String name : new String[] {"a", "b", "c"}) {
            String tags = name.equals("a") ? "{\"" + ManagedResources.STACK_NAME_TAG + "\":\"orders\"}" : "{}";
            String answer = "{\"Configuration\":" + plain(name) + ",\"Tags\":" + tags + "}";
            aws.stubFor(get(urlPathMatching(fn(name)))
                    .inScenario("tags")
                    .whenScenarioStateIs(Scenario.STARTED)
                    .willReturn(okJson(answer))
                    .willSetStateTo(READ));
            aws.stubFor(get(urlPathMatching(fn(name)))
                    .inScenario("tags")
                    .whenScenarioStateIs(READ)
                    .willReturn(okJson(answer)));
        }
        // The last function's aliases cannot be listed until some function's tags were read: if the tags waited for
        // every listing, its listing would fail on every attempt and so would the plan.
        unavailableWhileStarted(urlPathMatching(fn("c") + "/aliases"), "tags");
        try (AgentInstaller installer =
                allFunctions().retries(10, Duration.ofMillis(5)).build()) {
            Plan plan = installer.plan();

            assertThat(plan.mutations()).extracting(Change::resourceId).hasSize(3);
            assertThat(plan.mutations())
                    .filteredOn(c -> c.resourceId().endsWith(":a"))
                    .singleElement()
                    .satisfies(c -> assertThat(c.warnings())
                            .as("the review used the tags read beside the listing")
                            .anyMatch(w -> w.startsWith("CloudFormation stack orders owns this resource")));
            assertThat(plan.mutations())
                    .filteredOn(c -> !c.resourceId().endsWith(":a"))
                    .allSatisfy(c -> assertThat(c.warnings()).noneMatch(w -> w.contains("owns this resource")));
            aws.verify(3, getRequestedFor(urlPathMatching(fn("[abc]"))));
        }
    }

    @Test
    void plan_asksForTheNextPageOfFunctions_beforeTheAliasesOfThisPagesFunctionsAreListed() {
        aws.stubFor(get(urlPathMatching("/2015-03-31/functions/?"))
                .withQueryParam("Marker", absent())
                .willReturn(okJson("{\"Functions\":[" + plain("a") + "," + version("a", "1") + "," + plain("b") + ","
                        + version("b", "1") + "],\"NextMarker\":\"p2\"}")));
        aws.stubFor(get(urlPathMatching("/2015-03-31/functions/?"))
                .withQueryParam("Marker", equalTo("p2"))
                .willReturn(okJson("{\"Functions\":[" + plain("c") + "," + version("c", "1") + "]}")));
        for (String name : new String[] {"a", "b", "c"}) {
            aws.stubFor(get(urlPathMatching(fn(name)))
                    .willReturn(okJson("{\"Configuration\":" + plain(name) + ",\"Tags\":{}}")));
        }
        // Documented quotas at 3/s: the shared bucket's calls go a third of a second apart, in the order asked for.
        try (AgentInstaller installer = allFunctions()
                .pacing(Pacing.documentedQuotas())
                .rateLimit("lambda.control-plane", 3)
                .build()) {
            Plan plan = installer.plan();

            assertThat(plan.mutations()).hasSize(3);
            List<String> shared = new ArrayList<>();
            List<ServeEvent> events = new ArrayList<>(aws.getAllServeEvents());
            Collections.reverse(events); // WireMock lists the latest first
            for (ServeEvent e : events) {
                String url = e.getRequest().getUrl();
                if (url.contains("/aliases")) {
                    shared.add("ListAliases");
                } else if (url.matches("/2015-03-31/functions/?(\\?.*)?")) {
                    shared.add(url.contains("Marker=p2") ? "ListFunctions p2" : "ListFunctions");
                }
            }
            assertThat(shared)
                    .as("the second page is asked for as soon as the first answered, before its functions' reads")
                    .containsExactly("ListFunctions", "ListFunctions p2", "ListAliases", "ListAliases", "ListAliases");
        }
    }

    @Test
    void plan_listsTheFunctionsAliases_whileCloudFrontIsRead_andStillSkipsTheEdgeFunction() {
        aws.stubFor(get(urlPathMatching("/2015-03-31/functions/?"))
                .willReturn(okJson("{\"Functions\":[" + plain("a") + "," + version("a", "1") + "," + plain("edge") + ","
                        + version("edge", "3") + "]}")));
        for (String name : new String[] {"a", "edge"}) {
            aws.stubFor(get(urlPathMatching(fn(name)))
                    .willReturn(okJson("{\"Configuration\":" + plain(name) + ",\"Tags\":{}}")));
            aws.stubFor(get(urlPathMatching(fn(name) + "/aliases"))
                    .atPriority(1)
                    .inScenario("edge")
                    .willReturn(okJson("{\"Aliases\":[]}"))
                    .willSetStateTo(LISTED));
        }
        // CloudFront answers only once some function's aliases were listed: had the functions' reads waited for
        // CloudFront's answer, it would fail on every attempt, and the plan could not tell the Edge function.
        aws.stubFor(get(urlPathEqualTo("/2020-05-31/distribution"))
                .atPriority(1)
                .inScenario("edge")
                .whenScenarioStateIs(Scenario.STARTED)
                .willReturn(error(503, "ServiceUnavailable", "Service unavailable")));
        aws.stubFor(get(urlPathEqualTo("/2020-05-31/distribution"))
                .atPriority(1)
                .inScenario("edge")
                .whenScenarioStateIs(LISTED)
                .willReturn(LambdaWireMockTest.distributions("<DistributionSummary><Id>E2EDGE</Id>"
                        + "<DefaultCacheBehavior><LambdaFunctionAssociations><Quantity>1</Quantity><Items>"
                        + "<LambdaFunctionAssociation><LambdaFunctionARN>" + arn("edge")
                        + ":3</LambdaFunctionARN><EventType>viewer-request</EventType></LambdaFunctionAssociation>"
                        + "</Items></LambdaFunctionAssociations></DefaultCacheBehavior></DistributionSummary>")));
        try (AgentInstaller installer =
                allFunctions().retries(10, Duration.ofMillis(5)).build()) {
            Plan plan = installer.plan();

            assertThat(plan.toString()).doesNotContain("could not be checked");
            assertThat(plan.changes())
                    .filteredOn(c -> c.resourceId().equals(arn("edge")))
                    .singleElement()
                    .satisfies(c -> {
                        assertThat(c.action()).isEqualTo(ChangeAction.SKIP);
                        assertThat(c.reason().orElseThrow()).contains("Lambda@Edge function");
                    });
            assertThat(plan.mutations()).extracting(Change::resourceId).containsExactly(arn("a"));
        }
    }

    @Test
    void plan_asksForTheFirstPageOfFunctions_whileTheLayerIsChecked() {
        aws.stubFor(get(urlPathMatching("/2015-03-31/functions/?"))
                .inScenario("layer")
                .willReturn(okJson("{\"Functions\":[" + plain("a") + "]}"))
                .willSetStateTo(PAGED));
        aws.stubFor(
                get(urlPathMatching(fn("a"))).willReturn(okJson("{\"Configuration\":" + plain("a") + ",\"Tags\":{}}")));
        // The layer answers only once the functions were listed: had the listing waited for the layer's answer, the
        // check would fail on every attempt, and so would the plan.
        unavailableWhileStarted(urlPathMatching("/2018-10-31/layers/.*"), "layer");
        try (AgentInstaller installer =
                allFunctions().retries(10, Duration.ofMillis(5)).build()) {
            Plan plan = installer.plan();

            assertThat(plan.mutations()).extracting(Change::resourceId).containsExactly(arn("a"));
            aws.verify(1, getRequestedFor(urlPathMatching("/2015-03-31/functions/?")));
        }
    }

    @Test
    void plan_withAMissingLayer_failsNamingIt_evenWithTheFirstPageOfFunctionsAskedFor() {
        aws.stubFor(get(urlPathMatching("/2015-03-31/functions/?"))
                .willReturn(okJson("{\"Functions\":[" + plain("a") + "]}")));
        aws.stubFor(get(urlPathMatching("/2018-10-31/layers/.*"))
                .atPriority(1)
                .willReturn(error(404, "ResourceNotFoundException", "Layer version not found")));
        try (AgentInstaller installer = allFunctions().build()) {
            assertThatThrownBy(installer::plan)
                    .isInstanceOf(PlanningException.class)
                    .hasMessageContaining("layer " + LAYER + " does not exist");
            aws.verify(0, getRequestedFor(urlPathMatching(fn("a") + ".*")));
        }
    }

    @Test
    void plan_ofFunctionsThatAlreadyHaveTheAgent_readsNoCloudFront() {
        String installed = plain("done")
                .replace("\"Layers\":[]", "\"Layers\":[{\"Arn\":\"" + LAYER + "\"}]")
                .replace(
                        "\"STAGE\":\"prod\"",
                        "\"STAGE\":\"prod\",\"" + LambdaTarget.ENDPOINT_VARIABLE
                                + "\":\"https://logs.example.cloudaeye.com\",\"" + LambdaTarget.TOKEN_VARIABLE
                                + "\":\"tok-123\"");
        aws.stubFor(get(urlPathMatching("/2015-03-31/functions/?"))
                .willReturn(okJson("{\"Functions\":[" + installed + "]}")));
        try (AgentInstaller installer = allFunctions().build()) {
            Plan plan = installer.plan();

            assertThat(plan.mutations()).as(plan.toString()).isEmpty();
            aws.verify(0, getRequestedFor(urlPathEqualTo("/2020-05-31/distribution")));
            assertThat(plan.readPermissions())
                    .as("only an update can break a Lambda@Edge function: nothing to update, nothing to check")
                    .noneMatch(p -> p.action().startsWith("cloudfront:"));
        }
    }

    /** Until the scenario leaves its start, the URL answers 503, which the plan retries. */
    private void unavailableWhileStarted(UrlPattern url, String scenario) {
        aws.stubFor(get(url).atPriority(1)
                .inScenario(scenario)
                .whenScenarioStateIs(Scenario.STARTED)
                .willReturn(error(503, "ServiceException", "Service unavailable")));
    }

    private static String arn(String name) {
        return "arn:aws:lambda:us-east-1:" + LambdaWireMockTest.ACCOUNT + ":function:" + name;
    }

    /** @return an installer of the agent into every function ("*") with the test's layer, without a journal */
    private AgentInstallerBuilder allFunctions() {
        return LambdaWireMock.installer(aws, "https://logs.example.cloudaeye.com", "tok-123")
                .target(LambdaTarget.builder()
                        .functions("*")
                        .layer(Architecture.X86_64, LAYER)
                        .build())
                .withoutJournal();
    }

    /** A function as an emulator answers it: no RevisionId. */
    private static String plain(String name) {
        return function(name, "none", "Successful").replace("\"RevisionId\":\"none\",", "");
    }
}
