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
import com.cloudaeye.agent.Journal;
import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.PolicyDocument;
import com.cloudaeye.agent.ResourceResult;
import com.cloudaeye.agent.Secret;
import com.cloudaeye.agent.internal.JournalWriter;
import com.cloudaeye.agent.spi.support.AwsActions;
import com.cloudaeye.agent.spi.support.Json;
import com.cloudaeye.agent.testing.FleetMemberContext;
import com.cloudaeye.agent.testing.StsAnswers;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
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
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
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
        noNewerRevisions();
    }

    /**
     * The family has no revision newer than a source: nothing an earlier attempt registered; the region has one
     * cluster, prod, with the api service only and no task (where a rollback looks for what runs a revision it
     * deregisters).
     */
    private void noNewerRevisions() {
        wireMock.stubFor(op("ListTaskDefinitions").atPriority(10).willReturn(arns()));
        wireMock.stubFor(op("ListClusters")
                .atPriority(10)
                .willReturn(okBody("{\"clusterArns\":[\"arn:aws:ecs:us-east-1:123456789012:cluster/prod\"]}")));
        wireMock.stubFor(op("ListTasks").atPriority(10).willReturn(okBody("{\"taskArns\":[]}")));
        wireMock.stubFor(op("ListServices")
                .atPriority(10)
                .willReturn(okBody("{\"serviceArns\":[\"arn:aws:ecs:us-east-1:123456789012:service/prod/api\"]}")));
    }

    private static com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder arns(String... arns) {
        return okBody(Json.object()
                .set("taskDefinitionArns", Json.tree(List.of(arns)))
                .toString());
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
        return okBody(fixture(fixture));
    }

    /**
     * @param body a JSON body
     * @return a 200 answer with it
     */
    private static com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder okBody(String body) {
        return aResponse().withStatus(200).withHeader("Content-Type", JSON).withBody(body);
    }

    /** @return a 500 answer, which the SDK reports as a server error (the scheduler retries it) */
    private static com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder serverError() {
        return aResponse().withStatus(500).withHeader("Content-Type", JSON).withBody("{}");
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

    /** The api service's rollout completes after UpdateService (stubApiService's scenario). */
    private void rolloutCompletes() {
        wireMock.stubFor(op("DescribeServices")
                .inScenario("rollout")
                .whenScenarioStateIs("updated")
                .willReturn(ok("describe-services-api-completed.json")));
    }

    /**
     * @param revision a revision number of the family app
     * @return the fixture's description of app:3, renumbered as that revision
     */
    private static String revision(int revision) {
        return fixture("describe-task-definition.json")
                .replace("task-definition/app:3", "task-definition/app:" + revision)
                .replace("\"revision\": 3", "\"revision\": " + revision);
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
            assertThat(installer.calls().keySet()).allMatch(AwsActions::isReadOnly);
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
    void apply_reportsAFailedRolloutAsUnknownWithItsReason_andRollbackMovesTheServiceBack() {
        stubApiService();
        wireMock.stubFor(op("DescribeServices")
                .inScenario("rollout")
                .whenScenarioStateIs("updated")
                .willReturn(ok("describe-services-api-failed.json")));

        try (AgentInstaller installer = installer(api())) {
            ApplyResult result = installer.apply(installer.plan());

            assertThat(result.status()).isEqualTo(ApplyResult.Status.PARTIAL);
            assertThat(result.withOutcome(ResourceResult.Outcome.FAILED))
                    .as("UpdateService landed: FAILED would say nothing changed")
                    .isEmpty();
            assertThat(result.withOutcome(ResourceResult.Outcome.UNKNOWN))
                    .singleElement()
                    .satisfies(r -> {
                        assertThat(r.change().resourceId()).endsWith("service/prod/api");
                        assertThat(r.message()).get().asString().contains("circuit breaker: tasks failed to start");
                    });

            Plan rollback = installer.planRollback(Journal.read(result.journal().orElseThrow()));

            assertThat(rollback.mutations())
                    .filteredOn(c -> c.resourceType().equals("AWS::ECS::Service"))
                    .as("the service the apply moved is moved back, proven by the journaled revision")
                    .singleElement()
                    .satisfies(c -> {
                        assertThat(c.resourceId()).endsWith("service/prod/api");
                        assertThat(c.targetState().path("to").asText()).endsWith("task-definition/app:3");
                    });
        }
    }

    /**
     * The rollback moves the service back first, and only then deregisters the revision the apply registered (before,
     * the service still ran it and it would be kept); DeregisterTaskDefinition's answer is lost on every attempt, and
     * the read-back finds the revision inactive: applied.
     */
    @Test
    void rollback_deregistersTheRegisteredRevisionAfterTheServiceMovedBack_readingBackALostAnswer() throws Exception {
        try (AgentInstaller installer = installer(api())) {
            Journal journal = appliedInstall(installer);
            wireMock.stubFor(op("DeregisterTaskDefinition")
                    .inScenario("rollout")
                    .whenScenarioStateIs("moved back")
                    .willReturn(serverError())
                    .willSetStateTo("deregistered"));
            wireMock.stubFor(op("DeregisterTaskDefinition")
                    .inScenario("rollout")
                    .whenScenarioStateIs("deregistered")
                    .willReturn(serverError()));
            wireMock.stubFor(op("DescribeTaskDefinition")
                    .atPriority(1)
                    .withRequestBody(containing("app:4"))
                    .inScenario("rollout")
                    .whenScenarioStateIs("deregistered")
                    .willReturn(okBody(revision(4).replace("\"status\": \"ACTIVE\"", "\"status\": \"INACTIVE\""))));

            Plan rollback = installer.planRollback(journal);
            Change deregister = rollback.mutations().stream()
                    .filter(c -> c.action() == ChangeAction.DELETE)
                    .findFirst()
                    .orElseThrow();
            assertThat(deregister.resourceId()).endsWith("task-definition/app:4");
            PolicyDocument policy = rollback.requiredPolicy();
            assertThat(policy.allows(Permission.of("ecs:DeregisterTaskDefinition", "*")))
                    .isTrue();
            assertThat(policy.allows(Permission.of("ecs:ListServices", "*"))).isTrue();
            assertThat(policy.allows(Permission.of(
                            "ecs:DescribeServices", "arn:aws:ecs:us-east-1:123456789012:service/prod/web")))
                    .as("apply looks at every service of the cluster for one that runs the revision")
                    .isTrue();
            ApplyResult undone = installer.apply(rollback);

            assertThat(undone.isSuccess()).as(undone.toString()).isTrue();
            assertThat(undone.withOutcome(ResourceResult.Outcome.APPLIED))
                    .extracting(r -> r.change().resourceId())
                    .anyMatch(id -> id.endsWith("service/prod/api"))
                    .anyMatch(id -> id.endsWith("task-definition/app:4"));
            assertThat(calls("DeregisterTaskDefinition"))
                    .as("sent only once the service ran app:3 again, then retried")
                    .isGreaterThan(1);
        }
    }

    /** An install applied (app:4 registered, api moved to it), whose rollback moves api back to app:3. */
    private Journal appliedInstall(AgentInstaller installer) throws IOException {
        stubApiService();
        rolloutCompletes();
        ApplyResult result = installer.apply(installer.plan());
        assertThat(result.isSuccess()).as(result.toString()).isTrue();
        String movedBack = fixture("describe-services-api.json");
        wireMock.stubFor(op("UpdateService")
                .atPriority(1)
                .withRequestBody(containing("task-definition/app:3"))
                .inScenario("rollout")
                .willReturn(okBody("{\"service\": "
                        + Json.parse(movedBack).path("services").get(0) + "}"))
                .willSetStateTo("moved back"));
        wireMock.stubFor(op("DescribeServices")
                .inScenario("rollout")
                .whenScenarioStateIs("moved back")
                .willReturn(ok("describe-services-api.json")));
        wireMock.stubFor(op("DescribeTaskDefinition")
                .atPriority(1)
                .withRequestBody(containing("app:4"))
                .willReturn(okBody(revision(4))));
        return Journal.read(result.journal().orElseThrow());
    }

    private static final String ACCOUNT = "arn:aws:ecs:us-east-1:123456789012:";

    /**
     * The region has a second cluster, batch, where a standalone task (RunTask) runs app:4; prod has a task of the api
     * service on app:4 too, which is the service's (it drains when the service moves back) and keeps nothing.
     */
    private void standaloneTaskInAnotherCluster() {
        batchClusterBesideProd();
        wireMock.stubFor(op("ListTasks")
                .atPriority(1)
                .withRequestBody(containing("cluster/batch"))
                .willReturn(json(Json.object().set("taskArns", Json.tree(List.of(ACCOUNT + "task/batch/t1"))))));
        wireMock.stubFor(op("ListTasks")
                .atPriority(1)
                .withRequestBody(containing("cluster/prod"))
                .willReturn(json(Json.object().set("taskArns", Json.tree(List.of(ACCOUNT + "task/prod/s1"))))));
        wireMock.stubFor(op("DescribeTasks")
                .atPriority(1)
                .withRequestBody(containing("task/batch/t1"))
                .willReturn(runningTask("task/batch/t1", "app:4", "family:app")));
        wireMock.stubFor(op("DescribeTasks")
                .atPriority(1)
                .withRequestBody(containing("task/prod/s1"))
                .willReturn(runningTask("task/prod/s1", "app:4", "service:api")));
    }

    /** The region has a second cluster, batch, beside prod, with no service: ListClusters and its ListServices. */
    private void batchClusterBesideProd() {
        wireMock.stubFor(op("ListClusters")
                .atPriority(1)
                .willReturn(json(Json.object()
                        .set("clusterArns", Json.tree(List.of(ACCOUNT + "cluster/batch", ACCOUNT + "cluster/prod"))))));
        wireMock.stubFor(op("ListServices")
                .atPriority(1)
                .withRequestBody(containing("cluster/batch"))
                .willReturn(json(Json.object().set("serviceArns", Json.array()))));
    }

    /**
     * @param task the task's ARN after the account's prefix, e.g. {@code task/batch/t1}
     * @param revision the task definition it runs, e.g. {@code app:4}
     * @param group its group: {@code family:app} for a standalone task, {@code service:api} for a service's
     * @return DescribeTasks' answer: that one task, RUNNING
     */
    private static com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder runningTask(
            String task, String revision, String group) {
        return json(Json.object()
                .set(
                        "tasks",
                        Json.array()
                                .add(Json.object()
                                        .put("taskArn", ACCOUNT + task)
                                        .put("taskDefinitionArn", ACCOUNT + "task-definition/" + revision)
                                        .put("group", group)
                                        .put("lastStatus", "RUNNING"))));
    }

    @Test
    void planRollback_whenAStandaloneTaskOfAnotherClusterRunsTheRevision_keepsIt_namingTheTask() throws IOException {
        try (AgentInstaller installer = installer(api())) {
            Journal journal = appliedInstall(installer);
            standaloneTaskInAnotherCluster();

            Plan rollback = installer.planRollback(journal);

            assertThat(rollback.changes())
                    .filteredOn(c -> c.resourceType().equals("AWS::ECS::TaskDefinition"))
                    .singleElement()
                    .satisfies(c -> {
                        assertThat(c.action()).isEqualTo(ChangeAction.SKIP);
                        assertThat(c.reason())
                                .hasValue("app:4 stays registered: standalone task batch/t1 runs it (deployed since"
                                        + " the apply); deregister it once nothing runs it");
                    });
            ApplyResult undone = installer.apply(rollback);
            assertThat(undone.isSuccess()).as(undone.toString()).isTrue();
            assertThat(calls("DeregisterTaskDefinition")).isZero();
            assertThat(bodies("DescribeTasks"))
                    .as("standalone tasks are described in batches, by cluster")
                    .anySatisfy(b -> assertThat(b).contains("\"cluster\":\"" + ACCOUNT + "cluster/batch\""));
        }
    }

    @Test
    void planRollback_whenTheTaskRunningTheRevisionIsInTheSecondBatchOf100_findsIt() throws IOException {
        try (AgentInstaller installer = installer(api())) {
            Journal journal = appliedInstall(installer);
            batchClusterBesideProd();
            // batch has 105 standalone tasks: DescribeTasks takes 100, so t101 is in the second call.
            List<String> tasks = IntStream.rangeClosed(1, 105)
                    .mapToObj(i -> ACCOUNT + "task/batch/t" + i)
                    .toList();
            wireMock.stubFor(op("ListTasks")
                    .atPriority(1)
                    .withRequestBody(containing("cluster/batch"))
                    .willReturn(json(Json.object().set("taskArns", Json.tree(tasks)))));
            wireMock.stubFor(op("DescribeTasks")
                    .atPriority(2)
                    .withRequestBody(containing("cluster/batch"))
                    .willReturn(json(Json.object().set("tasks", Json.array()))));
            wireMock.stubFor(op("DescribeTasks")
                    .atPriority(1)
                    .withRequestBody(containing("task/batch/t101\""))
                    .willReturn(runningTask("task/batch/t101", "app:4", "family:app")));

            Plan rollback = installer.planRollback(journal);

            assertThat(rollback.changes())
                    .filteredOn(c -> c.resourceType().equals("AWS::ECS::TaskDefinition"))
                    .singleElement()
                    .satisfies(
                            c -> assertThat(c.reason().orElseThrow()).contains("standalone task batch/t101 runs it"));
            assertThat(bodies("DescribeTasks"))
                    .filteredOn(b -> b.contains("cluster/batch"))
                    .as("105 tasks: one call of 100, one of 5")
                    .hasSize(2)
                    .anySatisfy(b -> assertThat(b).contains("task/batch/t100\"").doesNotContain("t101"))
                    .anySatisfy(b -> assertThat(b).contains("task/batch/t101\"", "task/batch/t105\""));
        }
    }

    @Test
    void rollback_whenAStandaloneTaskStartsOnTheRevisionAfterPlanning_skipsTheDeregistration_namingTheTask()
            throws IOException {
        try (AgentInstaller installer = installer(api())) {
            Journal journal = appliedInstall(installer);
            Plan rollback = installer.planRollback(journal);
            Change deregister = rollback.mutations().stream()
                    .filter(c -> c.action() == ChangeAction.DELETE)
                    .findFirst()
                    .orElseThrow();
            PolicyDocument policy = rollback.requiredPolicy();
            assertThat(policy.allows(Permission.of("ecs:ListClusters", "*"))).isTrue();
            assertThat(policy.allows(Permission.of("ecs:ListTasks", ACCOUNT + "container-instance/prod/*")))
                    .isTrue();
            assertThat(policy.allows(Permission.of("ecs:DescribeTasks", ACCOUNT + "task/prod/s1")))
                    .isTrue();
            standaloneTaskInAnotherCluster();

            ApplyResult undone = installer.apply(rollback);

            assertThat(undone.results())
                    .filteredOn(r -> r.change().equals(deregister))
                    .singleElement()
                    .satisfies(r -> {
                        assertThat(r.outcome()).isEqualTo(ResourceResult.Outcome.SKIPPED);
                        assertThat(r.message()).get().asString().contains("standalone task batch/t1 runs it");
                    });
            assertThat(calls("DeregisterTaskDefinition")).isZero();
        }
    }

    /**
     * The user's pipeline renders the running task definition (app:4, ours, with the router), changes the image and
     * deploys it as app:9: the journal says the apply set app:4, so app:9 is the user's and rollback leaves it.
     */
    @Test
    void rollback_whenAUserDeployedACopyOfTheRouterRevisionSince_leavesTheServiceAlone() {
        stubApiService();
        rolloutCompletes();
        try (AgentInstaller installer = installer(api())) {
            ApplyResult result = installer.apply(installer.plan());
            assertThat(result.isSuccess()).as(result.toString()).isTrue();
            wireMock.stubFor(op("DescribeServices").atPriority(1).willReturn(ok("describe-services-api-moved.json")));
            String app9 = revision(9)
                    .replace(
                            "example/api:7\", \"cpu\": 256, \"memory\": 512, \"essential\": true,",
                            "example/api:8\", \"cpu\": 256, \"memory\": 512, \"essential\": true,")
                    .replace(
                            "\"containerDefinitions\": [",
                            "\"containerDefinitions\": [{\"name\": \"cloudaeye-log-router\", \"image\": \"x\", \"dockerLabels\": {\"com.cloudaeye.agent.settings\": \"h\", \"com.cloudaeye.agent.source-task-definition\": \"arn:aws:ecs:us-east-1:123456789012:task-definition/app:3\"}},");
            wireMock.stubFor(op("DescribeTaskDefinition")
                    .atPriority(1)
                    .withRequestBody(containing("app:9"))
                    .willReturn(okBody(app9)));

            Plan rollback = installer.planRollback(Journal.read(result.journal().orElseThrow()));

            assertThat(rollback.changes())
                    .filteredOn(c -> c.resourceId().endsWith("service/prod/api"))
                    .singleElement()
                    .satisfies(c -> {
                        assertThat(c.action()).as(c.toString()).isEqualTo(ChangeAction.SKIP);
                        assertThat(c.reason().orElseThrow())
                                .contains("it now runs app:9, which that apply did not set");
                    });
        }
    }

    @Test
    void apply_whenTheRolloutOutlastsTheTimeout_reportsTheServiceAsUnknownWithItsProgress() {
        stubApiService();
        wireMock.stubFor(op("DescribeServices")
                .inScenario("rollout")
                .whenScenarioStateIs("updated")
                .willReturn(ok("describe-services-api-in-progress.json")));

        try (AgentInstaller installer = installer(api().waitForStable(Duration.ofMillis(300), Duration.ofMillis(50)))) {
            ApplyResult result = installer.apply(installer.plan());

            assertThat(result.withOutcome(ResourceResult.Outcome.UNKNOWN))
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

    /** The api and jobs services, both on app:3: one registration that both need. */
    private void stubTwoServicesSharingARevision() {
        stubApiService();
        wireMock.stubFor(op("DescribeServices").atPriority(1).willReturn(ok("describe-services.json")));
    }

    private static final String API = "arn:aws:ecs:us-east-1:123456789012:service/prod/api";
    private static final String JOBS = "arn:aws:ecs:us-east-1:123456789012:service/prod/jobs";

    @Test
    void apply_whenFargateRejectsTheSize_failsTheRevisionOnce_andItsServicesAreNotAttempted() {
        stubTwoServicesSharingARevision();
        wireMock.stubFor(op("RegisterTaskDefinition").willReturn(error("fargate-validation-error.json")));

        try (AgentInstaller installer = installer(api().services("api", "jobs"))) {
            ApplyResult result = installer.apply(installer.plan());

            assertThat(result.status()).isEqualTo(ApplyResult.Status.FAILED);
            assertThat(result.withOutcome(ResourceResult.Outcome.FAILED))
                    .as("one root cause, one failure: the services were never sent")
                    .singleElement()
                    .satisfies(r -> assertThat(r.message())
                            .hasValue("registering a new revision of app:3 failed: ClientException: No Fargate"
                                    + " configuration exists for given values: 512 CPU, 1000 memory. See the Amazon ECS"
                                    + " documentation for the valid values."));
            assertThat(result.withOutcome(ResourceResult.Outcome.NOT_ATTEMPTED))
                    .extracting(r -> r.change().resourceId(), r -> r.message().orElse(""))
                    .containsExactlyInAnyOrder(
                            org.assertj.core.groups.Tuple.tuple(
                                    API,
                                    "not updated: registering its new revision from app:3 failed (see that task definition change)"),
                            org.assertj.core.groups.Tuple.tuple(
                                    JOBS,
                                    "not updated: registering its new revision from app:3 failed (see that task definition change)"));
            assertThat(calls("UpdateService")).isZero();
        }
    }

    @Test
    void apply_whenRegisteringLosesItsAnswerAndCannotBeReadBack_isUnknown_andItsServicesAreNotAttempted() {
        stubTwoServicesSharingARevision();
        com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder serverError = serverError();
        wireMock.stubFor(op("RegisterTaskDefinition")
                .inScenario("lost")
                .whenScenarioStateIs(Scenario.STARTED)
                .willReturn(serverError)
                .willSetStateTo("lost"));
        wireMock.stubFor(op("RegisterTaskDefinition")
                .inScenario("lost")
                .whenScenarioStateIs("lost")
                .willReturn(serverError));
        wireMock.stubFor(op("ListTaskDefinitions")
                .inScenario("lost")
                .whenScenarioStateIs("lost")
                .atPriority(1)
                .willReturn(serverError));

        try (AgentInstaller installer = installer(api().services("api", "jobs"))) {
            ApplyResult result = installer.apply(installer.plan());

            assertThat(result.withOutcome(ResourceResult.Outcome.UNKNOWN))
                    .singleElement()
                    .satisfies(r -> assertThat(r.change().resourceType()).isEqualTo("AWS::ECS::TaskDefinition"));
            assertThat(result.withOutcome(ResourceResult.Outcome.FAILED)).isEmpty();
            assertThat(result.withOutcome(ResourceResult.Outcome.NOT_ATTEMPTED))
                    .extracting(r -> r.change().resourceId())
                    .containsExactlyInAnyOrder(API, JOBS);
            assertThat(result.withOutcome(ResourceResult.Outcome.NOT_ATTEMPTED))
                    .allSatisfy(r -> assertThat(r.message())
                            .hasValue("not updated: registering its new revision from app:3 has an unknown outcome"
                                    + " (see that task definition change): resume or plan again"));
            assertThat(calls("UpdateService")).isZero();
        }
    }

    /** Moto registers an 11th container; AWS refuses it, so only planning can tell the user in time. */
    @Test
    void plan_whenTheTaskDefinitionHasTenContainers_skipsItAndItsService_namingTheLimitAndTheFix() throws IOException {
        stubApiService();
        ObjectNode ten = (ObjectNode) Json.parse(fixture("describe-task-definition.json"));
        ArrayNode containers = (ArrayNode) ten.get("taskDefinition").get("containerDefinitions");
        for (int i = 2; i <= 10; i++) {
            containers
                    .addObject()
                    .put("name", "worker-" + i)
                    .put("image", "example/worker:1")
                    .put("memoryReservation", 16)
                    .put("essential", false);
        }
        wireMock.stubFor(op("DescribeTaskDefinition").atPriority(1).willReturn(json(ten)));

        try (AgentInstaller installer = installer(api())) {
            Plan plan = installer.plan();

            assertThat(plan.changes()).extracting(Change::action).containsOnly(ChangeAction.SKIP);
            assertThat(plan.changes())
                    .filteredOn(c -> c.resourceType().equals("AWS::ECS::TaskDefinition"))
                    .singleElement()
                    .satisfies(c -> assertThat(c.reason())
                            .hasValue("app:3 (family app) already has 10 containers, the most an ECS task definition"
                                    + " takes, so the log router cannot be added: move a container to another task"
                                    + " definition, then plan again"));
            assertThat(plan.changes())
                    .filteredOn(c -> c.resourceType().equals("AWS::ECS::Service"))
                    .singleElement()
                    .satisfies(c -> assertThat(c.reason().orElseThrow()).contains("already has 10 containers"));
            installer.apply(plan);
            assertThat(calls("RegisterTaskDefinition") + calls("UpdateService")).isZero();
        }
    }

    /** AWS refuses a RegisterTaskDefinition request over 64 KiB: planning says so instead of apply failing. */
    @Test
    void plan_whenTheRouterWouldPushTheRevisionOver64KiB_skipsItAndItsService_namingTheFamilyAndTheFix()
            throws IOException {
        stubApiService();
        ObjectNode large = (ObjectNode) Json.parse(fixture("describe-task-definition.json"));
        ObjectNode api = (ObjectNode)
                large.get("taskDefinition").get("containerDefinitions").get(0);
        // The source itself fits (AWS registered it); the router's container and routes do not fit beside it.
        api.putArray("environment").addObject().put("name", "BIG").put("value", "x".repeat(64 * 1024 - 1500));
        wireMock.stubFor(op("DescribeTaskDefinition").atPriority(1).willReturn(json(large)));

        try (AgentInstaller installer = installer(api())) {
            Plan plan = installer.plan();

            assertThat(plan.changes()).extracting(Change::action).containsOnly(ChangeAction.SKIP);
            assertThat(plan.changes())
                    .filteredOn(c -> c.resourceType().equals("AWS::ECS::TaskDefinition"))
                    .singleElement()
                    .satisfies(c -> assertThat(c.reason().orElseThrow())
                            .startsWith("the new revision of family app (app:3 with the log router) would be a"
                                    + " RegisterTaskDefinition request of ")
                            .contains("over the 65536 bytes (64 KiB) AWS accepts: make the task definition at least ")
                            .endsWith("bytes smaller (move large environment values to environmentFiles or secrets,"
                                    + " shorten commands or docker labels), register it, then plan again"));
            assertThat(plan.changes())
                    .filteredOn(c -> c.resourceType().equals("AWS::ECS::Service"))
                    .singleElement()
                    .satisfies(c -> assertThat(c.reason().orElseThrow()).contains("64 KiB"));
            ApplyResult result = installer.apply(plan);
            assertThat(result.withOutcome(ResourceResult.Outcome.FAILED)).isEmpty();
            assertThat(calls("RegisterTaskDefinition") + calls("UpdateService")).isZero();
        }
    }

    @Test
    void plan_whenTheRevisionWithTheRouterStaysUnder64KiB_registersIt_andTheSentRequestIsUnderTheLimit()
            throws IOException {
        stubApiService();
        ObjectNode large = (ObjectNode) Json.parse(fixture("describe-task-definition.json"));
        ObjectNode api = (ObjectNode)
                large.get("taskDefinition").get("containerDefinitions").get(0);
        api.putArray("environment").addObject().put("name", "BIG").put("value", "x".repeat(60 * 1024));
        wireMock.stubFor(op("DescribeTaskDefinition").atPriority(1).willReturn(json(large)));

        try (AgentInstaller installer = installer(api())) {
            Plan plan = installer.plan();

            assertThat(plan.changes())
                    .extracting(Change::action)
                    .containsOnly(ChangeAction.CREATE, ChangeAction.UPDATE);
            installer.apply(plan);
            assertThat(bodies("RegisterTaskDefinition"))
                    .singleElement()
                    .satisfies(b -> assertThat(b.getBytes(StandardCharsets.UTF_8).length)
                            .isBetween(60 * 1024, 64 * 1024));
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
            rolloutCompletes();
            ApplyResult result = installer.apply(plan);

            assertThat(result.status()).as(result.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            assertThat(result.throttled()).isEqualTo(1);
            assertThat(calls("RegisterTaskDefinition")).isEqualTo(2);
        }
    }

    @Test
    void plan_whenTheClusterDoesNotExist_failsClearly_asNothingSelected_withoutAnyMutatingCall() {
        wireMock.stubFor(op("DescribeServices").willReturn(error("cluster-not-found.json")));

        try (AgentInstaller installer = installer(api())) {
            org.assertj.core.api.Assertions.assertThatThrownBy(installer::plan)
                    .as("a PlanningException for one installer; a fleet plans this region with nothing to change")
                    .isInstanceOf(com.cloudaeye.agent.NothingSelectedException.class)
                    .hasMessageContaining("ECS cluster prod does not exist in region us-east-1");
            assertThat(installer.calls().keySet()).isNotEmpty().allMatch(AwsActions::isReadOnly);
        }
    }

    @Test
    void plan_whenThePatternsMatchNoService_throwsNothingSelected_butANamedServiceBesideThemIsAPlanningError() {
        wireMock.stubFor(op("ListServices").willReturn(ok("list-services-page2.json")));

        try (AgentInstaller installer = installer(api().services("zzz-*", "yyy-*"))) {
            org.assertj.core.api.Assertions.assertThatThrownBy(installer::plan)
                    .as("a fleet plans this account-region as nothing to change")
                    .isInstanceOf(com.cloudaeye.agent.NothingSelectedException.class)
                    .hasMessageContaining("No service of ECS cluster prod matches 'zzz-*'");
        }
        try (AgentInstaller installer = installer(api().services("api", "zzz-*"))) {
            org.assertj.core.api.Assertions.assertThatThrownBy(installer::plan)
                    .isInstanceOf(com.cloudaeye.agent.PlanningException.class)
                    .isNotInstanceOf(com.cloudaeye.agent.NothingSelectedException.class)
                    .hasMessageContaining("matches 'zzz-*'");
        }
    }

    @Test
    void plan_whenAServiceDoesNotExist_namesIt() {
        stub("DescribeServices", "describe-services-missing.json");

        try (AgentInstaller installer = installer(api().services("nope"))) {
            org.assertj.core.api.Assertions.assertThatThrownBy(installer::plan)
                    .isInstanceOf(com.cloudaeye.agent.PlanningException.class)
                    .hasMessageContaining("has no service [nope (MISSING)]");
            assertThat(installer.calls().keySet()).allMatch(AwsActions::isReadOnly);
            assertThat(calls("RegisterTaskDefinition") + calls("UpdateService")).isZero();
        }
    }

    private static final String OTHER_WEB = "arn:aws:ecs:us-east-1:444455556666:service/prod/web";

    /** STS answers that the credentials are a user of account 123456789012. */
    private void callerIsOfTheFixturesAccount() {
        wireMock.stubFor(post(urlEqualTo("/"))
                .withRequestBody(containing(StsAnswers.GET_CALLER_IDENTITY))
                .willReturn(aResponse()
                        .withStatus(200)
                        .withHeader("Content-Type", StsAnswers.CONTENT_TYPE)
                        .withBody(StsAnswers.callerIdentity("123456789012"))));
    }

    @Test
    void plan_ofAServiceArnOfAnotherAccount_isAPlanningError_namingBothAccountsAndTheFix_withoutAnEcsCall() {
        callerIsOfTheFixturesAccount();

        try (AgentInstaller installer = installer(api().services("api", OTHER_WEB))) {
            org.assertj.core.api.Assertions.assertThatThrownBy(installer::plan)
                    .isInstanceOf(com.cloudaeye.agent.PlanningException.class)
                    .isNotInstanceOf(com.cloudaeye.agent.NothingSelectedException.class)
                    .hasMessageContaining(OTHER_WEB)
                    .hasMessageContaining("of account 444455556666")
                    .hasMessageContaining("act in account 123456789012")
                    .hasMessageContaining("credentials of account 444455556666")
                    .hasMessageContaining(".accounts(\"444455556666\")");
            assertThat(installer.calls()).containsOnlyKeys("sts:GetCallerIdentity");
        }
    }

    @Test
    void plan_whenEveryServiceOrTheClusterIsOfAnotherAccount_selectsNothingHere_whichAFleetNotesAsNothingToDo() {
        callerIsOfTheFixturesAccount();

        try (AgentInstaller installer = installer(api().services(OTHER_WEB))) {
            org.assertj.core.api.Assertions.assertThatThrownBy(installer::plan)
                    .isInstanceOf(com.cloudaeye.agent.NothingSelectedException.class)
                    .hasMessageContaining(OTHER_WEB)
                    .hasMessageContaining("act in account 123456789012");
            assertThat(installer.calls()).containsOnlyKeys("sts:GetCallerIdentity");
        }
        String otherCluster = "arn:aws:ecs:us-east-1:444455556666:cluster/prod";
        try (AgentInstaller installer = installer(api().cluster(otherCluster).services("api"))) {
            org.assertj.core.api.Assertions.assertThatThrownBy(installer::plan)
                    .isInstanceOf(com.cloudaeye.agent.NothingSelectedException.class)
                    .hasMessageContaining("cluster " + otherCluster + " is in account 444455556666")
                    .hasMessageContaining("act in account 123456789012")
                    .hasMessageContaining(".accounts(\"444455556666\")");
            assertThat(installer.calls()).containsOnlyKeys("sts:GetCallerIdentity");
        }
    }

    private static final com.cloudaeye.agent.spi.FleetScope FLEET = new com.cloudaeye.agent.spi.FleetScope(
            java.util.Set.of("123456789012", "444455556666"), java.util.Set.of(Region.US_EAST_1, Region.EU_WEST_1));

    private com.cloudaeye.agent.spi.TargetPlan planAsFleetMember(EcsTarget.Builder target) {
        try (FleetMemberContext member =
                new FleetMemberContext(URI.create(wireMock.baseUrl()), "123456789012", FLEET)) {
            return target.build().plan(member);
        }
    }

    @Test
    void fleetMember_plansItsOwnServices_andLeavesServiceArnsOfOtherMembersToThem_unread() {
        stubApiService();
        String westWeb = "arn:aws:ecs:eu-west-1:123456789012:service/prod/web";

        com.cloudaeye.agent.spi.TargetPlan plan = planAsFleetMember(api().services(API, OTHER_WEB, westWeb));

        assertThat(plan.changes()).isNotEmpty().allMatch(c -> !c.resourceId().contains("web"));
        assertThat(wireMock.getAllServeEvents())
                .as("no call about another member's service")
                .noneMatch(e -> e.getRequest().getBodyAsString().contains("web"));
    }

    @Test
    void fleetMember_givenOnlyServiceArnsOfOtherMembers_orTheirCluster_selectsNothingHere_withoutAnyCall() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> planAsFleetMember(api().services(OTHER_WEB)))
                .isInstanceOf(com.cloudaeye.agent.NothingSelectedException.class)
                .hasMessageContaining(OTHER_WEB + " (account 444455556666, us-east-1)");
        org.assertj.core.api.Assertions.assertThatThrownBy(
                        () -> planAsFleetMember(api().cluster("arn:aws:ecs:us-east-1:444455556666:cluster/prod")
                                .services("api")))
                .isInstanceOf(com.cloudaeye.agent.NothingSelectedException.class);
        assertThat(wireMock.getAllServeEvents()).isEmpty();
    }

    @Test
    void fleetMember_givenAServiceOrClusterArnOutsideTheFleet_refusesIt_namingTheArnTheFleetAndTheFix() {
        String outsideService = "arn:aws:ecs:us-east-1:777788889999:service/prod/web";
        String outsideRegion = "arn:aws:ecs:ap-south-1:444455556666:service/prod/web";
        String outsideCluster = "arn:aws:ecs:us-east-1:777788889999:cluster/prod";
        List<EcsTarget.Builder> targets = List.of(
                api().services(API, OTHER_WEB, outsideService),
                api().services(API, outsideRegion),
                api().cluster(outsideCluster).services("api"));
        List<String> arns = List.of(outsideService, outsideRegion, outsideCluster);
        for (int i = 0; i < targets.size(); i++) {
            EcsTarget.Builder target = targets.get(i);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> planAsFleetMember(target))
                    .as(arns.get(i))
                    .isInstanceOf(com.cloudaeye.agent.ConfigurationException.class)
                    .isNotInstanceOf(com.cloudaeye.agent.NothingSelectedException.class)
                    .hasMessageContaining(arns.get(i) + " is in account ")
                    .hasMessageContaining("which the fleet does not cover (accounts [123456789012, 444455556666],"
                            + " regions [eu-west-1, us-east-1])")
                    .hasMessageContaining("add the account and region to the FleetInstaller")
                    .hasMessageContaining("drop the ARN");
        }
        assertThat(wireMock.getAllServeEvents()).as("refused before any call").isEmpty();
    }

    @Test
    void plan_whenTheClusterArnIsOfAnotherRegion_selectsNothingHere_withoutAnyCall() {
        String westCluster = "arn:aws:ecs:us-west-2:123456789012:cluster/prod";
        try (AgentInstaller installer = installer(api().cluster(westCluster).services("api"))) {
            org.assertj.core.api.Assertions.assertThatThrownBy(installer::plan)
                    .isInstanceOf(com.cloudaeye.agent.NothingSelectedException.class)
                    .hasMessageContaining("cluster " + westCluster + " is in region us-west-2")
                    .hasMessageContaining("plans us-east-1")
                    .hasMessageContaining("Nothing was changed.");
            assertThat(installer.calls()).isEmpty();
        }
    }

    @Test
    void plan_ofThisAccountsClusterAndServiceArns_isPlanned_andByNameAsksNoAccount() {
        callerIsOfTheFixturesAccount();
        stubApiService();

        try (AgentInstaller installer = installer(
                api().cluster("arn:aws:ecs:us-east-1:123456789012:cluster/prod").services(API))) {
            assertThat(installer.plan().mutations()).isNotEmpty();
            assertThat(installer.calls()).containsKey("sts:GetCallerIdentity");
        }
        try (AgentInstaller installer = installer(api())) {
            installer.plan();
            assertThat(installer.calls()).doesNotContainKey("sts:GetCallerIdentity");
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

    /**
     * The guard against double registration: a revision of the family newer than the planned source that an earlier
     * run (killed, or whose response was lost) registered is reused, and only then. Each earlier revision here is
     * captured from a real earlier run's RegisterTaskDefinition request, as AWS would describe it afterwards.
     */
    @Nested
    class EarlierRevision {
        private static final String TD = "arn:aws:ecs:us-east-1:123456789012:task-definition/";
        private static final String OLD_IMAGE = "public.ecr.aws/cloudaeye/log-router:1.3.0";

        private EcsTarget.Builder target() {
            return EcsTarget.builder()
                    .cluster("prod")
                    .services("api")
                    .sidecar(s -> s.image("public.ecr.aws/cloudaeye/log-router:1.4.0"))
                    .updateServices(true);
        }

        /**
         * Runs an install with these settings that registers a revision and leaves the service alone, then returns that
         * revision as DescribeTaskDefinition describes it: the request's fields and tags, AWS's read-only fields, and
         * the empty lists AWS echoes for container fields the request left out. Forgets every stub and request after.
         */
        private ObjectNode registeredByAnEarlierRun(EcsTarget.Builder settings, int revision) throws IOException {
            stubApiService();
            try (AgentInstaller earlier = installer(settings.updateServices(false))) {
                assertThat(earlier.apply(earlier.plan()).status()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            }
            ObjectNode td =
                    (ObjectNode) Json.parse(bodies("RegisterTaskDefinition").get(0));
            wireMock.resetAll();
            noNewerRevisions();
            JsonNode tags = td.remove("tags");
            td.put("taskDefinitionArn", TD + "app:" + revision)
                    .put("revision", revision)
                    .put("status", "ACTIVE");
            td.putArray("compatibilities").add("EC2").add("FARGATE");
            for (JsonNode c : td.get("containerDefinitions")) {
                for (String field : List.of("portMappings", "mountPoints", "volumesFrom")) {
                    if (!c.has(field)) {
                        ((ObjectNode) c).putArray(field);
                    }
                }
            }
            ObjectNode described = Json.object();
            described.set("taskDefinition", td);
            described.set("tags", tags);
            return described;
        }

        /** A revision a user registered from the source since planning: their own image, no CloudAEye router. */
        private ObjectNode usersOwn(int revision) throws IOException {
            ObjectNode described = (ObjectNode) Json.parse(fixture("describe-task-definition.json"));
            ObjectNode td = (ObjectNode) described.get("taskDefinition");
            td.put("taskDefinitionArn", TD + "app:" + revision).put("revision", revision);
            ((ObjectNode) td.get("containerDefinitions").get(0)).put("image", "example/api:8");
            return described;
        }

        /** The family's revisions besides the source, newest first. */
        private final List<String> family = new ArrayList<>();

        /** DescribeTaskDefinition of the family (its latest revision) answers with this revision. */
        private void latestIs(JsonNode described) {
            wireMock.stubFor(op("DescribeTaskDefinition")
                    .withRequestBody(containing("\"taskDefinition\":\"app\""))
                    .atPriority(1)
                    .willReturn(json(described)));
            describable(described);
        }

        /** DescribeTaskDefinition of this revision's ARN answers with it, and ListTaskDefinitions lists it. */
        private void describable(JsonNode described) {
            String arn =
                    described.path("taskDefinition").path("taskDefinitionArn").asText();
            wireMock.stubFor(op("DescribeTaskDefinition")
                    .withRequestBody(containing("\"taskDefinition\":\"" + arn + "\""))
                    .atPriority(1)
                    .willReturn(json(described)));
            family.add(arn);
            family.sort(java.util.Comparator.comparingInt(
                            (String a) -> Integer.parseInt(a.substring(a.lastIndexOf(':') + 1)))
                    .reversed());
            wireMock.stubFor(op("ListTaskDefinitions").atPriority(1).willReturn(arns(family.toArray(new String[0]))));
        }

        /** RegisterTaskDefinition answers that it registered this revision number. */
        private void registersAs(int revision) {
            wireMock.stubFor(op("RegisterTaskDefinition")
                    .willReturn(ok("register-task-definition.json")
                            .withBody(fixture("register-task-definition.json")
                                    .replace("app:4", "app:" + revision)
                                    .replace("\"revision\": 4", "\"revision\": " + revision))));
        }

        /** The journal of an apply of {@code plan} killed during RegisterTaskDefinition (after its STARTING line). */
        private Journal killedWhileRegistering(Plan plan) {
            try (JournalWriter writer = JournalWriter.create(journals.resolve("killed"), plan)) {
                writer.record(Journal.Event.STARTING, change(plan, "AWS::ECS::TaskDefinition"), null, null);
                return Journal.read(writer.path());
            }
        }

        /** The journal of an apply of {@code plan} that registered app:4 and was killed during UpdateService. */
        private Journal killedWhileUpdatingTheService(Plan plan) {
            Change td = change(plan, "AWS::ECS::TaskDefinition");
            try (JournalWriter writer = JournalWriter.create(journals.resolve("killed"), plan)) {
                writer.record(Journal.Event.STARTING, td, null, null);
                writer.record(
                        Journal.Event.APPLIED,
                        td,
                        "registered app:4",
                        Json.object().put("taskDefinitionArn", TD + "app:4"));
                writer.record(Journal.Event.STARTING, change(plan, "AWS::ECS::Service"), null, null);
                return Journal.read(writer.path());
            }
        }

        private static Change change(Plan plan, String type) {
            return plan.mutations().stream()
                    .filter(c -> c.resourceType().equals(type))
                    .findFirst()
                    .orElseThrow();
        }

        private ResourceResult result(ApplyResult result, String type) {
            return result.results().stream()
                    .filter(r -> r.change().resourceType().equals(type))
                    .findFirst()
                    .orElseThrow(() -> new AssertionError("no " + type + " result in " + result));
        }

        private void assertUpdatedTo(ApplyResult result, String revision) {
            assertThat(result.status()).as(result.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            assertThat(result(result, "AWS::ECS::Service").message()).hasValue("updated to " + revision);
            wireMock.verify(
                    1,
                    postRequestedFor(urlEqualTo("/"))
                            .withHeader("X-Amz-Target", equalTo(TARGET + "UpdateService"))
                            .withRequestBody(containing("\"taskDefinition\":\"" + TD + revision + "\"")));
        }

        private void assertNotRegistered() {
            wireMock.verify(
                    0,
                    postRequestedFor(urlEqualTo("/"))
                            .withHeader("X-Amz-Target", equalTo(TARGET + "RegisterTaskDefinition")));
        }

        @Test
        void plan_whenAnEarlierRunRegisteredTheRevision_reusesIt_andApplyRegistersNothing() throws IOException {
            ObjectNode earlier = registeredByAnEarlierRun(target(), 4);
            stubApiService();
            latestIs(earlier);

            try (AgentInstaller installer = installer(target())) {
                Plan plan = installer.plan();
                assertThat(plan.changes())
                        .filteredOn(c -> c.resourceType().equals("AWS::ECS::TaskDefinition"))
                        .singleElement()
                        .satisfies(c -> {
                            assertThat(c.action()).isEqualTo(ChangeAction.NO_OP);
                            assertThat(c.reason()).hasValue("revision app:4 already adds the log router to it");
                        });
                ApplyResult result = installer.apply(plan);

                assertNotRegistered();
                assertUpdatedTo(result, "app:4");
            }
        }

        @Test
        void plan_whenAUserRegisteredARevisionAfterTheEarlierRuns_stillReusesTheEarlierRunsRevision_asApplyWould()
                throws IOException {
            ObjectNode ours = registeredByAnEarlierRun(target(), 4);
            stubApiService();
            describable(ours);
            latestIs(usersOwn(5));

            try (AgentInstaller installer = installer(target())) {
                Plan plan = installer.plan();
                // Apply finds app:4 among the family's newer revisions: the plan must say so, not plan a registration.
                assertThat(change(plan, "AWS::ECS::Service").attributes())
                        .anySatisfy(a -> assertThat(a.after()).hasValue("app:4"));
                assertThat(plan.changes())
                        .filteredOn(c -> c.resourceType().equals("AWS::ECS::TaskDefinition"))
                        .singleElement()
                        .satisfies(c -> {
                            assertThat(c.action()).isEqualTo(ChangeAction.NO_OP);
                            assertThat(c.reason()).hasValue("revision app:4 already adds the log router to it");
                        });
                ApplyResult result = installer.apply(plan);

                assertNotRegistered();
                assertUpdatedTo(result, "app:4");
            }
        }

        @Test
        void resume_whenTheKilledApplyRegisteredTheRevisionBeforeJournalingIt_reusesIt_andSaysSo() throws IOException {
            ObjectNode earlier = registeredByAnEarlierRun(target(), 4);
            stubApiService();
            try (AgentInstaller installer = installer(target())) {
                Plan plan = installer.plan();
                Journal journal = killedWhileRegistering(plan);
                latestIs(earlier);

                ApplyResult resumed = installer.resume(journal);

                assertNotRegistered();
                assertThat(result(resumed, "AWS::ECS::TaskDefinition").message())
                        .hasValue("already registered as app:4");
                assertUpdatedTo(resumed, "app:4");
            }
        }

        @Test
        void resume_whenTheKilledApplyWasUpdatingTheService_movesItToTheRevisionThatApplyRegistered()
                throws IOException {
            ObjectNode earlier = registeredByAnEarlierRun(target(), 4);
            stubApiService();
            try (AgentInstaller installer = installer(target())) {
                Plan plan = installer.plan();
                Journal journal = killedWhileUpdatingTheService(plan);
                assertThat(journal.interrupted())
                        .extracting(Change::resourceType)
                        .containsExactly("AWS::ECS::Service");
                latestIs(earlier);

                ApplyResult resumed = installer.resume(journal);

                assertNotRegistered();
                assertUpdatedTo(resumed, "app:4");
            }
        }

        @Test
        void apply_whenTheNewerRevisionHasTheRouterWithAnotherImage_registersANewOne() throws IOException {
            ObjectNode older = registeredByAnEarlierRun(target().sidecar(s -> s.image(OLD_IMAGE)), 4);
            stubApiService();
            latestIs(older);
            registersAs(5);

            try (AgentInstaller installer = installer(target())) {
                Plan plan = installer.plan();
                assertThat(change(plan, "AWS::ECS::TaskDefinition").action()).isEqualTo(ChangeAction.CREATE);
                ApplyResult result = installer.apply(plan);

                assertThat(bodies("RegisterTaskDefinition"))
                        .singleElement()
                        .asString()
                        .contains("log-router:1.4.0")
                        .doesNotContain(OLD_IMAGE);
                assertThat(result(result, "AWS::ECS::TaskDefinition").message()).hasValue("registered app:5");
                assertUpdatedTo(result, "app:5");
            }
        }

        @Test
        void resume_whenTheNewerRevisionLacksAnApplicationContainer_registersANewOne() throws IOException {
            ObjectNode partial = registeredByAnEarlierRun(target(), 4);
            ArrayNode containers = (ArrayNode) partial.get("taskDefinition").get("containerDefinitions");
            for (int i = containers.size() - 1; i >= 0; i--) {
                if (containers.get(i).path("name").asText().equals("api")) {
                    containers.remove(i);
                }
            }
            stubApiService();
            registersAs(5);
            try (AgentInstaller installer = installer(target())) {
                Plan plan = installer.plan();
                Journal journal = killedWhileRegistering(plan);
                latestIs(partial);

                ApplyResult resumed = installer.resume(journal);

                assertThat(bodies("RegisterTaskDefinition"))
                        .singleElement()
                        .asString()
                        .contains("\"name\":\"api\"");
                assertThat(result(resumed, "AWS::ECS::TaskDefinition").message())
                        .hasValue("registered app:5");
                assertUpdatedTo(resumed, "app:5");
            }
        }

        @Test
        void resume_whenTheNewerRevisionHasTheRouterWithAnotherImage_skipsTheInterruptedService_insteadOfDeployingIt()
                throws IOException {
            ObjectNode older = registeredByAnEarlierRun(target().sidecar(s -> s.image(OLD_IMAGE)), 4);
            stubApiService();
            try (AgentInstaller installer = installer(target())) {
                Plan plan = installer.plan();
                Journal journal = killedWhileUpdatingTheService(plan);
                latestIs(older);

                ApplyResult resumed = installer.resume(journal);

                assertThat(resumed.withOutcome(ResourceResult.Outcome.SKIPPED))
                        .singleElement()
                        .satisfies(r -> assertThat(r.message())
                                .hasValue("no revision of app newer than app:3 is the one this plan registers"
                                        + " (someone registered or deployed another revision since): plan again"));
                assertNotRegistered();
                assertThat(calls("UpdateService")).isZero();
            }
        }

        @Test
        void apply_whenAUserDeployedTheirOwnRevisionSincePlanning_skipsTheService_andKeepsTheirRevision()
                throws IOException {
            stubApiService();
            registersAs(10);
            try (AgentInstaller installer = installer(target())) {
                Plan plan = installer.plan();
                latestIs(usersOwn(9));
                wireMock.stubFor(
                        op("DescribeServices").atPriority(1).willReturn(ok("describe-services-api-moved.json")));

                ApplyResult result = installer.apply(plan);

                // The planned revision is registered from app:3 (the user's app:9 is not ours to reuse); the service
                // that now runs the user's revision is left alone.
                assertThat(result(result, "AWS::ECS::TaskDefinition").message()).hasValue("registered app:10");
                assertThat(result(result, "AWS::ECS::Service").outcome()).isEqualTo(ResourceResult.Outcome.SKIPPED);
                assertThat(result(result, "AWS::ECS::Service").message())
                        .get()
                        .asString()
                        .contains("it now runs app:9, not app:3 as planned");
                assertThat(calls("UpdateService")).isZero();
            }
        }

        @Test
        void resume_whenTheOnlyNewerRevisionIsAUsersOwn_skipsTheInterruptedService_withoutRegisteringOrDeploying()
                throws IOException {
            stubApiService();
            try (AgentInstaller installer = installer(target())) {
                Plan plan = installer.plan();
                Journal journal = killedWhileUpdatingTheService(plan);
                latestIs(usersOwn(9));

                ApplyResult resumed = installer.resume(journal);

                assertThat(resumed.withOutcome(ResourceResult.Outcome.SKIPPED))
                        .singleElement()
                        .satisfies(r -> assertThat(r.message()).get().asString().endsWith("plan again"));
                assertNotRegistered();
                assertThat(calls("UpdateService")).isZero();
            }
        }

        @Test
        void resume_whenTheKilledApplyMovedTheServiceAndAUserRegisteredARevisionSince_reportsTheServiceApplied()
                throws IOException {
            ObjectNode ours = registeredByAnEarlierRun(target(), 4);
            stubApiService();
            try (AgentInstaller installer = installer(target())) {
                Plan plan = installer.plan();
                Journal journal = killedWhileUpdatingTheService(plan);
                latestIs(usersOwn(5));
                describable(ours);
                wireMock.stubFor(
                        op("DescribeServices").atPriority(1).willReturn(ok("describe-services-api-completed.json")));

                ApplyResult resumed = installer.resume(journal);

                assertThat(resumed.status()).as(resumed.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
                assertThat(result(resumed, "AWS::ECS::Service").message()).hasValue("already runs app:4");
                assertNotRegistered();
                assertThat(calls("UpdateService")).isZero();
            }
        }

        @Test
        void apply_whenRegisteringAnswers500ButAwsRegisteredTheRevision_findsIt_insteadOfRegisteringATwin()
                throws IOException {
            ObjectNode landed = registeredByAnEarlierRun(target(), 4);
            stubApiService();
            wireMock.stubFor(op("RegisterTaskDefinition")
                    .inScenario("lost")
                    .whenScenarioStateIs(Scenario.STARTED)
                    .willReturn(serverError())
                    .willSetStateTo("landed"));
            wireMock.stubFor(op("DescribeTaskDefinition")
                    .inScenario("lost")
                    .whenScenarioStateIs("landed")
                    .withRequestBody(containing("\"taskDefinition\":\"" + TD + "app:4\""))
                    .atPriority(1)
                    .willReturn(json(landed)));
            wireMock.stubFor(op("ListTaskDefinitions")
                    .inScenario("lost")
                    .whenScenarioStateIs("landed")
                    .atPriority(1)
                    .willReturn(arns(TD + "app:4")));

            try (AgentInstaller installer = installer(target())) {
                ApplyResult result = installer.apply(installer.plan());

                assertThat(calls("RegisterTaskDefinition")).isEqualTo(1);
                assertThat(result(result, "AWS::ECS::TaskDefinition").message()).hasValue("registered app:4");
                assertUpdatedTo(result, "app:4");
            }
        }

        @Test
        void apply_whenRegisteringAnswers500AndNothingWasRegistered_retriesTheRegistration() {
            stubApiService();
            wireMock.stubFor(op("RegisterTaskDefinition")
                    .inScenario("lost")
                    .whenScenarioStateIs(Scenario.STARTED)
                    .willReturn(serverError())
                    .willSetStateTo("failed once"));
            wireMock.stubFor(op("RegisterTaskDefinition")
                    .inScenario("lost")
                    .whenScenarioStateIs("failed once")
                    .willReturn(ok("register-task-definition.json")));

            try (AgentInstaller installer = installer(target())) {
                ApplyResult result = installer.apply(installer.plan());

                assertThat(calls("RegisterTaskDefinition")).isEqualTo(2);
                assertThat(result(result, "AWS::ECS::TaskDefinition").message()).hasValue("registered app:4");
                assertUpdatedTo(result, "app:4");
            }
        }
    }

    private static com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder json(JsonNode body) {
        return okBody(body.toString());
    }

    private List<String> bodies(String operation) {
        return wireMock
                .findAll(postRequestedFor(urlEqualTo("/")).withHeader("X-Amz-Target", equalTo(TARGET + operation)))
                .stream()
                .map(r -> r.getBodyAsString())
                .collect(Collectors.toList());
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
