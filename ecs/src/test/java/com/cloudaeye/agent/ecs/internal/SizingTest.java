package com.cloudaeye.agent.ecs.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.ecs.model.ContainerDefinition;
import software.amazon.awssdk.services.ecs.model.TaskDefinition;

class SizingTest {
    private static final ContainerDefinition APP = ContainerDefinition.builder()
            .name("app")
            .cpu(256)
            .memoryReservation(512)
            .build();
    private static final ContainerDefinition ROUTER = ContainerDefinition.builder()
            .name("cloudaeye-log-router")
            .cpu(64)
            .memoryReservation(128)
            .build();

    private static TaskDefinition ec2(String cpu, String memory) {
        return TaskDefinition.builder()
                .requiresCompatibilitiesWithStrings("EC2")
                .cpu(cpu)
                .memory(memory)
                .containerDefinitions(APP)
                .build();
    }

    @Test
    void of_anEc2TaskWithOnlyATaskMemoryThatIsFull_refusesTheRouter_namingTheNeedAndTheFix() {
        Sizing sizing = Sizing.of(ec2(null, "512"), List.of(APP, ROUTER), true);

        assertThat(sizing.problem())
                .contains("640 MiB")
                .contains("512 MiB")
                .contains("raise the task's cpu/memory or lower the router's");
        assertThat(sizing.resized()).isNull();
    }

    @Test
    void of_anEc2TaskWithOnlyATaskCpuThatIsFull_refusesTheRouter_namingTheNeedAndTheFix() {
        Sizing sizing = Sizing.of(ec2("256", null), List.of(APP, ROUTER), true);

        assertThat(sizing.problem())
                .contains("320 CPU units")
                .contains("256 CPU units")
                .contains("raise the task's cpu/memory or lower the router's");
    }

    @Test
    void of_anEc2TaskWithOneTaskLevelValueThatHoldsTheRouter_orWithNone_addsIt() {
        assertThat(Sizing.of(ec2(null, "1024"), List.of(APP, ROUTER), false).problem())
                .isNull();
        assertThat(Sizing.of(ec2("1024", null), List.of(APP, ROUTER), false).problem())
                .isNull();
        assertThat(Sizing.of(ec2(null, null), List.of(APP, ROUTER), false).problem())
                .isNull();
    }
}
