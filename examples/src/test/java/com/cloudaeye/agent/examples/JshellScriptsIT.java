package com.cloudaeye.agent.examples;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.PolicyDocument;
import com.cloudaeye.agent.ecs.LogRouter;
import com.cloudaeye.agent.examples.Jshell.Execution;
import com.cloudaeye.agent.examples.Jshell.Run;
import com.cloudaeye.agent.testing.Moto;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.ecs.EcsClient;
import software.amazon.awssdk.services.ecs.model.ContainerDefinition;
import software.amazon.awssdk.services.ecs.model.LogDriver;
import software.amazon.awssdk.services.ecs.model.TaskDefinition;
import software.amazon.awssdk.services.eks.EksClient;
import software.amazon.awssdk.services.eks.model.Logging;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.FunctionConfiguration;
import software.amazon.awssdk.services.lambda.model.Layer;

/**
 * Runs the operators' jshell scripts as they would: the real {@code jshell} of this JDK, the shaded jar on its class
 * path, a fresh working directory, settings in environment variables, against moto.
 */
class JshellScriptsIT {
    private static final String TOKEN = "tok-jshell-it-5f0c9a-secret";

    @TempDir
    Path work;

    private final Map<String, String> env = new HashMap<>();

    @BeforeEach
    void setUp() {
        Moto.reset();
        assertThat(Jshell.JAR).as("the shaded jar (made by the package phase)").isRegularFile();
        env.put("CLOUDAEYE_AWS_ENDPOINT", Moto.endpoint().toString());
        env.put("AWS_REGION", Moto.REGION.id());
        env.put("CLOUDAEYE_JOURNAL_DIR", work.resolve("journals").toString());
        env.put("CLOUDAEYE_LOGS_ENDPOINT", "https://logs.example.cloudaeye.com");
        env.put("CLOUDAEYE_API_TOKEN", TOKEN);
    }

    @Test
    void fleet_planApplyThenPlanAndApplyItsRollback_installsIntoTwoMemberAccountsThenRestoresThem() throws IOException {
        String x86 = null;
        String arm = null;
        for (String account : List.of("111111111111", "222222222222")) {
            try (var sts = software.amazon.awssdk.services.sts.StsClient.builder()
                            .endpointOverride(Moto.endpoint())
                            .region(Moto.REGION)
                            .credentialsProvider(Moto.credentials())
                            .build();
                    var admin = software.amazon.awssdk.services.sts.auth.StsAssumeRoleCredentialsProvider.builder()
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
        env.put("CLOUDAEYE_APPLY", "yes");
        env.put("CLOUDAEYE_JOURNAL_BUCKET", "fleet-journals");
        env.put("CLOUDAEYE_JOURNAL_PREFIX", "runs/jshell/");
        try (var s3 = Moto.s3()) {
            s3.createBucket(b -> b.bucket("fleet-journals"));
        }
        Map<String, Map<String, String>> before = memberFunctions();

        Run fleet = jshell("fleet.jsh");

        assertThat(fleet.exitStatus()).as(fleet.output()).isZero();
        assertThat(fleet.output())
                .contains("2 account-regions planned, 0 failed")
                .contains("Fleet apply succeeded")
                .contains("Journals: s3://fleet-journals/runs/jshell/");
        try (var s3 = Moto.s3()) {
            assertThat(s3.listObjectsV2(r -> r.bucket("fleet-journals")).contents())
                    .extracting(o -> o.key())
                    .as("one journal per account-region, in S3")
                    .containsExactlyInAnyOrder(
                            "runs/jshell/111111111111/us-east-1/install.jsonl",
                            "runs/jshell/222222222222/us-east-1/install.jsonl");
        }
        assertThat(work.resolve("installer-role.json")).isRegularFile();
        assertThat(PolicyDocument.fromJson(Files.readString(work.resolve("policy-222222222222.json")))
                        .actions())
                .contains("lambda:UpdateFunctionConfiguration");
        Map<String, Map<String, String>> installed = memberFunctions();
        assertThat(installed).isNotEqualTo(before);

        env.put("CLOUDAEYE_FLEET_ROLLBACK", "yes");
        env.put("CLOUDAEYE_APPLY", "no");
        Run planned = jshell("fleet.jsh");
        assertThat(planned.exitStatus()).as(planned.output()).isZero();
        assertThat(planned.output()).contains("2 account-regions planned, 0 failed", "Nothing was changed");
        assertThat(memberFunctions())
                .as("planning the rollback changes nothing")
                .isEqualTo(installed);
        assertThat(Files.readString(work.resolve("fleet-rollback-plan.json"))).contains("ROLLBACK");

        env.put("CLOUDAEYE_APPLY", "yes");
        Run rolledBack = jshell("fleet.jsh");
        assertThat(rolledBack.exitStatus()).as(rolledBack.output()).isZero();
        assertThat(memberFunctions()).as("the rollback restores every function").isEqualTo(before);
        assertThat(List.of(fleet, planned, rolledBack))
                .allSatisfy(run -> assertThat(run.output()).doesNotContain(TOKEN));
        try (Stream<Path> files = Files.walk(work)) {
            assertThat(files.filter(Files::isRegularFile).toList())
                    .extracting(f -> f.getFileName().toString())
                    .contains("fleet-plan.json", "fleet-rollback-plan.json");
        }
        try (Stream<Path> files = Files.walk(work);
                var s3 = Moto.s3()) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                assertThat(Files.readString(file)).as(file.toString()).doesNotContain(TOKEN);
            }
            var journals = s3.listObjectsV2(r -> r.bucket("fleet-journals")).contents();
            assertThat(journals).as("the install's and the rollback's journals").hasSize(4);
            for (var journal : journals) {
                assertThat(s3.getObjectAsBytes(r -> r.bucket("fleet-journals").key(journal.key()))
                                .asUtf8String())
                        .as(journal.key())
                        .doesNotContain(TOKEN);
            }
        }
    }

