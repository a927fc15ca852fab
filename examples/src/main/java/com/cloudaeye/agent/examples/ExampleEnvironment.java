package com.cloudaeye.agent.examples;

import com.cloudaeye.agent.AgentException;
import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.AgentInstallerBuilder;
import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.ProgressListener;
import com.cloudaeye.agent.Secret;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;

/**
 * The environment variables every example reads, and the installer builder they share. Collects every missing
 * variable, so a user sees all of them in one message instead of one per run.
 */
final class ExampleEnvironment {
    /** The CloudAEye logs service URL. */
    static final String LOGS_ENDPOINT = "CLOUDAEYE_LOGS_ENDPOINT";
    /** The CloudAEye API token (never printed). */
    static final String API_TOKEN = "CLOUDAEYE_API_TOKEN";
    /** {@code yes} to accept an {@code http} logs endpoint: only for a local emulator of the logs service. */
    static final String ALLOW_INSECURE_ENDPOINT = "CLOUDAEYE_ALLOW_INSECURE_ENDPOINT";
    /** {@code yes} to apply the plan; anything else plans only. */
    static final String APPLY = "CLOUDAEYE_APPLY";
    /** A local AWS emulator (moto, LocalStack); unset for real AWS. */
    static final String AWS_ENDPOINT = "CLOUDAEYE_AWS_ENDPOINT";
    /** Where apply journals go (default {@code ~/.cloudaeye/journals}). */
    static final String JOURNAL_DIR = "CLOUDAEYE_JOURNAL_DIR";
    /** Where to save the plan's JSON for review or a later apply (optional). */
    static final String PLAN_FILE = "CLOUDAEYE_PLAN_FILE";
    /** The AWS region (the SDK's region chain when unset). */
    static final String REGION = "AWS_REGION";

    private final Map<String, String> env;
    private final List<String> missing = new ArrayList<>();

    ExampleEnvironment(Map<String, String> env) {
        this.env = env;
    }

    /**
     * @param name a variable
     * @param meaning what to put in it, for the error message
     * @return its value, or an empty string when it is missing (then {@link #reportMissing} reports it)
     */
    String required(String name, String meaning) {
        String value = env.get(name);
        if (value == null || value.isBlank()) {
            missing.add("  " + name + ": " + meaning);
            return "";
        }
        return value.trim();
    }

    /**
     * @param name a variable
     * @return its value when set and not blank
     */
    Optional<String> optional(String name) {
        return Optional.ofNullable(env.get(name)).map(String::trim).filter(v -> !v.isEmpty());
    }

    /**
     * @param name a variable holding a comma-separated list
     * @param fallback the list when unset
     * @return the items, trimmed
     */
    String[] list(String name, String fallback) {
        return Arrays.stream(optional(name).orElse(fallback).split(","))
                .map(String::trim)
                .filter(s -> !s.isEmpty())
                .toArray(String[]::new);
    }

    /**
     * @param name a variable
     * @return true when it is {@code yes} or {@code true}
     */
    boolean flag(String name) {
        return optional(name)
                .map(v -> v.equalsIgnoreCase("yes") || v.equalsIgnoreCase("true"))
                .orElse(false);
    }

    /**
     * Notes a missing setting that is not one variable (for example "one of two layers").
     *
     * @param description what is missing and how to set it
     */
    void missing(String description) {
        missing.add("  " + description);
    }

    /**
     * Prints every missing variable with what to put in it.
     *
     * @param err where to print
     * @param example the example's name, for the usage line
     * @return true when something was missing (the example should exit with status 2)
     */
    boolean reportMissing(PrintStream err, String example) {
        if (missing.isEmpty()) {
            return false;
        }
        err.println(example + " cannot start: set these environment variables:");
        missing.forEach(err::println);
        err.println("Optional: " + REGION + " (else the SDK's region chain), " + AWS_ENDPOINT
                + " (a local emulator such as moto or LocalStack), " + APPLY + "=yes (apply; else plan only), "
                + JOURNAL_DIR + ", " + PLAN_FILE + ". See examples/README.md.");
        return true;
    }

