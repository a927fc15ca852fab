package com.cloudaeye.agent.ecs.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.AgentSettings;
import com.cloudaeye.agent.Secret;
import com.cloudaeye.agent.ecs.LogRouter;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkField;
import software.amazon.awssdk.services.ecs.model.ContainerDefinition;
import software.amazon.awssdk.services.ecs.model.DescribeTaskDefinitionResponse;
import software.amazon.awssdk.services.ecs.model.InferenceAccelerator;
import software.amazon.awssdk.services.ecs.model.LogConfiguration;
import software.amazon.awssdk.services.ecs.model.RegisterTaskDefinitionRequest;
import software.amazon.awssdk.services.ecs.model.Tag;
import software.amazon.awssdk.services.ecs.model.TaskDefinition;
import software.amazon.awssdk.services.ecs.model.TaskDefinitionPlacementConstraint;
import software.amazon.awssdk.services.ecs.model.Volume;

class TaskDefinitionsTest {
    /** DESIGN.md's list of registrable fields: what a new revision must carry from its source. */
    private static final Set<String> REGISTRABLE = Set.of(
            "family",
            "taskRoleArn",
            "executionRoleArn",
            "networkMode",
            "containerDefinitions",
            "volumes",
            "placementConstraints",
            "requiresCompatibilities",
            "cpu",
            "memory",
            "pidMode",
            "ipcMode",
            "proxyConfiguration",
            "inferenceAccelerators",
            "ephemeralStorage",
            "runtimePlatform",
            "enableFaultInjection");

    private static Set<String> names(List<SdkField<?>> fields) {
        Set<String> out = new HashSet<>();
        fields.forEach(f -> out.add(f.locationName()));
        return out;
    }

    @Test
    void sdkFieldLists_ofTaskDefinitionAndRegisterRequest_areTheOnesWeCopy() {
        Set<String> described = names(TaskDefinition.builder().build().sdkFields());
        Set<String> registrable =
                names(RegisterTaskDefinitionRequest.builder().build().sdkFields());

        Set<String> shared = new HashSet<>(described);
        shared.retainAll(registrable);
        assertThat(shared)
                .as("a field AWS added to both: add it to REGISTRABLE (and DESIGN.md); copy() carries it already")
                .containsExactlyInAnyOrderElementsOf(REGISTRABLE);

        Set<String> onlyDescribed = new HashSet<>(described);
        onlyDescribed.removeAll(registrable);
        assertThat(onlyDescribed)
                .as("a field only DescribeTaskDefinition returns: is it registrable under another name?")
                .containsExactlyInAnyOrderElementsOf(RevisionRequests.READ_ONLY_FIELDS);

        Set<String> onlyRegistrable = new HashSet<>(registrable);
        onlyRegistrable.removeAll(described);
        assertThat(onlyRegistrable)
                .as("a register-only field: where does its value come from?")
                .containsExactly("tags");
    }

    @Test
    void copy_carriesEveryRegistrableFieldAndTheTags() {
        TaskDefinition source = TaskDefinition.builder()
                .taskDefinitionArn("arn:aws:ecs:us-east-1:123456789012:task-definition/app:3")
                .revision(3)
                .family("app")
                .taskRoleArn("arn:aws:iam::123456789012:role/t")
                .executionRoleArn("arn:aws:iam::123456789012:role/e")
                .networkMode("awsvpc")
                .containerDefinitions(
                        ContainerDefinition.builder().name("app").image("a").build())
                .volumes(Volume.builder().name("v").build())
                .placementConstraints(TaskDefinitionPlacementConstraint.builder()
                        .type("memberOf")
                        .expression("attribute:x == y")
                        .build())
                .requiresCompatibilitiesWithStrings("FARGATE")
                .cpu("256")
                .memory("512")
                .pidMode("task")
                .ipcMode("none")
                .proxyConfiguration(p -> p.containerName("envoy"))
                .inferenceAccelerators(InferenceAccelerator.builder()
                        .deviceName("d")
                        .deviceType("eia2.medium")
                        .build())
                .ephemeralStorage(e -> e.sizeInGiB(30))
                .runtimePlatform(r -> r.cpuArchitecture("ARM64").operatingSystemFamily("LINUX"))
                .enableFaultInjection(true)
                .build();
        List<Tag> tags = List.of(Tag.builder().key("team").value("api").build());

        RegisterTaskDefinitionRequest request =
                RevisionRequests.copy(source, tags).build();

        for (SdkField<?> field : request.sdkFields()) {
            assertThat(field.getValueOrDefault(request))
                    .as(field.locationName())
                    .isNotNull();
        }
        assertThat(request.runtimePlatform().cpuArchitectureAsString()).isEqualTo("ARM64");
        assertThat(request.tags()).isEqualTo(tags);
    }

