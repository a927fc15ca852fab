package com.cloudaeye.agent.examples;

import com.cloudaeye.agent.AgentException;
import com.cloudaeye.agent.FleetInstaller;
import com.cloudaeye.agent.FleetInstallerBuilder;
import com.cloudaeye.agent.FleetPlan;
import com.cloudaeye.agent.FleetResult;
import com.cloudaeye.agent.ProgressListener;
import com.cloudaeye.agent.S3JournalStore;
import com.cloudaeye.agent.Secret;
import com.cloudaeye.agent.lambda.LambdaTarget;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.lambda.model.Architecture;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;

/**
 * Installs the CloudAEye extension layer into the Lambda functions of many accounts and regions at once: one fleet
 * plan (read-only, every account-region side by side), the IAM policy per account and the member-account role
 * template, then the apply when asked.
 *
 * <p>Environment variables:
 *
 * <ul>
 *   <li>{@code CLOUDAEYE_LOGS_ENDPOINT}, {@code CLOUDAEYE_API_TOKEN}: where the agent sends logs, and its token;
 *   <li>{@code CLOUDAEYE_ACCOUNTS}: comma-separated account IDs, or {@code organization} for every active account of
 *       the caller's AWS Organization;
 *   <li>{@code CLOUDAEYE_REGIONS}: comma-separated regions, or {@code all} for those enabled in each account (default
 *       {@code AWS_REGION});
 *   <li>{@code CLOUDAEYE_ROLE_NAME} (default {@code CloudAEyeInstaller}) and {@code CLOUDAEYE_EXTERNAL_ID}: the role
 *       assumed in every account;
 *   <li>{@code CLOUDAEYE_LAYER_X86_64}, {@code CLOUDAEYE_LAYER_ARM64}: the layer version ARN per architecture, where
 *       {@code {region}} and {@code {account}} stand for each account-region's (at least one);
 *   <li>{@code CLOUDAEYE_APPLY=yes} to apply; {@code CLOUDAEYE_AWS_ENDPOINT} for a local emulator; {@code
 *       CLOUDAEYE_JOURNAL_DIR}; {@code CLOUDAEYE_ROLE_TEMPLATE_FILE} to save the member-account role template;
 *   <li>{@code CLOUDAEYE_JOURNAL_BUCKET}: keep the journals in this S3 bucket ({@link S3JournalStore}, one object per
 *       account-region) instead of a local directory, so that another machine can resume or roll back the run;
 *       {@code CLOUDAEYE_JOURNAL_PREFIX} names the run (default {@code runs/<epoch seconds>/});
 *   <li>{@code CLOUDAEYE_FLEET_ROLLBACK=yes}: instead of an install, plan (and with {@code CLOUDAEYE_APPLY=yes}
 *       apply) the rollback of the run whose journals {@code CLOUDAEYE_JOURNAL_DIR}, or {@code
 *       CLOUDAEYE_JOURNAL_BUCKET} under that run's {@code CLOUDAEYE_JOURNAL_PREFIX}, hold.
 * </ul>
 *
 * <p>Exit status: 0 when planned (or applied completely), 1 when something failed, 2 when a variable is missing.
 */
public final class FleetExample {
    static final String JOURNAL_BUCKET = "CLOUDAEYE_JOURNAL_BUCKET";
    static final String JOURNAL_PREFIX = "CLOUDAEYE_JOURNAL_PREFIX";
    static final String FLEET_ROLLBACK = "CLOUDAEYE_FLEET_ROLLBACK";

    private FleetExample() {}

    /**
     * @param args unused: the settings come from environment variables (see the class comment)
     */
    public static void main(String[] args) {
        System.exit(run(System.getenv(), System.out, System.err));
    }

