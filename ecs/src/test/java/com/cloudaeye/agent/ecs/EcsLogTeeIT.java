package com.cloudaeye.agent.ecs;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.AttributeChange;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.Journal;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.testing.Moto;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.ecs.model.ContainerDefinition;
import software.amazon.awssdk.services.ecs.model.LogConfiguration;
import software.amazon.awssdk.services.ecs.model.LogDriver;
import software.amazon.awssdk.services.ecs.model.NetworkMode;
import software.amazon.awssdk.services.ecs.model.RegisterTaskDefinitionRequest;
import software.amazon.awssdk.services.ecs.model.TaskDefinition;

/**
 * The install tees, it never diverts: application containers keep their awslogs destination through FireLens, the
 * router logs to CloudWatch, what FireLens cannot reproduce is left alone with the reason, and uninstall and rollback
 * give every container its original log configuration back. Checked on the revisions moto registers (it keeps log
 * configurations verbatim).
 */
class EcsLogTeeIT {
    @TempDir
    Path journals;

    private MotoEcs moto;

    @BeforeEach
    void fixture() {
        Moto.reset();
        moto = new MotoEcs();
        moto.cluster("prod");
    }

    @AfterEach
    void close() {
        moto.close();
    }

    private AgentInstaller installer(String service) {
        return MotoEcs.installer(MotoEcs.target().services(service).build())
                .journalDirectory(journals)
                .build();
    }

    private static ContainerDefinition withLogs(ContainerDefinition c, String driver, Map<String, String> options) {
        return c.toBuilder()
                .logConfiguration(LogConfiguration.builder()
                        .logDriver(driver)
                        .options(options)
                        .build())
                .build();
    }

    @Test
    void install_keepsEachAwslogsGroup_throughFireLens_logsTheRouter_andUninstallRestoresEveryContainer() {
        ContainerDefinition app = withLogs(
                MotoEcs.app("app", 128, 256),
                "awslogs",
                Map.of(
                        "awslogs-group", "/ecs/web",
                        "awslogs-region", "us-east-1",
                        "awslogs-stream-prefix", "web",
                        "awslogs-create-group", "true",
                        "awslogs-multiline-pattern", "^\\d{4}-"));
        ContainerDefinition quiet = MotoEcs.app("quiet", 64, 128).toBuilder()
                .logConfiguration((LogConfiguration) null)
                .build();
        TaskDefinition web = moto.fargate("web", "512", "1024", app, quiet);
        moto.service("prod", "web", web);

        try (AgentInstaller installer = installer("web")) {
            Plan plan = installer.plan();
            Change td = only(plan, "task-definition/web:1");
            assertThat(td.attributes())
                    .extracting(AttributeChange::toString)
                    .contains(
                            "ContainerDefinitions.app.Logs: awslogs /ecs/web -> CloudWatch Logs /ecs/web (FireLens)"
                                    + " + CloudAEye",
                            "ContainerDefinitions.quiet.Logs: (none) -> CloudAEye",
                            "ContainerDefinitions.cloudaeye-log-router.Logs: (absent) -> awslogs"
                                    + " /ecs/cloudaeye-log-router");
            assertThat(td.warnings()).anyMatch(w -> w.contains("each line as its own event"));
            assertThat(plan.notes())
                    .anyMatch(n -> n.contains("execution role " + MotoEcs.EXECUTION_ROLE)
                            && n.contains("log-group:/ecs/cloudaeye-log-router:*"))
                    .anyMatch(n -> n.contains("task role " + MotoEcs.TASK_ROLE) && n.contains("log-group:/ecs/web:*"));
            assertThat(plan.toString()).contains("awslogs /ecs/web -> CloudWatch Logs /ecs/web (FireLens) + CloudAEye");

            ApplyResult result = installer.apply(plan);
            assertThat(result.isSuccess()).as(result.toString()).isTrue();
            TaskDefinition installed = moto.describe(moto.taskDefinitionOf("prod", "web"));
            assertThat(container(installed, "app").logConfiguration())
                    .isEqualTo(LogConfiguration.builder()
                            .logDriver(LogDriver.AWSFIRELENS)
                            .options(Map.of(
                                    "Name", "cloudwatch_logs",
                                    "region", "us-east-1",
                                    "log_group_name", "/ecs/web",
                                    "log_stream_prefix", "web/app/",
                                    "auto_create_group", "true",
                                    "log_key", "log"))
                            .build());
            assertThat(container(installed, "quiet").logConfiguration().logDriver())
                    .isEqualTo(LogDriver.AWSFIRELENS);
            assertThat(container(installed, "cloudaeye-log-router").logConfiguration())
                    .isEqualTo(LogConfiguration.builder()
                            .logDriver(LogDriver.AWSLOGS)
                            .options(Map.of(
                                    "awslogs-group", "/ecs/cloudaeye-log-router",
                                    "awslogs-region", Moto.REGION.id(),
                                    "awslogs-stream-prefix", "web",
                                    "awslogs-create-group", "true"))
                            .build());
            assertThat(installer.plan().mutations())
                    .as("installed: nothing left to do")
                    .isEmpty();

            ApplyResult removed = installer.uninstall();
            assertThat(removed.isSuccess()).as(removed.toString()).isTrue();
            TaskDefinition restored = moto.describe(moto.taskDefinitionOf("prod", "web"));
            assertThat(restored.containerDefinitions()).isEqualTo(web.containerDefinitions());
        }
    }