    @Test
    void installThenUninstall_restoresEveryContainerExactly_andKeepsTheTokenOutOfLabels() {
        LogConfiguration awslogs = LogConfiguration.builder()
                .logDriver("awslogs")
                .options(Map.of("awslogs-group", "/ecs/app"))
                .secretOptions(software.amazon.awssdk.services.ecs.model.Secret.builder()
                        .name("x")
                        .valueFrom("arn:aws:ssm:us-east-1:123456789012:parameter/x")
                        .build())
                .build();
        TaskDefinition source = TaskDefinition.builder()
                .taskDefinitionArn("arn:aws:ecs:us-east-1:123456789012:task-definition/app:3")
                .containerDefinitions(
                        ContainerDefinition.builder()
                                .name("app")
                                .image("a")
                                .logConfiguration(awslogs)
                                .build(),
                        ContainerDefinition.builder().name("side").image("b").build())
                .build();
        AgentSettings agent = AgentSettings.builder()
                .logsEndpoint("https://logs.example.com")
                .apiToken(Secret.of("very-secret"))
                .build();
        LogRouter router = LogRouter.builder().image("r:1").build();

        TaskDefinitions.Installed installed = TaskDefinitions.install(source, router, agent);
        TaskDefinition withRouter =
                source.toBuilder().containerDefinitions(installed.containers()).build();
        ContainerDefinition added = TaskDefinitions.ourRouter(withRouter).orElseThrow();

        assertThat(added.dockerLabels().toString()).doesNotContain("very-secret");
        assertThat(TaskDefinitions.isCurrent(added, router, agent)).isTrue();
        assertThat(TaskDefinitions.isCurrent(
                        added,
                        router,
                        AgentSettings.builder()
                                .from(agent)
                                .apiToken(Secret.of("rotated"))
                                .build()))
                .as("a rotated token is an upgrade")
                .isFalse();
        assertThat(TaskDefinitions.isInstalled(withRouter, router, agent)).isTrue();
        List<ContainerDefinition> plusOne = new ArrayList<>(withRouter.containerDefinitions());
        plusOne.add(ContainerDefinition.builder().name("late").image("c").build());
        TaskDefinition withUnroutedContainer =
                withRouter.toBuilder().containerDefinitions(plusOne).build();
        assertThat(TaskDefinitions.isInstalled(withUnroutedContainer, router, agent))
                .as("a container added later is not routed yet")
                .isFalse();
        assertThat(TaskDefinitions.uninstall(withRouter)).isEqualTo(source.containerDefinitions());
    }

    @Test
    void install_teesAwslogsContainers_logsTheRouterToCloudWatch_andUninstallRestoresEveryConfigurationExactly() {
        LogConfiguration awslogs = LogConfiguration.builder()
                .logDriver("awslogs")
                .options(Map.of(
                        "awslogs-group", "/ecs/app",
                        "awslogs-region", "us-east-1",
                        "awslogs-stream-prefix", "app",
                        "mode", "non-blocking"))
                .build();
        LogConfiguration splunk = LogConfiguration.builder()
                .logDriver("splunk")
                .options(Map.of("splunk-token", "t", "splunk-url", "https://s"))
                .build();
        TaskDefinition source = TaskDefinition.builder()
                .taskDefinitionArn("arn:aws:ecs:us-east-1:123456789012:task-definition/app:3")
                .family("app")
                .taskRoleArn("arn:aws:iam::123456789012:role/t")
                .executionRoleArn("arn:aws:iam::123456789012:role/e")
                .containerDefinitions(
                        ContainerDefinition.builder()
                                .name("app")
                                .image("a")
                                .logConfiguration(awslogs)
                                .build(),
                        ContainerDefinition.builder()
                                .name("audit")
                                .image("b")
                                .logConfiguration(splunk)
                                .build(),
                        ContainerDefinition.builder().name("side").image("c").build())
                .build();
        LogRouter router = LogRouter.builder().image("r:1").build();

        TaskDefinitions.Installed installed = TaskDefinitions.install(source, router, AGENT);
        TaskDefinition withRouter =
                source.toBuilder().containerDefinitions(installed.containers()).build();

        Map<String, LogConfiguration> logs = TaskDefinitions.logsByName(installed.containers());
        assertThat(logs.get("app").logDriverAsString()).isEqualTo("awsfirelens");
        assertThat(logs.get("app").options())
                .containsEntry("Name", "cloudwatch_logs")
                .containsEntry("log_group_name", "/ecs/app");
        assertThat(logs.get("audit"))
                .as("splunk cannot go through FireLens: kept")
                .isEqualTo(splunk);
        assertThat(logs.get("side").logDriverAsString()).isEqualTo("awsfirelens");
        assertThat(logs.get(router.name()).options())
                .containsEntry("awslogs-group", LogRouter.DEFAULT_LOG_GROUP)
                .containsEntry("awslogs-stream-prefix", "app");
        assertThat(installed.routes())
                .extracting(r -> r.container() + ": " + r.beforeText() + " -> " + r.afterText())
                .containsExactly(
                        "app: awslogs /ecs/app -> CloudWatch Logs /ecs/app (FireLens) + CloudAEye",
                        "audit: splunk -> splunk (kept, not sent to CloudAEye)",
                        "side: (none) -> CloudAEye");
        assertThat(TaskDefinitions.isInstalled(withRouter, router, AGENT)).isTrue();
        assertThat(TaskDefinitions.uninstall(withRouter)).isEqualTo(source.containerDefinitions());
    }

