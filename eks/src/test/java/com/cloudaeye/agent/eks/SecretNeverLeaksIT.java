package com.cloudaeye.agent.eks;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.Journal;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.ProgressListener;
import com.cloudaeye.agent.ResourceResult;
import com.cloudaeye.agent.spi.support.Json;
import com.cloudaeye.agent.testing.Moto;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.cloudformation.CloudFormationClient;
import software.amazon.awssdk.services.cloudformation.model.Stack;

/**
 * A full run (plan, print, apply, re-plan, uninstall, rollback, a failing sink) with every log line at DEBUG, the plan
 * text and JSON, the policy, the journals, the results and the exceptions captured: the secret access key that the
 * sink received appears in none of them.
 */
class SecretNeverLeaksIT {
    @TempDir
    Path journals;

    private final List<AccessKey> sink = new CopyOnWriteArrayList<>();
    private final List<String> evidence = new ArrayList<>();
    private final ByteArrayOutputStream console = new ByteArrayOutputStream();
    private PrintStream originalOut;
    private PrintStream originalErr;

    @BeforeEach
    void captureConsole() {
        Moto.reset();
        MotoEks.createCluster(MotoEks.CLUSTER);
        originalOut = System.out;
        originalErr = System.err;
        PrintStream capture = new PrintStream(new TeeStream(console, originalErr), true, StandardCharsets.UTF_8);
        System.setOut(capture);
        System.setErr(capture);
    }

    @AfterEach
    void restoreConsole() {
        System.setOut(originalOut);
        System.setErr(originalErr);
    }

    private AgentInstaller installer(java.util.function.Consumer<AccessKey> keySink) {
        return MotoEks.installer(MotoEks.target()
                        .controlPlaneLogging(true)
                        .cloudAEyeAccess(a -> a.iamUserStack().accessKeySink(keySink))
                        .build())
                .listener(ProgressListener.console())
                .journalDirectory(journals)
                .build();
    }

