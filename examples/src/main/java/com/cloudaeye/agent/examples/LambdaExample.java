package com.cloudaeye.agent.examples;

import com.cloudaeye.agent.lambda.LambdaTarget;
import java.io.PrintStream;
import java.util.Map;
import software.amazon.awssdk.services.lambda.model.Architecture;

/**
 * Installs the CloudAEye extension layer into AWS Lambda functions, as a Java tool that embeds the library would:
 * plan (read-only), print the plan and the IAM policy it needs, apply only when asked, print the result.
 *
 * <p>Environment variables:
 *
 * <ul>
 *   <li>{@code CLOUDAEYE_LOGS_ENDPOINT}, {@code CLOUDAEYE_API_TOKEN}: where the agent sends logs, and its token
 *       (required);
 *   <li>{@code CLOUDAEYE_LAYER_X86_64}, {@code CLOUDAEYE_LAYER_ARM64}: the CloudAEye layer version ARN per
 *       architecture (at least one);
 *   <li>{@code CLOUDAEYE_FUNCTIONS}: comma-separated names, ARNs or globs (default {@code *});
 *       {@code CLOUDAEYE_EXCLUDE}: name globs to leave out; {@code CLOUDAEYE_PUBLISH_VERSION=yes} to publish a
 *       version after each update;
 *   <li>{@code CLOUDAEYE_APPLY=yes} to apply; {@code AWS_REGION}; {@code CLOUDAEYE_AWS_ENDPOINT} for a local emulator;
 *       {@code CLOUDAEYE_JOURNAL_DIR}; {@code CLOUDAEYE_PLAN_FILE} to save the plan's JSON.
 * </ul>
 *
 * <p>Exit status: 0 when planned (or applied completely), 1 when something failed, 2 when a variable is missing.
 */
public final class LambdaExample {
    static final String LAYER_X86_64 = "CLOUDAEYE_LAYER_X86_64";
    static final String LAYER_ARM64 = "CLOUDAEYE_LAYER_ARM64";

    private LambdaExample() {}

    /**
     * @param args unused: the settings come from environment variables (see the class comment)
     */
    public static void main(String[] args) {
        System.exit(run(System.getenv(), System.out, System.err));
    }

    static int run(Map<String, String> environment, PrintStream out, PrintStream err) {
        ExampleEnvironment env = new ExampleEnvironment(environment);
        env.requireAgent();
        LambdaTarget.Builder lambda = target(env);
        if (env.reportMissing(err, "LambdaExample")) {
            return 2;
        }
        return env.planThenApply("LambdaExample", installer -> installer.target(lambda.build()), out, err);
    }

    /** Reads the Lambda variables into a target builder; records the missing ones in {@code env}. */
    static LambdaTarget.Builder target(ExampleEnvironment env) {
        LambdaTarget.Builder lambda = LambdaTarget.builder()
                .functions(env.list("CLOUDAEYE_FUNCTIONS", "*"))
                .exclude(env.list("CLOUDAEYE_EXCLUDE", ""))
                .publishVersion(env.flag("CLOUDAEYE_PUBLISH_VERSION"));
        env.optional(LAYER_X86_64).ifPresent(layer -> lambda.layer(Architecture.X86_64, layer));
        env.optional(LAYER_ARM64).ifPresent(layer -> lambda.layer(Architecture.ARM64, layer));
        if (env.optional(LAYER_X86_64).isEmpty() && env.optional(LAYER_ARM64).isEmpty()) {
            env.missing(LAYER_X86_64 + " and/or " + LAYER_ARM64
                    + ": the CloudAEye layer version ARN for x86_64 and/or arm64 functions");
        }
        return lambda;
    }
}
