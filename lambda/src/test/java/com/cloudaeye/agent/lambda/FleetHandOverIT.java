package com.cloudaeye.agent.lambda;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.FleetInstaller;
import com.cloudaeye.agent.FleetResult;
import com.cloudaeye.agent.Journal;
import com.cloudaeye.agent.JournalStore;
import com.cloudaeye.agent.S3JournalStore;
import com.cloudaeye.agent.lambda.crash.FleetShardInChildJvm;
import com.cloudaeye.agent.testing.ChildJvm;
import com.cloudaeye.agent.testing.Moto;
import com.cloudaeye.agent.testing.ThrottlingProxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.ResponseBytes;
import software.amazon.awssdk.services.lambda.model.Architecture;
import software.amazon.awssdk.services.lambda.model.FunctionConfiguration;
import software.amazon.awssdk.services.lambda.model.Layer;
import software.amazon.awssdk.services.lambda.model.Runtime;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.sts.StsClient;
import software.amazon.awssdk.services.sts.auth.StsAssumeRoleCredentialsProvider;

/**
 * A fleet split by account, handed over between machines: a worker JVM applies a shard of two accounts with its
 * journals in S3 (moto) and is killed with {@code SIGKILL} half-way; a second worker that tries to resume while the
 * killed one's lease is live is refused and changes nothing; once the lease expired, a worker in a third JVM resumes
 * the shard from the S3 journals. Every function is updated exactly once across the JVMs (counted at the proxy) and
 * ends as planned; the journals never hold the token.
 */
class FleetHandOverIT {
    private static final List<String> ACCOUNTS = List.of("444444444444", "555555555555");
    private static final int FUNCTIONS = 10;
    private static final int KILL_AFTER = 4;
    private static final long LEASE_SECONDS = 60;

    @TempDir
    Path work;

    private final String bucket = "cloudaeye-runs-" + System.nanoTime();
    private final Map<String, LambdaFixtures> fixtures = new LinkedHashMap<>();
    private final Map<String, String> layers = new LinkedHashMap<>();
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private ThrottlingProxy proxy;
    private S3Client s3;

