package com.cloudaeye.agent.examples;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.testing.Moto;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.sts.StsClient;
import software.amazon.awssdk.services.sts.auth.StsAssumeRoleCredentialsProvider;

/** The Java examples run end to end against moto, configured only by environment variables. */
class ExamplesIT {
    private static final String TOKEN = "tok-examples-it-7d21-secret";

    @TempDir
    Path work;

    private final Map<String, String> env = new HashMap<>();
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    @BeforeEach
    void setUp() {
        Moto.reset();
        env.put("CLOUDAEYE_AWS_ENDPOINT", Moto.endpoint().toString());
        env.put("AWS_REGION", Moto.REGION.id());
        env.put("CLOUDAEYE_JOURNAL_DIR", work.resolve("journals").toString());
        env.put("CLOUDAEYE_LOGS_ENDPOINT", "https://logs.example.cloudaeye.com");
        env.put("CLOUDAEYE_API_TOKEN", TOKEN);
    }

    private int run(ExamplesTest.Example example) {
        return example.run(
                env,
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @Test
    void fleetExample_withApply_installsIntoTwoMemberAccounts_andSavesTheRoleTemplate() throws IOException {
        fleetOfTwoMemberAccounts();
        env.put("CLOUDAEYE_ROLE_TEMPLATE_FILE", work.resolve("role.json").toString());

        assertThat(run(FleetExample::run))
                .as(err.toString(StandardCharsets.UTF_8))
                .isZero();

        assertThat(out.toString(StandardCharsets.UTF_8))
                .contains("2 account-regions planned, 0 failed")
                .contains("Fleet apply succeeded")
                .contains("The IAM policy account 222222222222's role needs:")
                .doesNotContain(TOKEN);
        assertThat(Files.readString(work.resolve("role.json"))).contains("AWS::IAM::Role");
        assertThat(work.resolve("journals").resolve("111111111111").resolve("us-east-1"))
                .isNotEmptyDirectory();
    }

    @Test
    void fleetExample_withAJournalBucket_journalsEachAccountRegionToS3() {
        fleetOfTwoMemberAccounts();
        env.put("CLOUDAEYE_JOURNAL_BUCKET", "fleet-journals");
        try (S3Client s3 = Moto.s3()) {
            s3.createBucket(b -> b.bucket("fleet-journals"));

            assertThat(run(FleetExample::run))
                    .as(err.toString(StandardCharsets.UTF_8))
                    .isZero();

            assertThat(out.toString(StandardCharsets.UTF_8))
                    .contains("Fleet apply succeeded")
                    .containsPattern("Journals: s3://fleet-journals/runs/\\d+/");
            assertThat(s3.listObjectsV2(r -> r.bucket("fleet-journals")).contents())
                    .extracting(o -> o.key().replaceFirst("^runs/\\d+/", "runs/<run>/"))
                    .containsExactlyInAnyOrder(
                            "runs/<run>/111111111111/us-east-1/install.jsonl",
                            "runs/<run>/222222222222/us-east-1/install.jsonl");
        }
        assertThat(work.resolve("journals")).as("nothing journaled locally").doesNotExist();
    }

    @Test
    void fleetExample_withFleetRollback_plansTheRollbackOfTheRunsJournals_changingNothing_thenAppliesIt() {
        fleetOfTwoMemberAccounts();
        assertThat(run(FleetExample::run))
                .as(err.toString(StandardCharsets.UTF_8))
                .isZero();
        out.reset();
        env.put("CLOUDAEYE_FLEET_ROLLBACK", "yes");
        env.remove("CLOUDAEYE_APPLY");

        assertThat(run(FleetExample::run))
                .as(err.toString(StandardCharsets.UTF_8))
                .isZero();

        assertThat(out.toString(StandardCharsets.UTF_8))
                .startsWith("Fleet rollback plan: 2 account-regions planned, 0 failed")
                .contains("lambda:UpdateFunctionConfiguration")
                .contains("Nothing was changed. Set CLOUDAEYE_APPLY=yes")
                .doesNotContain(TOKEN);
        assertThat(journalFiles())
                .as("the install's journals; planning journals nothing")
                .isEqualTo(2);
        out.reset();
        env.put("CLOUDAEYE_APPLY", "yes");

        assertThat(run(FleetExample::run))
                .as(err.toString(StandardCharsets.UTF_8))
                .isZero();

        assertThat(out.toString(StandardCharsets.UTF_8))
                .contains("Fleet apply succeeded")
                .doesNotContain(TOKEN);
        assertThat(journalFiles())
                .as("and one rollback journal per account-region")
                .isEqualTo(4);
        out.reset();
        env.remove("CLOUDAEYE_FLEET_ROLLBACK");
        env.remove("CLOUDAEYE_APPLY");
        assertThat(run(FleetExample::run))
                .as(err.toString(StandardCharsets.UTF_8))
                .isZero();
        assertThat(out.toString(StandardCharsets.UTF_8))
                .as("rolled back: the install plan has the work again")
                .startsWith("Fleet install plan: 2 account-regions planned, 0 failed")
                .contains("Nothing was changed");
        assertThat(out.toString(StandardCharsets.UTF_8)).containsPattern("111111111111 +us-east-1 +[1-9]");
    }

    @Test
    void fleetExample_withFleetRollback_butNoJournals_namesWhatToSet_andChangesNothing() {
        fleetOfTwoMemberAccounts();
        env.remove("CLOUDAEYE_JOURNAL_DIR");
        env.put("CLOUDAEYE_FLEET_ROLLBACK", "yes");
        env.put("CLOUDAEYE_JOURNAL_BUCKET", "fleet-journals");

        assertThat(run(FleetExample::run)).isEqualTo(2);

        assertThat(err.toString(StandardCharsets.UTF_8))
                .contains("FleetExample cannot start")
                .contains("CLOUDAEYE_JOURNAL_DIR, or CLOUDAEYE_JOURNAL_BUCKET and CLOUDAEYE_JOURNAL_PREFIX");
        assertThat(out.toString(StandardCharsets.UTF_8)).isEmpty();
    }

    /** @return how many journals the fleet wrote below the journal directory */
    private long journalFiles() {
        Path journals = work.resolve("journals");
        if (!Files.exists(journals)) {
            return 0;
        }
        try (java.util.stream.Stream<Path> files = Files.walk(journals)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".jsonl"))
                    .count();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Two member accounts in moto, each with the sample functions and layers; the fleet's variables set to apply. */
    private void fleetOfTwoMemberAccounts() {
        String x86 = null;
        String arm = null;
        for (String account : java.util.List.of("111111111111", "222222222222")) {
            try (StsClient sts = StsClient.builder()
                            .endpointOverride(Moto.endpoint())
                            .region(Moto.REGION)
                            .credentialsProvider(Moto.credentials())
                            .build();
                    StsAssumeRoleCredentialsProvider admin = StsAssumeRoleCredentialsProvider.builder()
                            .stsClient(sts)
                            .refreshRequest(r -> r.roleArn("arn:aws:iam::" + account + ":role/admin")
                                    .roleSessionName("fixtures"))
                            .build()) {
                SampleLambdaFunctions layers = SampleLambdaFunctions.create(Moto.endpoint(), Moto.REGION, admin);
                x86 = layers.x86Layer().replace(account, "{account}");
                arm = layers.armLayer().replace(account, "{account}");
            }
        }
        env.put("CLOUDAEYE_LAYER_X86_64", x86);
        env.put("CLOUDAEYE_LAYER_ARM64", arm);
        env.put("CLOUDAEYE_ACCOUNTS", "111111111111,222222222222");
        env.put("CLOUDAEYE_EXTERNAL_ID", "examples-ext-1");
        env.put("CLOUDAEYE_APPLY", "yes");
    }

    @Test
    void lambdaExample_withoutApply_plansAndSavesThePlanButChangesNothing() throws IOException {
        SampleLambdaFunctions layers = SampleLambdaFunctions.create(Moto.endpoint(), Moto.REGION, Moto.credentials());
        env.put("CLOUDAEYE_LAYER_X86_64", layers.x86Layer());
        env.put("CLOUDAEYE_LAYER_ARM64", layers.armLayer());
        env.put("CLOUDAEYE_FUNCTIONS", "orders,payments");
        env.put("CLOUDAEYE_PLAN_FILE", work.resolve("plan.json").toString());

        assertThat(run(LambdaExample::run))
                .as(err.toString(StandardCharsets.UTF_8))
                .isZero();

        Plan saved = Plan.fromJson(Files.readString(work.resolve("plan.json")));
        assertThat(saved.mutations()).hasSize(2);
        assertThat(out.toString(StandardCharsets.UTF_8))
                .contains("lambda:UpdateFunctionConfiguration")
                .contains("Nothing was changed. Set CLOUDAEYE_APPLY=yes")
                .doesNotContain(TOKEN);
        assertThat(work.resolve("journals")).doesNotExist();
    }

    @Test
    void allPlatformsExample_withApply_installsIntoLambdaEcsAndEks() {
        SampleLambdaFunctions layers = SampleLambdaFunctions.create(Moto.endpoint(), Moto.REGION, Moto.credentials());
        SampleEcsServices.create(Moto.endpoint(), Moto.REGION, Moto.credentials());
        SampleEksCluster.create(Moto.endpoint(), Moto.REGION, Moto.credentials());
        env.put("CLOUDAEYE_LAYER_X86_64", layers.x86Layer());
        env.put("CLOUDAEYE_LAYER_ARM64", layers.armLayer());
        env.put("CLOUDAEYE_ECS_CLUSTER", SampleEcsServices.CLUSTER);
        env.put("CLOUDAEYE_ECS_WAIT_MINUTES", "0");
        env.put("CLOUDAEYE_EKS_CLUSTER", SampleEksCluster.CLUSTER);
        env.put("CLOUDAEYE_APPLY", "yes");

        assertThat(run(AllPlatformsExample::run))
                .as(err.toString(StandardCharsets.UTF_8))
                .isZero();

        assertThat(out.toString(StandardCharsets.UTF_8))
                .contains("Apply succeeded")
                .contains("arn:aws:lambda:us-east-1:123456789012:function:orders")
                .contains("arn:aws:ecs:us-east-1:123456789012:service/demo/web-a")
                .contains("arn:aws:eks:us-east-1:123456789012:cluster/demo-eks")
                .doesNotContain(TOKEN);
        assertThat(work.resolve("journals")).isDirectory();
    }
}