    @Test
    void install_overAnInstallThatDivertedAwslogs_teesFromTheRecordedConfiguration_andStillRestoresIt() {
        LogConfiguration awslogs = LogConfiguration.builder()
                .logDriver("awslogs")
                .options(Map.of("awslogs-group", "/ecs/app", "awslogs-region", "us-east-1"))
                .build();
        ContainerDefinition app = ContainerDefinition.builder()
                .name("app")
                .image("a")
                .logConfiguration(awslogs)
                .build();
        TaskDefinition original = TaskDefinition.builder()
                .taskDefinitionArn("arn:aws:ecs:us-east-1:123456789012:task-definition/app:3")
                .family("app")
                .taskRoleArn("arn:aws:iam::123456789012:role/t")
                .executionRoleArn("arn:aws:iam::123456789012:role/e")
                .containerDefinitions(app)
                .build();
        // What earlier versions registered: the app diverted to the router, its awslogs kept only in the label.
        ContainerDefinition oldRouter = ContainerDefinition.builder()
                .name(LogRouter.DEFAULT_NAME)
                .image("r:0")
                .firelensConfiguration(f -> f.type("fluentbit"))
                .dockerLabels(Map.of(
                        TaskDefinitions.SETTINGS_LABEL, "0123456789abcdef",
                        TaskDefinitions.SOURCE_LABEL, original.taskDefinitionArn(),
                        TaskDefinitions.PREVIOUS_LOGS_LABEL,
                                TaskDefinitions.logsJson(Map.of("app", awslogs)).toString()))
                .build();
        TaskDefinition diverted = original.toBuilder()
                .taskDefinitionArn("arn:aws:ecs:us-east-1:123456789012:task-definition/app:4")
                .containerDefinitions(
                        app.toBuilder()
                                .logConfiguration(l -> l.logDriver("awsfirelens"))
                                .build(),
                        oldRouter)
                .build();
        LogRouter router = LogRouter.builder().image("r:1").build();

        assertThat(TaskDefinitions.isInstalled(diverted, router, AGENT)).isFalse();
        TaskDefinitions.Installed upgraded = TaskDefinitions.install(diverted, router, AGENT);
        assertThat(TaskDefinitions.logsByName(upgraded.containers()).get("app").options())
                .containsEntry("log_group_name", "/ecs/app");
        TaskDefinition withRouter =
                diverted.toBuilder().containerDefinitions(upgraded.containers()).build();
        assertThat(TaskDefinitions.uninstall(withRouter)).isEqualTo(original.containerDefinitions());
    }

    private static final AgentSettings AGENT = AgentSettings.builder()
            .logsEndpoint("https://logs.example.com")
            .apiToken(Secret.of("very-secret"))
            .build();

    private static DescribeTaskDefinitionResponse source() {
        return DescribeTaskDefinitionResponse.builder()
                .taskDefinition(TaskDefinition.builder()
                        .taskDefinitionArn("arn:aws:ecs:us-east-1:123456789012:task-definition/app:3")
                        .revision(3)
                        .family("app")
                        .cpu("512")
                        .memory("1024")
                        .containerDefinitions(ContainerDefinition.builder()
                                .name("app")
                                .image("a")
                                .essential(true)
                                .build())
                        .build())
                .tags(Tag.builder().key("team").value("api").build())
                .build();
    }

