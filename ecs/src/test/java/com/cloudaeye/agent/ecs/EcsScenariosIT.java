package com.cloudaeye.agent.ecs;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.AttributeChange;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.Journal;
import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.ResourceResult;
import com.cloudaeye.agent.testing.Moto;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.ecs.model.CPUArchitecture;
import software.amazon.awssdk.services.ecs.model.ContainerDefinition;
import software.amazon.awssdk.services.ecs.model.DeploymentControllerType;
import software.amazon.awssdk.services.ecs.model.FirelensConfigurationType;
import software.amazon.awssdk.services.ecs.model.LogConfiguration;
import software.amazon.awssdk.services.ecs.model.LogDriver;
import software.amazon.awssdk.services.ecs.model.TaskDefinition;
import software.amazon.awssdk.services.ecs.model.TaskDefinitionStatus;

/** Install, upgrade, uninstall and rollback of the log router against moto, checked on the registered revisions. */
class EcsScenariosIT {
    private static final String SECRET_ARN =
            "arn:aws:secretsmanager:us-east-1:" + Moto.ACCOUNT + ":secret:cloudaeye-token-AbCdEf";

    @TempDir
    Path journals;

    private MotoEcs moto;
    private TaskDefinition web;
    private TaskDefinition worker;

    @BeforeEach
    void fixture() {
        Moto.reset();
        moto = new MotoEcs();
        moto.cluster("prod");
        web = moto.fargate("web", "256", "512", MotoEcs.app("app", 128, 256));
        worker = moto.arm("worker");
        moto.service("prod", "web-a", web);
        moto.service("prod", "web-b", web);
        moto.service("prod", "worker", worker);
        moto.service("prod", "legacy-cron", web);
        moto.service("prod", "bluegreen", web, DeploymentControllerType.CODE_DEPLOY);
    }

    @AfterEach
    void close() {
        moto.close();
    }

    private AgentInstaller installer(EcsTarget target) {
        return MotoEcs.installer(target).journalDirectory(journals).build();
    }

    @Test
    void plan_groupsServicesByRevision_skipsCodeDeploy_andLeavesExcludedServicesOut() {
        try (AgentInstaller installer = installer(MotoEcs.target().build())) {
            Plan plan = installer.plan();

            assertThat(plan.mutations().stream()
                            .filter(c -> c.resourceType().equals("AWS::ECS::TaskDefinition"))
                            .map(Change::resourceId))
                    .containsExactly(web.taskDefinitionArn(), worker.taskDefinitionArn());
            assertThat(plan.mutations().stream()
                            .filter(c -> c.resourceType().equals("AWS::ECS::Service"))
                            .map(c -> c.resourceId().substring(c.resourceId().lastIndexOf('/') + 1)))
                    .containsExactly("web-a", "web-b", "worker");
            Change bluegreen = only(plan, "service/prod/bluegreen");
            assertThat(bluegreen.action()).isEqualTo(ChangeAction.SKIP);
            assertThat(bluegreen.reason()).get().asString().contains("CODE_DEPLOY");
            assertThat(plan.changes()).noneMatch(c -> c.resourceId().contains("legacy-cron"));
            // One read per source revision, one listing per family (for a revision an earlier run registered).
            assertThat(installer.calls())
                    .containsEntry("ecs:DescribeTaskDefinition", 2L)
                    .containsEntry("ecs:ListTaskDefinitions", 2L);
        }
    }