    @Test
    void rollback_putsTheServiceBackOnTheRevisionWithItsOriginalLogConfigurations() {
        TaskDefinition web = moto.fargate("web", "256", "512", MotoEcs.app("app", 128, 256));
        moto.service("prod", "web", web);
        try (AgentInstaller installer = installer("web")) {
            ApplyResult result = installer.apply(installer.plan());
            assertThat(result.isSuccess()).as(result.toString()).isTrue();
            assertThat(container(moto.describe(moto.taskDefinitionOf("prod", "web")), "app")
                            .logConfiguration()
                            .logDriver())
                    .isEqualTo(LogDriver.AWSFIRELENS);

            ApplyResult rolledBack = installer.apply(
                    installer.planRollback(Journal.read(result.journal().orElseThrow())));

            assertThat(rolledBack.isSuccess()).as(rolledBack.toString()).isTrue();
            TaskDefinition back = moto.describe(moto.taskDefinitionOf("prod", "web"));
            assertThat(container(back, "app").logConfiguration())
                    .isEqualTo(MotoEcs.app("app", 128, 256).logConfiguration());
        }
    }

    @Test
    void plan_leavesASplunkContainerOnSplunk_withTheReason_andSkipsATaskWhereNothingCanBeRouted() {
        ContainerDefinition audit = withLogs(
                MotoEcs.app("audit", 64, 128),
                "splunk",
                Map.of("splunk-token", "splunk-hec-token-1", "splunk-url", "https://splunk.example.com:8088"));
        TaskDefinition mixed = moto.fargate("mixed", "512", "1024", MotoEcs.app("app", 128, 256), audit);
        TaskDefinition splunkOnly = moto.fargate("splunk-only", "256", "512", audit);
        moto.service("prod", "mixed", mixed);
        moto.service("prod", "splunk-only", splunkOnly);

        try (AgentInstaller installer = installer("*")) {
            Plan plan = installer.plan();

            Change routed = only(plan, "task-definition/mixed:1");
            assertThat(routed.action()).isEqualTo(ChangeAction.CREATE);
            assertThat(routed.attributes())
                    .extracting(AttributeChange::toString)
                    .contains("ContainerDefinitions.audit.Logs: splunk -> splunk (kept, not sent to CloudAEye)");
            assertThat(routed.warnings())
                    .anyMatch(w -> w.contains("'audit' is not sent to CloudAEye")
                            && w.contains("splunk log driver cannot be reproduced"));
            Change skipped = only(plan, "task-definition/splunk-only:1");
            assertThat(skipped.action()).isEqualTo(ChangeAction.SKIP);
            assertThat(skipped.reason()).get().asString().contains("splunk log driver cannot be reproduced");
            assertThat(only(plan, "service/prod/splunk-only").action()).isEqualTo(ChangeAction.SKIP);
            assertThat(plan.toJson()).doesNotContain("splunk-hec-token-1");

            ApplyResult result = installer.apply(plan);
            assertThat(result.isSuccess()).as(result.toString()).isTrue();
            TaskDefinition installed = moto.describe(moto.taskDefinitionOf("prod", "mixed"));
            assertThat(container(installed, "audit").logConfiguration()).isEqualTo(audit.logConfiguration());
            assertThat(moto.taskDefinitionOf("prod", "splunk-only")).isEqualTo(splunkOnly.taskDefinitionArn());
        }
    }

    @Test
    void plan_skipsAnAwslogsTaskWithoutATaskRole_sayingWhichRoleToAdd() {
        TaskDefinition noRole = moto.register(RegisterTaskDefinitionRequest.builder()
                .family("norole")
                .networkMode(NetworkMode.AWSVPC)
                .requiresCompatibilitiesWithStrings("FARGATE")
                .cpu("256")
                .memory("512")
                .executionRoleArn(MotoEcs.EXECUTION_ROLE)
                .containerDefinitions(MotoEcs.app("app", 128, 256))
                .build());
        moto.service("prod", "norole", noRole);

        try (AgentInstaller installer = installer("norole")) {
            Change td = only(installer.plan(), "task-definition/norole:1");

            assertThat(td.action()).isEqualTo(ChangeAction.SKIP);
            assertThat(td.reason()).get().asString().contains("no task role").contains("add a taskRoleArn");
        }
    }

    @Test
    void plan_skipsATaskWhoseContainersLogThroughTheirOwnFireLensRouter_andChangesNothing() {
        ContainerDefinition ownRouter = MotoEcs.app("my-router", 64, 128).toBuilder()
                .image("public.ecr.aws/aws-observability/aws-for-fluent-bit:stable")
                .firelensConfiguration(f -> f.type("fluentbit"))
                .build();
        ContainerDefinition app = withLogs(
                MotoEcs.app("app", 128, 256), "awsfirelens", Map.of("Name", "datadog", "apikey", "dd-key-0123"));
        TaskDefinition own = moto.fargate("own", "512", "1024", app, ownRouter);
        moto.service("prod", "own", own);

        try (AgentInstaller installer = installer("own")) {
            Plan plan = installer.plan();

            Change td = only(plan, "task-definition/own:1");
            assertThat(td.action()).isEqualTo(ChangeAction.SKIP);
            assertThat(td.reason()).get().asString().contains("already has a FireLens log router ('my-router')");
            assertThat(only(plan, "service/prod/own").action()).isEqualTo(ChangeAction.SKIP);
            assertThat(plan.mutations()).isEmpty();
            assertThat(plan.toJson()).doesNotContain("dd-key-0123");
        }
    }

    private static Change only(Plan plan, String idSuffix) {
        return plan.changes().stream()
                .filter(c -> c.resourceId().endsWith(idSuffix))
                .reduce((a, b) -> {
                    throw new AssertionError("two changes end with " + idSuffix);
                })
                .orElseThrow(() -> new AssertionError("no change ends with " + idSuffix + " in " + plan));
    }

    private static ContainerDefinition container(TaskDefinition td, String name) {
        return td.containerDefinitions().stream()
                .filter(c -> c.name().equals(name))
                .findFirst()
                .orElseThrow();
    }
}
