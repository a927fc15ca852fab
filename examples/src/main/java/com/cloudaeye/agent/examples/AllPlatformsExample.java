package com.cloudaeye.agent.examples;

import java.io.PrintStream;
import java.util.Map;

/**
 * Installs the CloudAEye agent into AWS Lambda, Amazon ECS and Amazon EKS with one installer and one plan: one
 * review, one IAM policy, one journal. Each platform is included when its variables are set; see
 * {@link LambdaExample}, {@link EcsExample} and {@link EksExample} for them.
 *
 * <ul>
 *   <li>Lambda: {@code CLOUDAEYE_LAYER_X86_64} and/or {@code CLOUDAEYE_LAYER_ARM64} (and {@code CLOUDAEYE_FUNCTIONS});
 *   <li>ECS: {@code CLOUDAEYE_ECS_CLUSTER} (and {@code CLOUDAEYE_ECS_SERVICES});
 *   <li>EKS: {@code CLOUDAEYE_EKS_CLUSTER} (and {@code CLOUDAEYE_EKS_LOG_TYPES});
 *   <li>always: {@code CLOUDAEYE_LOGS_ENDPOINT}, {@code CLOUDAEYE_API_TOKEN}; {@code CLOUDAEYE_APPLY=yes} to apply.
 * </ul>
 *
 * <p>Exit status: 0 when planned (or applied completely), 1 when something failed, 2 when a variable is missing.
 */
public final class AllPlatformsExample {
    private AllPlatformsExample() {}

    /**
     * @param args unused: the settings come from environment variables (see the class comment)
     */
    public static void main(String[] args) {
        System.exit(run(System.getenv(), System.out, System.err));
    }

    static int run(Map<String, String> environment, PrintStream out, PrintStream err) {
        ExampleEnvironment env = new ExampleEnvironment(environment);
        env.requireAgent();
        boolean lambda = env.optional(LambdaExample.LAYER_X86_64).isPresent()
                || env.optional(LambdaExample.LAYER_ARM64).isPresent();
        boolean ecs = env.optional(EcsExample.CLUSTER).isPresent();
        boolean eks = env.optional(EksExample.CLUSTER).isPresent();
        if (!lambda && !ecs && !eks) {
            env.missing("at least one platform: " + LambdaExample.LAYER_X86_64 + "/" + LambdaExample.LAYER_ARM64
                    + " (Lambda), " + EcsExample.CLUSTER + " (ECS), " + EksExample.CLUSTER + " (EKS)");
        }
        if (env.reportMissing(err, "AllPlatformsExample")) {
            return 2;
        }
        return env.planThenApply(
                "AllPlatformsExample",
                installer -> {
                    if (lambda) {
                        installer.target(LambdaExample.target(env).build());
                    }
                    if (ecs) {
                        installer.target(EcsExample.target(env));
                    }
                    if (eks) {
                        installer.target(EksExample.target(env));
                    }
                },
                out,
                err);
    }
}
