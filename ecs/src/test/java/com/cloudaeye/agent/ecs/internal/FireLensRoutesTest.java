package com.cloudaeye.agent.ecs.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.ecs.LogRouter;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.ecs.model.LogConfiguration;
import software.amazon.awssdk.services.ecs.model.LogDriver;
import software.amazon.awssdk.services.ecs.model.Secret;
import software.amazon.awssdk.services.ecs.model.TaskDefinition;

class FireLensRoutesTest {
    private static final String TASK_ROLE = "arn:aws:iam::123456789012:role/web-task";
    private static final String EXECUTION_ROLE = "arn:aws:iam::123456789012:role/web-exec";
    private static final LogRouter ROUTER = LogRouter.builder().image("r:1").build();
    private static final TaskDefinition SOURCE = TaskDefinition.builder()
            .taskDefinitionArn("arn:aws:ecs:eu-west-1:123456789012:task-definition/web:7")
            .family("web")
            .taskRoleArn(TASK_ROLE)
            .executionRoleArn(EXECUTION_ROLE)
            .build();

    private static LogConfiguration awslogs(Map<String, String> options) {
        return LogConfiguration.builder()
                .logDriver(LogDriver.AWSLOGS)
                .options(options)
                .build();
    }

    private static LogConfiguration driver(String name, Map<String, String> options) {
        return LogConfiguration.builder().logDriver(name).options(options).build();
    }

    @Test
    void route_translatesEveryAwslogsDestinationOption_intoTheEquivalentCloudwatchLogsOutput() {
        FireLensRoutes.Route route = FireLensRoutes.route(
                "app",
                awslogs(Map.of(
                        "awslogs-group", "/ecs/web",
                        "awslogs-region", "us-west-2",
                        "awslogs-stream-prefix", "web",
                        "awslogs-create-group", "True",
                        "awslogs-endpoint", "https://logs.us-west-2.amazonaws.com",
                        "awslogs-format", "json/emf")),
                SOURCE,
                ROUTER);

        assertThat(route.toCloudAEye()).isTrue();
        assertThat(route.after().logDriver()).isEqualTo(LogDriver.AWSFIRELENS);
        assertThat(route.after().options())
                .containsExactlyInAnyOrderEntriesOf(Map.of(
                        "Name", "cloudwatch_logs",
                        "region", "us-west-2",
                        "log_group_name", "/ecs/web",
                        "log_stream_prefix", "web/app/",
                        "auto_create_group", "true",
                        "endpoint", "https://logs.us-west-2.amazonaws.com",
                        "log_format", "json/emf",
                        "log_key", "log"));
        assertThat(route.warnings()).isEmpty();
        assertThat(route.beforeText()).isEqualTo("awslogs /ecs/web");
        assertThat(route.afterText()).isEqualTo("CloudWatch Logs /ecs/web (FireLens) + CloudAEye");
    }

    @Test
    void route_withoutRegionOrPrefix_usesTheTasksRegion_andTheContainerNameAsThePrefix() {
        FireLensRoutes.Route route = FireLensRoutes.route(
                "app", awslogs(Map.of("awslogs-group", "/ecs/web", "awslogs-create-group", "false")), SOURCE, ROUTER);

        assertThat(route.after().options())
                .containsEntry("region", "eu-west-1")
                .containsEntry("log_stream_prefix", "app/")
                .containsEntry("auto_create_group", "false")
                .doesNotContainKeys("endpoint", "log_format");
    }

    @Test
    void route_withMultilineAndDeliveryOptions_keepsTheGroup_andWarnsWhatIsNotCarried() {
        FireLensRoutes.Route route = FireLensRoutes.route(
                "app",
                awslogs(Map.of(
                        "awslogs-group", "/ecs/web",
                        "awslogs-region", "eu-west-1",
                        "awslogs-datetime-format", "%Y-%m-%d",
                        "awslogs-multiline-pattern", "^\\[",
                        "mode", "non-blocking",
                        "max-buffer-size", "25m")),
                SOURCE,
                ROUTER);

        assertThat(route.toCloudAEye()).isTrue();
        assertThat(route.after().options())
                .containsEntry("log_group_name", "/ecs/web")
                .doesNotContainKeys(
                        "mode",
                        "max-buffer-size",
                        "awslogs-datetime-format",
                        "awslogs-multiline-pattern",
                        "awslogs-group");
        assertThat(route.warnings())
                .hasSize(2)
                .anySatisfy(w -> assertThat(w)
                        .contains("[awslogs-datetime-format, awslogs-multiline-pattern]")
                        .contains("each line as its own event"))
                .anySatisfy(
                        w -> assertThat(w).contains("[max-buffer-size, mode]").contains("log-driver-buffer-limit"));
    }

