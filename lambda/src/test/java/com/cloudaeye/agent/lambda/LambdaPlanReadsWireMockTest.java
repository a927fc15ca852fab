package com.cloudaeye.agent.lambda;

import static com.cloudaeye.agent.lambda.LambdaWireMockTest.LAYER;
import static com.cloudaeye.agent.lambda.LambdaWireMockTest.error;
import static com.cloudaeye.agent.lambda.LambdaWireMockTest.fn;
import static com.cloudaeye.agent.lambda.LambdaWireMockTest.function;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ManagedResources;
import com.cloudaeye.agent.Plan;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.lambda.model.Architecture;

/**
 * Planning's reads of a listed function that the plan updates, its aliases ({@code ListAliases}, the shared bucket)
 * and its tags ({@code GetFunction}, its own bucket), start together: neither bucket waits until the other's reads
 * of every function are done.
 */
class LambdaPlanReadsWireMockTest {
    private static final String READ = "a function's tags were read";

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
        aws.stubFor(get(urlPathMatching(fn("c") + "/aliases"))
                .atPriority(1)
                .inScenario("tags")
                .whenScenarioStateIs(Scenario.STARTED)
                .willReturn(error(503, "ServiceException", "Service unavailable")));
        try (AgentInstaller installer = LambdaWireMock.installer(aws, "https://logs.example.cloudaeye.com", "tok-123")
                .target(LambdaTarget.builder()
                        .functions("*")
                        .layer(Architecture.X86_64, LAYER)
                        .build())
                .retries(10, Duration.ofMillis(5))
                .withoutJournal()
                .build()) {
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

    /** A function as an emulator answers it: no RevisionId. */
    private static String plain(String name) {
        return function(name, "none", "Successful").replace("\"RevisionId\":\"none\",", "");
    }
}