    @Test
    void plan_showsRouterAndLogDriverChanges_andNeverTheTokenOrUserValues() throws IOException {
        try (AgentInstaller installer = installer(MotoEcs.target().build())) {
            Plan plan = installer.plan();
            Change td = only(plan, "task-definition/web:1");

            assertThat(td.attributes())
                    .extracting(AttributeChange::toString)
                    .contains(
                            "Revision: web:1 -> web:(next revision)",
                            "ContainerDefinitions.app.Logs: awslogs /ecs/app -> CloudWatch Logs /ecs/app (FireLens) + CloudAEye",
                            "ContainerDefinitions.cloudaeye-log-router: (absent) -> " + MotoEcs.ROUTER_IMAGE
                                    + " (cpu 64, memory 128 MiB, essential)");
            assertThat(td.attributes())
                    .filteredOn(AttributeChange::sensitive)
                    .singleElement()
                    .satisfies(a -> assertThat(a.after()).contains("****"));
            assertThat(td.warnings()).anyMatch(w -> w.contains("ecs:DescribeTaskDefinition can read it"));

            ApplyResult result = installer.apply(plan);
            String journal = Files.readString(result.journal().orElseThrow());
            for (String text : List.of(plan.toJson(), plan.toString(), journal, result.toString())) {
                assertThat(text).doesNotContain(MotoEcs.TOKEN).doesNotContain("hello-user-value");
            }
        }
    }

    @Test
    void userLogOptions_neverReachPlansJournalsOrResults_andUninstallRestoresThemExactly() throws IOException {
        String splunkToken = "splunk-hec-token-5e1f0c9a";
        ContainerDefinition splunky = MotoEcs.app("app", 128, 256).toBuilder()
                .logConfiguration(LogConfiguration.builder()
                        .logDriver(LogDriver.SPLUNK)
                        .options(java.util.Map.of(
                                "splunk-token", splunkToken, "splunk-url", "https://splunk.example.com:8088"))
                        .build())
                .build();
        // A second container without logs gets the router; the splunk one keeps its driver and its options.
        ContainerDefinition quiet = MotoEcs.app("quiet", 64, 128).toBuilder()
                .logConfiguration((LogConfiguration) null)
                .build();
        TaskDefinition original = moto.fargate("splunky", "256", "512", splunky, quiet);
        moto.service("prod", "splunky", original);
        EcsTarget target = MotoEcs.target().services("splunky").build();
        try (AgentInstaller installer = installer(target)) {
            Plan plan = installer.plan();
            ApplyResult result = installer.apply(plan);
            assertThat(result.isSuccess()).as(result.toString()).isTrue();
            String journal = Files.readString(result.journal().orElseThrow());
            for (String text : List.of(plan.toJson(), plan.toString(), journal, result.toString(), result.toJson())) {
                assertThat(text).doesNotContain(splunkToken);
            }
            assertThat(plan.toJson()).contains("\"splunk-token\" : \"****\"");

            ApplyResult removed = installer.uninstall();
            assertThat(removed.isSuccess()).as(removed.toString()).isTrue();
            String journalOfUninstall = Files.readString(removed.journal().orElseThrow());
            assertThat(journalOfUninstall).doesNotContain(splunkToken);
            TaskDefinition restored = moto.describe(moto.taskDefinitionOf("prod", "splunky"));
            assertThat(container(restored, "app").logConfiguration())
                    .as("restored from the task definition, where AWS keeps it")
                    .isEqualTo(splunky.logConfiguration());
        }
    }

    @Test
    void apply_carriesRuntimePlatformTagsVolumesAndRoles_andRoutesAppLogsToTheRouter() {
        try (AgentInstaller installer = installer(MotoEcs.target().build())) {
            ApplyResult result = installer.apply(installer.plan());
            assertThat(result.isSuccess()).as(result.toString()).isTrue();

            String newWorker = moto.taskDefinitionOf("prod", "worker");
            assertThat(newWorker).endsWith("worker:2");
            TaskDefinition arm = moto.describe(newWorker);
            assertThat(arm.runtimePlatform().cpuArchitecture()).isEqualTo(CPUArchitecture.ARM64);

            String newWeb = moto.taskDefinitionOf("prod", "web-a");
            assertThat(moto.taskDefinitionOf("prod", "web-b")).isEqualTo(newWeb).endsWith("web:2");
            assertThat(moto.taskDefinitionOf("prod", "legacy-cron")).isEqualTo(web.taskDefinitionArn());
            TaskDefinition installed = moto.describe(newWeb);
            assertThat(installed.volumes()).isEqualTo(web.volumes());
            assertThat(installed.taskRoleArn()).isEqualTo(MotoEcs.TASK_ROLE);
            assertThat(installed.executionRoleArn()).isEqualTo(MotoEcs.EXECUTION_ROLE);
            assertThat(installed.requiresCompatibilities()).isEqualTo(web.requiresCompatibilities());
            assertThat(moto.tags(newWeb)).containsExactlyInAnyOrderElementsOf(moto.tags(web.taskDefinitionArn()));

            ContainerDefinition router = container(installed, "cloudaeye-log-router");
            assertThat(router.image()).isEqualTo(MotoEcs.ROUTER_IMAGE);
            assertThat(router.firelensConfiguration().type()).isEqualTo(FirelensConfigurationType.FLUENTBIT);
            assertThat(router.environment())
                    .anyMatch(kv -> kv.name().equals("CLOUDAEYE_API_TOKEN")
                            && kv.value().equals(MotoEcs.TOKEN))
                    .anyMatch(kv -> kv.name().equals("CLOUDAEYE_LOG_LEVEL"));
            ContainerDefinition app = container(installed, "app");
            assertThat(app.logConfiguration().logDriver()).isEqualTo(LogDriver.AWSFIRELENS);
            assertThat(app.environment()).isEqualTo(container(web, "app").environment());
        }
    }

