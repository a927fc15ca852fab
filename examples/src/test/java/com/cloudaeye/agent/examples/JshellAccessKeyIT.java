package com.cloudaeye.agent.examples;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.Secret;
import com.cloudaeye.agent.eks.EksTarget;
import com.cloudaeye.agent.examples.Jshell.Run;
import com.cloudaeye.agent.testing.Moto;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.iam.model.AccessKeyMetadata;
import software.amazon.awssdk.services.iam.model.NoSuchEntityException;

/** {@code apply.jsh} with a saved EKS plan that creates CloudAEye's access key, against moto. */
class JshellAccessKeyIT {
    private static final String TOKEN = "tok-jshell-key-it-2b7e41-secret";

    @TempDir
    Path work;

    private final Map<String, String> env = new HashMap<>();

    @BeforeEach
    void setUp() {
        Moto.reset();
        assertThat(Jshell.JAR).as("the shaded jar (made by the package phase)").isRegularFile();
        env.put("CLOUDAEYE_AWS_ENDPOINT", Moto.endpoint().toString());
        env.put("AWS_REGION", Moto.REGION.id());
        env.put("CLOUDAEYE_JOURNAL_DIR", work.resolve("journals").toString());
        env.put("CLOUDAEYE_LOGS_ENDPOINT", "https://logs.example.cloudaeye.com");
        env.put("CLOUDAEYE_API_TOKEN", TOKEN);
    }

    /**
     * A saved plan that creates CloudAEye's access key (IAM-user mode, planned with the Java API): apply.jsh refuses it
     * before any change without CLOUDAEYE_ACCESS_KEY_FILE, and with it writes the key into that new owner-only file,
     * printing the secret nowhere.
     */
    @Test
    void eks_applyOfAPlanThatCreatesAnAccessKey_writesTheKeyToTheOwnerOnlyKeyFile() throws IOException {
        savePlanThatCreatesAnAccessKey();

        Run refused = jshell("apply.jsh");
        assertThat(refused.exitStatus()).as(refused.output()).isEqualTo(1);
        assertThat(refused.output()).contains("apply.jsh failed:", "CLOUDAEYE_ACCESS_KEY_FILE");
        assertThat(accessKeyIds()).as("nothing changed").isEmpty();

        Path keyFile = Files.createDirectory(work.resolve("secrets")).resolve("cloudaeye-key");
        env.put("CLOUDAEYE_ACCESS_KEY_FILE", keyFile.toString());
        Run apply = jshell("apply.jsh");
        assertThat(apply.exitStatus()).as(apply.output()).isZero();
        assertThat(Files.getPosixFilePermissions(keyFile)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        String written = Files.readString(keyFile);
        assertThat(accessKeyIds())
                .singleElement()
                .satisfies(id -> assertThat(written).startsWith("[cloudaeye]").contains("aws_access_key_id = " + id));
        String prefix = "aws_secret_access_key = ";
        String secret =
                written.substring(written.indexOf(prefix) + prefix.length()).trim();
        assertThat(secret).hasSizeGreaterThan(20);
        assertThat(List.of(refused, apply))
                .allSatisfy(
                        run -> assertThat(run.output()).doesNotContain(secret).doesNotContain(TOKEN));
        try (Stream<Path> files = Files.walk(work)) {
            for (Path file : files.filter(f -> Files.isRegularFile(f) && !f.equals(keyFile))
                    .toList()) {
                assertThat(Files.readString(file)).as(file.toString()).doesNotContain(secret);
            }
        }
    }

    /**
     * A key file in a directory that does not exist: apply.jsh stops before any change, naming the file, its directory
     * and the fix, where it used to create the key and fail only when writing it (the rollback then deleted it).
     */
    @Test
    void eks_applyWithAKeyFileInAMissingDirectory_namesTheDirectoryAndTheFix_beforeAnyChange() throws IOException {
        savePlanThatCreatesAnAccessKey();
        Path directory = work.toRealPath().resolve("secrets");
        Path keyFile = directory.resolve("cloudaeye-key");
        env.put("CLOUDAEYE_ACCESS_KEY_FILE", keyFile.toString());

        Run refused = jshell("apply.jsh");

        assertThat(refused.exitStatus()).as(refused.output()).isEqualTo(1);
        assertThat(refused.output())
                .contains("apply.jsh failed: CLOUDAEYE_ACCESS_KEY_FILE names " + keyFile + ", whose directory "
                        + directory + " does not exist: create it first (mkdir -m 700 " + directory + ") or name a"
                        + " new file in an existing directory you can write to. Nothing was changed.")
                .doesNotContain(TOKEN);
        assertThat(iamUserExists()).as("no IAM user, no key: nothing changed").isFalse();
        assertThat(work.resolve("journals")).as("no apply journal").doesNotExist();
        try (Stream<Path> files = Files.list(work)) {
            assertThat(files.toList()).containsExactly(work.resolve("plan.json"));
        }
    }

    /** Saves plan.json: the sample EKS cluster with CloudAEye's IAM user and its access key (the Java API's plan). */
    private void savePlanThatCreatesAnAccessKey() throws IOException {
        SampleEksCluster.create(Moto.endpoint(), Moto.REGION, Moto.credentials());
        try (AgentInstaller planner = AgentInstaller.builder()
                .region(Moto.REGION)
                .credentialsProvider(Moto.credentials())
                .endpointOverride(Moto.endpoint())
                .agent(a -> a.logsEndpoint("https://logs.example.cloudaeye.com").apiToken(Secret.of(TOKEN)))
                .target(EksTarget.builder()
                        .cluster(SampleEksCluster.CLUSTER)
                        .cloudAEyeAccess(a -> a.iamUserStack().accessKeySink(key -> {
                            throw new AssertionError("planning hands out no key");
                        }))
                        .build())
                .withoutJournal()
                .build()) {
            Files.writeString(work.resolve("plan.json"), planner.plan().toJson());
        }
    }

    private static boolean iamUserExists() {
        try (IamClient iam = IamClient.builder()
                .endpointOverride(Moto.endpoint())
                .region(Moto.REGION)
                .credentialsProvider(Moto.credentials())
                .build()) {
            iam.getUser(r -> r.userName("CloudAEyeServiceAccount"));
            return true;
        } catch (NoSuchEntityException noUser) {
            return false;
        }
    }

    /** The access keys of CloudAEye's IAM user, none when the user does not exist. */
    private static List<String> accessKeyIds() {
        try (IamClient iam = IamClient.builder()
                .endpointOverride(Moto.endpoint())
                .region(Moto.REGION)
                .credentialsProvider(Moto.credentials())
                .build()) {
            return iam.listAccessKeys(r -> r.userName("CloudAEyeServiceAccount")).accessKeyMetadata().stream()
                    .map(AccessKeyMetadata::accessKeyId)
                    .toList();
        } catch (NoSuchEntityException noUser) {
            return List.of();
        }
    }

    private Run jshell(String script) {
        return Jshell.run(work, env, script);
    }
}
