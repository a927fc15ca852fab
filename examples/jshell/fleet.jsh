// fleet.jsh: plans installing the CloudAEye logs agent into the Lambda functions of many AWS accounts and regions
// (every account-region side by side, each reached through a role), prints the fleet plan, writes each account's IAM
// policy (policy-<account>.json) and the member-account role template (installer-role.json, CloudFormation,
// StackSet-ready) to the working directory, and applies only with CLOUDAEYE_APPLY=yes.
//
// Environment variables:
//   CLOUDAEYE_LOGS_ENDPOINT, CLOUDAEYE_API_TOKEN   where the agent sends logs, and its token (required)
//   CLOUDAEYE_ACCOUNTS      comma-separated account IDs, or "organization" for every active account (required)
//   CLOUDAEYE_REGIONS       comma-separated regions, or "all" for those enabled in each account (default AWS_REGION)
//   CLOUDAEYE_ROLE_NAME     the role assumed in every account (default CloudAEyeInstaller); CLOUDAEYE_EXTERNAL_ID
//   CLOUDAEYE_LAYER_X86_64, CLOUDAEYE_LAYER_ARM64  the layer version ARN per architecture (at least one); {region}
//                           and {account} stand for each account-region's
//   CLOUDAEYE_APPLY=yes     apply the plan
//   CLOUDAEYE_FLEET_ROLLBACK=yes  plan (and with CLOUDAEYE_APPLY=yes apply) the rollback of the run whose journals
//                           CLOUDAEYE_JOURNAL_DIR or CLOUDAEYE_JOURNAL_BUCKET with its CLOUDAEYE_JOURNAL_PREFIX hold,
//                           instead of an install: writes fleet-rollback-plan.json and policy-<account>.json; a
//                           CLOUDAEYE_JOURNAL_DIR that does not exist stops it before any change
//
//   /path/to/examples/jshell/cloudaeye-jshell fleet.jsh   (bash: adds a CDS archive, examples/README.md)
// or, without bash (Windows), jshell itself:
//   JAR=/path/to/cloudaeye-agent-all.jar
//   jshell --no-startup --execution local -J-XX:TieredStopAtLevel=1 -J--add-modules=ALL-DEFAULT -J--class-path=$JAR --class-path $JAR fleet.jsh
// (jshell's default remote execution, `jshell --class-path $JAR fleet.jsh`, works too, 1.3-2.1 s slower.)
// A local emulator instead of AWS: CLOUDAEYE_AWS_ENDPOINT=http://127.0.0.1:5000. CLOUDAEYE_JOURNAL_DIR: where the
// journals go (one directory per account and region below it). CLOUDAEYE_JOURNAL_BUCKET: keep them in this S3 bucket
// instead (one object per account-region, under CLOUDAEYE_JOURNAL_PREFIX, default runs/<epoch seconds>/), so that
// another machine can resume or roll back the run.

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
import software.amazon.awssdk.services.s3.S3Client;

int status = 1;

String env(String name, String fallback) {
    String value = System.getenv(name);
    return value == null || value.isBlank() ? fallback : value.trim();
}

String required(String name) {
    String value = env(name, null);
    if (value == null) {
        throw new IllegalArgumentException("Set the environment variable " + name + " (see the top of fleet.jsh).");
    }
    return value;
}