    @Test
    void uninstall_restoresTheOriginalContainersExactly_evenAfterAnUpgrade() {
        try (AgentInstaller installer = installer(MotoEcs.target().build())) {
            assertThat(installer.apply(installer.plan()).isSuccess()).isTrue();
        }
        EcsTarget newer = MotoEcs.target()
                .sidecar(s -> s.image("public.ecr.aws/cloudaeye/log-router:1.5.0"))
                .build();
        try (AgentInstaller installer = installer(newer)) {
            Plan upgrade = installer.plan();
            Change td = only(upgrade, "task-definition/web:2");
            assertThat(td.action()).isEqualTo(ChangeAction.CREATE);
            assertThat(td.reason()).get().asString().contains("upgrades");
            assertThat(td.attributes())
                    .extracting(AttributeChange::name)
                    .doesNotContain("ContainerDefinitions.app.Logs");
            assertThat(installer.apply(upgrade).isSuccess()).isTrue();
            TaskDefinition upgraded = moto.describe(moto.taskDefinitionOf("prod", "web-a"));
            assertThat(upgraded.containerDefinitions())
                    .filteredOn(c -> c.firelensConfiguration() != null)
                    .singleElement()
                    .satisfies(c -> assertThat(c.image()).endsWith(":1.5.0"));

            ApplyResult removed = installer.uninstall();
            assertThat(removed.isSuccess()).as(removed.toString()).isTrue();
            TaskDefinition restored = moto.describe(moto.taskDefinitionOf("prod", "web-a"));
            assertThat(restored.revision()).isEqualTo(4);
            assertThat(restored.containerDefinitions()).isEqualTo(web.containerDefinitions());
            assertThat(moto.tags(restored.taskDefinitionArn()))
                    .containsExactlyInAnyOrderElementsOf(moto.tags(web.taskDefinitionArn()));
            TaskDefinition restoredArm = moto.describe(moto.taskDefinitionOf("prod", "worker"));
            assertThat(restoredArm.containerDefinitions()).isEqualTo(worker.containerDefinitions());
            assertThat(restoredArm.runtimePlatform()).isEqualTo(worker.runtimePlatform());
        }
    }

