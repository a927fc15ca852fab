package com.cloudaeye.agent.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.cloudaeye.agent.Journal;
import com.cloudaeye.agent.JournalException;
import com.cloudaeye.agent.JournalStore;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.S3JournalStore;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The S3 journal store against moto's S3, whose {@code PutObject} honours {@code If-None-Match: *} and {@code
 * If-Match} (412 when the condition fails): a run's journal is created once, a writer whose object changed under it
 * stops, and another worker takes a journal over only once its lease has expired.
 */
class S3JournalStoreIT {
    private static final String PLAN_LINE =
            "{\"event\":\"PLAN\",\"plan\":{\"kind\":\"INSTALL\",\"region\":\"us-east-1\","
                    + "\"changes\":[],\"readPermissions\":[],\"notes\":[]}}";

    private final String bucket = "journals-" + System.nanoTime();
    private final Plan plan =
            Plan.builder().kind(Plan.Kind.INSTALL).region("us-east-1").build();
    private S3Client s3;

    @BeforeEach
    void createBucket() {
        s3 = Moto.s3();
        s3.createBucket(b -> b.bucket(bucket));
    }

    @AfterEach
    void close() {
        s3.close();
    }

    private JournalStore store(String owner, Duration lease) {
        return S3JournalStore.builder()
                .client(s3)
                .bucket(bucket)
                .prefix("runs/run-1/")
                .owner(owner)
                .lease(lease)
                .build()
                .below("111111111111")
                .below("us-east-1");
    }

    @Test
    void create_whenTheRunHasAJournal_isRefusedNamingTheOwner() {
        JournalStore a = store("worker-a", Duration.ofMinutes(2));
        try (JournalStore.Writer writer = a.create(plan)) {
            writer.append(PLAN_LINE);
            assertThat(writer.location())
                    .isEqualTo("s3://" + bucket + "/runs/run-1/111111111111/us-east-1/install.jsonl");

            assertThatThrownBy(() -> store("worker-b", Duration.ofMinutes(2)).create(plan))
                    .isInstanceOf(JournalException.class)
                    .hasMessageContaining("A journal already exists at " + writer.location())
                    .hasMessageContaining("worker worker-a holds it until");
        }
        assertThat(a.list()).containsExactly("s3://" + bucket + "/runs/run-1/111111111111/us-east-1/install.jsonl");
        assertThat(a.read(a.list().get(0))).containsExactly(PLAN_LINE);
    }

    @Test
    void append_whenTheObjectChangedUnderTheWriter_failsBeforeWriting() {
        JournalStore a = store("worker-a", Duration.ofMinutes(2));
        JournalStore.Writer writer = a.create(plan);
        writer.append(PLAN_LINE);
        String key = writer.location().substring(("s3://" + bucket + "/").length());
        // Another worker writes the very same journal lines: S3's ETag is the content's MD5, so only the writer's own
        // lease line (a nonce in each put) makes this a change that its If-Match sees.
        s3.putObject(
                b -> b.bucket(bucket).key(key).metadata(Map.of("cloudaeye-lease-owner", "worker-b")),
                RequestBody.fromString(PLAN_LINE + "\n"));

        assertThatThrownBy(() -> writer.append("{\"event\":\"STARTING\"}"))
                .isInstanceOf(JournalException.class)
                .hasMessageContaining("Lost the journal " + writer.location())
                .hasMessageContaining("worker worker-b");
        writer.close();
        assertThat(a.read(writer.location())).containsExactly(PLAN_LINE);
    }

    @Test
    void resume_isRefusedWhileTheLeaseIsLive_andTakesTheJournalOverOnceItExpired() throws Exception {
        // A worker that died after one line: its lease (3 s) is no longer renewed.
        JournalStore a = store("worker-a", Duration.ofSeconds(3));
        String key = "runs/run-1/111111111111/us-east-1/install.jsonl";
        Instant expires = Instant.now().plusSeconds(3);
        s3.putObject(
                b -> b.bucket(bucket)
                        .key(key)
                        .ifNoneMatch("*")
                        .metadata(Map.of(
                                "cloudaeye-lease-owner",
                                "worker-a",
                                "cloudaeye-lease-expires",
                                Long.toString(expires.toEpochMilli()))),
                RequestBody.fromString(PLAN_LINE + "\n"));
        JournalStore b = store("worker-b", Duration.ofSeconds(3));
        Journal journal = Journal.read(b, b.list().get(0));

        assertThatThrownBy(() -> b.resume(journal, plan))
                .isInstanceOf(JournalException.class)
                .hasMessageContaining("is owned by worker worker-a, whose lease runs until "
                        + expires.truncatedTo(java.time.temporal.ChronoUnit.MILLIS))
                .hasMessageContaining("Nothing was changed");

        while (!Instant.now().isAfter(expires)) {
            Thread.sleep(100); // waits for the expiry; nothing here measures time
        }
        try (JournalStore.Writer writer = b.resume(journal, plan)) {
            writer.append(PLAN_LINE);
        }
        assertThat(a.read(journal.location())).containsExactly(PLAN_LINE, PLAN_LINE);
        assertThat(Journal.read(a, journal.location()).plan()).isEqualTo(plan);
    }

    @Test
    void resume_byAnotherStoreGivenTheSameOwnerName_isRefusedWhileTheLeaseIsLive_andTakesOverOnceReleased() {
        // A job system retries shard-3 while its first attempt is still alive: both name themselves "shard-3".
        JournalStore first = store("shard-3", Duration.ofMinutes(2));
        JournalStore retry = store("shard-3", Duration.ofMinutes(2));
        String location;
        try (JournalStore.Writer writer = first.create(plan)) {
            writer.append(PLAN_LINE);
            location = writer.location();
            Journal journal = Journal.read(retry, location);

            assertThatThrownBy(() -> retry.resume(journal, plan))
                    .isInstanceOf(JournalException.class)
                    .hasMessageContaining("is owned by worker shard-3, whose lease runs until")
                    .hasMessageContaining("Nothing was changed");
            writer.append(PLAN_LINE); // the first attempt still owns its run
        }
        // The first attempt ended (its writer released the lease): the retry takes the run over at once.
        try (JournalStore.Writer writer = retry.resume(Journal.read(retry, location), plan)) {
            writer.append(PLAN_LINE);
        }
        assertThat(first.read(location)).containsExactly(PLAN_LINE, PLAN_LINE, PLAN_LINE);
    }

    @Test
    void list_whenNothingWasWritten_isEmpty() {
        assertThat(store("worker-a", Duration.ofMinutes(2)).list()).isEqualTo(List.of());
    }
}