    /** @return per member account of the fleet test, its functions' layers and variables */
    private static Map<String, Map<String, String>> memberFunctions() {
        Map<String, Map<String, String>> out = new TreeMap<>();
        try (var sts = software.amazon.awssdk.services.sts.StsClient.builder()
                .endpointOverride(Moto.endpoint())
                .region(Moto.REGION)
                .credentialsProvider(Moto.credentials())
                .build()) {
            for (String account : List.of("111111111111", "222222222222")) {
                try (var admin = software.amazon.awssdk.services.sts.auth.StsAssumeRoleCredentialsProvider.builder()
                        .stsClient(sts)
                        .refreshRequest(r -> r.roleArn("arn:aws:iam::" + account + ":role/admin")
                                .roleSessionName("check"))
                        .build()) {
                    out.put(account, lambdaFunctions(admin));
                }
            }
        }
        return out;
    }

    @Test
    void lambda_planApplyRollback_changesTheFunctionsThenRestoresThemExactly() throws IOException {
        SampleLambdaFunctions layers = SampleLambdaFunctions.create(Moto.endpoint(), Moto.REGION, Moto.credentials());
        env.put("CLOUDAEYE_LAYER_X86_64", layers.x86Layer());
        env.put("CLOUDAEYE_LAYER_ARM64", layers.armLayer());
        Map<String, String> before = lambdaFunctions();

        Run plan = jshell("lambda-plan.jsh");
        assertThat(plan.exitStatus()).as(plan.output()).isZero();
        assertThat(lambdaFunctions()).as("planning changes nothing").isEqualTo(before);
        assertThat(PolicyDocument.fromJson(Files.readString(work.resolve("policy.json")))
                        .actions())
                .contains("lambda:UpdateFunctionConfiguration");
        assertThat(Files.readString(work.resolve("plan.json"))).contains("orders");

        // apply.jsh writes result.json and journal.txt after the apply: one it cannot write stops it before any change.
        Path blocked = Files.createDirectory(work.resolve("result.json"));
        Run refused = jshellRefuses(
                "apply.jsh",
                "apply.jsh failed: The output file " + blocked.toRealPath() + " is a directory, not a file:"
                        + " apply.jsh writes result.json and journal.txt (which names the journal for rollback.jsh) to"
                        + " the working directory after the apply; run it in a directory where it can write both"
                        + " files. Nothing was changed.");
        assertThat(lambdaFunctions()).as("the refused apply changes nothing").isEqualTo(before);
        assertThat(work.resolve("journals")).as("no apply journal").doesNotExist();
        Files.delete(blocked);

        Run apply = jshell("apply.jsh");
        assertThat(apply.exitStatus()).as(apply.output()).isZero();
        assertThat(apply.output()).contains("Apply succeeded");
        assertThat(Path.of(Files.readString(work.resolve("journal.txt")))).isRegularFile();
        Map<String, String> applied = lambdaFunctions();
        assertThat(applied)
                .hasSameSizeAs(before)
                .allSatisfy((name, config) -> assertThat(config)
                        .contains("cloudaeye-logs-agent")
                        .contains("CLOUDAEYE_LOGS_ENDPOINT")
                        .contains("STAGE=demo"));

        Path rollbackBlocked = Files.createDirectory(work.resolve("rollback-journal.txt"));
        Run rollbackRefused = jshellRefuses(
                "rollback.jsh",
                "rollback.jsh failed: The output file " + rollbackBlocked.toRealPath() + " is a directory,"
                        + " not a file: rollback.jsh writes rollback-journal.txt (which names the rollback's journal)"
                        + " to the working directory after the rollback; run it in a directory where it can write that"
                        + " file. Nothing was changed.");
        assertThat(lambdaFunctions()).as("the refused rollback changes nothing").isEqualTo(applied);
        Files.delete(rollbackBlocked);

        Run rollback = jshell("rollback.jsh");
        assertThat(rollback.exitStatus()).as(rollback.output()).isZero();
        assertThat(lambdaFunctions()).isEqualTo(before);

        assertThat(List.of(plan, refused, apply, rollbackRefused, rollback))
                .allSatisfy(run -> assertThat(run.output()).doesNotContain(TOKEN));
        assertNoFileHoldsTheToken();
    }

