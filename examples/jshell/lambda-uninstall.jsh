// lambda-uninstall.jsh: plans removing what the installer added to AWS Lambda functions, with read-only calls,
// prints the plan and writes it to plan.json and its IAM policy to policy.json. With CLOUDAEYE_APPLY=yes it also
// applies it (and writes the journal's path to journal.txt); otherwise apply it with apply.jsh after review.
//
// Environment variables:
//   CLOUDAEYE_LOGS_ENDPOINT, CLOUDAEYE_API_TOKEN   where the agent sends logs, and its token (required)
//   CLOUDAEYE_LAYER_X86_64, CLOUDAEYE_LAYER_ARM64  the CloudAEye layer version ARN per architecture (at least one)
//   CLOUDAEYE_FUNCTIONS     comma-separated names, ARNs or globs (default *)
//   CLOUDAEYE_EXCLUDE       comma-separated name globs to leave out (optional)
//   CLOUDAEYE_PUBLISH_VERSION=yes  publish a function version after each update (optional)
//   CLOUDAEYE_APPLY=yes     apply the uninstall plan at once (optional)
//
// Run it from the directory where the files should go:
//   /path/to/examples/jshell/cloudaeye-jshell lambda-uninstall.jsh   (bash: adds a CDS archive, examples/README.md)
// or, without bash (Windows), jshell itself:
//   JAR=/path/to/cloudaeye-agent-all.jar
//   jshell --no-startup --execution local -J-XX:TieredStopAtLevel=1 -J--add-modules=ALL-DEFAULT -J--class-path=$JAR --class-path $JAR lambda-uninstall.jsh
// (jshell's default remote execution, `jshell --class-path $JAR lambda-uninstall.jsh`, works too, 1.3-2.1 s slower.)
// AWS: the default credential chain (profile, SSO, instance role ...) and AWS_REGION.
// A local emulator instead (moto, LocalStack): CLOUDAEYE_AWS_ENDPOINT=http://127.0.0.1:5000 (static dummy
// credentials then; AWS_REGION defaults to us-east-1). CLOUDAEYE_JOURNAL_DIR: where apply journals go (default
// ~/.cloudaeye/journals).
// Exit status: 0 on success, 1 on any failure (its message is printed). jshell's System.exit(1) would only end the
// remote execution engine and leave jshell exiting 0, so the script sets `status` and ends with `/exit status`.

import com.cloudaeye.agent.*;
import com.cloudaeye.agent.examples.ScriptFiles;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import com.cloudaeye.agent.lambda.LambdaTarget;
import software.amazon.awssdk.services.lambda.model.Architecture;

// Stays 1 unless the whole script succeeds: a snippet that does not even compile (a wrong --class-path, say)
// leaves it 1.
int status = 1;

String env(String name, String fallback) {
    String value = System.getenv(name);
    return value == null || value.isBlank() ? fallback : value.trim();
}

String required(String name, String meaning) {
    String value = env(name, null);
    if (value == null) {
        throw new IllegalArgumentException("Set the environment variable " + name + ": " + meaning + ".");
    }
    return value;
}

// The installer's settings that do not depend on the platform: emulator or AWS, region, progress, journals.
AgentInstallerBuilder installerFromEnvironment() {
    AgentInstallerBuilder builder = AgentInstaller.builder().listener(ProgressListener.console());
    String endpoint = env("CLOUDAEYE_AWS_ENDPOINT", null);
    String region = env("AWS_REGION", endpoint == null ? null : "us-east-1");
    if (endpoint != null) {
        builder.endpointOverride(URI.create(endpoint))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test")));
    }
    if (region != null) {
        builder.region(Region.of(region));
    }
    String journals = env("CLOUDAEYE_JOURNAL_DIR", null);
    if (journals != null) {
        builder.journalDirectory(Path.of(journals));
    }
    return builder;
}

// Where the agent sends logs, and its token (never printed: plans and journals show it as ****).
AgentInstallerBuilder withAgent(AgentInstallerBuilder builder) {
    String logsEndpoint = required("CLOUDAEYE_LOGS_ENDPOINT", "the CloudAEye logs service URL");
    String token = required("CLOUDAEYE_API_TOKEN", "the CloudAEye API token");
    return builder.agent(a -> a.logsEndpoint(logsEndpoint).apiToken(Secret.of(token)));
}

LambdaTarget targetFromEnvironment() {
    LambdaTarget.Builder lambda = LambdaTarget.builder()
            .functions(env("CLOUDAEYE_FUNCTIONS", "*").split("\\s*,\\s*"))
            .publishVersion(env("CLOUDAEYE_PUBLISH_VERSION", "no").equalsIgnoreCase("yes"));
    String exclude = env("CLOUDAEYE_EXCLUDE", null);
    if (exclude != null) {
        lambda.exclude(exclude.split("\\s*,\\s*"));
    }
    String x86 = env("CLOUDAEYE_LAYER_X86_64", null);
    String arm = env("CLOUDAEYE_LAYER_ARM64", null);
    if (x86 == null && arm == null) {
        throw new IllegalArgumentException("Set CLOUDAEYE_LAYER_X86_64 and/or CLOUDAEYE_LAYER_ARM64: the CloudAEye"
                + " layer version ARN for x86_64 and/or arm64 functions.");
    }
    if (x86 != null) {
        lambda.layer(Architecture.X86_64, x86);
    }
    if (arm != null) {
        lambda.layer(Architecture.ARM64, arm);
    }
    return lambda.build();
}

try {
    try (AgentInstaller installer = withAgent(installerFromEnvironment()).target(targetFromEnvironment()).build()) {
        Plan plan = installer.planUninstall(); // read-only calls
        System.out.println(plan);
        Files.writeString(Path.of("plan.json"), plan.toJson());
        Files.writeString(Path.of("policy.json"), plan.requiredPolicy().toJson());
        System.out.println("Wrote the uninstall plan to plan.json and its IAM policy to policy.json.");
        if (!env("CLOUDAEYE_APPLY", "no").equalsIgnoreCase("yes")) {
            System.out.println("Nothing was changed: apply it with apply.jsh, or run this script again with"
                    + " CLOUDAEYE_APPLY=yes.");
            status = 0;
        } else {
            // journal.txt is written once the apply is done: checked now, so that it cannot fail after the changes.
            ScriptFiles.writableFile(Path.of("journal.txt"), "The output file {path}", "lambda-uninstall.jsh writes"
                    + " journal.txt (which names the journal for rollback.jsh) to the working directory after the"
                    + " apply; run it in a directory where it can write that file.");
            ApplyResult result = installer.apply(plan);
            System.out.println(result);
            if (result.journal().isPresent()) {
                Files.writeString(Path.of("journal.txt"), result.journal().get().toString());
            }
            status = result.isSuccess() ? 0 : 1;
        }
    }
} catch (Exception e) {
    System.err.println("lambda-uninstall.jsh failed: " + e.getMessage());
    // The library names its builder calls: this line names the variables behind them.
    com.cloudaeye.agent.examples.ScriptHints.LAMBDA.hint(e).ifPresent(System.err::println);
}

/exit status