try {
    String x86 = env("CLOUDAEYE_LAYER_X86_64", null);
    String arm = env("CLOUDAEYE_LAYER_ARM64", null);
    if (x86 == null && arm == null) {
        throw new IllegalArgumentException("Set CLOUDAEYE_LAYER_X86_64 and/or CLOUDAEYE_LAYER_ARM64 (see fleet.jsh).");
    }
    String token = required("CLOUDAEYE_API_TOKEN");
    String logs = required("CLOUDAEYE_LOGS_ENDPOINT");
    FleetInstallerBuilder fleet = FleetInstaller.builder()
            .roleName(env("CLOUDAEYE_ROLE_NAME", "CloudAEyeInstaller"))
            .agent(a -> a.logsEndpoint(logs).apiToken(Secret.of(token)))
            .target((account, region) -> {
                LambdaTarget.Builder lambda = LambdaTarget.builder().functions("*");
                if (x86 != null) {
                    lambda.layer(Architecture.X86_64, x86.replace("{region}", region.id()).replace("{account}", account));
                }
                if (arm != null) {
                    lambda.layer(Architecture.ARM64, arm.replace("{region}", region.id()).replace("{account}", account));
                }
                return lambda.build();
            });
    String accounts = required("CLOUDAEYE_ACCOUNTS");
    if (accounts.equalsIgnoreCase("organization")) {
        fleet.organization();
    } else {
        fleet.accounts(accounts.split("\\s*,\\s*"));
    }
    String regions = env("CLOUDAEYE_REGIONS", env("AWS_REGION", "us-east-1"));
    if (regions.equalsIgnoreCase("all")) {
        fleet.allEnabledRegions();
    } else {
        for (String region : regions.split("\\s*,\\s*")) {
            fleet.regions(Region.of(region));
        }
    }
    String externalId = env("CLOUDAEYE_EXTERNAL_ID", null);
    if (externalId != null) {
        fleet.externalId(externalId);
    }
    String endpoint = env("CLOUDAEYE_AWS_ENDPOINT", null);
    if (endpoint != null) {
        fleet.endpointOverride(URI.create(endpoint))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test")));
    }
    String journals = env("CLOUDAEYE_JOURNAL_DIR", null);
    if (journals != null) {
        fleet.journalDirectory(Path.of(journals));
    }
    String bucket = env("CLOUDAEYE_JOURNAL_BUCKET", null);
    boolean rollback = env("CLOUDAEYE_FLEET_ROLLBACK", "no").equalsIgnoreCase("yes");
    if (rollback && journals == null && (bucket == null || env("CLOUDAEYE_JOURNAL_PREFIX", null) == null)) {
        throw new IllegalArgumentException("CLOUDAEYE_FLEET_ROLLBACK=yes rolls back the run whose journals are in"
                + " CLOUDAEYE_JOURNAL_DIR, or in CLOUDAEYE_JOURNAL_BUCKET under CLOUDAEYE_JOURNAL_PREFIX (the prefix"
                + " the run printed): set them. Nothing was changed.");
    }
    if (rollback && bucket == null && journals != null) {
        // A directory that is not there holds no journal: without this check the rollback plans and applies nothing,
        // and exits 0 as if it had restored the run.
        ScriptFiles.existingDirectory(Path.of(journals), "The journal directory {path} (CLOUDAEYE_JOURNAL_DIR)",
                "set CLOUDAEYE_JOURNAL_DIR to the directory the run to roll back wrote its journals to, or"
                        + " CLOUDAEYE_JOURNAL_BUCKET and CLOUDAEYE_JOURNAL_PREFIX when it kept them in S3.");
    }
    S3Client s3 = null;
    if (bucket != null) {
        var client = S3Client.builder().region(Region.of(env("AWS_REGION", "us-east-1")));
        if (endpoint != null) {
            client.endpointOverride(URI.create(endpoint)).forcePathStyle(true)
                    .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test")));
        }
        s3 = client.build();
        String prefix = env("CLOUDAEYE_JOURNAL_PREFIX", "runs/" + java.time.Instant.now().getEpochSecond() + "/");
        fleet.journalStore(S3JournalStore.builder().client(s3).bucket(bucket).prefix(prefix).build());
        System.out.println("Journals: s3://" + bucket + "/" + prefix
                + " (another machine resumes or rolls back the run from there)");
    }
    try (S3Client journalClient = s3; FleetInstaller installer = fleet.build()) {
        FleetPlan plan = rollback ? installer.planRollback() : installer.plan(); // read-only calls
        System.out.println(plan);
        for (var policy : plan.requiredPolicies().entrySet()) {
            Files.writeString(Path.of("policy-" + policy.getKey() + ".json"), policy.getValue().toJson());
        }
        String saved = rollback ? "fleet-rollback-plan.json" : "fleet-plan.json";
        if (!rollback) {
            Files.writeString(Path.of("installer-role.json"), plan.installerRoleTemplate());
        }
        Files.writeString(Path.of(saved), plan.toJson());
        if (env("CLOUDAEYE_APPLY", "no").equalsIgnoreCase("yes")) {
            FleetResult result = installer.apply(plan);
            System.out.println(result);
            status = result.isSuccess() ? 0 : 1;
        } else {
            System.out.println("Nothing was changed. Wrote " + saved + ", policy-<account>.json"
                    + (rollback ? "" : " and installer-role.json") + "; set CLOUDAEYE_APPLY=yes to apply.");
            status = plan.isComplete() ? 0 : 1;
        }
    }
} catch (Exception e) {
    System.err.println("fleet.jsh failed: " + e.getMessage());
    // The library names its builder calls: this line names the variables behind them.
    com.cloudaeye.agent.examples.ScriptHints.FLEET.hint(e).ifPresent(System.err::println);
}

/exit status
