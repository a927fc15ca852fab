// rollback.jsh: rolls back the apply whose journal journal.txt names (written by apply.jsh): plans restoring each
// changed resource's recorded before-state with read-only calls, prints that plan, applies it and prints the result.
// A resource someone changed since the apply is skipped with that reason, never overwritten. The rollback's own
// journal path goes to rollback-journal.txt.
//
// Environment variables:
//   CLOUDAEYE_JOURNAL       the journal file (default: the path in journal.txt, which apply.jsh writes to the
//                           directory it runs in); a missing journal or journal.txt stops the script before any
//                           change, naming the path it looked for
//   CLOUDAEYE_LOGS_ENDPOINT, CLOUDAEYE_API_TOKEN   the agent settings (optional; some restores re-write them)
//
// Run it from the directory where the files should go:
//   /path/to/examples/jshell/cloudaeye-jshell rollback.jsh   (bash: adds a CDS archive, examples/README.md)
// or, without bash (Windows), jshell itself:
//   JAR=/path/to/cloudaeye-agent-all.jar
//   jshell --no-startup --execution local -J-XX:TieredStopAtLevel=1 -J--add-modules=ALL-DEFAULT -J--class-path=$JAR --class-path $JAR rollback.jsh
// (jshell's default remote execution, `jshell --class-path $JAR rollback.jsh`, works too, 1.3-2.1 s slower.)
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

// Where journals are, for every message about a missing journal.
String whereJournalsAre =
        "(the apply printed it; journals are kept in CLOUDAEYE_JOURNAL_DIR, default ~/.cloudaeye/journals)";

// The journal to roll back: CLOUDAEYE_JOURNAL, else the path in journal.txt. Checked before anything else, so that a
// missing one says which path was looked for and how to name the right one.
Path journalFile() {
    String named = env("CLOUDAEYE_JOURNAL", null);
    if (named != null) {
        return ScriptFiles.readableFile(Path.of(named), "The journal {path} (CLOUDAEYE_JOURNAL)",
                "set CLOUDAEYE_JOURNAL to the journal's path " + whereJournalsAre + ", or leave it unset to roll"
                        + " back the apply that journal.txt names.");
    }
    String pointer = "The file {path} naming the journal to roll back";
    String pointerFix = "run rollback.jsh in the directory where apply.jsh (or an *-uninstall.jsh script with"
            + " CLOUDAEYE_APPLY=yes) wrote journal.txt, or set CLOUDAEYE_JOURNAL to the journal's path "
            + whereJournalsAre + ".";
    Path pointerFile = ScriptFiles.readableFile(Path.of("journal.txt"), pointer, pointerFix);
    String path = ScriptFiles.readString(pointerFile, pointer, pointerFix).trim();
    if (path.isEmpty()) {
        throw new IllegalArgumentException(pointer.replace("{path}", pointerFile.toString()) + " is empty: "
                + pointerFix + " " + ScriptFiles.NOTHING_CHANGED);
    }
    return ScriptFiles.readableFile(Path.of(path), "The journal {path}, which " + pointerFile + " names,",
            "set CLOUDAEYE_JOURNAL to the journal's path " + whereJournalsAre + ".");
}

try {
    Journal journal = Journal.read(journalFile());
    AgentInstallerBuilder builder = installerFromEnvironment().region(Region.of(journal.plan().region()));
    String logsEndpoint = env("CLOUDAEYE_LOGS_ENDPOINT", null);
    String token = env("CLOUDAEYE_API_TOKEN", null);
    if (logsEndpoint != null && token != null) {
        builder.agent(a -> a.logsEndpoint(logsEndpoint).apiToken(Secret.of(token)));
    }
    // Written once the rollback is done: checked now, so that it cannot fail after the changes.
    ScriptFiles.writableFile(Path.of("rollback-journal.txt"), "The output file {path}", "rollback.jsh writes"
            + " rollback-journal.txt (which names the rollback's journal) to the working directory after the rollback;"
            + " run it in a directory where it can write that file.");
    try (AgentInstaller installer = builder.build()) {
        Plan plan = installer.planRollback(journal); // read-only calls
        System.out.println(plan);
        ApplyResult result = installer.apply(plan);
        System.out.println(result);
        if (result.journal().isPresent()) {
            Files.writeString(Path.of("rollback-journal.txt"), result.journal().get().toString());
        }
        status = result.isSuccess() ? 0 : 1;
    }
} catch (Exception e) {
    System.err.println("rollback.jsh failed: " + e.getMessage());
    // The library names its builder calls: this line names the variables behind them.
    com.cloudaeye.agent.examples.ScriptHints.AGENT.hint(e).ifPresent(System.err::println);
}

/exit status
