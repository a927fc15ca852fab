package com.cloudaeye.agent.lambda;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.spi.TargetService;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.lambda.model.Architecture;

/**
 * The selection semantics every target builder shares (CONTRIBUTING, "Selection lists in builders"): a plural setter
 * replaces the list, {@code addX} appends.
 */
class LambdaTargetBuilderTest {
    private static final String LAYER = "arn:aws:lambda:us-east-1:123456789012:layer:cloudaeye:1";

    @Test
    void rateLimit_withANameNoQuotaOfTheLambdaTargetHas_isRejectedAtBuild_withTheNames() {
        LambdaTarget target = LambdaTarget.builder()
                .functions("*")
                .layer(Architecture.X86_64, LAYER)
                .build();
        java.util.function.Supplier<com.cloudaeye.agent.AgentInstallerBuilder> installer =
                () -> com.cloudaeye.agent.AgentInstaller.builder()
                        .region(software.amazon.awssdk.regions.Region.US_EAST_1)
                        .withoutJournal()
                        .target(target);

        org.assertj.core.api.Assertions.assertThatThrownBy(
                        () -> installer.get().rateLimit("lambda", 5).build())
                .isInstanceOf(com.cloudaeye.agent.ConfigurationException.class)
                .hasMessageContaining("rateLimit(\"lambda\", ...) names no quota of the configured targets")
                .hasMessageContaining("the quota names are cloudfront.control-plane, iam, lambda.control-plane,"
                        + " lambda.get-function, sts");
        installer.get().rateLimit("lambda.control-plane", 5).build().close();
        com.cloudaeye.agent.AgentInstaller.builder()
                .region(software.amazon.awssdk.regions.Region.US_EAST_1)
                .withoutJournal()
                .rateLimit("lambda.get-function", 50)
                .build()
                .close(); // no target (applying a saved plan): the targets on the class path name the quotas
    }

    @Test
    void functions_replacesTheNamesSelectedBefore() {
        LambdaTarget target = LambdaTarget.builder()
                .functions("old-one")
                .functions("orders-*", "billing")
                .layer(Architecture.X86_64, LAYER)
                .build();

        assertThat(target.toString()).contains("functions=[orders-*, billing]").doesNotContain("old-one");
    }

    @Test
    void addFunctions_appendsToTheNamesSelectedBefore() {
        LambdaTarget target = LambdaTarget.builder()
                .functions("orders-*")
                .addFunctions("billing")
                .layer(Architecture.X86_64, LAYER)
                .build();

        assertThat(target.toString()).contains("functions=[orders-*, billing]");
    }

    @Test
    void moveAliases_replacesTheAliasesChosenBefore_andAddMoveAliasesAppends() {
        LambdaTarget.Builder builder = LambdaTarget.builder()
                .functions("*")
                .layer(Architecture.X86_64, LAYER)
                .moveAliases("old")
                .moveAliases("live");

        assertThat(builder.build().toString()).contains("moveAliases=[live]").doesNotContain("old");
        assertThat(builder.addMoveAliases("prod-*").build().toString()).contains("moveAliases=[live, prod-*]");
    }

    @Test
    void serviceLoader_findsTheLambdaService_andEveryTargetIsConfigured() {
        TargetService loaded = ServiceLoader.load(TargetService.class).stream()
                .map(ServiceLoader.Provider::get)
                .filter(t -> t.name().equals(LambdaTarget.NAME))
                .findFirst()
                .orElseThrow();
        LambdaTarget target = LambdaTarget.builder()
                .functions("*")
                .layer(Architecture.X86_64, LAYER)
                .build();

        assertThat(target.service()).isInstanceOf(loaded.getClass());
        assertThat(target.service().name()).isEqualTo(target.name());
        assertThat(LambdaTarget.class.getConstructors())
                .as("no public constructor that selects nothing")
                .isEmpty();
    }
}
