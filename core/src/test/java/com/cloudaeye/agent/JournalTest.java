package com.cloudaeye.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.cloudaeye.agent.internal.JournalWriter;
import com.cloudaeye.agent.spi.support.Json;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JournalTest {
    @TempDir
    Path dir;

    private final Plan plan = Fixtures.plan();
    private final Change api = Fixtures.update("api");
    private final Change orders = Fixtures.update("orders");

    @Test
    void writer_startsWithThePlanLine_andReadGivesThePlanBack() throws Exception {
        Path path;
        try (JournalWriter writer = JournalWriter.create(dir.resolve("new/sub"), plan)) {
            path = writer.path();
        }
        List<String> lines = Files.readAllLines(path);
        assertThat(lines).hasSize(1);
        JsonNode first = Json.parse(lines.get(0));
        assertThat(first.path("event").asText()).isEqualTo("PLAN");
        assertThat(first.path("time").asText()).isNotBlank();
        assertThat(path.getFileName().toString()).startsWith("apply-").endsWith(".jsonl");

        Journal journal = Journal.read(path);
        assertThat(journal.plan()).isEqualTo(plan);
        assertThat(journal.path()).isEqualTo(path);
        assertThat(journal.unfinished()).containsExactly(api, orders);
        assertThat(journal.applied()).isEmpty();
    }

    @Test
    void writer_appendsOneJsonLinePerEvent() throws Exception {
        Path path;
        try (JournalWriter writer = JournalWriter.create(dir, plan)) {
            writer.record(Journal.Event.STARTING, api, null, null);
            writer.record(
                    Journal.Event.APPLIED,
                    api,
                    "published version 7",
                    Json.object().put("version", "7"));
            path = writer.path();
        }
        List<String> lines = Files.readAllLines(path);
        assertThat(lines).hasSize(3);
        JsonNode applied = Json.parse(lines.get(2));
        assertThat(applied.path("event").asText()).isEqualTo("APPLIED");
        assertThat(applied.path("target").asText()).isEqualTo("lambda");
        assertThat(applied.path("resourceId").asText()).isEqualTo(api.resourceId());
        assertThat(applied.path("message").asText()).isEqualTo("published version 7");
        assertThat(applied.path("appliedState").path("version").asText()).isEqualTo("7");
    }

    @Test
    void read_classifiesChangesByTheirLastEvent() {
        Change third = Fixtures.update("zeta");
        Plan threeUpdates = Plan.builder().from(plan).addChanges(third).build();
        Path path;
        try (JournalWriter writer = JournalWriter.create(dir, threeUpdates)) {
            writer.record(Journal.Event.STARTING, api, null, null);
            writer.record(Journal.Event.APPLIED, api, null, Json.object().put("revisionId", "r2"));
            writer.record(Journal.Event.STARTING, orders, null, null);
            writer.record(Journal.Event.STARTING, third, null, null);
            writer.record(Journal.Event.FAILED, third, "AccessDenied", null);
            path = writer.path();
        }

        Journal journal = Journal.read(path);

        assertThat(journal.applied()).containsExactly(api);
        assertThat(journal.interrupted()).containsExactly(orders);
        assertThat(journal.unfinished()).containsExactly(orders, third);
        assertThat(journal.last(third)).hasValueSatisfying(e -> {
            assertThat(e.event()).isEqualTo(Journal.Event.FAILED);
            assertThat(e.message()).isEqualTo("AccessDenied");
        });
        assertThat(journal.appliedState(api))
                .hasValueSatisfying(
                        s -> assertThat(s.path("revisionId").asText()).isEqualTo("r2"));
        assertThat(journal.last(Fixtures.noOp("billing"))).isEmpty();
        assertThat(journal.sent())
                .as("rollback gets every change whose mutation may have been sent, failed ones after a start too")
                .extracting(j -> j.change().resourceId() + " " + j.event())
                .containsExactly(
                        api.resourceId() + " APPLIED",
                        orders.resourceId() + " STARTING",
                        third.resourceId() + " FAILED");
        assertThat(journal.toString()).contains("1 applied, 0 unknown, 2 unfinished");
    }

    @Test
    void read_ignoresALastLineCutShortByACrash() throws Exception {
        Path path;
        try (JournalWriter writer = JournalWriter.create(dir, plan)) {
            writer.record(Journal.Event.STARTING, api, null, null);
            path = writer.path();
        }
        Files.writeString(
                path, "{\"event\":\"APPLIED\",\"target\":\"lam", StandardCharsets.UTF_8, StandardOpenOption.APPEND);

        Journal journal = Journal.read(path);

        assertThat(journal.applied()).isEmpty();
        assertThat(journal.interrupted()).containsExactly(api);
    }

    @Test
    void read_aCorruptLineBeforeTheLast_isAnErrorNamingTheLine() throws Exception {
        Path path;
        try (JournalWriter writer = JournalWriter.create(dir, plan)) {
            path = writer.path();
        }
        Files.writeString(path, "not json\n", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        try (JournalWriter other = JournalWriter.create(dir, plan)) {
            Files.writeString(path, Files.readAllLines(other.path()).get(0) + "\n", StandardOpenOption.APPEND);
        }

        assertThatThrownBy(() -> Journal.read(path))
                .isInstanceOf(AgentException.class)
                .hasMessageContaining("corrupt at line 2")
                .hasMessageContaining(path.toString());
    }

    @Test
    void read_aWellFormedLineWithAnUnknownEvent_isAnAgentExceptionNamingTheLine() throws Exception {
        Path path;
        try (JournalWriter writer = JournalWriter.create(dir, plan)) {
            writer.record(Journal.Event.STARTING, api, null, null);
            path = writer.path();
        }
        Files.writeString(
                path,
                "{\"event\":\"ROLLED_BACK\",\"target\":\"lambda\",\"resourceId\":\"x\"}\n",
                StandardCharsets.UTF_8,
                StandardOpenOption.APPEND);

        assertThatThrownBy(() -> Journal.read(path))
                .isInstanceOf(AgentException.class)
                .hasMessageContaining("unknown event 'ROLLED_BACK' at line 3")
                .hasMessageContaining(path.toString());
    }

    @Test
    void read_aPlanLineThisVersionCannotRead_isAnAgentExceptionNamingTheLine() throws Exception {
        Path path = dir.resolve("newer.jsonl");
        Files.writeString(path, """
                {"event":"PLAN","plan":{"kind":"NOPE","region":"us-east-1","changes":[]}}
                {"event":"PLAN"}
                """, StandardCharsets.UTF_8);

        assertThatThrownBy(() -> Journal.read(path))
                .isInstanceOf(AgentException.class)
                .hasMessageContaining("plan at line 1 that this installer cannot read")
                .hasMessageContaining(path.toString());
        Files.writeString(path, Files.readAllLines(path).get(1) + "\n", StandardCharsets.UTF_8);
        assertThatThrownBy(() -> Journal.read(path))
                .isInstanceOf(AgentException.class)
                .hasMessageContaining("plan at line 1 that this installer cannot read");
    }

    @Test
    void create_makesTheFileOwnerOnly_inAnOwnerOnlyDirectory() throws Exception {
        assumeTrue(dir.getFileSystem().supportedFileAttributeViews().contains("posix"), "a POSIX file system");
        Path journals = dir.resolve("fresh/journals");
        Path path;
        try (JournalWriter writer = JournalWriter.create(journals, plan)) {
            path = writer.path();
        }
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(path)))
                .isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(journals)))
                .isEqualTo("rwx------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("fresh"))))
                .as("every directory the writer created")
                .isEqualTo("rwx------");
    }

    @Test
    void create_inAnExistingDirectory_leavesItsModeButMakesTheFileOwnerOnly() throws Exception {
        assumeTrue(dir.getFileSystem().supportedFileAttributeViews().contains("posix"), "a POSIX file system");
        Path shared = Files.createDirectory(dir.resolve("shared"));
        Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path path;
        try (JournalWriter writer = JournalWriter.create(shared, plan)) {
            path = writer.path();
        }
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(path)))
                .isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(shared)))
                .isEqualTo("rwxr-xr-x");
    }

    @Test
    void read_withoutAPlanLine_isAnErrorThatSaysNothingChanged() throws Exception {
        Path path = dir.resolve("empty.jsonl");
        Files.writeString(path, "");
        assertThatThrownBy(() -> Journal.read(path))
                .isInstanceOf(AgentException.class)
                .hasMessageContaining("no plan line")
                .hasMessageContaining("nothing was changed");
    }

    @Test
    void read_aMissingFile_namesThePath() {
        Path missing = dir.resolve("nope.jsonl");
        assertThatThrownBy(() -> Journal.read(missing))
                .isInstanceOf(AgentException.class)
                .hasMessageContaining(missing.toString())
                .hasMessageContaining("ApplyResult.journal()");
    }

    @Test
    void create_inAnUnwritablePlace_saysNothingWasChanged() throws Exception {
        Path file = Files.writeString(dir.resolve("a-file"), "x");
        assertThatThrownBy(() -> JournalWriter.create(file, plan))
                .isInstanceOf(AgentException.class)
                .hasMessageContaining("Nothing was changed")
                .hasMessageContaining("journalDirectory");
    }

    @Test
    void twoJournalsOfOnePlan_inOneDirectory_getDistinctFiles() {
        try (JournalWriter a = JournalWriter.create(dir, plan);
                JournalWriter b = JournalWriter.create(dir, plan)) {
            assertThat(a.path()).isNotEqualTo(b.path());
        }
    }

    @Test
    void read_whenAResumeContinuedTheJournal_knowsEveryChangeOfBothApplies() throws Exception {
        Path path;
        try (JournalWriter writer = JournalWriter.create(dir, plan)) {
            writer.record(Journal.Event.STARTING, api, null, null);
            writer.record(Journal.Event.APPLIED, api, null, Json.object().put("version", "7"));
            writer.record(Journal.Event.STARTING, orders, null, null);
            path = writer.path();
        }
        // What a shared store's resume appends: the remaining work's plan line, then its events.
        Plan rest = Plan.builder().from(plan).changes(List.of(orders)).build();
        Path second;
        try (JournalWriter writer = JournalWriter.create(dir.resolve("rest"), rest)) {
            writer.record(Journal.Event.APPLIED, orders, null, Json.object().put("version", "8"));
            second = writer.path();
        }
        Files.writeString(path, Files.readString(second), StandardOpenOption.APPEND);

        Journal journal = Journal.read(JournalStore.directory(dir), path.toString());

        assertThat(journal.plan().mutations()).containsExactly(api, orders);
        assertThat(journal.applied()).containsExactly(api, orders);
        assertThat(journal.unfinished()).isEmpty();
        assertThat(journal.sent())
                .extracting(c -> c.change().resourceId())
                .containsExactly(api.resourceId(), orders.resourceId());
        assertThat(journal.location()).isEqualTo(path.toString());
        assertThat(journal.path()).isEqualTo(path);
    }
}
