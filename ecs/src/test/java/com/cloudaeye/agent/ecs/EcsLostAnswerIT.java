package com.cloudaeye.agent.ecs;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.Journal;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.ResourceResult;
import com.cloudaeye.agent.ecs.internal.TaskDefinitions;
import com.cloudaeye.agent.testing.Moto;
import com.cloudaeye.agent.testing.ThrottlingProxy;
import com.cloudaeye.agent.testing.ThrottlingProxy.Fault;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import software.amazon.awssdk.services.ecs.model.TaskDefinition;

/**
 * One mutating call at a time loses its answer (the proxy forwards it to moto, which applies it, and closes the
 * connection): the installer neither registers a revision twice nor reports a landed change as failed.
 */
class EcsLostAnswerIT {
    @TempDir
    Path journals;

    private MotoEcs moto;
    private TaskDefinition web;

    @BeforeEach
    void fixture() {
        Moto.reset();
        moto = new MotoEcs();
        moto.cluster("prod");
        web = moto.fargate("web", "256", "512", MotoEcs.app("app", 128, 256));
        moto.service("prod", "web-a", web);
    }

    @AfterEach
    void close() {
        moto.close();
    }

    private AgentInstaller installer(EcsTarget target, ThrottlingProxy proxy, int attempts) {
        return MotoEcs.installer(target)
                .endpointOverride(proxy.endpoint())
                .retries(attempts, Duration.ofMillis(10))
                .journalDirectory(journals)
                .build();
    }

