package com.cloudaeye.agent.lambda;

import static com.cloudaeye.agent.lambda.LambdaWireMockTest.ACCOUNT;
import static com.cloudaeye.agent.lambda.LambdaWireMockTest.LAYER;
import static com.cloudaeye.agent.lambda.LambdaWireMockTest.error;
import static com.cloudaeye.agent.lambda.LambdaWireMockTest.fn;
import static com.cloudaeye.agent.lambda.LambdaWireMockTest.function;
import static com.github.tomakehurst.wiremock.client.WireMock.absent;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.putRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.AttributeChange;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.InsufficientPermissionsException;
import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.PolicyDocument;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.lambda.model.Architecture;

/**
 * Planning reads each updated function's aliases ({@code ListAliases}) like every other read: through the scheduler
 * (the SDK's own retries are off, so a retry seen on the wire is the scheduler's), page by page, and a denial names
 * the exact permission.
 */
class LambdaAliasReadsWireMockTest {
    private static final String ALIASES = fn("a") + "/aliases";

    private WireMockServer aws;

    @BeforeEach
    void start() {
        aws = LambdaWireMock.start();
        aws.stubFor(get(urlPathMatching(fn("a")))
                .willReturn(okJson("{\"Configuration\":" + function("a", "r1", "Successful") + ",\"Tags\":{}}")));
        aws.stubFor(get(urlPathMatching("/2019-09-30/functions/[^/]+/provisioned-concurrency"))
                .willReturn(okJson("{\"ProvisionedConcurrencyConfigs\":[]}")));
    }

    @AfterEach
    void stop() {
        aws.stop();
    }

    private AgentInstaller installer() {
        return LambdaWireMock.installer(aws, "https://logs.example.cloudaeye.com", "tok-123")
                .target(LambdaTarget.builder()
                        .functions("a")
                        .layer(Architecture.X86_64, LAYER)
                        .moveAliases("live")
                        .build())
                .retries(3, Duration.ofMillis(5))
                .build();
    }

    @Test
    void plan_retriesAThrottledAndAFailedListAliases_andReadsEveryPage() {
        String[] states = {Scenario.STARTED, "throttled", "failed"};
        aws.stubFor(get(urlPathMatching(ALIASES))
                .withQueryParam("Marker", absent())
                .inScenario("aliases")
                .whenScenarioStateIs(states[0])
                .willReturn(error(429, "TooManyRequestsException", "Rate exceeded"))
                .willSetStateTo(states[1]));
        aws.stubFor(get(urlPathMatching(ALIASES))
                .withQueryParam("Marker", absent())
                .inScenario("aliases")
                .whenScenarioStateIs(states[1])
                .willReturn(error(500, "ServiceException", "Internal error"))
                .willSetStateTo(states[2]));
        aws.stubFor(get(urlPathMatching(ALIASES))
                .withQueryParam("Marker", absent())
                .inScenario("aliases")
                .whenScenarioStateIs(states[2])
                .willReturn(okJson("{\"Aliases\":[" + LambdaAliasWireMockTest.alias("old", "2", "")
                        + "],\"NextMarker\":\"page2\"}")));
        aws.stubFor(get(urlPathMatching(ALIASES))
                .withQueryParam("Marker", equalTo("page2"))
                .willReturn(okJson("{\"Aliases\":[" + LambdaAliasWireMockTest.alias("live", "3", "") + "]}")));
        try (AgentInstaller installer = installer()) {
            Plan plan = installer.plan();

            Change change = plan.mutations().get(0);
            assertThat(change.attributes())
                    .as("live is on the second page")
                    .contains(AttributeChange.of("Alias live", "3", "the version this change publishes"));
            assertThat(change.warnings()).anyMatch(w -> w.startsWith("alias old serves version 2"));
            aws.verify(
                    3,
                    getRequestedFor(urlPathMatching(ALIASES))
                            .withQueryParam("Marker", absent())
                            .withQueryParam("MaxItems", equalTo("50")));
            aws.verify(1, getRequestedFor(urlPathMatching(ALIASES)).withQueryParam("Marker", equalTo("page2")));
            assertThat(plan.requiredPolicy().allows(Permission.of("lambda:ListAliases", LambdaAliasWireMockTest.ARN)))
                    .isTrue();
        }
    }

    @Test
    void plan_whenTheEndpointHasNoProvisionedConcurrencyApi_movesTheAlias_withoutWaitingForIt_andSaysSo() {
        aws.stubFor(get(urlPathMatching(ALIASES))
                .willReturn(okJson("{\"Aliases\":[" + LambdaAliasWireMockTest.alias("live", "3", "") + "]}")));
        aws.stubFor(get(urlPathMatching("/2019-09-30/functions/[^/]+/provisioned-concurrency"))
                .atPriority(1)
                .willReturn(com.github.tomakehurst.wiremock.client.WireMock.aResponse()
                        .withStatus(404)));
        try (AgentInstaller installer = installer()) {
            Change change = installer.plan().mutations().get(0);

            assertThat(change.attributes())
                    .contains(AttributeChange.of("Alias live", "3", "the version this change publishes"));
            assertThat(change.warnings()).anyMatch(w -> w.startsWith("provisioned concurrency could not be listed"));
            assertThat(change.permissions()).noneMatch(p -> p.action().contains("ProvisionedConcurrency"));
        }
    }

    @Test
    void plan_whenTheCallerMayNotListAliases_carriesAPolicyOfExactlyThatPermission_andChangesNothing() {
        aws.stubFor(get(urlPathMatching(ALIASES))
                .willReturn(error(
                        403,
                        "AccessDeniedException",
                        "User: arn:aws:iam::" + ACCOUNT + ":user/reader is not authorized to perform:"
                                + " lambda:ListAliases on resource: " + LambdaAliasWireMockTest.ARN
                                + " because no identity-based policy allows the lambda:ListAliases action")));
        try (AgentInstaller installer = installer()) {
            InsufficientPermissionsException e =
                    catchThrowableOfType(InsufficientPermissionsException.class, installer::plan);

            assertThat(e.missing())
                    .isEqualTo(PolicyDocument.allowing(
                            List.of(Permission.of("lambda:ListAliases", LambdaAliasWireMockTest.ARN))));
            aws.verify(0, putRequestedFor(urlPathMatching(".*")));
            aws.verify(0, postRequestedFor(urlPathMatching(".*")));
        }
    }
}
