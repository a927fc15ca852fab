package com.cloudaeye.agent.lambda;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.AgentSettings;
import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.FleetInstaller;
import com.cloudaeye.agent.FleetPlan;
import com.cloudaeye.agent.FleetResult;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.S3JournalStore;
import com.cloudaeye.agent.Secret;
import com.cloudaeye.agent.testing.Moto;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.ResponseBytes;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.Architecture;
import software.amazon.awssdk.services.lambda.model.FunctionConfiguration;
import software.amazon.awssdk.services.lambda.model.Layer;
import software.amazon.awssdk.services.lambda.model.Runtime;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.S3Object;
import software.amazon.awssdk.services.sts.StsClient;
import software.amazon.awssdk.services.sts.auth.StsAssumeRoleCredentialsProvider;

/**
 * A fleet run (three accounts in moto, reached by {@code sts:AssumeRole}, times two regions) rolled back by another
 * worker from its S3 journals: every account-region side by side, one whose journal another worker still holds is
 * refused and reported while the others are rolled back, and a second rollback once that lease ended finishes it
 * without restoring anything twice; or planned first (read-only), reviewed, saved and applied as planned.
 */
class FleetRollbackIT {
    private static final List<String> ACCOUNTS = List.of("111111111111", "222222222222", "333333333333");
    private static final List<Region> REGIONS = List.of(Region.US_EAST_1, Region.EU_WEST_1);
    private static final List<String> FUNCTIONS = List.of("orders", "payments");
    private static final String HELD = "222222222222/eu-west-1";

    private final String bucket = "fleet-rollbacks-" + System.nanoTime();
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final Map<String, LambdaClient> lambdas = new LinkedHashMap<>();
    private final Map<String, String> layers = new LinkedHashMap<>();
    private S3Client s3;