    @ParameterizedTest(name = "{0} attempts per call")
    @ValueSource(ints = {1, 3})
    void registerTaskDefinition_whoseAnswerIsLost_isRegisteredOnce_andReportedApplied(int attempts) {
        try (ThrottlingProxy proxy = ThrottlingProxy.builder()
                        .target(Moto.endpoint())
                        .fault(Fault.LOST_RESPONSE, 1.0)
                        .faultOnly("RegisterTaskDefinition")
                        .start();
                AgentInstaller installer = installer(MotoEcs.target().build(), proxy, attempts)) {
            ApplyResult result = installer.apply(installer.plan());

            assertThat(result.status()).as(result.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            assertThat(proxy.requests("RegisterTaskDefinition")).isEqualTo(1);
            assertThat(moto.taskDefinitionOf("prod", "web-a")).endsWith("web:2");
            assertThat(moto.describe("web").revision()).as("no second revision").isEqualTo(2);
        }
    }

    @Test
    void updateService_whoseAnswerIsLost_isReadBack_andReportedApplied() {
        try (ThrottlingProxy proxy = ThrottlingProxy.builder()
                        .target(Moto.endpoint())
                        .fault(Fault.LOST_RESPONSE, 1.0)
                        .faultOnly("UpdateService")
                        .start();
                AgentInstaller installer = installer(MotoEcs.target().build(), proxy, 1)) {
            ApplyResult result = installer.apply(installer.plan());

            assertThat(result.status()).as(result.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            assertThat(proxy.faults()).containsEntry(Fault.LOST_RESPONSE, 1L);
            assertThat(moto.taskDefinitionOf("prod", "web-a")).endsWith("web:2");
            assertThat(installer.plan().mutations()).isEmpty();
        }
    }

    /**
     * The scheduler retries a call whose answer was lost, and the retry is refused (access denied, say a policy
     * changed meanwhile): the first attempt moved the service, so a read-back finds it moved and the change is
     * applied, not FAILED (which says nothing changed).
     */
    @Test
    void updateService_whoseAnswerIsLost_andWhoseRetryIsDenied_isReadBack_andReportedApplied() {
        try (ThrottlingProxy proxy = ThrottlingProxy.builder()
                        .target(Moto.endpoint())
                        .lostThenDenied("UpdateService", "UpdateService")
                        .start();
                AgentInstaller installer = installer(MotoEcs.target().build(), proxy, 3)) {
            ApplyResult result = installer.apply(installer.plan());

            assertThat(proxy.faults()).containsEntry(Fault.LOST_RESPONSE, 1L).containsEntry(Fault.ACCESS_DENIED, 1L);
            assertThat(result.status()).as(result.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            assertThat(moto.taskDefinitionOf("prod", "web-a")).endsWith("web:2");
            assertThat(installer.plan().mutations()).isEmpty();
        }
    }

    /**
     * As above, but the service cannot be read back either (DescribeServices is denied too): whether the service
     * moved is unknown, and the result says so instead of FAILED; a resume finishes it.
     */
    @Test
    void updateService_whoseAnswerIsLost_andWhoseReadBackIsDenied_isUnknown_andResumeFinishes() {
        ApplyResult result;
        try (ThrottlingProxy proxy = ThrottlingProxy.builder()
                        .target(Moto.endpoint())
                        .lostThenDenied("UpdateService", "UpdateService", "DescribeServices")
                        .start();
                AgentInstaller installer = installer(MotoEcs.target().build(), proxy, 3)) {
            result = installer.apply(installer.plan());
        }
        assertThat(result.withOutcome(ResourceResult.Outcome.UNKNOWN))
                .as(result.toString())
                .singleElement()
                .satisfies(r -> {
                    assertThat(r.change().resourceType()).isEqualTo("AWS::ECS::Service");
                    assertThat(r.message())
                            .hasValueSatisfying(m -> assertThat(m).contains("roll back"));
                });
        assertThat(result.withOutcome(ResourceResult.Outcome.FAILED)).isEmpty();
        assertThat(moto.taskDefinitionOf("prod", "web-a"))
                .as("the lost call landed")
                .endsWith("web:2");
        try (AgentInstaller direct = MotoEcs.installer(MotoEcs.target().build())
                .journalDirectory(journals)
                .build()) {
            ApplyResult resumed = direct.resume(Journal.read(result.journal().orElseThrow()));
            assertThat(resumed.isSuccess()).as(resumed.toString()).isTrue();
            assertThat(direct.plan().mutations()).isEmpty();
        }
    }

    @Test
    void apply_neverReusesARevisionMadeFromAnotherRevisionOfTheSameFamily() {
        TaskDefinition webV2 = moto.fargate("web", "512", "1024", MotoEcs.app("app", 256, 512));
        moto.service("prod", "web-b", webV2);
        try (ThrottlingProxy proxy =
                        ThrottlingProxy.builder().target(Moto.endpoint()).start();
                AgentInstaller both = installer(MotoEcs.target().build(), proxy, 2);
                AgentInstaller onlyB =
                        installer(MotoEcs.target().services("web-b").build(), proxy, 2)) {
            Plan plan = both.plan();
            // Meanwhile, web-b alone is installed: web:3 is made from web:2, and is the family's latest revision.
            assertThat(onlyB.apply(onlyB.plan()).status()).isEqualTo(ApplyResult.Status.SUCCEEDED);

            both.apply(plan);

            TaskDefinition a = moto.describe(moto.taskDefinitionOf("prod", "web-a"));
            assertThat(a.revision()).isEqualTo(4);
            assertThat(TaskDefinitions.ourRouter(a).orElseThrow().dockerLabels())
                    .containsEntry(TaskDefinitions.SOURCE_LABEL, web.taskDefinitionArn());
            assertThat(a.cpu()).as("web-a keeps its own size").isEqualTo("256");
        }
    }

    /**
     * The race the fault suite found at 30 % lost answers, made deterministic: two source revisions of one family
     * (api:1 and api:2) each get their revision registered, but no service moves (UpdateService fails). The re-run
     * plans both registrations again and, registering api:1's first, made api:2's lookup of "the family's latest
     * revision" see api:1's new one: it registered a twin from api:2. Provenance is now proven by content (the
     * router's source label, settings and token), searched among every newer revision.
     */
    @Test
    void reRun_afterTwoSourcesOfOneFamilyRegistered_reusesEachRevision_insteadOfRegisteringTwins() {
        TaskDefinition apiOld = moto.fargate("api", "256", "512", MotoEcs.app("api", 128, 256));
        TaskDefinition apiNew = moto.fargate("api", "512", "1024", MotoEcs.app("api", 256, 512));
        moto.service("prod", "api-old", apiOld);
        moto.service("prod", "api-new", apiNew);
        EcsTarget target = MotoEcs.target().services("api-*").build();
        try (ThrottlingProxy proxy = ThrottlingProxy.builder()
                        .target(Moto.endpoint())
                        .fault(Fault.SERVER_ERROR, 1.0)
                        .faultOnly("UpdateService")
                        .start();
                AgentInstaller failing = installer(target, proxy, 1)) {
            ApplyResult first = failing.apply(failing.plan());
            assertThat(first.withOutcome(com.cloudaeye.agent.ResourceResult.Outcome.APPLIED))
                    .as("both registrations landed: " + first)
                    .hasSize(2);
        }
        int revisionsAfterFirst = moto.describe("api").revision();

        try (AgentInstaller direct =
                MotoEcs.installer(target).journalDirectory(journals).build()) {
            ApplyResult rerun = direct.apply(direct.plan());

            assertThat(rerun.status()).as(rerun.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
        }
        assertThat(moto.describe("api").revision())
                .as("no twin of api:3 or api:4 was registered")
                .isEqualTo(revisionsAfterFirst);
        assertThat(TaskDefinitions.ourRouter(moto.describe(moto.taskDefinitionOf("prod", "api-new")))
                        .map(r -> r.dockerLabels().get(TaskDefinitions.SOURCE_LABEL)))
                .contains(apiNew.taskDefinitionArn());
    }
}