    @BeforeEach
    void createShard() {
        Moto.reset();
        StsClient sts = Moto.sts();
        closeables.add(sts);
        for (String account : ACCOUNTS) {
            StsAssumeRoleCredentialsProvider admin = Moto.adminOf(sts, account);
            closeables.add(admin);
            LambdaFixtures inAccount = new LambdaFixtures(admin);
            closeables.add(inAccount);
            fixtures.put(account, inAccount);
            layers.put(account, inAccount.layer("cloudaeye-x86", Architecture.X86_64));
            for (int i = 0; i < FUNCTIONS; i++) {
                inAccount.function(
                        String.format("shard-%02d", i), Runtime.PYTHON3_12, Architecture.X86_64, Map.of("STAGE", "s"));
            }
        }
        s3 = Moto.s3();
        closeables.add(s3);
        s3.createBucket(b -> b.bucket(bucket));
        proxy = ThrottlingProxy.builder()
                .target(Moto.endpoint())
                .unlimited()
                .latency(Duration.ofMillis(20))
                .start();
        closeables.add(proxy);
    }

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : closeables) {
            c.close();
        }
    }

    @Test
    void killedShard_isRefusedToASecondWorkerWhileLeased_andResumedInAnotherJvmOnceTheLeaseExpired() throws Exception {
        // Worker 1: applies the shard slowly, killed once the S3 journals record KILL_AFTER applied functions.
        Path log1 = work.resolve("worker-1.log");
        Process worker1 = ChildJvm.start(FleetShardInChildJvm.class, log1, args("apply", "2", "worker-1"));
        try {
            while (appliedInJournals() < KILL_AFTER) {
                assertThat(worker1.isAlive())
                        .as("worker 1 ended before it could be killed:\n" + Files.readString(log1))
                        .isTrue();
                Thread.sleep(50);
            }
        } finally {
            worker1.destroyForcibly();
        }
        assertThat(worker1.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(Files.readString(log1)).doesNotContain("RESULT");
        long updatesByWorker1 = proxy.requests("UpdateFunctionConfiguration");
        assertThat(updatesByWorker1).isGreaterThanOrEqualTo(KILL_AFTER).isLessThan((long) FUNCTIONS * ACCOUNTS.size());

        // Worker 2 (this JVM): the killed worker's lease is live, so it is refused and changes nothing.
        FleetResult refused;
        try (FleetInstaller worker2 =
                FleetShardInChildJvm.worker(args("resume", "15", "worker-2").toArray(String[]::new), s3, layers)) {
            refused = worker2.resume();
        }
        assertThat(refused.results()).as(refused.toString()).isEmpty();
        for (String account : ACCOUNTS) {
            assertThat(refused.failures().get(account).get("us-east-1"))
                    .as(refused.toString())
                    .contains("is owned by worker worker-1, whose lease runs until")
                    .contains("Nothing was changed");
        }
        assertThat(proxy.requests("UpdateFunctionConfiguration")).isEqualTo(updatesByWorker1);

        // Worker 3 (a new JVM), once the lease expired: finishes the shard from the S3 journals.
        while (Instant.now().toEpochMilli() <= latestLeaseEnd()) {
            Thread.sleep(200); // waits for the lease to end; nothing here measures time
        }
        Path log3 = work.resolve("worker-3.log");
        String output = ChildJvm.awaitSuccess(
                ChildJvm.start(FleetShardInChildJvm.class, log3, args("resume", "15", "worker-3")), log3, "resume");
        assertThat(output).doesNotContain("FAILURE");
        List<ChildJvm.Result> resumed = output.lines()
                .filter(l -> l.startsWith("RESULT"))
                .map(l -> ChildJvm.parse(l, "resume"))
                .toList();
        assertThat(resumed).as(output).hasSize(ACCOUNTS.size());
        assertThat(resumed)
                .allSatisfy(r ->
                        assertThat(r.failed() + r.unknown() + r.notAttempted()).isZero());

        assertThat(proxy.requests("UpdateFunctionConfiguration"))
                .as("one update per function across the three workers: nothing applied twice")
                .isEqualTo((long) FUNCTIONS * ACCOUNTS.size());
        for (String account : ACCOUNTS) {
            for (int i = 0; i < FUNCTIONS; i++) {
                FunctionConfiguration now = fixtures.get(account).config(String.format("shard-%02d", i));
                assertThat(now.layers().stream().map(Layer::arn)).containsExactly(layers.get(account));
                assertThat(now.environment().variables())
                        .containsEntry(LambdaTarget.TOKEN_VARIABLE, FleetShardInChildJvm.TOKEN)
                        .containsEntry(LambdaTarget.ENDPOINT_VARIABLE, FleetShardInChildJvm.ENDPOINT)
                        .containsEntry("STAGE", "s");
            }
            JournalStore store = journals(account);
            Journal journal = Journal.read(store, store.list().get(0));
            assertThat(store.list())
                    .as("one journal object per run and account-region")
                    .hasSize(1);
            assertThat(journal.applied()).hasSize(FUNCTIONS);
            assertThat(journal.unfinished()).isEmpty();
            assertThat(String.join("\n", store.read(journal.location())))
                    .doesNotContain(FleetShardInChildJvm.TOKEN)
                    .doesNotContain("\"s\"");
        }
        try (FleetInstaller check =
                FleetShardInChildJvm.worker(args("resume", "15", "checker").toArray(String[]::new), s3, layers)) {
            assertThat(check.plan().isEmpty())
                    .as("the final state is the plan's")
                    .isTrue();
        }
    }

    private List<String> args(String mode, String rate, String owner) {
        List<String> args = new ArrayList<>(List.of(
                mode,
                proxy.endpoint().toString(),
                bucket,
                Long.toString(LEASE_SECONDS),
                rate,
                owner,
                Moto.endpoint().toString()));
        layers.forEach((account, layer) -> args.add(account + "=" + layer));
        return args;
    }

    private JournalStore journals(String account) {
        return S3JournalStore.builder()
                .client(s3)
                .bucket(bucket)
                .prefix(FleetShardInChildJvm.PREFIX)
                .owner("test-reader")
                .build()
                .below(account)
                .below("us-east-1");
    }

    private String key(String account) {
        return FleetShardInChildJvm.PREFIX + account + "/us-east-1/install.jsonl";
    }

    private int appliedInJournals() {
        int applied = 0;
        for (String account : ACCOUNTS) {
            ResponseBytes<GetObjectResponse> object = object(account);
            if (object != null) {
                applied += (int) object.asUtf8String()
                        .lines()
                        .filter(l -> l.contains("\"event\":\"APPLIED\""))
                        .count();
            }
        }
        return applied;
    }

    private long latestLeaseEnd() {
        long latest = 0;
        for (String account : ACCOUNTS) {
            ResponseBytes<GetObjectResponse> object = object(account);
            if (object != null) {
                latest = Math.max(
                        latest, Long.parseLong(object.response().metadata().get("cloudaeye-lease-expires")));
            }
        }
        return latest;
    }

    private ResponseBytes<GetObjectResponse> object(String account) {
        try {
            return s3.getObjectAsBytes(r -> r.bucket(bucket).key(key(account)));
        } catch (NoSuchKeyException e) {
            return null; // the worker has not created it yet
        }
    }
}