    @Test
    void ecs_planApplyUninstall_addsTheRouterThenRemovesIt() throws IOException {
        SampleEcsServices.create(Moto.endpoint(), Moto.REGION, Moto.credentials());
        env.put("CLOUDAEYE_ECS_CLUSTER", SampleEcsServices.CLUSTER);
        env.put("CLOUDAEYE_ECS_WAIT_MINUTES", "0");

        Run plan = jshell("ecs-plan.jsh");
        assertThat(plan.exitStatus()).as(plan.output()).isZero();
        assertThat(PolicyDocument.fromJson(Files.readString(work.resolve("policy.json")))
                        .actions())
                .contains("ecs:RegisterTaskDefinition", "ecs:UpdateService");

        Run apply = jshell("apply.jsh");
        assertThat(apply.exitStatus()).as(apply.output()).isZero();
        assertThat(serviceContainers())
                .hasSize(3)
                .allSatisfy((service, containers) -> assertThat(containers)
                        .as(service)
                        .containsKey(LogRouter.DEFAULT_NAME)
                        .containsValue(LogDriver.AWSFIRELENS));

        env.put("CLOUDAEYE_APPLY", "yes");
        // ecs-uninstall.jsh writes journal.txt after the apply: one it cannot write stops it before any change.
        Files.delete(work.resolve("journal.txt"));
        Path blocked = Files.createDirectory(work.resolve("journal.txt"));
        Run refused = jshellRefuses(
                "ecs-uninstall.jsh",
                "ecs-uninstall.jsh failed: The output file " + blocked.toRealPath() + " is a directory, not"
                        + " a file: ecs-uninstall.jsh writes journal.txt (which names the journal for rollback.jsh) to"
                        + " the working directory after the apply; run it in a directory where it can write that file."
                        + " Nothing was changed.");
        assertThat(serviceContainers())
                .as("the refused uninstall changes nothing")
                .allSatisfy((service, containers) -> assertThat(containers).containsKey(LogRouter.DEFAULT_NAME));
        Files.delete(blocked);

        Run uninstall = jshell("ecs-uninstall.jsh");
        assertThat(uninstall.exitStatus()).as(uninstall.output()).isZero();
        assertThat(serviceContainers())
                .hasSize(3)
                .allSatisfy((service, containers) -> assertThat(containers)
                        .as(service)
                        .doesNotContainKey(LogRouter.DEFAULT_NAME)
                        .containsOnly(Map.entry(service.startsWith("web") ? "web" : "worker", LogDriver.AWSLOGS)));

        assertThat(List.of(plan, apply, refused, uninstall))
                .allSatisfy(run -> assertThat(run.output()).doesNotContain(TOKEN));
        assertNoFileHoldsTheToken();
    }

