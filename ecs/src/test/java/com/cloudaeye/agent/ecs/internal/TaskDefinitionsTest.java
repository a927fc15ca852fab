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
                .containsExactlyInAnyOrderElementsOf(TaskDefinitions.READ_ONLY_FIELDS);

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
                TaskDefinitions.copy(source, tags).build();

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
}