    @Test
    void route_keepsDriversFireLensCannotReproduce_withTheReason() {
        for (String name : List.of("splunk", "gelf", "syslog", "fluentd", "json-file", "journald", "my-plugin")) {
            LogConfiguration original = driver(name, Map.of("some-option", "secret-value"));

            FireLensRoutes.Route route = FireLensRoutes.route("app", original, SOURCE, ROUTER);

            assertThat(route.toCloudAEye()).as(name).isFalse();
            assertThat(route.after()).as(name).isSameAs(original);
            assertThat(route.warnings())
                    .singleElement()
                    .satisfies(w -> assertThat(w)
                            .contains("'app' is not sent to CloudAEye")
                            .contains("the " + name + " log driver cannot be reproduced")
                            .doesNotContain("secret-value"));
            assertThat(route.afterText()).isEqualTo(name + " (kept, not sent to CloudAEye)");
        }
    }

    @Test
    void route_keepsAwslogs_whenAnOptionHasNoEquivalent_orSecretOptionsAreSet_orNoGroupIsNamed() {
        FireLensRoutes.Route unknown = FireLensRoutes.route(
                "app",
                awslogs(Map.of("awslogs-group", "/ecs/web", "awslogs-credentials-endpoint", "/creds")),
                SOURCE,
                ROUTER);
        FireLensRoutes.Route secrets = FireLensRoutes.route(
                "app",
                awslogs(Map.of("awslogs-group", "/ecs/web")).toBuilder()
                        .secretOptions(
                                Secret.builder().name("x").valueFrom("arn").build())
                        .build(),
                SOURCE,
                ROUTER);
        FireLensRoutes.Route noGroup =
                FireLensRoutes.route("app", awslogs(Map.of("awslogs-region", "eu-west-1")), SOURCE, ROUTER);

        assertThat(unknown.toCloudAEye()).isFalse();
        assertThat(unknown.warnings()).singleElement().asString().contains("[awslogs-credentials-endpoint]");
        assertThat(secrets.toCloudAEye()).isFalse();
        assertThat(secrets.warnings()).singleElement().asString().contains("secretOptions");
        assertThat(noGroup.toCloudAEye()).isFalse();
        assertThat(noGroup.warnings()).singleElement().asString().contains("no awslogs-group");
    }

    @Test
    void route_keepsAwslogs_whenTheTaskHasNoTaskRole_forTheRouterWritesToCloudWatchWithIt() {
        TaskDefinition noRole = SOURCE.toBuilder().taskRoleArn(null).build();

        FireLensRoutes.Route route =
                FireLensRoutes.route("app", awslogs(Map.of("awslogs-group", "/ecs/web")), noRole, ROUTER);

        assertThat(route.toCloudAEye()).isFalse();
        assertThat(route.after().logDriver()).isEqualTo(LogDriver.AWSLOGS);
        assertThat(route.warnings()).singleElement().asString().contains("add a taskRoleArn");
    }

    @Test
    void route_withRouterLogOptionsThatDefineAnOutput_keepsAwslogs_andMergesOptionsThatDoNot() {
        LogRouter ownOutput = LogRouter.builder()
                .image("r:1")
                .putLogOptions("Name", "http")
                .putLogOptions("Host", "logs.example.com")
                .build();
        LogRouter bufferOnly = LogRouter.builder()
                .image("r:1")
                .putLogOptions("log-driver-buffer-limit", "4096")
                .build();
        LogConfiguration original = awslogs(Map.of("awslogs-group", "/ecs/web"));

        FireLensRoutes.Route kept = FireLensRoutes.route("app", original, SOURCE, ownOutput);
        FireLensRoutes.Route merged = FireLensRoutes.route("app", original, SOURCE, bufferOnly);
        FireLensRoutes.Route unlogged = FireLensRoutes.route("app", null, SOURCE, ownOutput);

        assertThat(kept.toCloudAEye()).isFalse();
        assertThat(kept.warnings())
                .singleElement()
                .asString()
                .contains("Name=http")
                .contains("configFile");
        assertThat(merged.after().options())
                .containsEntry("log-driver-buffer-limit", "4096")
                .containsEntry("Name", "cloudwatch_logs");
        assertThat(unlogged.after().options()).isEqualTo(ownOutput.logOptions());
    }

