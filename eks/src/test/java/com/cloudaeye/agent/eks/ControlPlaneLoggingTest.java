package com.cloudaeye.agent.eks;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.delete;
import static com.github.tomakehurst.wiremock.client.WireMock.deleteRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.equalToJson;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.Journal;
import com.cloudaeye.agent.NothingSelectedException;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.PlanningException;
import com.cloudaeye.agent.ResourceResult;
import com.cloudaeye.agent.Secret;
import com.cloudaeye.agent.spi.support.AwsActions;
import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;

/** Control-plane logging against WireMock: the update's life cycle that moto cannot show. */
class ControlPlaneLoggingTest {
    private static final String CLUSTER = "/clusters/prod-eks";
    private static final String UPDATE_ID = "b5f0ba18-9a87-4450-b5a0-825e6e84496f";
    private static final String UPDATE = CLUSTER + "/updates/" + UPDATE_ID;
    private static final String EXPECTED_DIFF = "{\"logging\":{\"clusterLogging\":[{\"types\":[\"audit\","
            + "\"authenticator\",\"controllerManager\",\"scheduler\"],\"enabled\":true}]}}";

    @RegisterExtension
    static WireMockExtension aws = WireMockExtension.newInstance()
            .options(wireMockConfig().dynamicPort())
            .build();

    @BeforeEach
    void cluster() {
        aws.stubFor(get(urlPathEqualTo(CLUSTER)).willReturn(okJson(fixture("eks/describe-cluster-api-enabled.json"))));
        aws.stubFor(post(urlPathMatching("/tags/.*")).willReturn(okJson("{}")));
        aws.stubFor(post(urlPathEqualTo("/"))
                .withHeader("X-Amz-Target", equalTo("Logs_20140328.DescribeLogGroups"))
                .willReturn(okJson(fixture("logs/describe-log-groups-present.json"))));
    }