    @Test
    void rollback_movesServicesBackToTheirPreviousRevision_andSkipsServicesChangedSince() {
        try (AgentInstaller installer = installer(MotoEcs.target().build())) {
            ApplyResult result = installer.apply(installer.plan());
            assertThat(result.isSuccess()).isTrue();
            Journal journal = Journal.read(result.journal().orElseThrow());
            // Someone deploys worker by hand after the install.
            TaskDefinition manual = moto.arm("worker");
            moto.ecs.updateService(u -> u.cluster("prod").service("worker").taskDefinition(manual.taskDefinitionArn()));

            Plan rollback = installer.planRollback(journal);
            assertThat(only(rollback, "service/prod/worker").action()).isEqualTo(ChangeAction.SKIP);
            assertThat(only(rollback, "service/prod/web-a").action()).isEqualTo(ChangeAction.UPDATE);
            assertThat(only(rollback, "task-definition/web:2").action()).isEqualTo(ChangeAction.DELETE);
            assertThat(only(rollback, "task-definition/worker:2").action())
                    .as("the user's worker:3 is not the apply's worker:2, which no service runs now")
                    .isEqualTo(ChangeAction.DELETE);
            ApplyResult rolledBack = installer.apply(rollback);

            assertThat(rolledBack.isSuccess()).as(rolledBack.toString()).isTrue();
            assertThat(moto.taskDefinitionOf("prod", "web-a")).isEqualTo(web.taskDefinitionArn());
            assertThat(moto.taskDefinitionOf("prod", "web-b")).isEqualTo(web.taskDefinitionArn());
            assertThat(moto.taskDefinitionOf("prod", "worker")).isEqualTo(manual.taskDefinitionArn());
            assertThat(installer.planRollback(journal).mutations()).isEmpty();
        }
    }

    @Test
    void rollback_deregistersTheRevisionsTheApplyRegistered_afterTheServicesMovedBack() {
        try (AgentInstaller installer = installer(MotoEcs.target().build())) {
            ApplyResult result = installer.apply(installer.plan());
            assertThat(result.isSuccess()).as(result.toString()).isTrue();
            String webRegistered = moto.taskDefinitionOf("prod", "web-a");
            String workerRegistered = moto.taskDefinitionOf("prod", "worker");
            assertThat(webRegistered).endsWith("task-definition/web:2");
            Journal journal = Journal.read(result.journal().orElseThrow());

            Plan rollback = installer.planRollback(journal);
            assertThat(only(rollback, "task-definition/web:2").action()).isEqualTo(ChangeAction.DELETE);
            assertThat(only(rollback, "task-definition/worker:2").action()).isEqualTo(ChangeAction.DELETE);
            assertThat(rollback.requiredPolicy().allows(Permission.of("ecs:DeregisterTaskDefinition", "*")))
                    .isTrue();
            ApplyResult rolledBack = installer.apply(rollback);

            assertThat(rolledBack.isSuccess()).as(rolledBack.toString()).isTrue();
            assertThat(moto.taskDefinitionOf("prod", "web-a")).isEqualTo(web.taskDefinitionArn());
            assertThat(moto.taskDefinitionOf("prod", "web-b")).isEqualTo(web.taskDefinitionArn());
            assertThat(moto.taskDefinitionOf("prod", "worker")).isEqualTo(worker.taskDefinitionArn());
            assertThat(moto.describe(webRegistered).status()).isEqualTo(TaskDefinitionStatus.INACTIVE);
            assertThat(moto.describe(workerRegistered).status()).isEqualTo(TaskDefinitionStatus.INACTIVE);
            assertThat(moto.describe(web.taskDefinitionArn()).status()).isEqualTo(TaskDefinitionStatus.ACTIVE);
            assertThat(installer.planRollback(journal).mutations()).isEmpty();
            // The token's revision is gone, so an install registers a new one instead of reusing it.
            Plan again = installer.plan();
            assertThat(only(again, "task-definition/web:1").action()).isEqualTo(ChangeAction.CREATE);
        }
    }

    @Test
    void rollback_keepsARegisteredRevisionThatAnotherServiceRunsSince_andSaysWhy() {
        String webRegistered = rollbackKeepsTheRegisteredRevision(registered -> {
            // The excluded legacy-cron is deployed by hand on the revision the apply registered.
            moto.ecs.updateService(u -> u.cluster("prod").service("legacy-cron").taskDefinition(registered));
            return "legacy-cron";
        });
        assertThat(moto.taskDefinitionOf("prod", "legacy-cron")).isEqualTo(webRegistered);
    }

