package com.cloudaeye.agent.lambda;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.Journal;
import com.cloudaeye.agent.lambda.crash.ApplyInChildJvm;
import com.cloudaeye.agent.testing.ChildJvm;
import com.cloudaeye.agent.testing.Moto;
import com.cloudaeye.agent.testing.ThrottlingProxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.lambda.model.Architecture;
import software.amazon.awssdk.services.lambda.model.FunctionConfiguration;
import software.amazon.awssdk.services.lambda.model.Layer;
import software.amazon.awssdk.services.lambda.model.Runtime;

/**
 * A killed installer loses nothing: 40 functions in moto, the apply runs in a child JVM behind a {@link
 * ThrottlingProxy} (latency and asynchronous updates) and is killed with {@code SIGKILL} after K outcomes are
 * journaled; a new JVM then resumes (every function installed exactly once) or rolls back (every function as it was).
 * The proxy lives in this JVM, so its request counts span both children.
 */
class CrashRecoveryIT {
    private static final int FUNCTIONS = 40;
    private static final int KILL_AFTER = 10;

    @TempDir
    Path work;

    private LambdaFixtures fixtures;
    private ThrottlingProxy proxy;
    private String layer;
    private String userLayer;
    private final Map<String, FunctionConfiguration> originals = new LinkedHashMap<>();

    @BeforeEach
    void createFunctions() {
        Moto.reset();
        fixtures = new LambdaFixtures();
        layer = fixtures.layer("cloudaeye-x86", Architecture.X86_64);
        userLayer = fixtures.layer("user-layer", Architecture.X86_64);
        for (int i = 0; i < FUNCTIONS; i++) {
            String name = String.format("crash-%02d", i);
            FunctionConfiguration config = i % 4 == 0
                    ? fixtures.function(name, Runtime.PYTHON3_12, Architecture.X86_64, Map.of(), userLayer)
                    : fixtures.function(name, Runtime.PYTHON3_12, Architecture.X86_64, Map.of("STAGE", "s" + i));
            originals.put(name, config);
        }
        proxy = ThrottlingProxy.builder()
                .target(Moto.endpoint())
                .unlimited()
                .latency(Duration.ofMillis(20))
                .propagationDelay(Duration.ofMillis(300))
                .start();
    }

    @AfterEach
    void close() {
        proxy.close();
        fixtures.close();
    }

    @Test
    void killedApply_resumedInANewJvm_installsEveryFunctionExactlyOnce() throws Exception {
        Path first = applyAndKill();
        Journal killed = Journal.read(first);
        assertThat(killed.applied()).hasSizeGreaterThanOrEqualTo(KILL_AFTER).hasSizeLessThan(FUNCTIONS);

        ChildJvm.Result resumed = run("resume", first);
        assertThat(resumed.status()).isEqualTo(ApplyResult.Status.SUCCEEDED);
        assertThat(resumed.failed()).as("failed").isZero();

        for (String name : originals.keySet()) {
            FunctionConfiguration now = fixtures.config(name);
            List<String> expectedLayers = new ArrayList<>(layerArns(originals.get(name)));
            expectedLayers.add(layer);
            assertThat(layerArns(now))
                    .as(name + " layers: ours once, the user's kept")
                    .isEqualTo(expectedLayers);
            Map<String, String> expectedEnv = new LinkedHashMap<>(variables(originals.get(name)));
            expectedEnv.put(LambdaTarget.ENDPOINT_VARIABLE, ApplyInChildJvm.ENDPOINT);
            expectedEnv.put(LambdaTarget.TOKEN_VARIABLE, ApplyInChildJvm.TOKEN);
            expectedEnv.put(
                    LambdaTarget.INSTALLED_VARIABLES,
                    LambdaTarget.TOKEN_VARIABLE + "," + LambdaTarget.ENDPOINT_VARIABLE);
            assertThat(variables(now)).as(name + " environment").isEqualTo(expectedEnv);
        }
        assertThat(proxy.requests("UpdateFunctionConfiguration"))
                .as("one update per function across both JVMs: nothing applied twice")
                .isEqualTo(FUNCTIONS);
        assertThat(proxy.conflicts()).isZero();

        // The resume's journal begins with the killed apply's lines: it records every function as applied, once.
        Journal resumedJournal = Journal.read(resumed.journalPath());
        List<String> applied = new ArrayList<>();
        resumedJournal.applied().forEach(c -> applied.add(c.resourceId()));
        assertThat(applied).hasSize(FUNCTIONS);
        killed.applied().forEach(c -> assertThat(applied).contains(c.resourceId()));
        assertThat(resumedJournal.unfinished()).isEmpty();
        assertThat(Files.readString(first) + Files.readString(resumedJournal.path()))
                .doesNotContain(ApplyInChildJvm.TOKEN)
                .doesNotContain("\"s1\"");

        // Resuming the finished journal again changes nothing.
        ChildJvm.Result again = run("resume", resumedJournal.path());
        assertThat(again.applied()).as("applied").isZero();
        assertThat(proxy.requests("UpdateFunctionConfiguration")).isEqualTo(FUNCTIONS);
    }

    @Test
    void killedApply_rolledBackInANewJvm_leavesEveryFunctionAsItWas() throws Exception {
        Path first = applyAndKill();
        long updatesBefore = proxy.requests("UpdateFunctionConfiguration");
        Journal killed = Journal.read(first);
        int touched = killed.applied().size() + killed.interrupted().size();

        ChildJvm.Result rolledBack = run("rollback", first);
        assertThat(rolledBack.status()).isIn(ApplyResult.Status.SUCCEEDED, ApplyResult.Status.NOTHING_TO_DO);
        assertThat(rolledBack.failed()).as("failed").isZero();

        for (Map.Entry<String, FunctionConfiguration> e : originals.entrySet()) {
            FunctionConfiguration now = fixtures.config(e.getKey());
            assertThat(layerArns(now)).as(e.getKey() + " layers").isEqualTo(layerArns(e.getValue()));
            assertThat(variables(now)).as(e.getKey() + " environment").isEqualTo(variables(e.getValue()));
        }
        assertThat(proxy.requests("UpdateFunctionConfiguration") - updatesBefore)
                .as("one restoring update per function the killed apply changed, none for the others")
                .isLessThanOrEqualTo(touched)
                .isEqualTo(updatesBefore);
    }

    private Path applyAndKill() throws Exception {
        return ChildJvm.applyAndKill(ApplyInChildJvm.class, work, this::args, KILL_AFTER);
    }

    private ChildJvm.Result run(String mode, Path journal) throws Exception {
        return ChildJvm.run(ApplyInChildJvm.class, work, this::args, mode, journal);
    }

    /** The child's arguments; the apply runs at a low rate, so that the kill lands half-way. */
    private List<String> args(String mode, Path journals, @Nullable Path journal) {
        String rate = mode.equals("apply") ? "4" : "15";
        List<String> args =
                new ArrayList<>(List.of(mode, proxy.endpoint().toString(), journals.toString(), layer, rate));
        if (journal != null) {
            args.add(journal.toString());
        }
        return args;
    }

    private static Map<String, String> variables(FunctionConfiguration c) {
        return c.environment() == null || c.environment().variables() == null
                ? Map.of()
                : c.environment().variables();
    }

    private static List<String> layerArns(FunctionConfiguration c) {
        return c.layers().stream().map(Layer::arn).toList();
    }
}
