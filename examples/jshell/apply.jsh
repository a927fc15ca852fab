// apply.jsh: applies the reviewed plan in plan.json (written by a *-plan.jsh or *-uninstall.jsh script) to the
// account and region it was planned for, prints the result, writes the apply's journal path to journal.txt and the
// result to result.json. The platform targets are found on the class path (ServiceLoader): nothing to configure but
// the agent settings, which an install needs to write the agent's configuration.
//
// Environment variables:
//   CLOUDAEYE_LOGS_ENDPOINT, CLOUDAEYE_API_TOKEN   where the agent sends logs, and its token (required to install)
//   CLOUDAEYE_PLAN          the plan file (default plan.json, which lambda-plan.jsh, ecs-plan.jsh, eks-plan.jsh and
//                           the *-uninstall.jsh scripts write to the directory they run in); a missing one stops the
//                           script before any change, naming the path it looked for
//   CLOUDAEYE_ACCESS_KEY_FILE  where the secret of an access key the plan creates goes (EKS IAM-user mode): a new
//                           file, created readable by its owner only (rw-------), never printed; hand it to
//                           CloudAEye, then delete it. A plan that creates a key stops before any change without it,
//                           or when the file exists or its directory does not exist or is not writable.
//
// Run it from the directory where the files should go:
//   /path/to/examples/jshell/cloudaeye-jshell apply.jsh   (bash: adds a CDS archive, examples/README.md)
// or, without bash (Windows), jshell itself:
//   JAR=/path/to/cloudaeye-agent-all.jar
//   jshell --no-startup --execution local -J-XX:TieredStopAtLevel=1 -J--add-modules=ALL-DEFAULT -J--class-path=$JAR --class-path $JAR apply.jsh
// (jshell's default remote execution, `jshell --class-path $JAR apply.jsh`, works too, 1.3-2.1 s slower.)
// AWS: the default credential chain (profile, SSO, instance role ...) and AWS_REGION.
// A local emulator instead (moto, LocalStack): CLOUDAEYE_AWS_ENDPOINT=http://127.0.0.1:5000 (static dummy
// credentials then; AWS_REGION defaults to us-east-1). CLOUDAEYE_JOURNAL_DIR: where apply journals go (default
// ~/.cloudaeye/journals).
// Exit status: 0 on success, 1 on any failure (its message is printed). jshell's System.exit(1) would only end the
// remote execution engine and leave jshell exiting 0, so the script sets `status` and ends with `/exit status`.

import com.cloudaeye.agent.*;
import com.cloudaeye.agent.eks.AccessKey;
import com.cloudaeye.agent.eks.EksTarget;
import com.cloudaeye.agent.examples.ScriptFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;

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

// The access key sink: writes the key as an AWS credentials-file profile into a new owner-only file. The secret
// goes nowhere else: not to the console, the plan, the result or the journal.
void writeKey(Path file, AccessKey key) {
    try {
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(file, "[cloudaeye]\naws_access_key_id = " + key.accessKeyId() + "\naws_secret_access_key = "
                + key.secretAccessKey().reveal() + "\n", StandardCharsets.UTF_8);
    } catch (IOException e) {
        throw new UncheckedIOException("Cannot write the access key to " + file, e);
    }
}

try {
    // Checked before anything else, so that a missing plan says where it was looked for and how to make one.
    Path planFile = Path.of(env("CLOUDAEYE_PLAN", "plan.json"));
    String planJson = ScriptFiles.readString(
            planFile,
            "The plan file {path}",
            "save a plan first with lambda-plan.jsh, ecs-plan.jsh or eks-plan.jsh (or an *-uninstall.jsh script), which"
                    + " write plan.json to the directory they run in, and run apply.jsh there, or set CLOUDAEYE_PLAN to"
                    + " a saved plan's path (default plan.json in the working directory).");
    Plan plan;
    try {
        plan = Plan.fromJson(planJson);
    } catch (AgentException e) {
        // The library's message says what is wrong with the JSON; this names the file and what to do about it.
        throw new IllegalArgumentException("The plan file " + planFile.toAbsolutePath().normalize() + " is not a"
                + " saved plan (" + e.getMessage() + "): save it again with the *-plan.jsh or *-uninstall.jsh script"
                + " that made it, and do not edit it by hand. " + ScriptFiles.NOTHING_CHANGED);
    }
    AgentInstallerBuilder builder = installerFromEnvironment().region(Region.of(plan.region()));
    String logsEndpoint = env("CLOUDAEYE_LOGS_ENDPOINT", null);
    String token = env("CLOUDAEYE_API_TOKEN", null);
    if (logsEndpoint != null && token != null) {
        builder.agent(a -> a.logsEndpoint(logsEndpoint).apiToken(Secret.of(token)));
    } else if (plan.kind() == Plan.Kind.INSTALL) {
        throw new IllegalArgumentException("Set CLOUDAEYE_LOGS_ENDPOINT and CLOUDAEYE_API_TOKEN: an install writes"
                + " them into the agent's configuration, and the plan never holds the token.");
    }
    String keyFile = env("CLOUDAEYE_ACCESS_KEY_FILE", null);
    if (keyFile != null) {
        // The key is written after AWS created it: check now that the file can be created (new, in an existing
        // writable directory), so that a bad path stops the script before any change, not after the key exists.
        Path file = ScriptFiles.newFile(Path.of(keyFile), "CLOUDAEYE_ACCESS_KEY_FILE");
        builder.sink(EksTarget.ACCESS_KEY_SINK, key -> writeKey(file, key));
        System.out.println("A new access key's secret goes to " + file + " (owner-only).");
    } else if (plan.mutations().stream().anyMatch(c -> c.resourceType().equals("AWS::IAM::AccessKey")
            && c.action() == ChangeAction.CREATE)) {
        throw new IllegalArgumentException("The plan creates an access key for CloudAEye, whose secret AWS shows only"
                + " once: set CLOUDAEYE_ACCESS_KEY_FILE to a new file for it (created owner-only, never printed).");
    }
    // Written once the apply is done: checked now, so that a working directory they cannot be written to stops the
    // script before any change, not after it with the journal's path lost.
    for (String output : List.of("result.json", "journal.txt")) {
        ScriptFiles.writableFile(Path.of(output), "The output file {path}", "apply.jsh writes result.json and"
                + " journal.txt (which names the journal for rollback.jsh) to the working directory after the apply;"
                + " run it in a directory where it can write both files.");
    }
    try (AgentInstaller installer = builder.build()) {
        System.out.println(plan);
        ApplyResult result = installer.apply(plan); // journaled; progress on standard error
        System.out.println(result);
        Files.writeString(Path.of("result.json"), result.toJson());
        if (result.journal().isPresent()) {
            Files.writeString(Path.of("journal.txt"), result.journal().get().toString());
            System.out.println("Undo it with rollback.jsh (journal.txt names the journal).");
        }
        status = result.isSuccess() ? 0 : 1;
    }
} catch (Exception e) {
    System.err.println("apply.jsh failed: " + e.getMessage());
    // The library names its builder calls: this line names the variables behind them.
    com.cloudaeye.agent.examples.ScriptHints.AGENT.hint(e).ifPresent(System.err::println);
}

/exit status
