package com.cloudaeye.agent.ecs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.NothingSelectedException;
import com.cloudaeye.agent.PlanningException;
import com.cloudaeye.agent.spi.support.AwsActions;
import com.cloudaeye.agent.testing.Moto;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.ecs.EcsClient;
import software.amazon.awssdk.services.sts.StsClient;
import software.amazon.awssdk.services.sts.auth.StsAssumeRoleCredentialsProvider;

/** Bad input fails with a clear message while planning, before any mutating call. */
class EcsBadInputIT {
    private MotoEcs moto;

    @BeforeEach
    void fixture() {
        Moto.reset();
        moto = new MotoEcs();
        moto.cluster("prod");
        moto.service("prod", "web", moto.fargate("web", "256", "512", MotoEcs.app("app", 128, 256)));
        moto.service(
                "prod",
                "clash",
                moto.fargate(
                        "clash",
                        "512",
                        "1024",
                        MotoEcs.app("app", 128, 256),
                        MotoEcs.app("cloudaeye-log-router", 64, 128)));
    }

    @AfterEach
    void close() {
        moto.close();
    }

    private static void assertReadOnly(AgentInstaller installer) {
        assertThat(installer.calls().keySet()).isNotEmpty().allMatch(AwsActions::isReadOnly);
    }

    @Test
    void unknownCluster_isAPlanningError_withoutMutatingCalls() {
        try (AgentInstaller installer =
                MotoEcs.installer(MotoEcs.target().cluster("nope").build()).build()) {
            assertThatThrownBy(installer::plan)
                    .isInstanceOf(PlanningException.class)
                    .hasMessageContaining("ECS cluster nope does not exist");
            assertReadOnly(installer);
        }
    }

    @Test
    void unknownService_isAPlanningError_namingIt() {
        try (AgentInstaller installer = MotoEcs.installer(
                        MotoEcs.target().services("web", "ghost").build())
                .build()) {
            assertThatThrownBy(installer::plan)
                    .isInstanceOf(PlanningException.class)
                    .hasMessageContaining("ghost");
            assertReadOnly(installer);
        }
    }

    @Test
    void patternMatchingNothing_isAPlanningError() {
        try (AgentInstaller installer =
                MotoEcs.installer(MotoEcs.target().services("api-*").build()).build()) {
            assertThatThrownBy(installer::plan)
                    .isInstanceOf(PlanningException.class)
                    .hasMessageContaining("matches 'api-*'");
            assertReadOnly(installer);
        }
    }

    @Test
    void routerNameCollidingWithAUserContainer_isAPlanningError_withTheFix() {
        try (AgentInstaller installer =
                MotoEcs.installer(MotoEcs.target().services("*").build()).build()) {
            assertThatThrownBy(installer::plan)
                    .isInstanceOf(PlanningException.class)
                    .hasMessageContaining("clash:1 already has a container named 'cloudaeye-log-router'")
                    .hasMessageContaining(".sidecar(s -> s.name(");
            assertReadOnly(installer);
        }
    }

    @Test
    void anotherRouterName_avoidsTheCollision() {
        try (AgentInstaller installer = MotoEcs.installer(MotoEcs.target()
                        .services("clash")
                        .sidecar(s -> s.image(MotoEcs.ROUTER_IMAGE).name("cloudaeye-router-2"))
                        .build())
                .build()) {
            assertThat(installer.plan().mutations()).hasSize(2);
        }
    }

    @Test
    void excludeByArn_leavesThatServiceOut_asExcludeByNameDoes() {
        String legacy =
                moto.service("prod", "legacy", moto.fargate("legacy", "256", "512", MotoEcs.app("app", 128, 256)));
        try (AgentInstaller installer = MotoEcs.installer(MotoEcs.target()
                        .services("web", "legacy")
                        .exclude(legacy)
                        .build())
                .build()) {
            assertThat(installer.plan().changes())
                    .extracting(c -> c.resourceId())
                    .noneMatch(id -> id.contains("legacy"))
                    .anyMatch(id -> id.endsWith("service/prod/web"));
        }
    }

