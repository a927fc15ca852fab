package com.cloudaeye.agent.examples;

import com.cloudaeye.agent.ecs.EcsTarget;
import java.io.PrintStream;
import java.time.Duration;
import java.util.Map;

/**
 * Puts CloudAEye's FireLens log router into Amazon ECS services, as a Java tool that embeds the library would: plan
 * (read-only), print the plan and the IAM policy it needs, apply only when asked, print the result.
 *
 * <p>Environment variables:
 *
 * <ul>
 *   <li>{@code CLOUDAEYE_LOGS_ENDPOINT}, {@code CLOUDAEYE_API_TOKEN}: where the agent sends logs, and its token
 *       (required);
 *   <li>{@code CLOUDAEYE_ECS_CLUSTER}: the cluster's name or ARN (required); {@code CLOUDAEYE_ECS_SERVICES}:
 *       comma-separated names or globs (default {@code *}); {@code CLOUDAEYE_ECS_EXCLUDE}: globs to leave out;
 *   <li>{@code CLOUDAEYE_ROUTER_IMAGE}: the log router image (default {@value #DEFAULT_ROUTER_IMAGE});
 *       {@code CLOUDAEYE_TOKEN_SECRET_ARN}: a Secrets Manager secret or SSM parameter with the token, so it never is a
 *       plain task definition value (recommended);
 *   <li>{@code CLOUDAEYE_ECS_UPDATE_SERVICES=no} to only register the new revisions (default: roll services out);
 *       {@code CLOUDAEYE_ECS_WAIT_MINUTES}: how long to wait for each service to be stable (default 15, 0 not at
 *       all);
 *   <li>{@code CLOUDAEYE_APPLY=yes} to apply; {@code AWS_REGION}; {@code CLOUDAEYE_AWS_ENDPOINT} for a local emulator;
 *       {@code CLOUDAEYE_JOURNAL_DIR}; {@code CLOUDAEYE_PLAN_FILE} to save the plan's JSON.
 * </ul>
 *
 * <p>Exit status: 0 when planned (or applied completely), 1 when something failed, 2 when a variable is missing.
 */
public final class EcsExample {
    /** The router image used when {@code CLOUDAEYE_ROUTER_IMAGE} is not set. */
    public static final String DEFAULT_ROUTER_IMAGE = "public.ecr.aws/cloudaeye/log-router:1.4.0";

    static final String CLUSTER = "CLOUDAEYE_ECS_CLUSTER";

    private EcsExample() {}

    /**
     * @param args unused: the settings come from environment variables (see the class comment)
     */
    public static void main(String[] args) {
        System.exit(run(System.getenv(), System.out, System.err));
    }

    static int run(Map<String, String> environment, PrintStream out, PrintStream err) {
        ExampleEnvironment env = new ExampleEnvironment(environment);
        env.requireAgent();
        env.required(CLUSTER, "the ECS cluster's name or ARN");
        if (env.reportMissing(err, "EcsExample")) {
            return 2;
        }
        return env.planThenApply("EcsExample", installer -> installer.target(target(env)), out, err);
    }

    /** Builds the ECS target from the variables; call when {@value #CLUSTER} is set. */
    static EcsTarget target(ExampleEnvironment env) {
        EcsTarget.Builder ecs = EcsTarget.builder()
                .cluster(env.optional(CLUSTER).orElse(""))
                .services(env.list("CLOUDAEYE_ECS_SERVICES", "*"))
                .exclude(env.list("CLOUDAEYE_ECS_EXCLUDE", ""))
                .sidecar(s -> {
                    s.image(env.optional("CLOUDAEYE_ROUTER_IMAGE").orElse(DEFAULT_ROUTER_IMAGE));
                    env.optional("CLOUDAEYE_TOKEN_SECRET_ARN").ifPresent(s::apiTokenSecretArn);
                })
                .updateServices(!env.optional("CLOUDAEYE_ECS_UPDATE_SERVICES")
                        .map(v -> v.equalsIgnoreCase("no") || v.equalsIgnoreCase("false"))
                        .orElse(false));
        long waitMinutes =
                Long.parseLong(env.optional("CLOUDAEYE_ECS_WAIT_MINUTES").orElse("15"));
        if (waitMinutes > 0) {
            ecs.waitForStable(Duration.ofMinutes(waitMinutes));
        }
        return ecs.build();
    }
}