    @Test
    void rollback_keepsARegisteredRevisionThatAServiceOfAnotherClusterRunsSince_andSaysWhere() {
        moto.cluster("staging");
        moto.service("staging", "web-copy", web);
        String webRegistered = rollbackKeepsTheRegisteredRevision(registered -> {
            // A service of a cluster the install never planned is deployed on the revision it registered.
            moto.ecs.updateService(u -> u.cluster("staging").service("web-copy").taskDefinition(registered));
            return "service staging/web-copy runs it";
        });
        assertThat(moto.taskDefinitionOf("staging", "web-copy")).isEqualTo(webRegistered);
    }

    @Test
    void rollback_keepsARegisteredRevisionThatAStandaloneTaskRuns_andSaysWhere() {
        moto.cluster("batch");
        rollbackKeepsTheRegisteredRevision(registered -> {
            String task = moto.runTask("batch", registered);
            return "standalone task batch/" + task.substring(task.lastIndexOf('/') + 1) + " runs it";
        });
    }

    /**
     * Installs, lets {@code runElsewhere} run the revision the install registered for web-a somewhere the install does
     * not touch, and rolls back: the rollback keeps that revision (a SKIP saying why), moves web-a back, and the
     * revision stays active.
     *
     * @param runElsewhere runs the registered revision (its ARN) elsewhere; returns what the kept revision's reason says
     * @return the registered revision's ARN
     */
    private String rollbackKeepsTheRegisteredRevision(Function<String, String> runElsewhere) {
        try (AgentInstaller installer = installer(MotoEcs.target().build())) {
            ApplyResult result = installer.apply(installer.plan());
            assertThat(result.isSuccess()).as(result.toString()).isTrue();
            String webRegistered = moto.taskDefinitionOf("prod", "web-a");
            String why = runElsewhere.apply(webRegistered);

            Plan rollback = installer.planRollback(Journal.read(result.journal().orElseThrow()));
            Change kept = only(rollback, "task-definition/web:2");
            assertThat(kept.action()).isEqualTo(ChangeAction.SKIP);
            assertThat(kept.reason()).get().asString().contains(why);
            ApplyResult rolledBack = installer.apply(rollback);

            assertThat(rolledBack.isSuccess()).as(rolledBack.toString()).isTrue();
            assertThat(moto.taskDefinitionOf("prod", "web-a")).isEqualTo(web.taskDefinitionArn());
            assertThat(moto.describe(webRegistered).status()).isEqualTo(TaskDefinitionStatus.ACTIVE);
            return webRegistered;
        }
    }

    /**
     * A journal an earlier version wrote (2026-12-01, before the region-wide in-use check), replayed on the state its
     * apply left in moto: cluster demo, web-a and web-b on web:2, worker on worker:2, both registered by that apply.
     */
    @Test
    void rollback_ofAJournalWrittenBeforeTheRegionWideInUseCheck_movesTheServicesBack_andDeregistersItsRevisions() {
        TaskDefinition web2 = moto.fargate("web", "256", "512", MotoEcs.app("app", 128, 256));
        TaskDefinition worker2 = moto.arm("worker");
        assertThat(web2.taskDefinitionArn()).endsWith("task-definition/web:2");
        assertThat(worker2.taskDefinitionArn()).endsWith("task-definition/worker:2");
        moto.cluster("demo");
        moto.service("demo", "web-a", web2);
        moto.service("demo", "web-b", web2);
        moto.service("demo", "worker", worker2);
        Journal old = Journal.read(Path.of("src/test/resources/fixtures/journal/ecs-journal-2026-12-01.jsonl"));

        try (AgentInstaller installer = installer(MotoEcs.target().build())) {
            Plan rollback = installer.planRollback(old);
            assertThat(only(rollback, "task-definition/web:2").action()).isEqualTo(ChangeAction.DELETE);
            assertThat(only(rollback, "task-definition/worker:2").action()).isEqualTo(ChangeAction.DELETE);
            ApplyResult rolledBack = installer.apply(rollback);

            assertThat(rolledBack.isSuccess()).as(rolledBack.toString()).isTrue();
            assertThat(moto.taskDefinitionOf("demo", "web-a")).isEqualTo(web.taskDefinitionArn());
            assertThat(moto.taskDefinitionOf("demo", "web-b")).isEqualTo(web.taskDefinitionArn());
            assertThat(moto.taskDefinitionOf("demo", "worker")).isEqualTo(worker.taskDefinitionArn());
            assertThat(moto.describe(web2.taskDefinitionArn()).status()).isEqualTo(TaskDefinitionStatus.INACTIVE);
            assertThat(moto.describe(worker2.taskDefinitionArn()).status()).isEqualTo(TaskDefinitionStatus.INACTIVE);
        }
    }

