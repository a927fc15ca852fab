package com.cloudaeye.agent.internal;

import com.cloudaeye.agent.AgentException;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.Journal;
import com.cloudaeye.agent.JournalException;
import com.cloudaeye.agent.JournalStore;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.spi.support.Json;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/**
 * Writes journal lines through a {@link JournalStore.Writer}, which makes each durable before returning, so a line
 * written before a mutation survives a {@code kill -9} right after it. A line that cannot be written throws {@link
 * JournalException}, which only {@link ApplyRunner} handles. Holds no secrets: changes are already redacted and
 * targets never journal a secret.
 */
public final class JournalWriter implements AutoCloseable {
    /** Tests of the one journal-failure path: writing a line this matches fails as a full disk would. */
    static volatile @Nullable Predicate<ObjectNode> failing;

    /**
     * The plan line's field naming the journal a rollback rolls back, written when the rollback holds that journal's
     * lease ({@link HeldJournalStore}), so that a resume of the rollback holds it again.
     */
    public static final String ROLLS_BACK = "rollsBack";

    private final JournalStore.Writer out;

    private JournalWriter(JournalStore.Writer out) {
        this.out = out;
    }

    /**
     * Creates a new journal file in a directory and writes the plan line.
     *
     * @param directory where journals go; created when missing
     * @param plan the plan to be applied
     * @return the writer
     */
    public static JournalWriter create(Path directory, Plan plan) {
        return create(new FileJournalStore(directory), plan);
    }

    /**
     * Creates a new journal in a store and writes the plan line.
     *
     * @param store where journals go
     * @param plan the plan to be applied
     * @return the writer
     */
    public static JournalWriter create(JournalStore store, Plan plan) {
        return start(store.create(plan), plan);
    }

    /**
     * Opens the journal that continues an earlier one and writes the plan line of the remaining work.
     *
     * @param store where journals go
     * @param earlier the journal being resumed
     * @param plan the remaining work
     * @return the writer
     */
    public static JournalWriter resume(JournalStore store, Journal earlier, Plan plan) {
        return start(store.resume(earlier, plan), plan);
    }

    /**
     * @param lines a journal's lines
     * @return those a resume's new journal begins with: all but blank ones, and a last one torn when its writer died
     */
    public static List<String> carried(List<String> lines) {
        List<String> kept = new ArrayList<>(lines.size());
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (!line.isBlank() && (i < lines.size() - 1 || isJson(line))) {
                kept.add(line);
            }
        }
        return kept;
    }

    /**
     * Starts a resume's new, empty journal with the lines of the journal it resumes ({@link JournalStore#resume}'s
     * default): the run then has one journal, whose rollback undoes what every apply of the run sent.
     *
     * @param store the store of both journals
     * @param earlier the journal being resumed
     * @param out the resume's new journal
     * @return {@code out}, holding the earlier journal's lines
     * @throws JournalException when they cannot be read or written; {@code out} is closed
     */
    public static JournalStore.Writer carryInto(JournalStore store, Journal earlier, JournalStore.Writer out) {
        try {
            carried(store.read(earlier.location())).forEach(out::append);
            return out;
        } catch (AgentException e) {
            closeAfterFailure(out, e);
            throw new JournalException(
                    "Cannot carry the journal " + earlier.location() + " over into the resume's journal "
                            + out.location() + ": " + Objects.requireNonNullElse(e.getMessage(), e.toString())
                            + ". Nothing was changed. Resume with the journal store that holds it.",
                    e);
        }
    }

    private static boolean isJson(String line) {
        try {
            Json.parse(line);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static JournalWriter start(JournalStore.Writer out, Plan plan) {
        JournalWriter writer = new JournalWriter(out);
        ObjectNode line = Json.object().put("event", Journal.Event.PLAN.name()).put("time", now());
        line.set("plan", Json.tree(plan));
        if (out instanceof HeldJournalStore.Gated gated) {
            line.put(ROLLS_BACK, gated.held());
        }
        try {
            writer.append(line);
        } catch (JournalException e) {
            closeAfterFailure(out, e);
            throw new JournalException(
                    Objects.requireNonNullElse(e.getMessage(), e.toString())
                            + ". Nothing was changed. Choose a writable journal store (journalDirectory(...)).",
                    e);
        }
        return writer;
    }

    private static void closeAfterFailure(JournalStore.Writer out, AgentException failure) {
        try {
            out.close();
        } catch (JournalException e) {
            failure.addSuppressed(e);
        }
    }

    /** @return the journal file; for a journal that is not a file, a path of its location */
    public Path path() {
        return out.file().orElseGet(() -> Path.of(out.location()));
    }

    /** @return the journal's file, when it is one */
    public Optional<Path> file() {
        return out.file();
    }

    /** @return where the journal is */
    public String location() {
        return out.location();
    }

    /**
     * Writes one event for a change and makes it durable.
     *
     * @param event the event
     * @param change the change
     * @param message a note, may be null
     * @param appliedState rollback data, may be null
     * @throws JournalException when the line cannot be written; the caller says what that means
     */
    public void record(Journal.Event event, Change change, @Nullable String message, @Nullable JsonNode appliedState) {
        ObjectNode line = Json.object()
                .put("event", event.name())
                .put("time", now())
                .put("target", change.target())
                .put("resourceId", change.resourceId());
        if (message != null) {
            line.put("message", message);
        }
        if (appliedState != null) {
            line.set("appliedState", appliedState);
        }
        try {
            append(line);
        } catch (JournalException e) {
            throw new JournalException(
                    Objects.requireNonNullElse(e.getMessage(), e.toString()) + " for " + change.resourceId(), e);
        }
    }

    private synchronized void append(ObjectNode line) {
        Predicate<ObjectNode> fail = failing;
        if (fail != null && fail.test(line)) {
            throw new JournalException(
                    "Cannot write the journal " + out.location() + " (No space left on device (injected))",
                    new java.io.IOException("No space left on device (injected)"));
        }
        out.append(Json.compact(line));
    }

    private static String now() {
        return Instant.now().toString();
    }

    @Override
    public void close() {
        out.close();
    }
}
