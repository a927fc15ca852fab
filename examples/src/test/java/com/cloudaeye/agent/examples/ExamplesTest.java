package com.cloudaeye.agent.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The examples' start-up: every missing variable is named with what to put in it, before any AWS call. */
class ExamplesTest {
    private static final String TOKEN = "tok-examples-test-never-printed";
    private static final Map<String, String> AGENT_ONLY =
            Map.of("CLOUDAEYE_LOGS_ENDPOINT", "https://logs.example.cloudaeye.com", "CLOUDAEYE_API_TOKEN", TOKEN);

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    interface Example {
        int run(Map<String, String> env, PrintStream out, PrintStream err);
    }

    private int run(Example example, Map<String, String> env) {
        return example.run(
                env,
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    private String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void fleetExample_withNothingSet_namesTheAgentAccountAndLayerVariables() {
        assertThat(run(FleetExample::run, Map.of())).isEqualTo(2);

        assertThat(err())
                .contains("FleetExample cannot start")
                .contains("CLOUDAEYE_API_TOKEN")
                .contains("CLOUDAEYE_ACCOUNTS: account IDs, comma-separated, or 'organization'")
                .contains("CLOUDAEYE_LAYER_X86_64 and/or CLOUDAEYE_LAYER_ARM64");
        assertThat(out.toString(StandardCharsets.UTF_8)).isEmpty();
    }

    @Test
    void fleetExample_rollingBackFromAJournalDirectoryThatDoesNotExist_namesItAndExits2BeforeAnyAwsCall(
            @TempDir Path work) {
        Path missing = work.resolve("no-such-run");
        Map<String, String> env = new java.util.HashMap<>(AGENT_ONLY);
        env.put("CLOUDAEYE_ACCOUNTS", "111111111111");
        env.put("CLOUDAEYE_LAYER_X86_64", "arn:aws:lambda:us-east-1:{account}:layer:cloudaeye-x86:3");
        env.put("CLOUDAEYE_FLEET_ROLLBACK", "yes");
        env.put("CLOUDAEYE_APPLY", "yes");
        env.put("CLOUDAEYE_JOURNAL_DIR", missing.toString());
        env.put("CLOUDAEYE_AWS_ENDPOINT", "http://127.0.0.1:9"); // nothing listens: an AWS call would fail

        assertThat(run(FleetExample::run, env)).isEqualTo(2);

        assertThat(err())
                .contains("FleetExample cannot start")
                .contains("  CLOUDAEYE_JOURNAL_DIR: " + missing + " is not a directory; name the one the run that"
                        + " CLOUDAEYE_FLEET_ROLLBACK=yes rolls back wrote its journals to (or CLOUDAEYE_JOURNAL_BUCKET"
                        + " and CLOUDAEYE_JOURNAL_PREFIX when it kept them in S3)");
        assertThat(out.toString(StandardCharsets.UTF_8)).isEmpty();
    }

    @Test
    void fleetExample_whenTheLibraryRefusesABuilderValue_namesTheVariableBehindIt() {
        Map<String, String> env = new java.util.HashMap<>(AGENT_ONLY);
        env.put("CLOUDAEYE_ACCOUNTS", "12345");
        env.put("CLOUDAEYE_LAYER_X86_64", "arn:aws:lambda:us-east-1:111122223333:layer:cloudaeye-x86:3");

        assertThat(run(FleetExample::run, env)).isEqualTo(1);

        assertThat(err())
                .contains("FleetExample failed: '12345' is not an AWS account ID: pass the 12 digits, e.g."
                        + " .accounts(\"111111111111\").")
                .contains("In this script, set the environment variable CLOUDAEYE_ACCOUNTS for .accounts(...)")
                .doesNotContain(TOKEN);
    }

    @Test
    void lambdaExample_withNothingSet_namesTheAgentAndLayerVariables() {
        assertThat(run(LambdaExample::run, Map.of())).isEqualTo(2);

        assertThat(err())
                .contains("LambdaExample cannot start")
                .contains("CLOUDAEYE_LOGS_ENDPOINT: the CloudAEye logs service URL")
                .contains("CLOUDAEYE_API_TOKEN: the CloudAEye API token")
                .contains("CLOUDAEYE_LAYER_X86_64 and/or CLOUDAEYE_LAYER_ARM64")
                .contains("CLOUDAEYE_AWS_ENDPOINT");
        assertThat(out.toString(StandardCharsets.UTF_8)).isEmpty();
    }

    @Test
    void ecsExample_withOnlyTheAgentSet_namesTheClusterVariableAndNeverPrintsTheToken() {
        assertThat(run(EcsExample::run, AGENT_ONLY)).isEqualTo(2);

        assertThat(err())
                .contains("CLOUDAEYE_ECS_CLUSTER: the ECS cluster's name or ARN")
                .doesNotContain("CLOUDAEYE_API_TOKEN:")
                .doesNotContain(TOKEN);
    }

    @Test
    void eksExample_withNothingSet_namesTheClusterAndAgentVariables() {
        assertThat(run(EksExample::run, Map.of())).isEqualTo(2);

        assertThat(err())
                .contains("EksExample cannot start")
                .contains("CLOUDAEYE_EKS_CLUSTER: the EKS cluster's name")
                .contains("CLOUDAEYE_LOGS_ENDPOINT")
                .contains("CLOUDAEYE_API_TOKEN");
    }

    @Test
    void allPlatformsExample_withNoPlatformSet_asksForAtLeastOne() {
        assertThat(run(AllPlatformsExample::run, AGENT_ONLY)).isEqualTo(2);

        assertThat(err())
                .contains("at least one platform")
                .contains("CLOUDAEYE_LAYER_X86_64")
                .contains("CLOUDAEYE_ECS_CLUSTER")
                .contains("CLOUDAEYE_EKS_CLUSTER")
                .doesNotContain(TOKEN);
    }

    @Test
    void eksExample_withAnInvalidSetting_failsWithTheTargetsMessageBeforeAnyAwsCall() {
        Map<String, String> env = new java.util.HashMap<>(AGENT_ONLY);
        env.put("CLOUDAEYE_EKS_CLUSTER", "not a cluster name");
        env.put("AWS_REGION", "us-east-1");

        assertThat(run(EksExample::run, env)).isEqualTo(1);

        assertThat(err())
                .contains("EksExample failed: EksTarget: cluster('not a cluster name') is not an EKS cluster name")
                .doesNotContain(TOKEN);
    }

    @Test
    void anHttpLogsEndpoint_isRefused_unlessCloudaeyeAllowInsecureEndpointSaysYes() {
        Map<String, String> env = new java.util.HashMap<>(AGENT_ONLY);
        env.put("CLOUDAEYE_LOGS_ENDPOINT", "http://127.0.0.1:4318");
        env.put("CLOUDAEYE_LAYER_X86_64", "not-a-layer-arn");
        env.put("AWS_REGION", "us-east-1");

        assertThat(run(LambdaExample::run, env)).isEqualTo(1);
        assertThat(err()).contains("'http://127.0.0.1:4318' is http").doesNotContain(TOKEN);

        err.reset();
        env.put("CLOUDAEYE_ALLOW_INSECURE_ENDPOINT", "yes");
        assertThat(run(LambdaExample::run, env)).isEqualTo(1);
        assertThat(err())
                .as("past the endpoint, to the next setting")
                .doesNotContain("is http")
                .contains("not-a-layer-arn");
    }
}
