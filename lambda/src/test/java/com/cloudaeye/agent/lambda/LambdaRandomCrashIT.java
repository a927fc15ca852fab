package com.cloudaeye.agent.lambda;

import com.cloudaeye.agent.lambda.crash.ApplyInChildJvm;
import com.cloudaeye.agent.testing.CrashHarness;
import com.cloudaeye.agent.testing.Moto;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import software.amazon.awssdk.services.lambda.model.Architecture;
import software.amazon.awssdk.services.lambda.model.FunctionConfiguration;
import software.amazon.awssdk.services.lambda.model.Layer;
import software.amazon.awssdk.services.lambda.model.Runtime;

/**
 * {@link CrashHarness} for Lambda: 8 functions (two with a layer of the user's, the rest with a variable of theirs),
 * the apply killed at the seed's {@code UpdateFunctionConfiguration}, then resumed or rolled back.
 */
class LambdaRandomCrashIT {
    private static final int FUNCTIONS = 8;

    @TempDir
    Path work;

    private LambdaFixtures fixtures;
    private String layer;
    private final Map<String, FunctionConfiguration> originals = new LinkedHashMap<>();

    @AfterEach
    void close() {
        fixtures.close();
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource(CrashHarness.SEEDS)
    void killedAtARandomRequest_thenResumedOrRolledBack_keepsEveryInvariant(long seed) throws Exception {
        Moto.reset();
        fixtures = new LambdaFixtures();
        layer = fixtures.layer("cloudaeye-x86", Architecture.X86_64);
        String userLayer = fixtures.layer("user-layer", Architecture.X86_64);
        for (int i = 0; i < FUNCTIONS; i++) {
            String name = String.format("crash-%02d", i);
            FunctionConfiguration config = i % 4 == 0
                    ? fixtures.function(name, Runtime.PYTHON3_12, Architecture.X86_64, Map.of(), userLayer)
                    : fixtures.function(name, Runtime.PYTHON3_12, Architecture.X86_64, Map.of("STAGE", "s" + i));
            originals.put(config.functionArn(), config);
        }
        CrashHarness.run(seed, "lambda", "LambdaRandomCrashIT", Files.createDirectories(work), new Subject());
    }

    private final class Subject implements CrashHarness.Subject {
        @Override
        public Class<?> child() {
            return ApplyInChildJvm.class;
        }

        @Override
        public List<String> args(String mode, URI endpoint, Path journals, @Nullable Path journal) {
            return CrashHarness.childArgs(mode, endpoint, journals, journal, layer, "15");
        }

        @Override
        public Map<String, String> state(Path work) {
            Map<String, String> out = new LinkedHashMap<>();
            originals.forEach((arn, before) -> {
                FunctionConfiguration now = fixtures.config(before.functionName());
                List<String> installedLayers = new ArrayList<>(layers(before));
                installedLayers.add(layer);
                Map<String, String> installedEnv = new LinkedHashMap<>(variables(before));
                installedEnv.put(LambdaTarget.ENDPOINT_VARIABLE, ApplyInChildJvm.ENDPOINT);
                installedEnv.put(LambdaTarget.TOKEN_VARIABLE, ApplyInChildJvm.TOKEN);
                installedEnv.put(
                        LambdaTarget.INSTALLED_VARIABLES,
                        LambdaTarget.TOKEN_VARIABLE + "," + LambdaTarget.ENDPOINT_VARIABLE);
                String state;
                if (layers(now).equals(layers(before)) && variables(now).equals(variables(before))) {
                    state = CrashHarness.BEFORE;
                } else if (layers(now).equals(installedLayers) && variables(now).equals(installedEnv)) {
                    state = CrashHarness.INSTALLED;
                } else {
                    // Variable names only: the values hold the token.
                    state = "layers " + layers(now) + ", variables "
                            + variables(now).keySet();
                }
                out.put(arn, state);
            });
            return out;
        }

        @Override
        public int mutations() {
            return FUNCTIONS;
        }

        @Override
        public Set<String> onceAcrossRuns() {
            return Set.of("lambda:UpdateFunctionConfiguration");
        }

        @Override
        public List<String> secrets(Path work) {
            return List.of(ApplyInChildJvm.TOKEN);
        }
    }

    private static Map<String, String> variables(FunctionConfiguration c) {
        return c.environment() == null || c.environment().variables() == null
                ? Map.of()
                : c.environment().variables();
    }

    private static List<String> layers(FunctionConfiguration c) {
        return c.layers().stream().map(Layer::arn).toList();
    }
}