    @Test
    void route_ofAContainerWithoutLogs_shipsToCloudAEyeOnly() {
        FireLensRoutes.Route route = FireLensRoutes.route("app", null, SOURCE, ROUTER);

        assertThat(route.toCloudAEye()).isTrue();
        assertThat(route.after())
                .isEqualTo(LogConfiguration.builder()
                        .logDriver(LogDriver.AWSFIRELENS)
                        .build());
        assertThat(route.beforeText()).isEqualTo("(none)");
        assertThat(route.afterText()).isEqualTo("CloudAEye");
    }

    @Test
    void route_ofAContainerAlreadyOnAwsfirelens_isLeftAsItIs() {
        LogConfiguration own = driver("awsfirelens", Map.of("Name", "datadog", "apikey", "dd-secret"));

        FireLensRoutes.Route route = FireLensRoutes.route("app", own, SOURCE, ROUTER);

        assertThat(route.after()).isSameAs(own);
        assertThat(route.toCloudAEye()).isTrue();
        assertThat(route.afterText())
                .isEqualTo("FireLens output datadog + CloudAEye")
                .doesNotContain("dd-secret");
    }

    @Test
    void routerLogs_goToTheConfiguredGroup_withTheExecutionRole_andNowhereWithoutOne() {
        LogRouter own = LogRouter.builder()
                .image("r:1")
                .logGroup("/platform/routers")
                .createLogGroup(false)
                .build();

        assertThat(FireLensRoutes.routerLogs(SOURCE, ROUTER))
                .isEqualTo(awslogs(Map.of(
                        "awslogs-group", "/ecs/cloudaeye-log-router",
                        "awslogs-region", "eu-west-1",
                        "awslogs-stream-prefix", "web",
                        "awslogs-create-group", "true")));
        assertThat(FireLensRoutes.routerLogs(SOURCE, own).options())
                .containsEntry("awslogs-group", "/platform/routers")
                .doesNotContainKey("awslogs-create-group");
        assertThat(FireLensRoutes.routerLogs(
                        SOURCE.toBuilder().executionRoleArn(null).build(), ROUTER))
                .isNull();
    }

    @Test
    void notes_nameEachRole_theActionsItNeeds_andTheLogGroups() {
        List<FireLensRoutes.Route> routes = List.of(
                FireLensRoutes.route(
                        "app",
                        awslogs(Map.of("awslogs-group", "/ecs/web", "awslogs-create-group", "true")),
                        SOURCE,
                        ROUTER),
                FireLensRoutes.route("side", driver("splunk", Map.of()), SOURCE, ROUTER));

        List<String> notes = FireLensRoutes.notes(SOURCE, ROUTER, routes);

        assertThat(notes)
                .containsExactly(
                        "ECS: the execution role " + EXECUTION_ROLE + " writes the log router's own logs: it needs"
                                + " logs:CreateLogStream and logs:PutLogEvents (and logs:CreateLogGroup, which creates"
                                + " the group) on arn:aws:logs:eu-west-1:123456789012:log-group:"
                                + "/ecs/cloudaeye-log-router:*.",
                        "ECS: the task role " + TASK_ROLE + " now writes the application logs that awslogs wrote"
                                + " with the execution role: it needs logs:CreateLogStream and logs:PutLogEvents (and"
                                + " logs:CreateLogGroup, for auto_create_group) on"
                                + " arn:aws:logs:eu-west-1:123456789012:log-group:/ecs/web:*.");
        assertThat(FireLensRoutes.notes(
                        SOURCE.toBuilder().executionRoleArn(null).build(), ROUTER, List.of()))
                .singleElement()
                .asString()
                .contains("web:7 has no execution role");
    }
}