    @Test
    void fullRun_neverShowsTheSecretAccessKey_anywhere() throws IOException {
        try (AgentInstaller installer = installer(sink::add)) {
            Plan plan = installer.plan();
            record(plan.toString(), plan.toJson(), plan.requiredPolicy().toJson());
            System.out.println(plan);

            ApplyResult applied = installer.apply(Plan.fromJson(plan.toJson()));
            record(applied.toString(), json(applied));
            applied.results().forEach(r -> record(r.toString()));

            Plan again = installer.plan();
            record(again.toString(), again.toJson());

            Journal journal = Journal.read(applied.journal().orElseThrow());
            record(journal.toString());
            Plan rollback = installer.planRollback(journal);
            record(
                    rollback.toString(),
                    rollback.toJson(),
                    rollback.requiredPolicy().toJson());
            ApplyResult rolledBack = installer.apply(rollback);
            record(rolledBack.toString(), json(rolledBack));
            assertThat(rolledBack.isSuccess()).as(rolledBack.toString()).isTrue();
        }
        assertThat(sink).hasSize(1);

        // A second install whose sink fails, quoting the secret in its exception. (moto keeps the stack's managed
        // policy after DeleteStack, where AWS deletes it, so it starts from a fresh account.)
        Moto.reset();
        MotoEks.createCluster(MotoEks.CLUSTER);
        List<String> refused = new CopyOnWriteArrayList<>();
        try (AgentInstaller installer = installer(key -> {
            refused.add(key.secretAccessKey().reveal());
            throw new IllegalStateException(
                    "vault rejected " + key.secretAccessKey().reveal());
        })) {
            ApplyResult failed = installer.apply(installer.plan());
            record(failed.toString(), json(failed));
            assertThat(failed.withOutcome(ResourceResult.Outcome.FAILED))
                    .as("the key landed: not failed")
                    .isEmpty();
            assertThat(failed.withOutcome(ResourceResult.Outcome.UNKNOWN))
                    .singleElement()
                    .satisfies(r -> assertThat(r.message())
                            .hasValueSatisfying(m ->
                                    assertThat(m).contains("accessKeySink threw java.lang.IllegalStateException")));
            Plan uninstall = installer.planUninstall();
            record(uninstall.toString(), uninstall.toJson());
            ApplyResult removed = installer.apply(uninstall);
            record(removed.toString(), json(removed));
        }
        assertThat(refused).hasSize(1);
        List<AccessKey> fromInstaller = new CopyOnWriteArrayList<>();

        // A saved plan applied by the service ServiceLoader makes, and no installer sink: it stops before any change.
        try (AgentInstaller installer = installer(sink::add)) {
            String saved = installer.plan().toJson();
            try (AgentInstaller withoutTarget = MotoEks.installer(EksTarget.builder()
                            .cluster("unused")
                            .controlPlaneLogging(true)
                            .build())
                    .journalDirectory(journals)
                    .build()) {
                record(json(withoutTarget.apply(Plan.fromJson(saved))));
            } catch (RuntimeException e) {
                record(stackTrace(e));
            }
            // ... and by a fresh installer that has the installer-level sink: the key is created and handed over.
            try (AgentInstaller fresh = MotoEks.environment()
                    .sink(EksTarget.ACCESS_KEY_SINK, fromInstaller::add)
                    .listener(ProgressListener.console())
                    .journalDirectory(journals)
                    .build()) {
                ApplyResult applied = fresh.apply(Plan.fromJson(saved));
                record(applied.toString(), json(applied));
                assertThat(applied.isSuccess()).as(applied.toString()).isTrue();
            }
        }

        try (CloudFormationClient cfn = MotoEks.cloudFormation()) {
            for (Stack s : cfn.describeStacks().stacks()) {
                record(s.toString(), String.valueOf(s.outputs()), String.valueOf(s.description()));
            }
        }
        try (Stream<Path> files = Files.list(journals)) {
            for (Path f : files.toList()) {
                record(Files.readString(f));
            }
        }
        System.out.flush();
        record(console.toString(StandardCharsets.UTF_8));

        List<String> secrets = new ArrayList<>();
        sink.forEach(k -> secrets.add(k.secretAccessKey().reveal()));
        secrets.addAll(refused);
        fromInstaller.forEach(k -> secrets.add(k.secretAccessKey().reveal()));
        assertThat(secrets).hasSize(3).allSatisfy(s -> assertThat(s).hasSizeGreaterThanOrEqualTo(20));
        String all = String.join("\n", evidence);
        assertThat(all)
                .as("the captured output is the real thing")
                .contains(
                        "Applied create",
                        "software.amazon.awssdk.request",
                        "CloudAEyeServiceAccountStack",
                        sink.get(0).accessKeyId());
        for (String secret : secrets) {
            assertThat(all).doesNotContain(secret);
        }
    }

    private void record(String... texts) {
        evidence.addAll(List.of(texts));
    }

    /**
     * The result as JSON. Not {@code ApplyResult.toJson()}: core's mapper has no JSR-310 module for its duration yet,
     * so that fails for every result (reported to the lead); the per-resource results carry all the text.
     */
    private static String json(ApplyResult result) {
        return Json.write(result.results())
                + result.journal().map(Path::toString).orElse("");
    }

    private static String stackTrace(Throwable e) {
        StringWriter w = new StringWriter();
        e.printStackTrace(new PrintWriter(w));
        return w.toString();
    }

    /** Writes to the capture and to the real stderr, so the build log still shows the run. */
    private static final class TeeStream extends java.io.OutputStream {
        private final java.io.OutputStream a;
        private final java.io.OutputStream b;

        TeeStream(java.io.OutputStream a, java.io.OutputStream b) {
            this.a = a;
            this.b = b;
        }

        @Override
        public void write(int c) throws IOException {
            a.write(c);
            b.write(c);
        }

        @Override
        public void write(byte[] buf, int off, int len) throws IOException {
            a.write(buf, off, len);
            b.write(buf, off, len);
        }
    }
}