    @Test
    void rollback_ofARegisterOnlyApply_keepsTheRevisionAUserDeployedSince() {
        try (AgentInstaller installer = installer(
                MotoEcs.target().services("web-a").updateServices(false).build())) {
            ApplyResult result = installer.apply(installer.plan());
            assertThat(result.isSuccess()).as(result.toString()).isTrue();
            String registered = moto.ecs
                    .describeTaskDefinition(d -> d.taskDefinition("web"))
                    .taskDefinition()
                    .taskDefinitionArn();
            assertThat(registered).endsWith("web:2");
            moto.ecs.updateService(u -> u.cluster("prod").service("web-a").taskDefinition(registered));

            Plan rollback = installer.planRollback(Journal.read(result.journal().orElseThrow()));
            assertThat(only(rollback, "task-definition/web:2").action()).isEqualTo(ChangeAction.SKIP);
            assertThat(installer.apply(rollback).withOutcome(ResourceResult.Outcome.FAILED))
                    .isEmpty();
            assertThat(moto.describe(registered).status()).isEqualTo(TaskDefinitionStatus.ACTIVE);
        }
    }

    @Test
    void registerOnly_thenPlan_reusesTheRegisteredRevision_andLaterRolloutUsesIt() {
        try (AgentInstaller installer =
                installer(MotoEcs.target().updateServices(false).build())) {
            Plan plan = installer.plan();
            assertThat(plan.mutations()).allMatch(c -> c.resourceType().equals("AWS::ECS::TaskDefinition"));
            assertThat(plan.notes()).anyMatch(n -> n.contains("updateServices is false"));
            assertThat(installer.apply(plan).isSuccess()).isTrue();

            Plan again = installer.plan();
            assertThat(again.mutations()).as(again.toString()).isEmpty();
            assertThat(only(again, "task-definition/web:1").reason())
                    .get()
                    .asString()
                    .contains("web:2 already adds the log router");
        }
        try (AgentInstaller installer = installer(MotoEcs.target().build())) {
            Plan rollout = installer.plan();
            assertThat(rollout.mutations()).allMatch(c -> c.resourceType().equals("AWS::ECS::Service"));
            assertThat(installer.apply(rollout).isSuccess()).isTrue();
            assertThat(moto.taskDefinitionOf("prod", "web-a")).endsWith("web:2");
        }
    }

    @Test
    void fargateTaskTooSmall_isSkipped_orRaisedToTheNextValidSizeWhenAllowed() {
        TaskDefinition tiny = moto.fargate("tiny", "256", "512", MotoEcs.app("app", 256, 512));
        moto.service("prod", "tiny-svc", tiny);
        try (AgentInstaller installer =
                installer(MotoEcs.target().services("tiny-svc").build())) {
            Plan plan = installer.plan();
            Change td = only(plan, "task-definition/tiny:1");
            assertThat(td.action()).isEqualTo(ChangeAction.SKIP);
            assertThat(td.reason())
                    .get()
                    .asString()
                    .contains("320 CPU units / 640 MiB")
                    .contains("allowTaskResize");
            assertThat(only(plan, "service/prod/tiny-svc").action()).isEqualTo(ChangeAction.SKIP);
            assertThat(plan.isEmpty()).isTrue();
        }
        try (AgentInstaller installer = installer(
                MotoEcs.target().services("tiny-svc").allowTaskResize(true).build())) {
            Plan plan = installer.plan();
            Change td = only(plan, "task-definition/tiny:1");
            assertThat(td.attributes())
                    .extracting(AttributeChange::toString)
                    .contains("Cpu: 256 -> 512", "Memory: 512 -> 1024");
            assertThat(installer.apply(plan).isSuccess()).isTrue();
            TaskDefinition resized = moto.describe(moto.taskDefinitionOf("prod", "tiny-svc"));
            assertThat(resized.cpu()).isEqualTo("512");
            assertThat(resized.memory()).isEqualTo("1024");
            assertThat(installer.plan().mutations()).isEmpty();
        }
    }