    private static AgentInstaller installer(EksTarget target) {
        return AgentInstaller.builder()
                .region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("AKIDTEST", "test")))
                .endpointOverride(URI.create(aws.baseUrl()))
                .agent(a -> a.logsEndpoint("https://logs.example.cloudaeye.com").apiToken(Secret.of("token")))
                .retries(1, Duration.ofMillis(10))
                .withoutJournal()
                .target(target)
                .build();
    }

    private static AgentInstaller allTypes(Duration timeout) {
        return installer(EksTarget.builder()
                .cluster("prod-eks")
                .controlPlaneLogging(true)
                .waits(Duration.ofMillis(20), timeout)
                .build());
    }

    private static void noCluster(String name) {
        aws.stubFor(get(urlPathEqualTo("/clusters/" + name))
                .willReturn(aResponse()
                        .withStatus(404)
                        .withHeader("Content-Type", "application/json")
                        .withHeader("x-amzn-ErrorType", "ResourceNotFoundException")
                        .withBody("{\"message\":\"No cluster found for name: " + name + ".\"}")));
    }

    /**
     * A region without the target's cluster has nothing of it to plan: a fleet plans it with no changes and a note,
     * one installer fails (a {@code NothingSelectedException} is a {@code PlanningException}) naming the cluster.
     */
    @Test
    void plan_whenTheClusterDoesNotExistInTheRegion_isNothingSelected_namingTheClusterAndRegion() {
        noCluster("staging-eks");

        try (AgentInstaller installer = installer(EksTarget.builder()
                .cluster("staging-eks")
                .controlPlaneLogging(true)
                .build())) {
            assertThatThrownBy(installer::plan)
                    .isInstanceOf(NothingSelectedException.class)
                    .hasMessageContaining("No EKS cluster named 'staging-eks' in us-east-1")
                    .hasMessageContaining("check the name (aws eks list-clusters)");
        }
    }

    @Test
    void plan_whenOneOfTheTargetsClustersDoesNotExistInTheRegion_failsNamingIt_asASelectionThatDoesNotFit() {
        noCluster("staging-eks");

        try (AgentInstaller installer = installer(EksTarget.builder()
                .cluster("prod-eks")
                .controlPlaneLogging(true)
                .addCluster("staging-eks", c -> c.controlPlaneLogging(true))
                .build())) {
            assertThatThrownBy(installer::plan)
                    .isInstanceOf(PlanningException.class)
                    .isNotInstanceOf(NothingSelectedException.class)
                    .hasMessageContaining("No EKS cluster named 'staging-eks' in us-east-1");
        }
    }

    private static void updateReturnsAnId() {
        aws.stubFor(post(urlPathEqualTo(CLUSTER + "/update-config"))
                .willReturn(okJson(fixture("eks/update-cluster-config.json"))));
    }

    private static void describeUpdateGoes(String... fixtures) {
        String state = Scenario.STARTED;
        for (int i = 0; i < fixtures.length; i++) {
            String next = i == fixtures.length - 1 ? state : "poll-" + (i + 1);
            aws.stubFor(get(urlPathEqualTo(UPDATE))
                    .inScenario("update")
                    .whenScenarioStateIs(state)
                    .willReturn(okJson(fixture(fixtures[i])))
                    .willSetStateTo(next));
            state = next;
        }
    }

    @Test
    void plan_whenApiIsAlreadyEnabled_plansOnlyTheMissingTypes_andWarnsThatAuditIsCostly() {
        try (AgentInstaller installer = allTypes(Duration.ofSeconds(5))) {
            Plan plan = installer.plan();

            Change change = plan.changes().first();
            assertThat(change.action()).isEqualTo(ChangeAction.UPDATE);
            assertThat(change.resourceId()).isEqualTo("arn:aws:eks:us-east-1:123456789012:cluster/prod-eks");
            assertThat(change.attributes())
                    .extracting(a -> a.name())
                    .containsExactly(
                            "Logging.audit",
                            "Logging.authenticator",
                            "Logging.controllerManager",
                            "Logging.scheduler",
                            "Tags.cloudaeye:logging-enabled-by-installer");
            assertThat(change.warnings()).anySatisfy(w -> assertThat(w).contains("audit", "costly"));
            assertThat(change.targetState().path("before").toString()).isEqualTo("[\"api\"]");
            assertThat(installer.calls().keySet()).allMatch(AwsActions::isReadOnly);
            aws.verify(0, postRequestedFor(urlPathEqualTo(CLUSTER + "/update-config")));
        }
    }

    @Test
    void plan_whenEveryWantedTypeIsEnabled_isNoOp() {
        try (AgentInstaller installer = installer(
                EksTarget.builder().cluster("prod-eks").logTypes(LogType.API).build())) {
            Plan plan = installer.plan();

            assertThat(plan.isEmpty()).isTrue();
            assertThat(plan.changes().first().action()).isEqualTo(ChangeAction.NO_OP);
            assertThat(plan.changes().first().reason())
                    .hasValueSatisfying(r -> assertThat(r).contains("/aws/eks/prod-eks/cluster"));
        }
    }

    @Test
    void plan_policy_matchesTheGoldenFile() {
        try (AgentInstaller installer = allTypes(Duration.ofSeconds(5))) {
            assertThat(installer.plan().requiredPolicy().toJson()).isEqualTo(fixture("golden/logging-policy.json"));
        }
    }

    @Test
    void apply_sendsOnlyTheDifference_andWaitsFromInProgressToSuccessful() {
        updateReturnsAnId();
        describeUpdateGoes(
                "eks/describe-update-in-progress.json",
                "eks/describe-update-in-progress.json",
                "eks/describe-update-successful.json");
        try (AgentInstaller installer = allTypes(Duration.ofSeconds(10))) {
            ApplyResult result = installer.apply(installer.plan());

            assertThat(result.status()).as(result.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            assertThat(result.results().get(0).message())
                    .hasValueSatisfying(m -> assertThat(m).contains("log group /aws/eks/prod-eks/cluster exists"));
        }
        aws.verify(
                1,
                postRequestedFor(urlPathEqualTo(CLUSTER + "/update-config"))
                        .withRequestBody(equalToJson(EXPECTED_DIFF, false, true)));
        aws.verify(3, getRequestedFor(urlPathEqualTo(UPDATE)));
        aws.verify(
                1,
                postRequestedFor(urlPathMatching("/tags/.*"))
                        .withRequestBody(equalToJson("{\"tags\":{\"cloudaeye:logging-enabled-by-installer\":"
                                + "\"audit,authenticator,controllerManager,scheduler\"}}")));
    }

    @Test
    void apply_whenTheUpdateFails_reportsAwsErrors() {
        updateReturnsAnId();
        describeUpdateGoes("eks/describe-update-in-progress.json", "eks/describe-update-failed.json");
        try (AgentInstaller installer = allTypes(Duration.ofSeconds(10))) {
            ApplyResult result = installer.apply(installer.plan());

            assertThat(result.status()).isEqualTo(ApplyResult.Status.FAILED);
            assertThat(result.withOutcome(ResourceResult.Outcome.FAILED).get(0).message())
                    .hasValueSatisfying(m ->
                            assertThat(m).contains("Failed", "AccessDenied", "not allowed to create the log group"));
        }
    }

    @Test
    void apply_whenTheUpdateIsCancelled_reportsFailed() {
        updateReturnsAnId();
        describeUpdateGoes("eks/describe-update-cancelled.json");
        try (AgentInstaller installer = allTypes(Duration.ofSeconds(10))) {
            ApplyResult result = installer.apply(installer.plan());

            assertThat(result.withOutcome(ResourceResult.Outcome.FAILED).get(0).message())
                    .hasValueSatisfying(m -> assertThat(m).contains("Cancelled"));
        }
    }

    @Test
    void apply_whenAnotherUpdateIsInProgress_waitsAndRetries() {
        aws.stubFor(post(urlPathEqualTo(CLUSTER + "/update-config"))
                .inScenario("busy")
                .whenScenarioStateIs(Scenario.STARTED)
                .willReturn(aResponse()
                        .withStatus(409)
                        .withHeader("x-amzn-ErrorType", "ResourceInUseException")
                        .withHeader("Content-Type", "application/json")
                        .withBody(fixture("eks/resource-in-use.json")))
                .willSetStateTo("free"));
        aws.stubFor(post(urlPathEqualTo(CLUSTER + "/update-config"))
                .inScenario("busy")
                .whenScenarioStateIs("free")
                .willReturn(okJson(fixture("eks/update-cluster-config.json"))));
        describeUpdateGoes("eks/describe-update-successful.json");
        try (AgentInstaller installer = allTypes(Duration.ofSeconds(10))) {
            ApplyResult result = installer.apply(installer.plan());

            assertThat(result.status()).as(result.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
        }
        aws.verify(
                2,
                postRequestedFor(urlPathEqualTo(CLUSTER + "/update-config"))
                        .withRequestBody(equalToJson(EXPECTED_DIFF, false, true)));
    }

    @Test
    void apply_whenAnotherUpdateStaysInProgress_failsAtTheTimeout() {
        aws.stubFor(post(urlPathEqualTo(CLUSTER + "/update-config"))
                .willReturn(aResponse()
                        .withStatus(409)
                        .withHeader("x-amzn-ErrorType", "ResourceInUseException")
                        .withHeader("Content-Type", "application/json")
                        .withBody(fixture("eks/resource-in-use.json"))));
        try (AgentInstaller installer = allTypes(Duration.ofMillis(200))) {
            ApplyResult result = installer.apply(installer.plan());

            assertThat(result.withOutcome(ResourceResult.Outcome.FAILED).get(0).message())
                    .hasValueSatisfying(m -> assertThat(m).contains("still in progress", "ResourceInUseException"));
        }
    }

    @Test
    void apply_whenTheUpdateNeverFinishes_isUnknownAtTheTimeout_sinceItMayStillLand() {
        updateReturnsAnId();
        aws.stubFor(get(urlPathEqualTo(UPDATE)).willReturn(okJson(fixture("eks/describe-update-in-progress.json"))));
        try (AgentInstaller installer = allTypes(Duration.ofMillis(200))) {
            ApplyResult result = installer.apply(installer.plan());

            assertThat(result.withOutcome(ResourceResult.Outcome.FAILED)).isEmpty();
            assertThat(result.withOutcome(ResourceResult.Outcome.UNKNOWN).get(0).message())
                    .hasValueSatisfying(m -> assertThat(m).contains(UPDATE_ID, "still InProgress"));
        }
    }

    /**
     * The install's update is still InProgress when its wait ends (UNKNOWN): its id is journaled, and a rollback
     * skips while EKS runs it (a second UpdateClusterConfig would be refused), whatever the cluster shows meanwhile;
     * once it has ended, the rollback restores logging as usual.
     */
    @ParameterizedTest(name = "cluster shows {0}")
    @ValueSource(strings = {"eks/describe-cluster-api-enabled.json", "eks/describe-cluster-all-enabled-tagged.json"})
    void rollback_whileTheInstallsUpdateIsInProgress_skipsNamingIt_andRestoresOnceItEnded(
            String clusterMeanwhile, @TempDir Path journals) {
        updateReturnsAnId();
        aws.stubFor(get(urlPathEqualTo(UPDATE)).willReturn(okJson(fixture("eks/describe-update-in-progress.json"))));
        try (AgentInstaller installer = AgentInstaller.builder()
                .region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("AKIDTEST", "test")))
                .endpointOverride(URI.create(aws.baseUrl()))
                .agent(a -> a.logsEndpoint("https://logs.example.cloudaeye.com").apiToken(Secret.of("token")))
                .retries(1, Duration.ofMillis(10))
                .journalDirectory(journals)
                .target(EksTarget.builder()
                        .cluster("prod-eks")
                        .controlPlaneLogging(true)
                        .waits(Duration.ofMillis(20), Duration.ofMillis(200))
                        .build())
                .build()) {
            ApplyResult installed = installer.apply(installer.plan());
            assertThat(installed.withOutcome(ResourceResult.Outcome.UNKNOWN))
                    .as(installed.toString())
                    .hasSize(1);
            Journal journal = Journal.read(installed.journal().orElseThrow());
            aws.stubFor(get(urlPathEqualTo(CLUSTER)).willReturn(okJson(fixture(clusterMeanwhile))));
            aws.resetRequests();

            Plan waiting = installer.planRollback(journal);
            assertThat(waiting.changes()).as(waiting.toString()).singleElement().satisfies(c -> {
                assertThat(c.action()).isEqualTo(ChangeAction.SKIP);
                assertThat(c.reason())
                        .hasValueSatisfying(m -> assertThat(m)
                                .contains("The logging update " + UPDATE_ID + " is still in progress; run"
                                        + " rollback again when it ends"));
            });
            ApplyResult rolledBack = installer.rollback(journal);
            assertThat(rolledBack.withOutcome(ResourceResult.Outcome.FAILED))
                    .as(rolledBack.toString())
                    .isEmpty();
            aws.verify(0, postRequestedFor(urlPathEqualTo(CLUSTER + "/update-config")));

            aws.stubFor(get(urlPathEqualTo(UPDATE)).willReturn(okJson(fixture("eks/describe-update-successful.json"))));
            aws.stubFor(get(urlPathEqualTo(CLUSTER))
                    .willReturn(okJson(fixture("eks/describe-cluster-all-enabled-tagged.json"))));
            Plan rollback = installer.planRollback(journal);
            assertThat(rollback.mutations())
                    .as(rollback.toString())
                    .singleElement()
                    .satisfies(c -> assertThat(c.action()).isEqualTo(ChangeAction.UPDATE));
        }
    }

    @Test
    void apply_whenNothingIsLeftToChange_sendsNoUpdate() {
        try (AgentInstaller installer = installer(EksTarget.builder()
                .cluster("prod-eks")
                .logTypes(LogType.API, LogType.AUDIT)
                .build())) {
            Plan plan = installer.plan();
            // Someone enabled audit between plan and apply.
            aws.stubFor(get(urlPathEqualTo(CLUSTER))
                    .willReturn(okJson(fixture("eks/describe-cluster-api-enabled.json")
                            .replace("[\"audit\", ", "[")
                            .replace("{\"types\": [\"api\"]", "{\"types\": [\"api\", \"audit\"]"))));

            ApplyResult result = installer.apply(plan);

            assertThat(result.status()).as(result.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            assertThat(result.results().get(0).message())
                    .hasValueSatisfying(m -> assertThat(m).contains("already as planned"));
        }
        aws.verify(0, postRequestedFor(urlPathEqualTo(CLUSTER + "/update-config")));
    }

    @Test
    void uninstall_disablesOnlyTheTypesTheInstallEnabled_andRemovesItsTag() {
        aws.stubFor(get(urlPathEqualTo(CLUSTER))
                .willReturn(okJson(fixture("eks/describe-cluster-all-enabled-tagged.json"))));
        aws.stubFor(delete(urlPathMatching("/tags/.*")).willReturn(okJson("{}")));
        updateReturnsAnId();
        describeUpdateGoes("eks/describe-update-successful.json");
        try (AgentInstaller installer = allTypes(Duration.ofSeconds(10))) {
            Plan uninstall = installer.planUninstall();
            Change change = uninstall.changes().first();
            assertThat(change.action()).isEqualTo(ChangeAction.UPDATE);
            assertThat(change.attributes()).extracting(a -> a.name()).doesNotContain("Logging.api");

            ApplyResult result = installer.apply(uninstall);

            assertThat(result.status()).as(result.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
        }
        aws.verify(
                1,
                postRequestedFor(urlPathEqualTo(CLUSTER + "/update-config"))
                        .withRequestBody(equalToJson(
                                "{\"logging\":{\"clusterLogging\":[{\"types\":[\"audit\",\"authenticator\","
                                        + "\"controllerManager\",\"scheduler\"],\"enabled\":false}]}}",
                                false,
                                true)));
        aws.verify(
                1,
                deleteRequestedFor(urlPathMatching("/tags/.*"))
                        .withQueryParam("tagKeys", equalTo("cloudaeye:logging-enabled-by-installer")));
        aws.verify(0, postRequestedFor(urlPathMatching("/tags/.*")));
    }

    @Test
    void uninstall_whenTheInstallerEnabledNothing_leavesLoggingAlone() {
        try (AgentInstaller installer = allTypes(Duration.ofSeconds(10))) {
            Plan uninstall = installer.planUninstall();

            assertThat(uninstall.isEmpty()).isTrue();
            assertThat(uninstall.changes().first().reason())
                    .hasValueSatisfying(r -> assertThat(r).contains("enabled no control-plane log type"));
        }
    }

    static String fixture(String name) {
        try (InputStream in = ControlPlaneLoggingTest.class.getResourceAsStream("/fixtures/" + name)) {
            if (in == null) {
                throw new IllegalStateException("No fixture " + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