    @Test
    void eks_planApplyUninstall_enablesControlPlaneLoggingThenTurnsItOff() {
        SampleEksCluster.create(Moto.endpoint(), Moto.REGION, Moto.credentials());
        env.put("CLOUDAEYE_EKS_CLUSTER", SampleEksCluster.CLUSTER);
        env.put("CLOUDAEYE_EKS_LOG_TYPES", "api,audit");
        env.put("CLOUDAEYE_ACCOUNT_ID", "111122223333");
        env.put("CLOUDAEYE_EXTERNAL_ID", "jshell-it-external-id");

        Run plan = jshell("eks-plan.jsh");
        assertThat(plan.exitStatus()).as(plan.output()).isZero();
        assertThat(plan.output()).contains("CloudAEyeServiceAccountRole");
        assertThat(enabledLogTypes()).isEmpty();

        Run apply = jshell("apply.jsh");
        assertThat(apply.exitStatus()).as(apply.output()).isZero();
        assertThat(enabledLogTypes()).containsExactlyInAnyOrder("api", "audit");

        env.put("CLOUDAEYE_APPLY", "yes");
        Run uninstall = jshell("eks-uninstall.jsh");
        assertThat(uninstall.exitStatus()).as(uninstall.output()).isZero();
        assertThat(enabledLogTypes()).isEmpty();

        assertThat(List.of(plan, apply, uninstall))
                .allSatisfy(run -> assertThat(run.output()).doesNotContain(TOKEN));
    }

    /**
     * The message an operator reads when apply.jsh finds no plan: the path it looked for, the variable that sets it,
     * and the scripts that save one.
     */
    static String noPlanMessage(Path plan) {
        return "apply.jsh failed: The plan file " + plan + " does not exist: save a plan first with lambda-plan.jsh,"
                + " ecs-plan.jsh or eks-plan.jsh (or an *-uninstall.jsh script), which write plan.json to the"
                + " directory they run in, and run apply.jsh there, or set CLOUDAEYE_PLAN to a saved plan's path"
                + " (default plan.json in the working directory). Nothing was changed.";
    }

    @Test
    void apply_withoutAPlanFile_namesThePathItsVariableAndThePlanScripts_changesNothingAndExits1() throws IOException {
        jshellRefuses("apply.jsh", noPlanMessage(work.toRealPath().resolve("plan.json")));
        assertThat(work).as("no journal, result or journal.txt").isEmptyDirectory();

        Path elsewhere = work.toRealPath().resolve("reviewed").resolve("install-plan.json");
        env.put("CLOUDAEYE_PLAN", elsewhere.toString());
        jshellRefuses("apply.jsh", noPlanMessage(elsewhere));
        assertThat(work).isEmptyDirectory();
    }

    @Test
    void apply_withAPlanFileThatIsNotASavedPlan_namesTheFileAndTheFix_changesNothingAndExits1() throws IOException {
        Path plan = work.toRealPath().resolve("plan.json");
        for (String notAPlan : List.of("{\"kind\": \"INSTALL\", \"changes\": [", "{}", "<html>Moved</html>")) {
            Files.writeString(plan, notAPlan);
            Run refused =
                    jshellRefuses("apply.jsh", "apply.jsh failed: The plan file " + plan + " is not a saved plan (");
            assertThat(refused.output())
                    .as("what is wrong with the JSON, and the fix")
                    .contains("Not a valid Plan document: ")
                    .contains("save it again with the *-plan.jsh or *-uninstall.jsh script that made it, and do not"
                            + " edit it by hand. Nothing was changed.");
            try (Stream<Path> files = Files.list(work)) {
                assertThat(files).as("no journal, result or journal.txt").containsExactly(plan);
            }
        }
    }

    /** The rest of rollback.jsh's message when it finds no journal: where journals are and which variable names one. */
    private static final String JOURNALS =
            "(the apply printed it; journals are kept in CLOUDAEYE_JOURNAL_DIR, default ~/.cloudaeye/journals)";

