package com.cloudaeye.agent.ecs;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.ResourceResult;
import com.cloudaeye.agent.Secret;
import com.cloudaeye.agent.internal.CallRecorder;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.MappingBuilder;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;

/** What moto cannot show: paging, rollouts that complete or fail, Fargate validation errors and throttling. */
class EcsWireMockTest {
    private static final String TARGET = "AmazonEC2ContainerServiceV20141113.";
    private static final String JSON = "application/x-amz-json-1.1";

    @TempDir
    Path journals;

    private WireMockServer wireMock;

    @BeforeEach
    void start() {
        wireMock = new WireMockServer(options().dynamicPort());
        wireMock.start();
    }

    @AfterEach
    void stop() {
        wireMock.stop();
    }

    private AgentInstaller installer(EcsTarget.Builder target) {
        return AgentInstaller.builder()
                .region(Region.US_EAST_1)
                .endpointOverride(URI.create(wireMock.baseUrl()))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("akid", "skid")))
                .retries(4, Duration.ofMillis(10))
                .journalDirectory(journals)
                .agent(a -> a.logsEndpoint("https://logs.example.cloudaeye.com").apiToken(Secret.of("wm-token-1")))
                .target(target.build())
                .build();
    }

    private static EcsTarget.Builder api() {
        return EcsTarget.builder()
                .cluster("prod")
                .services("api")
                .sidecar(s -> s.image("public.ecr.aws/cloudaeye/log-router:1.4.0"))
                .updateServices(true)
                .waitForStable(Duration.ofSeconds(5), Duration.ofMillis(10));
    }

    private void stub(String operation, String fixture) {
        wireMock.stubFor(op(operation).willReturn(ok(fixture)));
    }

    private static MappingBuilder op(String operation) {
        return post(urlEqualTo("/")).withHeader("X-Amz-Target", equalTo(TARGET + operation));
    }

    private static com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder ok(String fixture) {
        return aResponse().withStatus(200).withHeader("Content-Type", JSON).withBody(fixture(fixture));
    }

    private static com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder error(String fixture) {
        return aResponse().withStatus(400).withHeader("Content-Type", JSON).withBody(fixture(fixture));
    }

    static String fixture(String name) {
        try (InputStream in = EcsWireMockTest.class.getResourceAsStream("/fixtures/ecs/" + name)) {
            if (in == null) {
                throw new IllegalArgumentException("no fixture " + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void stubApiService() {
        stub("DescribeTaskDefinition", "describe-task-definition.json");
        stub("RegisterTaskDefinition", "register-task-definition.json");
        stub("UpdateService", "update-service-api.json");
        wireMock.stubFor(op("DescribeServices")
                .inScenario("rollout")
                .whenScenarioStateIs(Scenario.STARTED)
                .willReturn(ok("describe-services-api.json")));
        wireMock.stubFor(op("UpdateService")
                .inScenario("rollout")
                .whenScenarioStateIs(Scenario.STARTED)
                .willReturn(ok("update-service-api.json"))
                .willSetStateTo("updated"));
    }

    private int calls(String operation) {
        return wireMock.findAll(
                        postRequestedFor(urlEqualTo("/")).withHeader("X-Amz-Target", equalTo(TARGET + operation)))
                .size();
    }

    @Test
    void plan_readsEveryPageOfListServices_andDescribesServicesInOneBatch() {
        wireMock.stubFor(op("ListServices")
                .withRequestBody(containing("page-2"))
                .atPriority(1)
                .willReturn(ok("list-services-page2.json")));
        wireMock.stubFor(op("ListServices").atPriority(2).willReturn(ok("list-services-page1.json")));
        stub("DescribeServices", "describe-services.json");
        stub("DescribeTaskDefinition", "describe-task-definition.json");

        try (AgentInstaller installer = installer(api().services("*"))) {
            Plan plan = installer.plan();

            assertThat(plan.mutations())
                    .extracting(Change::resourceId)
                    .containsExactly(
                            "arn:aws:ecs:us-east-1:123456789012:service/prod/api",
                            "arn:aws:ecs:us-east-1:123456789012:service/prod/jobs",
                            "arn:aws:ecs:us-east-1:123456789012:task-definition/app:3");
            assertThat(calls("ListServices")).isEqualTo(2);
            assertThat(calls("DescribeServices")).isEqualTo(1);
            assertThat(installer.calls().keySet()).allMatch(CallRecorder::isReadOnly);
            assertThat(plan.toJson()).doesNotContain("wm-token-1");
        }
    }

    @Test
    void apply_waitsForThePrimaryDeploymentToGoFromInProgressToCompleted() {
        stubApiService();
        wireMock.stubFor(op("DescribeServices")
                .inScenario("rollout")
                .whenScenarioStateIs("updated")
                .willReturn(ok("describe-services-api-in-progress.json"))
                .willSetStateTo("progressing"));
        wireMock.stubFor(op("DescribeServices")
                .inScenario("rollout")
                .whenScenarioStateIs("progressing")
                .willReturn(ok("describe-services-api-completed.json")));

        try (AgentInstaller installer = installer(api())) {
            ApplyResult result = installer.apply(installer.plan());

            assertThat(result.status()).as(result.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            assertThat(result.results())
                    .filteredOn(r -> r.change().resourceType().equals("AWS::ECS::Service"))
                    .singleElement()
                    .satisfies(r -> assertThat(r.message()).contains("updated to app:4, rollout completed"));
            assertThat(calls("RegisterTaskDefinition")).isEqualTo(1);
            assertThat(calls("UpdateService")).isEqualTo(1);
            // plan, the pre-update check, one poll in progress, one poll completed
            assertThat(calls("DescribeServices")).isEqualTo(4);
            assertThat(wireMock.findAll(postRequestedFor(urlEqualTo("/"))
                                    .withHeader("X-Amz-Target", equalTo(TARGET + "RegisterTaskDefinition")))
                            .get(0)
                            .getBodyAsString())
                    .contains("\"cpuArchitecture\":\"ARM64\"")
                    .contains("\"taskRoleArn\":\"arn:aws:iam::123456789012:role/api-task\"")
                    .contains("\"tags\":[{\"key\":\"team\",\"value\":\"api\"}]")
                    .contains("\"logDriver\":\"awsfirelens\"")
                    .contains("\"firelensConfiguration\":{\"type\":\"fluentbit\"}");
        }
    }

    @Test
    void apply_reportsAFailedRolloutWithItsReason() {
        stubApiService();
        wireMock.stubFor(op("DescribeServices")
                .inScenario("rollout")
                .whenScenarioStateIs("updated")
                .willReturn(ok("describe-services-api-failed.json")));

        try (AgentInstaller installer = installer(api())) {
            ApplyResult result = installer.apply(installer.plan());

            assertThat(result.status()).isEqualTo(ApplyResult.Status.PARTIAL);
            assertThat(result.withOutcome(ResourceResult.Outcome.FAILED))
                    .singleElement()
                    .satisfies(r -> {
                        assertThat(r.change().resourceId()).endsWith("service/prod/api");
                        assertThat(r.message()).get().asString().contains("circuit breaker: tasks failed to start");
                    });
        }
    }

    @Test
    void apply_whenTheRolloutOutlastsTheTimeout_reportsTheServiceAsFailedWithItsProgress() {
        stubApiService();
        wireMock.stubFor(op("DescribeServices")
                .inScenario("rollout")
                .whenScenarioStateIs("updated")
                .willReturn(ok("describe-services-api-in-progress.json")));

        try (AgentInstaller installer = installer(api().waitForStable(Duration.ofMillis(300), Duration.ofMillis(50)))) {
            ApplyResult result = installer.apply(installer.plan());

            assertThat(result.withOutcome(ResourceResult.Outcome.FAILED))
                    .singleElement()
                    .satisfies(r -> assertThat(r.message())
                            .get()
                            .asString()
                            .contains("updated to app:4 but not stable within PT0.3S")
                            .contains("rollout IN_PROGRESS, 1/2 tasks running"));
            assertThat(calls("DescribeServices")).isGreaterThan(3);
        }
    }

    @Test
    void apply_whenTheServiceMovedSincePlanning_skipsIt_insteadOfOverwriting() {
        stubApiService();
        try (AgentInstaller installer = installer(api())) {
            Plan plan = installer.plan();
            wireMock.stubFor(op("DescribeServices").atPriority(1).willReturn(ok("describe-services-api-moved.json")));
            ApplyResult result = installer.apply(plan);

            assertThat(result.withOutcome(ResourceResult.Outcome.SKIPPED))
                    .singleElement()
                    .satisfies(r -> assertThat(r.message())
                            .get()
                            .asString()
                            .contains("it now runs app:9, not app:3 as planned"));
            assertThat(calls("UpdateService")).isZero();
        }
    }

    @Test
    void apply_whenFargateRejectsTheSize_failsTheRevisionAndItsServices_withoutUpdatingThem() {
        stubApiService();
        wireMock.stubFor(op("RegisterTaskDefinition").willReturn(error("fargate-validation-error.json")));

        try (AgentInstaller installer = installer(api())) {
            ApplyResult result = installer.apply(installer.plan());

            assertThat(result.status()).isEqualTo(ApplyResult.Status.FAILED);
            assertThat(result.withOutcome(ResourceResult.Outcome.FAILED))
                    .extracting(r -> r.message().orElse(""))
                    .containsExactly(
                            "not updated: registering the new revision of app:3 failed",
                            "registering a new revision of app:3 failed: ClientException: No Fargate configuration"
                                    + " exists for given values: 512 CPU, 1000 memory. See the Amazon ECS"
                                    + " documentation for the valid values.");
            assertThat(calls("UpdateService")).isZero();
        }
    }

    @Test
    void apply_retriesThrottledCalls_andReportsHowManyWereThrottled() {
        stubApiService();
        wireMock.stubFor(op("RegisterTaskDefinition")
                .inScenario("throttle")
                .whenScenarioStateIs(Scenario.STARTED)
                .willReturn(error("throttling.json"))
                .willSetStateTo("calm"));
        wireMock.stubFor(op("RegisterTaskDefinition")
                .inScenario("throttle")
                .whenScenarioStateIs("calm")
                .willReturn(ok("register-task-definition.json")));

        try (AgentInstaller installer = installer(api().waitForStable(Duration.ofSeconds(5), Duration.ofMillis(10)))) {
            Plan plan = installer.plan();
            wireMock.stubFor(op("DescribeServices")
                    .inScenario("rollout")
                    .whenScenarioStateIs("updated")
                    .willReturn(ok("describe-services-api-completed.json")));
            ApplyResult result = installer.apply(plan);

            assertThat(result.status()).as(result.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            assertThat(result.throttled()).isEqualTo(1);
            assertThat(calls("RegisterTaskDefinition")).isEqualTo(2);
        }
    }

    @Test
    void plan_whenTheClusterDoesNotExist_failsClearly_withoutAnyMutatingCall() {
        wireMock.stubFor(op("DescribeServices").willReturn(error("cluster-not-found.json")));

        try (AgentInstaller installer = installer(api())) {
            org.assertj.core.api.Assertions.assertThatThrownBy(installer::plan)
                    .isInstanceOf(com.cloudaeye.agent.PlanningException.class)
                    .hasMessageContaining("ECS cluster prod does not exist in region us-east-1");
            assertThat(installer.calls().keySet()).isNotEmpty().allMatch(CallRecorder::isReadOnly);
        }
    }

    @Test
    void plan_whenAServiceDoesNotExist_namesIt() {
        stub("DescribeServices", "describe-services-missing.json");

        try (AgentInstaller installer = installer(api().services("nope"))) {
            org.assertj.core.api.Assertions.assertThatThrownBy(installer::plan)
                    .isInstanceOf(com.cloudaeye.agent.PlanningException.class)
                    .hasMessageContaining("has no service [nope (MISSING)]");
            assertThat(installer.calls().keySet()).allMatch(CallRecorder::isReadOnly);
            assertThat(calls("RegisterTaskDefinition") + calls("UpdateService")).isZero();
        }
    }

    @Test
    void plan_forOneService_matchesTheGoldenPlanAndPolicy() throws IOException {
        stubApiService();
        try (AgentInstaller installer = installer(api())) {
            Plan plan = installer.plan();
            assertThat(plan.changes())
                    .extracting(Change::action)
                    .containsExactly(ChangeAction.UPDATE, ChangeAction.CREATE);
            assertGolden("api-plan.json", plan.toJson());
            assertGolden("api-policy.json", plan.requiredPolicy().toJson());
            assertThat(Plan.fromJson(plan.toJson())).isEqualTo(plan);
        }
    }

    private static void assertGolden(String name, String actual) throws IOException {
        Path written = Path.of("target", "golden-actual", name);
        Files.createDirectories(written.getParent());
        Files.writeString(written, actual);
        assertThat(actual)
                .as("compare with " + written.toAbsolutePath())
                .isEqualTo(EcsScenariosIT.resource("/golden/" + name));
    }
}
