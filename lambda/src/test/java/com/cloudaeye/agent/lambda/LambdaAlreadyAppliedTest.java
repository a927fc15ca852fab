package com.cloudaeye.agent.lambda;

import static com.cloudaeye.agent.lambda.LambdaWireMockTest.ACCOUNT;
import static com.cloudaeye.agent.lambda.LambdaWireMockTest.LAYER;
import static com.cloudaeye.agent.lambda.LambdaWireMockTest.fn;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.put;
import static com.github.tomakehurst.wiremock.client.WireMock.putRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.ResourceResult;
import com.github.tomakehurst.wiremock.WireMockServer;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.lambda.model.Architecture;

/**
 * A change whose update already landed (a process killed after {@code UpdateFunctionConfiguration}, then resumed) is
 * reported applied without a second update, even when the function still shows the planned {@code RevisionId} (as
 * moto does): sending it again would copy our endpoint over the user's saved one.
 */
class LambdaAlreadyAppliedTest {
    private static final String TOKEN = "tok-4d5e6f";
    private static final String OURS = "https://logs.example.cloudaeye.com";
    private static final String MINE = "https://mine.example.com";

    @TempDir
    Path journals;

    private WireMockServer aws;

    @BeforeEach
    void start() {
        aws = LambdaWireMock.start("python3.12");
        aws.stubFor(put(urlPathMatching(fn("forced") + "/configuration"))
                .willReturn(okJson(function("[]", "{\"CLOUDAEYE_LOGS_ENDPOINT\":\"" + MINE + "\"}"))));
    }

    @AfterEach
    void stop() {
        aws.stop();
    }

    @Test
    void apply_whenTheForcedUpdateAlreadyLandedAtThePlannedRevision_reportsAppliedWithoutASecondUpdate() {
        String before = function("[]", "{\"CLOUDAEYE_LOGS_ENDPOINT\":\"" + MINE + "\",\"STAGE\":\"prod\"}");
        aws.stubFor(get(urlPathMatching(fn("forced"))).willReturn(okJson("{\"Configuration\":" + before + "}")));
        try (AgentInstaller installer = installer()) {
            Plan plan = installer.plan();
            assertThat(plan.mutations())
                    .singleElement()
                    .extracting(c -> c.action())
                    .isEqualTo(ChangeAction.UPDATE);

            String after = function(
                    "[{\"Arn\":\"" + LAYER + "\",\"CodeSize\":1}]",
                    "{\"CLOUDAEYE_LOGS_ENDPOINT\":\"" + OURS + "\",\"CLOUDAEYE_API_TOKEN\":\"" + TOKEN + "\","
                            + "\"CLOUDAEYE_INSTALLED_VARIABLES\":\"CLOUDAEYE_API_TOKEN\","
                            + "\"CLOUDAEYE_SAVED__CLOUDAEYE_LOGS_ENDPOINT\":\"" + MINE + "\",\"STAGE\":\"prod\"}");
            aws.stubFor(get(urlPathMatching(fn("forced"))).willReturn(okJson("{\"Configuration\":" + after + "}")));
            ApplyResult result = inANewProcess(plan);

            assertThat(result.results()).singleElement().satisfies(r -> {
                assertThat(r.outcome()).isEqualTo(ResourceResult.Outcome.APPLIED);
                assertThat(r.message()).hasValue("already applied");
            });
            aws.verify(0, putRequestedFor(urlPathMatching(".*/configuration")));
        }
    }

    @Test
    void apply_whenOnlyPartOfTheChangeIsLive_isNotDone_andIsReportedChangedSincePlanning() {
        String before = function("[]", "{\"STAGE\":\"prod\"}");
        aws.stubFor(get(urlPathMatching(fn("forced"))).willReturn(okJson("{\"Configuration\":" + before + "}")));
        try (AgentInstaller installer = installer()) {
            Plan plan = installer.plan();
            // Our layer is there, but not our variables: not done. One update sets both, so someone else added the
            // layer after planning: the function is reported, not overwritten.
            String half = function("[{\"Arn\":\"" + LAYER + "\",\"CodeSize\":1}]", "{\"STAGE\":\"prod\"}");
            aws.stubFor(get(urlPathMatching(fn("forced"))).willReturn(okJson("{\"Configuration\":" + half + "}")));

            ApplyResult result = inANewProcess(plan);

            assertThat(result.results()).singleElement().satisfies(r -> {
                assertThat(r.outcome()).isEqualTo(ResourceResult.Outcome.SKIPPED);
                assertThat(r.message()).hasValueSatisfying(m -> assertThat(m).contains("changed since planning"));
            });
            aws.verify(0, putRequestedFor(urlPathMatching(".*/configuration")));
        }
    }

    /**
     * Applies with a new installer, as a resumed process does: it did not plan the change, so it reads the function
     * before the update. (The installer that planned it sends the update at once, with the planned RevisionId as its
     * precondition, and relies on Lambda to refuse it if the function changed.)
     */
    private ApplyResult inANewProcess(Plan plan) {
        try (AgentInstaller resumed = installer()) {
            return resumed.apply(plan);
        }
    }

    private AgentInstaller installer() {
        return LambdaWireMock.installer(aws, OURS, TOKEN)
                .target(LambdaTarget.builder()
                        .functions("forced")
                        .layer(Architecture.X86_64, LAYER)
                        .forceEnvironment(true)
                        .build())
                .retries(3, Duration.ofMillis(5))
                .journalDirectory(journals)
                .build();
    }

    private static String function(String layers, String variables) {
        return "{\"FunctionName\":\"forced\",\"FunctionArn\":\"arn:aws:lambda:us-east-1:" + ACCOUNT
                + ":function:forced\",\"Runtime\":\"python3.12\",\"PackageType\":\"Zip\","
                + "\"Architectures\":[\"x86_64\"],\"RevisionId\":\"r1\",\"State\":\"Active\","
                + "\"LastUpdateStatus\":\"Successful\",\"Layers\":" + layers + ","
                + "\"Environment\":{\"Variables\":" + variables + "}}";
    }
}