    @Test
    void rollback_withoutJournalTxtOrWithAMissingJournal_namesThePathAndTheVariable_changesNothingAndExits1()
            throws IOException {
        Path dir = work.toRealPath();
        jshellRefuses(
                "rollback.jsh",
                "rollback.jsh failed: The file " + dir.resolve("journal.txt")
                        + " naming the journal to roll back does not exist: run rollback.jsh in the directory where"
                        + " apply.jsh (or an *-uninstall.jsh script with CLOUDAEYE_APPLY=yes) wrote journal.txt, or"
                        + " set CLOUDAEYE_JOURNAL to the journal's path " + JOURNALS + ". Nothing was changed.");
        assertThat(work).isEmptyDirectory();

        Path gone = dir.resolve("journals").resolve("2026-01-01T00-00-00Z-install.jsonl");
        Files.writeString(work.resolve("journal.txt"), gone + "\n");
        jshellRefuses(
                "rollback.jsh",
                "rollback.jsh failed: The journal " + gone + ", which " + dir.resolve("journal.txt")
                        + " names, does not exist: set CLOUDAEYE_JOURNAL to the journal's path " + JOURNALS
                        + ". Nothing was changed.");

        Path missing = dir.resolve("other.jsonl");
        env.put("CLOUDAEYE_JOURNAL", missing.toString());
        jshellRefuses(
                "rollback.jsh",
                "rollback.jsh failed: The journal " + missing
                        + " (CLOUDAEYE_JOURNAL) does not exist: set CLOUDAEYE_JOURNAL to the journal's path "
                        + JOURNALS + ", or leave it unset to roll back the apply that journal.txt names. Nothing was"
                        + " changed.");
        try (Stream<Path> files = Files.list(work)) {
            assertThat(files.toList()).as("no rollback journal").containsExactly(work.resolve("journal.txt"));
        }
    }

    @Test
    void fleetRollback_whenTheJournalDirectoryDoesNotExist_namesItAndItsVariable_changesNothingAndExits1()
            throws IOException {
        Path missing = work.toRealPath().resolve("runs").resolve("no-such-run");
        env.put("CLOUDAEYE_LAYER_X86_64", "arn:aws:lambda:us-east-1:{account}:layer:cloudaeye-x86:1");
        env.put("CLOUDAEYE_ACCOUNTS", "111111111111");
        env.put("CLOUDAEYE_FLEET_ROLLBACK", "yes");
        env.put("CLOUDAEYE_APPLY", "yes");
        env.put("CLOUDAEYE_JOURNAL_DIR", missing.toString());

        jshellRefuses(
                "fleet.jsh",
                "fleet.jsh failed: The journal directory " + missing
                        + " (CLOUDAEYE_JOURNAL_DIR) does not exist: set CLOUDAEYE_JOURNAL_DIR to the directory the run"
                        + " to roll back wrote its journals to, or CLOUDAEYE_JOURNAL_BUCKET and"
                        + " CLOUDAEYE_JOURNAL_PREFIX when it kept them in S3. Nothing was changed.");
        assertThat(work).isEmptyDirectory();
    }

    @Test
    void eksPlanAndUninstall_withAKubeconfigThatDoesNotExist_nameItAndItsVariable_andExit1() throws IOException {
        SampleEksCluster.create(Moto.endpoint(), Moto.REGION, Moto.credentials());
        Path missing = work.toRealPath().resolve("kube").resolve("config");
        env.put("CLOUDAEYE_EKS_CLUSTER", SampleEksCluster.CLUSTER);
        env.put("CLOUDAEYE_EKS_DAEMONSET", "yes");
        env.put("CLOUDAEYE_KUBECONFIG", missing.toString());
        env.put("CLOUDAEYE_APPLY", "yes");

        for (String script : List.of("eks-plan.jsh", "eks-uninstall.jsh")) {
            jshellRefuses(
                    script,
                    script + " failed: The kubeconfig " + missing + " (CLOUDAEYE_KUBECONFIG) does not exist:"
                            + " set CLOUDAEYE_KUBECONFIG to a kubeconfig file this user can read, or leave it unset to"
                            + " reach the cluster with an EKS token made from the AWS credentials. Nothing was"
                            + " changed.");
        }
        assertThat(enabledLogTypes()).isEmpty();
        assertThat(work).isEmptyDirectory();
    }

    /**
     * The other tests run the README's command (local execution); jshell's default remote execution, which the
     * scripts support as well, must give the same exit statuses: {@code /exit status} ends jshell itself there too.
     */
    @Test
    void lambdaPlan_inJshellsDefaultRemoteExecution_writesThePlanAndExitsWithTheScriptsStatus() throws IOException {
        SampleLambdaFunctions layers = SampleLambdaFunctions.create(Moto.endpoint(), Moto.REGION, Moto.credentials());
        env.put("CLOUDAEYE_LAYER_X86_64", layers.x86Layer());
        env.put("CLOUDAEYE_LAYER_ARM64", layers.armLayer());

        Run refused = Jshell.run(work, env, "apply.jsh", Execution.REMOTE);
        assertThat(refused.exitStatus()).as(refused.output()).isEqualTo(1);
        assertThat(refused.output()).contains(noPlanMessage(work.toRealPath().resolve("plan.json")));

        Run plan = Jshell.run(work, env, "lambda-plan.jsh", Execution.REMOTE);
        assertThat(plan.exitStatus()).as(plan.output()).isZero();
        assertThat(PolicyDocument.fromJson(Files.readString(work.resolve("policy.json")))
                        .actions())
                .contains("lambda:UpdateFunctionConfiguration");
        assertThat(Files.readString(work.resolve("plan.json"))).contains("orders");
        assertThat(List.of(refused, plan))
                .allSatisfy(run -> assertThat(run.output()).doesNotContain(TOKEN));
    }