    /** @return true when the user asked to apply */
    boolean apply() {
        return flag(APPLY);
    }

    /**
     * The installer builder every example starts from: agent settings, region, the emulator when one is set (with
     * static dummy credentials), console progress and the journal directory. Call after {@link #reportMissing} found
     * nothing missing.
     *
     * @return a builder without targets
     */
    AgentInstallerBuilder installer() {
        String logsEndpoint = optional(LOGS_ENDPOINT).orElse("");
        String token = optional(API_TOKEN).orElse("");
        boolean insecure = flag(ALLOW_INSECURE_ENDPOINT);
        AgentInstallerBuilder builder = AgentInstaller.builder()
                .agent(a ->
                        a.logsEndpoint(logsEndpoint).apiToken(Secret.of(token)).allowInsecureEndpoint(insecure))
                .listener(ProgressListener.console());
        Optional<String> emulator = optional(AWS_ENDPOINT);
        emulator.ifPresent(endpoint -> builder.endpointOverride(URI.create(endpoint))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test"))));
        optional(REGION)
                .map(Region::of)
                .or(() -> emulator.map(e -> Region.US_EAST_1))
                .ifPresent(builder::region);
        optional(JOURNAL_DIR).map(Path::of).ifPresent(builder::journalDirectory);
        return builder;
    }

    /** Checks the agent variables early, so they are reported with the target's. */
    void requireAgent() {
        required(LOGS_ENDPOINT, "the CloudAEye logs service URL, e.g. https://logs.example.cloudaeye.com");
        required(API_TOKEN, "the CloudAEye API token");
    }

    /**
     * Saves the plan's JSON where {@code CLOUDAEYE_PLAN_FILE} says, for review or a later apply.
     *
     * @param plan the plan
     * @param out where to say so
     * @throws UncheckedIOException when the file cannot be written
     */
    void savePlan(Plan plan, PrintStream out) {
        optional(PLAN_FILE).map(Path::of).ifPresent(file -> {
            try {
                Files.writeString(file, plan.toJson());
                out.println("Plan saved to " + file.toAbsolutePath());
            } catch (IOException e) {
                throw new UncheckedIOException("Cannot write the plan to " + file + ": " + e.getMessage(), e);
            }
        });
    }

    /**
     * The flow every example shows, as an embedding tool would run it: build the installer (closed by
     * try-with-resources), plan with read-only calls, print the plan and its IAM policy, apply only when
     * {@code CLOUDAEYE_APPLY=yes}, print the result.
     *
     * @param example the example's name, for messages
     * @param targets configures the targets on the installer builder; may throw {@link AgentException} from a
     *     target's {@code build()}
     * @param out where the plan, the policy and the result go
     * @param err where errors go
     * @return the exit status: 0 planned or applied completely, 1 failed or applied partly
     */
    int planThenApply(String example, Consumer<AgentInstallerBuilder> targets, PrintStream out, PrintStream err) {
        try {
            AgentInstallerBuilder builder = installer(); // a malformed URL fails here, with its message
            targets.accept(builder);
            try (AgentInstaller installer = builder.build()) {
                Plan plan = installer.plan(); // read-only calls
                out.println(plan); // a table: resource, action, what changes, why skipped
                out.println("The IAM policy this plan needs:");
                out.println(plan.requiredPolicy().toJson());
                savePlan(plan, out);
                if (!apply()) {
                    out.println("Nothing was changed. Set " + APPLY + "=yes to apply this plan.");
                    return 0;
                }
                ApplyResult result = installer.apply(plan); // journaled; progress goes to standard error
                out.println(result);
                return result.isSuccess() ? 0 : 1;
            }
        } catch (AgentException | UncheckedIOException | IllegalArgumentException e) {
            err.println(example + " failed: " + e.getMessage());
            ScriptHints.JAVA_EXAMPLES.hint(e).ifPresent(err::println); // the variable behind a builder call it names
            return 1;
        }
    }
}