    @Test
    void serviceArnOfAnotherRegion_isAPlanningError_namingTheRegions_withoutAnyCall() {
        String elsewhere = "arn:aws:ecs:eu-west-1:123456789012:service/prod/web";
        try (AgentInstaller installer =
                MotoEcs.installer(MotoEcs.target().services(elsewhere).build()).build()) {
            assertThatThrownBy(installer::plan)
                    .isInstanceOf(PlanningException.class)
                    .hasMessageContaining(elsewhere)
                    .hasMessageContaining("eu-west-1")
                    .hasMessageContaining("us-east-1");
            assertThat(installer.calls().keySet()).noneMatch(call -> call.startsWith("ecs:"));
        }
    }

    @Test
    void clusterOrServiceArnOfAnotherAccount_isRefused_namingBothAccountsAndTheFix_withNothingChanged() {
        String other = "444455556666";
        try (StsClient sts = Moto.sts();
                StsAssumeRoleCredentialsProvider admin = Moto.adminOf(sts, other);
                EcsClient there = EcsClient.builder()
                        .endpointOverride(Moto.endpoint())
                        .region(Moto.REGION)
                        .credentialsProvider(admin)
                        .build()) {
            // The same cluster and service names in another account: only the ARN's account tells them apart.
            String otherCluster =
                    there.createCluster(c -> c.clusterName("prod")).cluster().clusterArn();
            String otherTd = there.registerTaskDefinition(
                            r -> r.family("web").containerDefinitions(MotoEcs.app("app", 128, 256)))
                    .taskDefinition()
                    .taskDefinitionArn();
            String otherWeb = there.createService(c -> c.cluster("prod")
                            .serviceName("web")
                            .taskDefinition(otherTd)
                            .desiredCount(0))
                    .service()
                    .serviceArn();
            assertThat(otherWeb).as("moto acts in the assumed role's account").contains(":" + other + ":");
            String ourTd = taskDefinitionOf(moto.ecs, "web");

            try (AgentInstaller installer = MotoEcs.installer(
                            MotoEcs.target().services(otherWeb).build())
                    .build()) {
                assertThatThrownBy(installer::plan)
                        .isInstanceOf(NothingSelectedException.class)
                        .hasMessageContaining(otherWeb)
                        .hasMessageContaining("of account " + other)
                        .hasMessageContaining("act in account " + Moto.ACCOUNT)
                        .hasMessageContaining("credentials of account " + other)
                        .hasMessageContaining(".accounts(\"" + other + "\")");
                assertThat(installer.calls()).containsOnlyKeys("sts:GetCallerIdentity");
            }
            try (AgentInstaller installer = MotoEcs.installer(
                            MotoEcs.target().services("web", otherWeb).build())
                    .build()) {
                assertThatThrownBy(installer::plan)
                        .isInstanceOf(PlanningException.class)
                        .isNotInstanceOf(NothingSelectedException.class)
                        .hasMessageContaining(otherWeb)
                        .hasMessageContaining("act in account " + Moto.ACCOUNT);
                assertThat(installer.calls()).containsOnlyKeys("sts:GetCallerIdentity");
            }
            try (AgentInstaller installer = MotoEcs.installer(MotoEcs.target()
                            .cluster(otherCluster)
                            .services("web")
                            .build())
                    .build()) {
                assertThatThrownBy(installer::plan)
                        .isInstanceOf(NothingSelectedException.class)
                        .hasMessageContaining("cluster " + otherCluster + " is in account " + other)
                        .hasMessageContaining("act in account " + Moto.ACCOUNT);
                assertThat(installer.calls()).containsOnlyKeys("sts:GetCallerIdentity");
            }

            assertThat(taskDefinitionOf(there, "web"))
                    .as("the other account's service")
                    .isEqualTo(otherTd);
            assertThat(taskDefinitionOf(moto.ecs, "web")).as("ours").isEqualTo(ourTd);
            assertThat(there.listTaskDefinitions(r -> {}).taskDefinitionArns()).containsExactly(otherTd);
        }
    }

    private static String taskDefinitionOf(EcsClient ecs, String service) {
        return ecs.describeServices(d -> d.cluster("prod").services(service))
                .services()
                .get(0)
                .taskDefinition();
    }
}