    /** The revision AWS makes of a request, as DescribeTaskDefinition shows it: with empty lists it added. */
    private static DescribeTaskDefinitionResponse registered(RegisterTaskDefinitionRequest request, int revision) {
        TaskDefinition.Builder td = TaskDefinition.builder();
        Map<String, SdkField<?>> from = RevisionRequests.byLocationName(request.sdkFields());
        for (SdkField<?> to : td.sdkFields()) {
            SdkField<?> field = from.get(to.locationName());
            if (field != null) {
                to.set(td, field.getValueOrDefault(request));
            }
        }
        List<ContainerDefinition> echoed = new ArrayList<>();
        request.containerDefinitions()
                .forEach(c -> echoed.add(c.toBuilder()
                        .portMappings(List.of())
                        .mountPoints(List.of())
                        .volumesFrom(List.of())
                        .build()));
        return DescribeTaskDefinitionResponse.builder()
                .taskDefinition(td.containerDefinitions(echoed)
                        .taskDefinitionArn("arn:aws:ecs:us-east-1:123456789012:task-definition/app:" + revision)
                        .revision(revision)
                        .status("ACTIVE")
                        .build())
                .tags(request.tags())
                .build();
    }

    @Test
    void registers_isTrue_forTheRevisionAwsMadeOfTheRequest_despiteTheEmptyListsAwsAdds() {
        RegisterTaskDefinitionRequest intended = RevisionRequests.installRequest(
                source(), LogRouter.builder().image("r:1").build(), AGENT, null, null);

        assertThat(RevisionRequests.registers(registered(intended, 4), intended, AGENT))
                .isTrue();
    }

    @Test
    void registers_isFalse_whenTheRevisionDiffersInTheToken_aTaskField_aTag_orTheRouterSettings() {
        LogRouter router = LogRouter.builder().image("r:1").build();
        RegisterTaskDefinitionRequest intended = RevisionRequests.installRequest(source(), router, AGENT, null, null);
        AgentSettings rotated = AgentSettings.builder()
                .from(AGENT)
                .apiToken(Secret.of("rotated"))
                .build();

        assertThat(RevisionRequests.registers(
                        registered(RevisionRequests.installRequest(source(), router, rotated, null, null), 4),
                        intended,
                        AGENT))
                .as("made with the token before its rotation")
                .isFalse();
        assertThat(RevisionRequests.registers(
                        registered(RevisionRequests.installRequest(source(), router, AGENT, "1024", "2048"), 4),
                        intended,
                        AGENT))
                .as("a raised task size")
                .isFalse();
        assertThat(RevisionRequests.registers(
                        registered(intended.toBuilder().tags(List.of()).build(), 4), intended, AGENT))
                .as("without the source's tags")
                .isFalse();
        assertThat(RevisionRequests.registers(
                        registered(
                                RevisionRequests.installRequest(
                                        source(),
                                        LogRouter.builder().image("r:2").build(),
                                        AGENT,
                                        null,
                                        null),
                                4),
                        intended,
                        AGENT))
                .as("another router image")
                .isFalse();
    }

    @Test
    void uninstall_afterARaiseAndAnUpgrade_restoresTheSizeBeforeTheFirstInstall_unlessTheUserResizedSince() {
        RegisterTaskDefinitionRequest raised = RevisionRequests.installRequest(
                source(), LogRouter.builder().image("r:1").build(), AGENT, "1024", "2048");
        RegisterTaskDefinitionRequest upgraded = RevisionRequests.installRequest(
                registered(raised, 4), LogRouter.builder().image("r:2").build(), AGENT, null, null);
        DescribeTaskDefinitionResponse installed = registered(upgraded, 5);

        RegisterTaskDefinitionRequest removed = RevisionRequests.uninstallRequest(installed);
        assertThat(removed.cpu()).isEqualTo("512");
        assertThat(removed.memory()).isEqualTo("1024");
        assertThat(TaskDefinitions.names(removed.containerDefinitions())).containsExactly("app");

        DescribeTaskDefinitionResponse resized = installed.toBuilder()
                .taskDefinition(installed.taskDefinition().toBuilder()
                        .cpu("2048")
                        .memory("4096")
                        .build())
                .build();
        RegisterTaskDefinitionRequest kept = RevisionRequests.uninstallRequest(resized);
        assertThat(kept.cpu()).as("the user's size since the install").isEqualTo("2048");
        assertThat(RecordedTaskSize.restore(
                                resized.taskDefinition(), TaskDefinitions.uninstall(resized.taskDefinition()))
                        .kept())
                .contains("2048 CPU units / 4096 MiB")
                .contains("512 CPU units / 1024 MiB");
    }
}
