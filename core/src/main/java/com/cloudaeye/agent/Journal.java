package com.cloudaeye.agent;

import com.cloudaeye.agent.internal.Changes;
import com.cloudaeye.agent.internal.FileJournalStore;
import com.cloudaeye.agent.internal.JournalWriter;
import com.cloudaeye.agent.spi.JournaledChange;
import com.cloudaeye.agent.spi.support.Json;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The record of an apply, read back from its file: the plan that was applied and, per change, whether it was
 * started, applied, skipped or failed. {@link AgentInstaller#rollback(Journal)} restores what it applied;
 * {@link AgentInstaller#resume(Journal)} finishes what it did not. It is JSON lines, made durable before and after
 * each mutation, in a {@link JournalStore} (a local file by default); it never holds a secret. A journal that a
 * resume continued (a shared store's, such as {@link S3JournalStore}) holds several applies, one after the other:
 * its plan is theirs together, each change as the latest apply planned it, and each change's last event counts.
 */
public final class Journal {
    /** What a journal line records. */
    public enum Event {
        /** The plan being applied (first line). */
        PLAN,
        /** A change is about to be applied. */
        STARTING,
        /** A change was applied. */
        APPLIED,
        /** A change was skipped. */
        SKIPPED,
        /** A change failed and did not land. */
        FAILED,
        /** A change may have landed but that could not be confirmed: rollback and resume check it live. */
        UNKNOWN
    }

    /**
     * One line of the journal.
     *
     * @param event what happened
     * @param target the change's target
     * @param resourceId the change's resource
     * @param message a note or the failure reason, may be null
     * @param appliedState the target's data for rolling back, may be null
     */
    public record Entry(
            Event event,
            String target,
            String resourceId,
            @Nullable String message,
            @Nullable JsonNode appliedState) {}

    private final String location;
    private final @Nullable Path path;
    private final Plan plan;
    private final Map<String, Entry> lastByChange;
    private final Set<String> started;
    private final @Nullable String rollsBack;
    /** Its non-blank lines when read: a store that takes the journal over checks that it has not grown since. */
    private final int lineCount;

    private Journal(
            String location,
            @Nullable Path path,
            Plan plan,
            Map<String, Entry> lastByChange,
            Set<String> started,
            @Nullable String rollsBack,
            int lineCount) {
        this.location = location;
        this.path = path;
        this.plan = plan;
        this.lastByChange = lastByChange;
        this.started = started;
        this.rollsBack = rollsBack;
        this.lineCount = lineCount;
    }

    /**
     * Reads a journal file. A last line cut short by a crash is ignored.
     *
     * @param path the journal file
     * @return the journal
     * @throws AgentException when the file cannot be read or holds no plan
     */
    public static Journal read(Path path) {
        List<String> lines;
        try {
            lines = Files.readAllLines(path, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new AgentException(
                    "Cannot read the journal " + path + ": " + e.getMessage()
                            + ". Pass the path that ApplyResult.journal() reported.",
                    e);
        }
        return parse(path.toString(), path, lines);
    }

    /**
     * Reads a journal from a store, for example one that another machine wrote to S3.
     *
     * @param store the store
     * @param location the journal's location, as {@link ApplyResult#journalLocation()} or {@link JournalStore#list()}
     *     reported it
     * @return the journal
     * @throws AgentException when it cannot be read or holds no plan
     */
    public static Journal read(JournalStore store, String location) {
        List<String> lines = store.read(location);
        return parse(location, store instanceof FileJournalStore ? Path.of(location) : null, lines);
    }

    private static Journal parse(String path, @Nullable Path file, List<String> lines) {
        Plan plan = null;
        String rollsBack = null;
        Map<String, Entry> last = new LinkedHashMap<>();
        Set<String> started = new HashSet<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank()) {
                continue;
            }
            JsonNode node;
            try {
                node = Json.parse(line);
            } catch (IOException e) {
                if (i == lines.size() - 1) {
                    break; // the process died while writing its last line
                }
                throw new AgentException(
                        "The journal " + path + " is corrupt at line " + (i + 1)
                                + ": restore it from a backup, or re-plan.",
                        e);
            }
            Event event = event(node, path, i + 1);
            if (event == Event.PLAN) {
                Plan next = plan(node, path, i + 1);
                plan = plan == null ? next : continued(plan, next);
                if (rollsBack == null && node.hasNonNull(JournalWriter.ROLLS_BACK)) {
                    rollsBack = node.get(JournalWriter.ROLLS_BACK).asText();
                }
                continue;
            }
            Entry entry = new Entry(
                    event,
                    node.path("target").asText(),
                    node.path("resourceId").asText(),
                    node.hasNonNull("message") ? node.get("message").asText() : null,
                    node.get("appliedState"));
            last.put(Changes.key(entry.target(), entry.resourceId()), entry);
            if (event == Event.STARTING) {
                started.add(Changes.key(entry.target(), entry.resourceId()));
            }
        }
        if (plan == null) {
            throw new AgentException("The journal " + path + " has no plan line: it is not a journal of this"
                    + " installer, or it was truncated before the apply started (nothing was changed).");
        }
        int lineCount = (int) lines.stream().filter(l -> !l.isBlank()).count();
        return new Journal(path, file, plan, last, started, rollsBack, lineCount);
    }

    /** @return the plan of a plan line, or an error naming the line when this version cannot read it */
    private static Plan plan(JsonNode node, String path, int line) {
        String why;
        try {
            Plan plan = node.hasNonNull("plan") ? Json.convert(node.get("plan"), Plan.class) : null;
            if (plan != null) {
                return plan;
            }
            why = "it has none";
        } catch (IllegalArgumentException e) {
            why = Objects.requireNonNullElse(e.getMessage(), e.toString())
                    .lines()
                    .findFirst()
                    .orElse("");
        }
        throw new AgentException("The journal " + path + " has a plan at line " + line + " that this installer cannot"
                + " read (" + why + "): it was written by a newer installer or edited. Read it with the version that"
                + " wrote it, or re-plan.");
    }

    /** The plan of an apply and of the resume that continued it: every change, as the later one planned it. */
    private static Plan continued(Plan earlier, Plan later) {
        Map<String, Change> changes = new LinkedHashMap<>();
        earlier.changes().forEach(c -> changes.put(Changes.key(c), c));
        later.changes().forEach(c -> changes.put(Changes.key(c), c));
        return Plan.builder()
                .from(later)
                .changes(changes.values())
                .addAllReadPermissions(earlier.readPermissions())
                .build();
    }

    private static Event event(JsonNode node, String path, int line) {
        String name = node.path("event").asText();
        for (Event e : Event.values()) {
            if (e.name().equals(name)) {
                return e;
            }
        }
        throw new AgentException("The journal " + path + " has an unknown event '" + name + "' at line " + line
                + ": it was written by a newer installer or edited. Read it with the version that wrote it, or"
                + " re-plan.");
    }

    /**
     * @return the journal file
     * @throws UnsupportedOperationException when the journal is not a file (an S3 journal): use {@link #location()}
     */
    public Path path() {
        if (path == null) {
            throw new UnsupportedOperationException(
                    "The journal " + location + " is not a file: use Journal.location() to name it.");
        }
        return path;
    }

    /** @return where the journal is: its file's path, or an {@code s3://} URI */
    public String location() {
        return location;
    }

    /**
     * @return for a rollback that held the lease of the journal it rolls back (a shared store), that journal's
     *     location, which a resume of the rollback holds again
     */
    Optional<String> rollsBack() {
        return Optional.ofNullable(rollsBack);
    }

    /** @return how many non-blank lines it had when read */
    int lineCount() {
        return lineCount;
    }

    /** @return the plan that was applied */
    public Plan plan() {
        return plan;
    }

    /**
     * @param change a change of the plan
     * @return the last event recorded for it, empty when it was never started
     */
    public Optional<Entry> last(Change change) {
        return Optional.ofNullable(lastByChange.get(Changes.key(change.target(), change.resourceId())));
    }

    /** @return the plan's mutating changes whose last event is {@link Event#APPLIED} */
    public List<Change> applied() {
        return withLast(Event.APPLIED);
    }

    /**
     * @return the plan's mutating changes that were started but have no outcome: the process died during their
     *     mutation, so the live state must be checked
     */
    public List<Change> interrupted() {
        return withLast(Event.STARTING);
    }

    /** @return the plan's mutating changes whose outcome is {@link Event#UNKNOWN}: they may have landed */
    public List<Change> unknown() {
        return withLast(Event.UNKNOWN);
    }

    /**
     * Every change whose mutating call may have been sent, with its last event and applied state: applied, unknown,
     * interrupted, and failed after it was started (a journal of an older version may call a change failed that
     * landed). This is what a rollback restores, each checked against the live state by its target.
     *
     * @return those changes, in plan order
     */
    public List<JournaledChange> sent() {
        List<JournaledChange> out = new ArrayList<>();
        for (Change c : plan.mutations()) {
            Entry e = lastByChange.get(Changes.key(c.target(), c.resourceId()));
            if (e == null) {
                continue;
            }
            boolean sent = switch (e.event()) {
                case APPLIED, UNKNOWN, STARTING -> true;
                case FAILED -> started.contains(Changes.key(c.target(), c.resourceId()));
                case PLAN, SKIPPED -> false;
            };
            if (sent) {
                out.add(new JournaledChange(c, e.event(), e.appliedState()));
            }
        }
        return out;
    }

    /**
     * @return the plan's mutating changes that were never confirmed applied: not started, failed, skipped, unknown
     *     or interrupted
     */
    public List<Change> unfinished() {
        List<Change> out = new ArrayList<>();
        for (Change c : plan.mutations()) {
            if (last(c).map(e -> e.event() != Event.APPLIED).orElse(true)) {
                out.add(c);
            }
        }
        return out;
    }

    private List<Change> withLast(Event event) {
        List<Change> out = new ArrayList<>();
        for (Change c : plan.mutations()) {
            if (last(c).map(e -> e.event() == event).orElse(false)) {
                out.add(c);
            }
        }
        return out;
    }

    /**
     * @param change a change
     * @return its applied state, if the journal recorded one
     */
    public Optional<JsonNode> appliedState(Change change) {
        return last(change).map(Entry::appliedState);
    }

    @Override
    public String toString() {
        return "Journal " + location + ": " + applied().size() + " applied, "
                + unknown().size() + " unknown, " + unfinished().size() + " unfinished";
    }
}
