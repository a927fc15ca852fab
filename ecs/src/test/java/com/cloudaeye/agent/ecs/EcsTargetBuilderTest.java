package com.cloudaeye.agent.ecs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.cloudaeye.agent.ConfigurationException;
import com.cloudaeye.agent.ManagedResources;
import com.cloudaeye.agent.spi.TargetService;
import com.cloudaeye.agent.spi.support.Json;
import java.time.Duration;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

/** Configuration errors surface in build(), before any AWS call, and name the fix. */
class EcsTargetBuilderTest {
    @Test
    void sidecarWithoutImage_isAConfigurationError() {
        assertThatThrownBy(
                        () -> EcsTarget.builder().cluster("prod").services("*").sidecar(s -> s.cpu(128)))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("has no image")
                .hasMessageContaining(".sidecar(s -> s.image(");
    }

    @Test
    void rateLimit_withANameNoQuotaOfTheEcsTargetHas_isRejectedAtBuild_withTheNames() {
        EcsTarget target = EcsTarget.builder()
                .cluster("prod")
                .services("*")
                .sidecar(s -> s.image("public.ecr.aws/cloudaeye/log-router:1.4.0"))
                .build();
        java.util.function.Supplier<com.cloudaeye.agent.AgentInstallerBuilder> installer =
                () -> com.cloudaeye.agent.AgentInstaller.builder()
                        .region(software.amazon.awssdk.regions.Region.US_EAST_1)
                        .withoutJournal()
                        .target(target);

        assertThatThrownBy(() -> installer.get().rateLimit("ecs", 2).build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("rateLimit(\"ecs\", ...) names no quota of the configured targets")
                .hasMessageContaining("ecs.service-modify, ecs.service-read, ecs.task-definition-modify,"
                        + " ecs.task-definition-read, iam, sts");
        assertThatThrownBy(() ->
                        installer.get().rateLimit("lambda.control-plane", 2).build())
                .as("Lambda's quota, but no Lambda target is configured")
                .isInstanceOf(ConfigurationException.class);
        installer.get().rateLimit("ecs.service-modify", 2).build().close();
    }

    @Test
    void missingClusterServicesOrSidecar_areConfigurationErrors() {
        assertThatThrownBy(() -> EcsTarget.builder().services("*").build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("no cluster");
        assertThatThrownBy(() -> EcsTarget.builder().cluster("prod").build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("selects no service");
        assertThatThrownBy(
                        () -> EcsTarget.builder().cluster("prod").services("*").build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("has no log router");
    }

    @Test
    void managedResources_whenNull_isAConfigurationError_andChainsAsTheEcsBuilder() {
        EcsTarget.Builder builder = EcsTarget.builder()
                .managedResources(ManagedResources.skip())
                .cluster("prod")
                .services("*")
                .sidecar(s -> s.image("x"));
        assertThat(builder.build().name()).isEqualTo(EcsTarget.NAME); // managedResources(..) returned the ECS builder
        assertThatThrownBy(() -> builder.managedResources(null).build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("ManagedResources.warn(), .skip() or .template(format)");
    }

    @Test
    void invalidRouterSettings_areConfigurationErrors() {
        assertThatThrownBy(() -> LogRouter.builder().image("x").name("bad name").build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("not a valid container name");
        assertThatThrownBy(() -> LogRouter.builder().image("x").memory(2).build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("below Docker's minimum");
        assertThatThrownBy(() -> LogRouter.builder()
                        .image("x")
                        .apiTokenSecretArn("my-token")
                        .build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("not the ARN of a Secrets Manager secret or an SSM parameter");
        assertThatThrownBy(() -> EcsTarget.builder()
                        .cluster("prod")
                        .services("*")
                        .sidecar(s -> s.image("x"))
                        .waitForStable(Duration.ZERO)
                        .build())
                .isInstanceOf(ConfigurationException.class);
    }

    @Test
    void routerDefaults_areSensible_andRoundTripThroughJson() {
        LogRouter router = LogRouter.builder()
                .image("public.ecr.aws/cloudaeye/log-router:1.4.0")
                .apiTokenSecretArn("arn:aws:ssm:us-east-1:123456789012:parameter/cloudaeye/token")
                .build();
        assertThat(router.name()).isEqualTo("cloudaeye-log-router");
        assertThat(router.cpu()).isEqualTo(64);
        assertThat(router.memory()).isEqualTo(128);
        assertThat(router.essential()).isTrue();
        assertThat(Json.convert(Json.tree(router), LogRouter.class)).isEqualTo(router);
    }

    @Test
    void serviceLoader_findsTheEcsService_andEveryTargetIsConfigured() {
        TargetService loaded = ServiceLoader.load(TargetService.class).stream()
                .map(ServiceLoader.Provider::get)
                .filter(t -> t.name().equals(EcsTarget.NAME))
                .findFirst()
                .orElseThrow();
        EcsTarget target = EcsTarget.builder()
                .cluster("prod")
                .services("*")
                .sidecar(s -> s.image("public.ecr.aws/cloudaeye/log-router:1.4.0"))
                .build();

        assertThat(target.service()).isInstanceOf(loaded.getClass());
        assertThat(EcsTarget.class.getConstructors())
                .as("no public constructor that selects nothing")
                .isEmpty();
    }

    @Test
    void services_replacesTheSelection_andAddServicesAppends() {
        EcsTarget replaced = EcsTarget.builder()
                .cluster("prod")
                .services("old-one")
                .services("api", "worker-*")
                .sidecar(s -> s.image("x"))
                .build();
        EcsTarget appended = EcsTarget.builder()
                .cluster("prod")
                .services("api")
                .addServices("worker-*")
                .sidecar(s -> s.image("x"))
                .build();

        assertThat(replaced.toString()).contains("services [api, worker-*]").doesNotContain("old-one");
        assertThat(appended.toString()).contains("services [api, worker-*]");
    }

    @Test
    void serviceArnOfAnotherCluster_isAConfigurationError_namingBothClustersAndTheFix() {
        String staging = "arn:aws:ecs:us-east-1:123456789012:service/staging/api";
        assertThatThrownBy(() -> EcsTarget.builder()
                        .cluster("prod")
                        .services("web", staging)
                        .sidecar(s -> s.image("x"))
                        .build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining(staging)
                .hasMessageContaining("cluster staging")
                .hasMessageContaining("cluster prod")
                .hasMessageContaining("one installer per cluster");
        assertThatThrownBy(() -> EcsTarget.builder()
                        .cluster("arn:aws:ecs:us-east-1:123456789012:cluster/prod")
                        .services("*")
                        .exclude(staging)
                        .sidecar(s -> s.image("x"))
                        .build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining(staging);

        EcsTarget sameCluster = EcsTarget.builder()
                .cluster("arn:aws:ecs:us-east-1:123456789012:cluster/prod")
                .services("arn:aws:ecs:us-east-1:123456789012:service/prod/api", "arn:aws:ecs:us-east-1:1:service/old")
                .exclude("arn:aws:ecs:us-east-1:123456789012:service/prod/legacy")
                .sidecar(s -> s.image("x"))
                .build();
        assertThat(sameCluster.toString()).contains("service/prod/api");
    }

    @Test
    void clusterPattern_isAConfigurationError_sayingATargetCoversOneNamedCluster() {
        for (String pattern : new String[] {"*", "prod-*"}) {
            assertThatThrownBy(() -> EcsTarget.builder()
                            .cluster(pattern)
                            .services("*")
                            .sidecar(s -> s.image("x"))
                            .build())
                    .isInstanceOf(ConfigurationException.class)
                    .hasMessageContaining("'" + pattern + "'")
                    .hasMessageContaining("one cluster")
                    .hasMessageContaining("one installer per cluster");
        }
    }

    @Test
    void apiTokenSecretArn_whoseServiceAndResourceTypeDisagree_isAConfigurationError() {
        for (String arn : new String[] {
            "arn:aws:ssm:us-east-1:123456789012:secret:cloudaeye-token",
            "arn:aws:secretsmanager:us-east-1:123456789012:parameter/cloudaeye/token"
        }) {
            assertThatThrownBy(() -> LogRouter.builder()
                            .image("x")
                            .apiTokenSecretArn(arn)
                            .build())
                    .as(arn)
                    .isInstanceOf(ConfigurationException.class)
                    .hasMessageContaining("not the ARN of a Secrets Manager secret or an SSM parameter");
        }
        LogRouter.builder()
                .image("x")
                .apiTokenSecretArn("arn:aws:secretsmanager:us-east-1:123456789012:secret:cloudaeye-token:token::")
                .build();
    }
}