    static int run(Map<String, String> environment, PrintStream out, PrintStream err) {
        ExampleEnvironment env = new ExampleEnvironment(environment);
        env.requireAgent();
        String accounts = env.required("CLOUDAEYE_ACCOUNTS", "account IDs, comma-separated, or 'organization'");
        Optional<String> x86 = env.optional(LambdaExample.LAYER_X86_64);
        Optional<String> arm = env.optional(LambdaExample.LAYER_ARM64);
        if (x86.isEmpty() && arm.isEmpty()) {
            env.missing(LambdaExample.LAYER_X86_64 + " and/or " + LambdaExample.LAYER_ARM64
                    + ": the CloudAEye layer version ARN, {region} and {account} standing for each one's");
        }
        boolean rollback = env.flag(FLEET_ROLLBACK);
        if (rollback
                && env.optional(ExampleEnvironment.JOURNAL_DIR).isEmpty()
                && (env.optional(JOURNAL_BUCKET).isEmpty()
                        || env.optional(JOURNAL_PREFIX).isEmpty())) {
            env.missing(ExampleEnvironment.JOURNAL_DIR + ", or " + JOURNAL_BUCKET + " and " + JOURNAL_PREFIX + ": where"
                    + " the journals of the run that " + FLEET_ROLLBACK + "=yes rolls back are (the prefix the run"
                    + " printed)");
        }
        if (rollback && env.optional(JOURNAL_BUCKET).isEmpty()) {
            // A directory that is not there holds no journal: the rollback would plan and apply nothing and exit 0.
            env.optional(ExampleEnvironment.JOURNAL_DIR)
                    .map(dir -> Path.of(dir).toAbsolutePath().normalize())
                    .filter(dir -> !Files.isDirectory(dir))
                    .ifPresent(dir -> env.missing(ExampleEnvironment.JOURNAL_DIR + ": " + dir + " is not a directory;"
                            + " name the one the run that " + FLEET_ROLLBACK + "=yes rolls back wrote its journals to"
                            + " (or " + JOURNAL_BUCKET + " and " + JOURNAL_PREFIX + " when it kept them in S3)"));
        }
        if (env.reportMissing(err, "FleetExample")) {
            return 2;
        }
        try {
            FleetInstallerBuilder fleet = FleetInstaller.builder()
                    .roleName(env.optional("CLOUDAEYE_ROLE_NAME").orElse("CloudAEyeInstaller"))
                    .agent(a -> a.logsEndpoint(env.optional(ExampleEnvironment.LOGS_ENDPOINT)
                                    .orElse(""))
                            .apiToken(Secret.of(
                                    env.optional(ExampleEnvironment.API_TOKEN).orElse(""))))
                    .installer(i -> i.listener(ProgressListener.console()))
                    .target((account, region) -> {
                        LambdaTarget.Builder lambda = LambdaTarget.builder().functions("*");
                        x86.ifPresent(l -> lambda.layer(Architecture.X86_64, fill(l, account, region)));
                        arm.ifPresent(l -> lambda.layer(Architecture.ARM64, fill(l, account, region)));
                        return lambda.build();
                    });
            if (accounts.equalsIgnoreCase("organization")) {
                fleet.organization();
            } else {
                fleet.accounts(env.list("CLOUDAEYE_ACCOUNTS", ""));
            }
            String regions = env.optional("CLOUDAEYE_REGIONS")
                    .or(() -> env.optional(ExampleEnvironment.REGION))
                    .orElse("us-east-1");
            if (regions.equalsIgnoreCase("all")) {
                fleet.allEnabledRegions();
            } else {
                fleet.regions(Arrays.stream(env.list("CLOUDAEYE_REGIONS", regions))
                        .map(Region::of)
                        .toArray(Region[]::new));
            }
            env.optional("CLOUDAEYE_EXTERNAL_ID").ifPresent(fleet::externalId);
            env.optional(ExampleEnvironment.AWS_ENDPOINT)
                    .ifPresent(endpoint -> fleet.endpointOverride(URI.create(endpoint))
                            .credentialsProvider(
                                    StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test"))));
            env.optional(ExampleEnvironment.JOURNAL_DIR).map(Path::of).ifPresent(fleet::journalDirectory);
            Optional<String> bucket = env.optional(JOURNAL_BUCKET);
            try (S3Client s3 = bucket.isPresent() ? s3(env) : null) {
                if (s3 != null) {
                    String prefix = env.optional(JOURNAL_PREFIX)
                            .orElse("runs/" + Instant.now().getEpochSecond() + "/");
                    fleet.journalStore(S3JournalStore.builder()
                            .client(s3)
                            .bucket(bucket.get())
                            .prefix(prefix)
                            .build());
                    out.println("Journals: s3://" + bucket.get() + "/" + prefix
                            + " (another machine resumes or rolls back the run from there)");
                }
                return planAndApply(env, fleet, rollback, out);
            }
        } catch (AgentException | IllegalArgumentException e) {
            err.println("FleetExample failed: " + e.getMessage());
            ScriptHints.JAVA_EXAMPLES.hint(e).ifPresent(err::println); // the variable behind a builder call it names
            return 1;
        } catch (IOException e) {
            err.println("FleetExample failed: " + new UncheckedIOException(e).getMessage());
            return 1;
        }
    }

    private static int planAndApply(
            ExampleEnvironment env, FleetInstallerBuilder fleet, boolean rollback, PrintStream out) throws IOException {
        try (FleetInstaller installer = fleet.build()) {
            // Read-only, every account-region side by side; a rollback plan from the run's journals.
            FleetPlan plan = rollback ? installer.planRollback() : installer.plan();
            out.println(plan); // per account-region counts, failures, totals
            plan.requiredPolicies().forEach((account, policy) -> {
                out.println("The IAM policy account " + account + "'s role needs:");
                out.println(policy.toJson());
            });
            Optional<String> template = env.optional("CLOUDAEYE_ROLE_TEMPLATE_FILE");
            if (template.isPresent() && !rollback) {
                Files.writeString(Path.of(template.get()), plan.installerRoleTemplate());
                out.println("Member-account role template (CloudFormation, StackSet-ready) saved to " + template.get());
            }
            if (!env.apply()) {
                out.println("Nothing was changed. Set " + ExampleEnvironment.APPLY + "=yes to apply this plan.");
                return plan.isComplete() ? 0 : 1;
            }
            FleetResult result = installer.apply(plan); // each account-region journaled on its own
            out.println(result);
            return result.isSuccess() ? 0 : 1;
        }
    }

    /** The journal bucket's client: the caller's default chain, or the emulator's endpoint and test credentials. */
    private static S3Client s3(ExampleEnvironment env) {
        S3ClientBuilder s3 = S3Client.builder()
                .region(Region.of(env.optional(ExampleEnvironment.REGION).orElse("us-east-1")));
        env.optional(ExampleEnvironment.AWS_ENDPOINT)
                .ifPresent(endpoint -> s3.endpointOverride(URI.create(endpoint))
                        .forcePathStyle(true)
                        .credentialsProvider(
                                StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test"))));
        return s3.build();
    }

    private static String fill(String arn, String account, Region region) {
        return arn.replace("{region}", region.id()).replace("{account}", account);
    }
}