    @BeforeEach
    void createFleet() {
        Moto.reset();
        StsClient sts = Moto.sts();
        closeables.add(sts);
        for (String account : ACCOUNTS) {
            StsAssumeRoleCredentialsProvider admin = Moto.adminOf(sts, account);
            closeables.add(admin);
            try (LambdaFixtures iam = new LambdaFixtures(admin)) {
                for (Region region : REGIONS) {
                    LambdaClient lambda = LambdaClient.builder()
                            .endpointOverride(Moto.endpoint())
                            .region(region)
                            .credentialsProvider(admin)
                            .build();
                    closeables.add(lambda);
                    String at = account + "/" + region.id();
                    lambdas.put(at, lambda);
                    layers.put(
                            at,
                            lambda.publishLayerVersion(r -> r.layerName("cloudaeye-x86")
                                            .content(c -> c.zipFile(LambdaFixtures.zip()))
                                            .compatibleArchitectures(Architecture.X86_64))
                                    .layerVersionArn());
                    FUNCTIONS.forEach(name -> lambda.createFunction(r -> r.functionName(name)
                            .runtime(Runtime.PYTHON3_12)
                            .role(iam.roleArn)
                            .handler("index.handler")
                            .architectures(Architecture.X86_64)
                            .environment(e -> e.variables(Map.of("STAGE", "prod")))
                            .code(c -> c.zipFile(LambdaFixtures.zip()))));
                }
            }
        }
        s3 = Moto.s3();
        closeables.add(s3);
        s3.createBucket(b -> b.bucket(bucket));
    }

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : closeables) {
            c.close();
        }
    }

    @Test
    void rollback_byAnotherWorker_rollsBackEveryAccountRegion_reportsTheOneStillLeased_andFinishesItLater() {
        try (FleetInstaller workerA = fleet("worker-a")) {
            FleetResult installed = workerA.apply(workerA.plan());
            assertThat(installed.isSuccess()).as(installed.toString()).isTrue();
        }
        lambdas.forEach((at, lambda) -> FUNCTIONS.forEach(name ->
                assertThat(layerArns(config(lambda, name))).as(at + " " + name).containsExactly(layers.get(at))));
        String heldKey = "runs/run-7/" + HELD + "/install.jsonl";
        leaseTo(heldKey, "worker-z", Instant.now().plusSeconds(600));

        try (FleetInstaller workerB = fleet("worker-b")) {
            FleetResult rolledBack = workerB.rollback();

            assertThat(rolledBack.results()).containsOnlyKeys(ACCOUNTS);
            rolledBack
                    .results()
                    .forEach((account, regions) -> regions.forEach((region, result) -> assertThat(result.status())
                            .as(account + "/" + region)
                            .isEqualTo(ApplyResult.Status.SUCCEEDED)));
            assertThat(rolledBack.results().get("222222222222")).containsOnlyKeys("us-east-1");
            assertThat(rolledBack.failures()).containsOnlyKeys("222222222222");
            assertThat(rolledBack.failures().get("222222222222").get("eu-west-1"))
                    .contains("is owned by worker worker-z")
                    .contains("Nothing was changed");
            assertThat(rolledBack.toString()).contains("222222222222  eu-west-1  failed: ");
            assertRolledBackExceptTheHeldAccountRegion();

            leaseTo(heldKey, "worker-z", Instant.now().minusSeconds(1)); // worker Z stopped: its lease ended
            FleetResult finished = workerB.rollback();

            assertThat(finished.failures()).as(finished.toString()).isEmpty();
            finished.results()
                    .forEach((account, regions) -> regions.forEach((region, result) -> assertThat(result.status())
                            .as(account + "/" + region + ": rolled back before, so only resumed")
                            .isEqualTo(
                                    (account + "/" + region).equals(HELD)
                                            ? ApplyResult.Status.SUCCEEDED
                                            : ApplyResult.Status.NOTHING_TO_DO)));
        }
        lambdas.forEach((at, lambda) -> FUNCTIONS.forEach(name -> {
            FunctionConfiguration now = config(lambda, name);
            assertThat(layerArns(now)).as(at + " " + name).isEmpty();
            assertThat(now.environment().variables()).as(at).isEqualTo(Map.of("STAGE", "prod"));
        }));
    }

    /**
     * The operator's review: another worker plans the fleet's rollback from the S3 journals (every change in every
     * account-region, each account's policy naming only its own functions) and nothing changes; applying that plan,
     * part of it as planned and the rest from its saved JSON, rolls every account-region back with journals, after
     * which the rollback plan is empty and the install plan shows the work again.
     */
    @Test
    void planRollback_showsEveryChangeAndEachAccountsPolicy_changesNothing_andApplyingItRollsBack() {
        try (FleetInstaller workerA = fleet("worker-a")) {
            FleetResult installed = workerA.apply(workerA.plan());
            assertThat(installed.isSuccess()).as(installed.toString()).isTrue();
        }

        List<String> journals = journalKeys();
        assertThat(journals).hasSize(6);

        try (FleetInstaller workerB = fleet("worker-b")) {
            FleetPlan plan = workerB.planRollback();

            assertThat(plan.kind()).isEqualTo(Plan.Kind.ROLLBACK);
            assertThat(plan.failures()).as(plan.toString()).isEmpty();
            assertThat(plan.plans()).containsOnlyKeys(ACCOUNTS);
            plan.plans().forEach((account, regions) -> {
                assertThat(regions).containsOnlyKeys("eu-west-1", "us-east-1");
                regions.forEach((region, p) -> assertThat(p.mutations())
                        .as(account + "/" + region)
                        .extracting(Change::resourceId)
                        .containsExactlyInAnyOrder(
                                functionArn(account, region, "orders"), functionArn(account, region, "payments")));
            });
            assertThat(plan.toString())
                    .startsWith("Fleet rollback plan: 6 account-regions planned, 0 failed")
                    .contains("111111111111  us-east-1  2 ");
            assertThat(plan.requiredPolicies()).containsOnlyKeys(ACCOUNTS);
            for (String account : ACCOUNTS) {
                String policy = plan.requiredPolicy(account).toJson();
                assertThat(policy).contains("lambda:UpdateFunctionConfiguration");
                REGIONS.forEach(region -> FUNCTIONS.forEach(
                        name -> assertThat(policy).contains(functionArn(account, region.id(), name))));
                ACCOUNTS.stream()
                        .filter(other -> !other.equals(account))
                        .forEach(other -> assertThat(policy)
                                .as("least privilege: no other account's function")
                                .doesNotContain(":" + other + ":function:"));
            }
            assertInstalledEverywhere("planning the rollback changed nothing");
            assertThat(journalKeys()).as("planning writes no journal").isEqualTo(journals);

            String first = ACCOUNTS.get(0);
            FleetPlan asPlanned = FleetPlan.builder()
                    .from(plan)
                    .plans(new TreeMap<>(Map.of(first, plan.plans().get(first))))
                    .build();
            SortedMap<String, SortedMap<String, Plan>> rest = new TreeMap<>(plan.plans());
            rest.remove(first);
            FleetPlan saved = FleetPlan.fromJson(
                    FleetPlan.builder().from(plan).plans(rest).build().toJson());
            assertThat(saved.kind()).isEqualTo(Plan.Kind.ROLLBACK);
            assertThat(FleetPlan.fromJson(plan.toJson())).isEqualTo(plan);

            List<FleetResult> rolledBack = List.of(workerB.apply(asPlanned), workerB.apply(saved));

            rolledBack.forEach(result -> {
                assertThat(result.failures()).as(result.toString()).isEmpty();
                result.results()
                        .forEach((account, regions) -> regions.forEach((region, r) -> {
                            assertThat(r.status()).as(account + "/" + region).isEqualTo(ApplyResult.Status.SUCCEEDED);
                            assertThat(r.journalLocation())
                                    .as("journaled: " + account + "/" + region)
                                    .isPresent();
                        }));
            });
            assertThat(journalKeys())
                    .as("one rollback journal per account-region")
                    .hasSize(12);
            assertThat(rolledBack.get(0).results()).containsOnlyKeys(first);
            assertThat(rolledBack.get(1).results()).containsOnlyKeys(ACCOUNTS.subList(1, ACCOUNTS.size()));
            lambdas.forEach((at, lambda) -> FUNCTIONS.forEach(name -> {
                FunctionConfiguration now = config(lambda, name);
                assertThat(layerArns(now)).as(at + " " + name).isEmpty();
                assertThat(now.environment().variables()).as(at).isEqualTo(Map.of("STAGE", "prod"));
            }));

            FleetPlan again = workerB.planRollback();
            assertThat(again.isEmpty()).as(again.toString()).isTrue();
            assertThat(again.toString()).contains("(rolled back before)");
            FleetPlan install = workerB.plan();
            assertThat(install.counts()).as(install.toString()).containsEntry(ChangeAction.UPDATE, 12L);
        }
    }

    /**
     * A saved fleet rollback plan applied while one account-region's run is still leased by its worker (it may still
     * be applying there): that account-region is refused and reported, nothing changes there, and the others roll back;
     * once the lease ended, its part of the same plan applies.
     */
    @Test
    void appliedRollbackPlan_refusesTheAccountRegionWhoseJournalIsLeased_rollsBackTheOthers_andItLater() {
        try (FleetInstaller workerA = fleet("worker-a")) {
            FleetResult installed = workerA.apply(workerA.plan());
            assertThat(installed.isSuccess()).as(installed.toString()).isTrue();
        }
        String heldKey = "runs/run-7/" + HELD + "/install.jsonl";

        try (FleetInstaller workerB = fleet("worker-b")) {
            FleetPlan saved = FleetPlan.fromJson(workerB.planRollback().toJson());
            assertThat(saved.failures()).as(saved.toString()).isEmpty();
            leaseTo(heldKey, "worker-z", Instant.now().plusSeconds(600)); // worker Z acts on that run meanwhile

            FleetResult rolledBack = workerB.apply(saved);

            assertThat(rolledBack.failures()).containsOnlyKeys("222222222222");
            assertThat(rolledBack.failures().get("222222222222")).containsOnlyKeys("eu-west-1");
            assertThat(rolledBack.failures().get("222222222222").get("eu-west-1"))
                    .contains("is owned by worker worker-z")
                    .contains("Nothing was changed");
            rolledBack
                    .results()
                    .forEach((account, regions) -> regions.forEach((region, result) -> assertThat(result.status())
                            .as(account + "/" + region)
                            .isEqualTo(ApplyResult.Status.SUCCEEDED)));
            assertRolledBackExceptTheHeldAccountRegion();

            leaseTo(heldKey, "worker-z", Instant.now().minusSeconds(1)); // worker Z stopped: its lease ended
            FleetPlan heldPart = FleetPlan.builder()
                    .from(saved)
                    .plans(new TreeMap<>(Map.of(
                            "222222222222",
                            new TreeMap<>(Map.of(
                                    "eu-west-1",
                                    saved.plans().get("222222222222").get("eu-west-1"))))))
                    .build();
            FleetResult later = workerB.apply(heldPart);

            assertThat(later.failures()).as(later.toString()).isEmpty();
            assertThat(later.results().get("222222222222").get("eu-west-1").status())
                    .isEqualTo(ApplyResult.Status.SUCCEEDED);
        }
        lambdas.forEach((at, lambda) -> FUNCTIONS.forEach(name -> {
            FunctionConfiguration now = config(lambda, name);
            assertThat(layerArns(now)).as(at + " " + name).isEmpty();
            assertThat(now.environment().variables()).as(at).isEqualTo(Map.of("STAGE", "prod"));
        }));
    }

    /** Asserts every account-region rolled back (its functions as before the install) but {@link #HELD}. */
    private void assertRolledBackExceptTheHeldAccountRegion() {
        lambdas.forEach((at, lambda) -> FUNCTIONS.forEach(name -> {
            FunctionConfiguration now = config(lambda, name);
            if (at.equals(HELD)) {
                assertThat(layerArns(now)).as("refused: " + at).containsExactly(layers.get(at));
            } else {
                assertThat(layerArns(now)).as(at + " " + name).isEmpty();
                assertThat(now.environment().variables()).as(at).isEqualTo(Map.of("STAGE", "prod"));
            }
        }));
    }

    private List<String> journalKeys() {
        return s3.listObjectsV2Paginator(r -> r.bucket(bucket).prefix("runs/run-7/")).contents().stream()
                .map(S3Object::key)
                .sorted()
                .toList();
    }

    private void assertInstalledEverywhere(String why) {
        lambdas.forEach((at, lambda) -> FUNCTIONS.forEach(name -> {
            FunctionConfiguration now = config(lambda, name);
            assertThat(layerArns(now)).as(why + ": " + at + " " + name).containsExactly(layers.get(at));
            assertThat(now.environment().variables())
                    .as(why + ": " + at)
                    .containsEntry("STAGE", "prod")
                    .containsKey(AgentSettings.ENDPOINT_VARIABLE);
        }));
    }

    private static String functionArn(String account, String region, String name) {
        return "arn:aws:lambda:" + region + ":" + account + ":function:" + name;
    }

    private FleetInstaller fleet(String owner) {
        return FleetInstaller.builder()
                .accounts(ACCOUNTS.toArray(String[]::new))
                .regions(REGIONS.toArray(Region[]::new))
                .roleName("CloudAEyeInstaller")
                .sessionName("fleet-rollback-it")
                .credentialsProvider(Moto.credentials())
                .endpointOverride(Moto.endpoint())
                .agent(a -> a.logsEndpoint(LambdaFixtures.ENDPOINT).apiToken(Secret.of(LambdaFixtures.TOKEN)))
                .target((account, region) -> LambdaTarget.builder()
                        .functions("*")
                        .layer(Architecture.X86_64, layers.get(account + "/" + region.id()))
                        .build())
                .journalStore(S3JournalStore.builder()
                        .client(s3)
                        .bucket(bucket)
                        .prefix("runs/run-7/")
                        .owner(owner)
                        .lease(Duration.ofSeconds(30))
                        .build())
                .maxParallel(4)
                .build();
    }

    /** Puts a journal object back with another worker's lease, as that worker's takeover would. */
    private void leaseTo(String key, String owner, Instant expires) {
        ResponseBytes<GetObjectResponse> object =
                s3.getObjectAsBytes(r -> r.bucket(bucket).key(key));
        s3.putObject(
                r -> r.bucket(bucket)
                        .key(key)
                        .metadata(Map.of(
                                "cloudaeye-lease-owner",
                                owner,
                                "cloudaeye-lease-expires",
                                Long.toString(expires.toEpochMilli()))),
                RequestBody.fromBytes(object.asByteArray()));
    }

    private static FunctionConfiguration config(LambdaClient lambda, String name) {
        return lambda.getFunction(r -> r.functionName(name)).configuration();
    }

    private static List<String> layerArns(FunctionConfiguration config) {
        return config.layers().stream().map(Layer::arn).toList();
    }
}
