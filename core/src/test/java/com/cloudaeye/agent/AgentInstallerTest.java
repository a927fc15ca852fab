package com.cloudaeye.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.cloudaeye.agent.testing.FakeTarget;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;

/** Builder validation and the installer's own checks: each mistake gets a ConfigurationException naming the fix. */
class AgentInstallerTest {
    private static AgentInstallerBuilder builder() {
        return AgentInstaller.builder()
                .region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("AKID", "SECRET")))
                .withoutJournal();
    }

    @Test
    void rateLimit_mustBePositive() {
        assertThatThrownBy(() -> builder().rateLimit("lambda.control-plane", 0))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("rateLimit(lambda.control-plane)")
                .hasMessageContaining("positive");
        assertThatThrownBy(() -> builder().rateLimit("lambda.control-plane", Double.NaN))
                .isInstanceOf(ConfigurationException.class);
    }

    @Test
    void rateLimit_whenNoConfiguredTargetHasTheQuota_isRejectedAtBuild_withTheValidNames() {
        FakeTarget fake =
                new FakeTarget("fake", null).quotas(new com.cloudaeye.agent.spi.Quota("fake.control-plane", 5));

        assertThatThrownBy(() -> builder().target(fake).rateLimit("lambda", 5).build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("rateLimit(\"lambda\", ...) names no quota of the configured targets")
                .hasMessageContaining("the quota names are fake.control-plane, iam, sts");
        builder()
                .target(fake)
                .rateLimit("fake.control-plane", 5)
                .rateLimit("iam", 2)
                .build()
                .close();
        builder()
                .target(new FakeTarget("unlisted", null))
                .rateLimit("anything", 5)
                .build()
                .close(); // a target that lists no quotas (written before quotas()): its names are not known
    }

    @Test
    void build_whenTheRegionIsNotNamedAsAwsNamesRegions_isRejected_butAWellFormedNewRegionIsNot() {
        for (String bad : List.of("useast1", "US-EAST-1", "us_east_1", "us-east", "eu-west-1a")) {
            assertThatThrownBy(() -> builder().region(Region.of(bad)).build())
                    .as(bad)
                    .isInstanceOf(ConfigurationException.class)
                    .hasMessageContaining("'" + bad + "' is not an AWS region name (e.g. us-east-1)")
                    .hasMessageContaining(".region(...)");
        }
        for (String good : List.of(
                "us-east-1",
                "us-east-9",
                "us-gov-west-1",
                "cn-north-1",
                "eu-isoe-west-1",
                "us-isob-east-1",
                "ap-southeast-5",
                "eusc-de-east-1",
                "mx-central-1")) {
            builder().region(Region.of(good)).build().close();
        }
    }

    @Test
    void maxConcurrency_maxFailures_andRetries_mustBeAtLeastOne() {
        assertThatThrownBy(() -> builder().maxConcurrency(0))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("maxConcurrency");
        assertThatThrownBy(() -> builder().maxFailures(0))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("maxFailures");
        assertThatThrownBy(() -> builder().retries(0, Duration.ofMillis(10)))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("maxAttempts");
    }

    @Test
    void retries_withANegativeBackoff_isRejected() {
        assertThatThrownBy(() -> builder().retries(3, Duration.ofMillis(-1)))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("baseBackoff")
                .hasMessageContaining("Duration.ofMillis(250)");
    }

    @Test
    void plan_whenATargetSelectsNothing_throwsItsError() {
        try (AgentInstaller installer =
                builder().target(new FakeTarget("fake", null).selectsNothing()).build()) {
            assertThatThrownBy(installer::plan)
                    .isInstanceOf(NothingSelectedException.class)
                    .hasMessageContaining("No fake resource in us-east-1 matches");
        }
    }

    @Test
    void twoTargetsOfOneName_areRejected_withTheFix() {
        assertThatThrownBy(
                        () -> builder().target(new FakeTarget("lambda", null)).target(new FakeTarget("lambda", null)))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("Two lambda targets")
                .hasMessageContaining("Combine their selections into one target")
                .hasMessageContaining("build one installer per target");
    }

    @Test
    void agent_withoutToken_saysWhatToSet() {
        assertThatThrownBy(() -> builder().agent(a -> a.logsEndpoint("https://logs.example.cloudaeye.com")))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("apiToken")
                .hasMessageContaining("Secret.of");
    }

    @Test
    void agent_withAnEndpointThatIsNotAnHttpUrl_namesIt() {
        assertThatThrownBy(() -> builder()
                        .agent(a -> a.logsEndpoint("ftp://logs.example.com").apiToken(Secret.of("t0k3n"))))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("ftp://logs.example.com")
                .hasMessageContaining("https://");
        assertThatThrownBy(
                        () -> builder().agent(a -> a.logsEndpoint("not a url").apiToken(Secret.of("t0k3n"))))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("'not a url'");
    }

    @Test
    void agent_withAnInvalidOptionName_namesIt_andNeverEchoesTheToken() {
        assertThatThrownBy(() -> builder()
                        .agent(a -> a.logsEndpoint("https://logs.example.cloudaeye.com")
                                .apiToken(Secret.of("t0k3n-value"))
                                .options(Map.of("LOG-LEVEL", "debug"))))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("'LOG-LEVEL'")
                .hasMessageNotContaining("t0k3n-value");
    }

    @Test
    void plan_withoutTargets_saysHowToAddOne() {
        try (AgentInstaller installer = builder().build()) {
            assertThatThrownBy(installer::plan)
                    .isInstanceOf(ConfigurationException.class)
                    .hasMessageContaining("No target configured")
                    .hasMessageContaining(".target(");
        }
    }

    @Test
    void apply_aPlanOfAnotherRegion_isRejectedBeforeAnyChange() {
        FakeTarget fake = new FakeTarget("fake", null).resource("a1", FakeTarget.Behaviour.APPLY);
        Plan plan;
        try (AgentInstaller west =
                builder().region(Region.EU_WEST_1).target(fake).build()) {
            plan = west.plan();
        }
        try (AgentInstaller east = builder().target(fake).build()) {
            assertThatThrownBy(() -> east.apply(plan))
                    .isInstanceOf(ConfigurationException.class)
                    .hasMessageContaining("eu-west-1")
                    .hasMessageContaining("Region.of(\"eu-west-1\")");
        }
        assertThat(fake.log()).as("nothing was applied").isEmpty();
    }

    @Test
    void apply_aPlanOfATargetNotOnTheClassPath_namesTheModuleToAdd() {
        FakeTarget ecs = new FakeTarget("nosuch", null).resource("a1", FakeTarget.Behaviour.APPLY);
        Plan plan;
        try (AgentInstaller installer = builder().target(ecs).build()) {
            plan = installer.plan();
        }
        try (AgentInstaller other =
                builder().target(new FakeTarget("fake", null)).build()) {
            assertThatThrownBy(() -> other.apply(plan))
                    .isInstanceOf(ConfigurationException.class)
                    .hasMessageContaining("No target named 'nosuch'")
                    .hasMessageContaining("cloudaeye-agent-nosuch");
        }
    }

    @Test
    void plan_collectsEveryTargetsChanges_andReadPermissions() {
        try (AgentInstaller installer = builder()
                .target(new FakeTarget("alpha", null).resource("a1", FakeTarget.Behaviour.APPLY))
                .target(new FakeTarget("beta", null).resource("b1", FakeTarget.Behaviour.APPLY))
                .build()) {
            Plan plan = installer.plan();

            assertThat(plan.kind()).isEqualTo(Plan.Kind.INSTALL);
            assertThat(plan.region()).isEqualTo("us-east-1");
            assertThat(plan.changes()).extracting(Change::target).containsExactly("alpha", "beta");
            assertThat(plan.readPermissions()).containsExactly(Permission.of("fake:ListResources", "*"));
            assertThat(installer.planUninstall().mutations())
                    .extracting(Change::action)
                    .containsOnly(ChangeAction.DELETE);
            assertThat(installer.region()).isEqualTo(Region.US_EAST_1);
        }
    }

    @Test
    void pacing_isAdaptiveByDefault_andNamedInThePlanTable_butNotInItsJson() {
        try (AgentInstaller installer = builder()
                .target(new FakeTarget("alpha", null).resource("a1", FakeTarget.Behaviour.APPLY))
                .build()) {
            Plan plan = installer.plan();

            assertThat(plan.pacing()).contains(Pacing.adaptive().toString());
            assertThat(plan.toString()).contains("pacing: adaptive (starts at the documented quotas");
            assertThat(plan.toJson()).doesNotContain("pacing").doesNotContain("adaptive");
            assertThat(Plan.fromJson(plan.toJson())).as("JSON round trip").isEqualTo(plan);
        }
    }

    @Test
    void pacing_aShareAndRateOverrides_areNamedInThePlan_andInTheProgressOutput() {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (AgentInstaller installer = builder()
                .target(new FakeTarget("alpha", null).resource("a1", FakeTarget.Behaviour.APPLY))
                .pacing(Pacing.share(0.6))
                .rateLimit("lambda.control-plane", 40)
                .listener(new com.cloudaeye.agent.internal.ConsoleProgressListener(
                        new java.io.PrintStream(bytes, true, java.nio.charset.StandardCharsets.UTF_8)))
                .build()) {
            Plan plan = installer.plan();
            assertThat(plan.toString())
                    .contains("pacing: at most 60 % of the documented quotas; rates set: lambda.control-plane 40.0/s");

            installer.apply(Plan.fromJson(plan.toJson())); // a reviewed plan, read back: paced by this installer
        }
        assertThat(bytes.toString(java.nio.charset.StandardCharsets.UTF_8))
                .startsWith("Applying 1 change(s) in us-east-1, pacing: at most 60 % of the documented quotas");
    }
}