    @Test
    void uninstall_afterAnInstallThatResizedTheTask_restoresTheTaskSizeItHadBefore() {
        TaskDefinition tiny = moto.fargate("tiny", "256", "512", MotoEcs.app("app", 256, 512));
        moto.service("prod", "tiny-svc", tiny);
        EcsTarget target =
                MotoEcs.target().services("tiny-svc").allowTaskResize(true).build();
        try (AgentInstaller installer = installer(target)) {
            assertThat(installer.apply(installer.plan()).isSuccess()).isTrue();
            assertThat(moto.describe(moto.taskDefinitionOf("prod", "tiny-svc")).cpu())
                    .isEqualTo("512");

            Plan uninstall = installer.planUninstall();
            assertThat(only(uninstall, "task-definition/tiny:2").attributes())
                    .extracting(AttributeChange::toString)
                    .contains("Cpu: 512 -> 256", "Memory: 1024 -> 512");
            assertThat(installer.apply(uninstall).isSuccess()).isTrue();

            TaskDefinition restored = moto.describe(moto.taskDefinitionOf("prod", "tiny-svc"));
            assertThat(restored.cpu()).isEqualTo("256");
            assertThat(restored.memory()).isEqualTo("512");
            assertThat(restored.containerDefinitions()).isEqualTo(tiny.containerDefinitions());
            assertThat(installer.planUninstall().mutations()).isEmpty();
        }
    }

    @Test
    void uninstall_whenTheUserResizedTheTaskSinceTheInstall_keepsTheirSize_andSaysSo() {
        TaskDefinition tiny = moto.fargate("tiny", "256", "512", MotoEcs.app("app", 256, 512));
        moto.service("prod", "tiny-svc", tiny);
        EcsTarget target =
                MotoEcs.target().services("tiny-svc").allowTaskResize(true).build();
        try (AgentInstaller installer = installer(target)) {
            assertThat(installer.apply(installer.plan()).isSuccess()).isTrue();
            // The user grows the task further by hand: a copy of our revision with their own size.
            TaskDefinition ours = moto.describe(moto.taskDefinitionOf("prod", "tiny-svc"));
            TaskDefinition bigger =
                    moto.register(software.amazon.awssdk.services.ecs.model.RegisterTaskDefinitionRequest.builder()
                            .family(ours.family())
                            .requiresCompatibilitiesWithStrings(ours.requiresCompatibilitiesAsStrings())
                            .networkMode(ours.networkMode())
                            .executionRoleArn(ours.executionRoleArn())
                            .taskRoleArn(ours.taskRoleArn())
                            .cpu("1024")
                            .memory("2048")
                            .containerDefinitions(ours.containerDefinitions())
                            .build());
            moto.ecs.updateService(
                    u -> u.cluster("prod").service("tiny-svc").taskDefinition(bigger.taskDefinitionArn()));

            Plan uninstall = installer.planUninstall();
            Change td = only(uninstall, "task-definition/tiny:3");
            assertThat(td.attributes())
                    .extracting(AttributeChange::toString)
                    .noneMatch(a -> a.startsWith("Cpu") || a.startsWith("Memory"));
            assertThat(td.warnings()).anyMatch(w -> w.contains("1024 CPU units / 2048 MiB") && w.contains("keeps"));
            assertThat(installer.apply(uninstall).isSuccess()).isTrue();
            TaskDefinition now = moto.describe(moto.taskDefinitionOf("prod", "tiny-svc"));
            assertThat(now.cpu()).isEqualTo("1024");
            assertThat(now.memory()).isEqualTo("2048");
        }
    }