    /** Plans, policies, results and journals the scripts wrote never hold the token. */
    private void assertNoFileHoldsTheToken() throws IOException {
        try (Stream<Path> files = Files.walk(work)) {
            List<Path> written = files.filter(Files::isRegularFile).collect(Collectors.toList());
            assertThat(written).extracting(f -> f.getFileName().toString()).contains("plan.json", "result.json");
            for (Path file : written) {
                assertThat(Files.readString(file)).as(file.toString()).doesNotContain(TOKEN);
            }
        }
    }

    /** Runs one script from {@code examples/jshell} in the working directory, with only {@link #env} set. */
    private Run jshell(String script) {
        return Jshell.run(work, env, script);
    }

    /**
     * Runs one script as {@link #jshell(String)} does, which must refuse: it exits with status 1, its output holding
     * {@code message}.
     */
    private Run jshellRefuses(String script, String message) {
        Run run = jshell(script);
        assertThat(run.exitStatus()).as(run.output()).isEqualTo(1);
        assertThat(run.output()).contains(message);
        return run;
    }

    /** Every function's layers (in order) and environment, as one comparable string per function name. */
    private static Map<String, String> lambdaFunctions() {
        return lambdaFunctions(Moto.credentials());
    }

    private static Map<String, String> lambdaFunctions(
            software.amazon.awssdk.auth.credentials.AwsCredentialsProvider credentials) {
        try (LambdaClient lambda = LambdaClient.builder()
                .endpointOverride(Moto.endpoint())
                .region(Moto.REGION)
                .credentialsProvider(credentials)
                .build()) {
            return lambda.listFunctions().functions().stream()
                    .collect(Collectors.toMap(
                            FunctionConfiguration::functionName,
                            f -> f.layers().stream()
                                            .map(Layer::arn)
                                            .collect(Collectors.joining(",", "layers=[", "] env="))
                                    + new TreeMap<>(
                                            f.environment() == null
                                                    ? Map.of()
                                                    : f.environment().variables()),
                            (a, b) -> a,
                            TreeMap::new));
        }
    }

    /** The sample EKS cluster's enabled control-plane log types, by their EKS names. */
    private static List<String> enabledLogTypes() {
        try (EksClient eks = EksClient.builder()
                .endpointOverride(Moto.endpoint())
                .region(Moto.REGION)
                .credentialsProvider(Moto.credentials())
                .build()) {
            Logging logging = eks.describeCluster(r -> r.name(SampleEksCluster.CLUSTER))
                    .cluster()
                    .logging();
            return logging == null
                    ? List.of()
                    : logging.clusterLogging().stream()
                            .filter(setup -> Boolean.TRUE.equals(setup.enabled()))
                            .flatMap(setup -> setup.typesAsStrings().stream())
                            .collect(Collectors.toList());
        }
    }

    /** Per service of the sample cluster: its current task definition's containers and their log drivers. */
    private static Map<String, Map<String, LogDriver>> serviceContainers() {
        try (EcsClient ecs = EcsClient.builder()
                .endpointOverride(Moto.endpoint())
                .region(Moto.REGION)
                .credentialsProvider(Moto.credentials())
                .build()) {
            Map<String, Map<String, LogDriver>> out = new TreeMap<>();
            ecs.describeServices(r -> r.cluster(SampleEcsServices.CLUSTER).services("web-a", "web-b", "worker"))
                    .services()
                    .forEach(s -> {
                        TaskDefinition td = ecs.describeTaskDefinition(r -> r.taskDefinition(s.taskDefinition()))
                                .taskDefinition();
                        out.put(
                                s.serviceName(),
                                td.containerDefinitions().stream()
                                        .collect(Collectors.toMap(
                                                ContainerDefinition::name,
                                                c -> c.logConfiguration() == null
                                                        ? LogDriver.UNKNOWN_TO_SDK_VERSION
                                                        : c.logConfiguration().logDriver())));
                    });
            return out;
        }
    }
}