    @Test
    void tokenFromSecretsManager_goesThroughSecrets_andThePlanNamesTheExecutionRole() {
        EcsTarget target = MotoEcs.target()
                .services("web-a")
                .sidecar(s -> s.image(MotoEcs.ROUTER_IMAGE).apiTokenSecretArn(SECRET_ARN))
                .build();
        try (AgentInstaller installer = installer(target)) {
            Plan plan = installer.plan();
            Change td = only(plan, "task-definition/web:1");
            assertThat(td.attributes())
                    .extracting(AttributeChange::toString)
                    .contains("ContainerDefinitions.cloudaeye-log-router.Secrets.CLOUDAEYE_API_TOKEN: (absent) -> "
                            + SECRET_ARN);
            assertThat(td.warnings()).anyMatch(w -> w.contains(MotoEcs.EXECUTION_ROLE) && w.contains(SECRET_ARN));
            assertThat(installer.apply(plan).isSuccess()).isTrue();

            ContainerDefinition router =
                    container(moto.describe(moto.taskDefinitionOf("prod", "web-a")), "cloudaeye-log-router");
            assertThat(router.secrets()).singleElement().satisfies(s -> {
                assertThat(s.name()).isEqualTo("CLOUDAEYE_API_TOKEN");
                assertThat(s.valueFrom()).isEqualTo(SECRET_ARN);
            });
            assertThat(router.environment()).noneMatch(kv -> kv.name().equals("CLOUDAEYE_API_TOKEN"));
            assertThat(installer.plan().mutations()).isEmpty();
        }
    }

    @Test
    void savedPlan_isAppliedAndRolledBackByAnotherInstaller_throughTheServiceLoader() {
        String saved;
        try (AgentInstaller planner = installer(MotoEcs.target().build())) {
            saved = planner.plan().toJson();
        }
        try (AgentInstaller applier = AgentInstaller.builder()
                .region(Moto.REGION)
                .endpointOverride(Moto.endpoint())
                .credentialsProvider(Moto.credentials())
                .agent(a -> a.logsEndpoint("https://logs.example.cloudaeye.com")
                        .apiToken(com.cloudaeye.agent.Secret.of(MotoEcs.TOKEN))
                        .putOptions("CLOUDAEYE_LOG_LEVEL", "info"))
                .journalDirectory(journals)
                .build()) {
            ApplyResult result = applier.apply(Plan.fromJson(saved));
            assertThat(result.isSuccess()).as(result.toString()).isTrue();
            assertThat(moto.taskDefinitionOf("prod", "web-a")).endsWith("web:2");

            ApplyResult rolledBack =
                    applier.rollback(Journal.read(result.journal().orElseThrow()));
            assertThat(rolledBack.isSuccess()).as(rolledBack.toString()).isTrue();
            assertThat(moto.taskDefinitionOf("prod", "web-a")).isEqualTo(web.taskDefinitionArn());
            assertThat(moto.taskDefinitionOf("prod", "worker")).isEqualTo(worker.taskDefinitionArn());
        }
    }

    @Test
    void policy_matchesTheGoldenFile() throws IOException {
        try (AgentInstaller installer = installer(MotoEcs.target().build())) {
            String policy = installer.plan().requiredPolicy().toJson();
            assertThat(policy).isEqualTo(resource("/golden/ecs-policy.json"));
        }
    }

    static String resource(String name) throws IOException {
        try (InputStream in = EcsScenariosIT.class.getResourceAsStream(name)) {
            assertThat(in).as(name).isNotNull();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    static Change only(Plan plan, String resourceSuffix) {
        List<Change> found = plan.changes().stream()
                .filter(c -> c.resourceId().endsWith(resourceSuffix))
                .collect(Collectors.toList());
        assertThat(found).as(resourceSuffix + " in\n" + plan).hasSize(1);
        return found.get(0);
    }

    static ContainerDefinition container(TaskDefinition td, String name) {
        return td.containerDefinitions().stream()
                .filter(c -> c.name().equals(name))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no container " + name + " in " + td.taskDefinitionArn()));
    }
}
