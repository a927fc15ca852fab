package com.cloudaeye.agent;

import com.cloudaeye.agent.internal.FileJournalStore;
import com.cloudaeye.agent.internal.JournalWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Where apply journals live. A journal is JSON lines (the plan, then an event before and after each mutation) that
 * {@link AgentInstaller#resume(Journal)} and {@link AgentInstaller#rollback(Journal)} read back; it never holds a
 * secret. The default store is a local directory ({@link #directory(Path)}: owner-only files, each line forced to disk
 * before the mutation it announces). {@link S3JournalStore} keeps journals in S3, so that a run one machine started
 * can be resumed or rolled back by another.
 *
 * <p>Implementing a store: {@link Writer#append(String)} must return only once the line is durable, and must fail
 * (with a {@link JournalException}) rather than let two writers own one journal; core handles that failure.
 */
public interface JournalStore {
    /**
     * The local store: one file per apply in a directory, created owner-only ({@code 0700}) when missing; each file is
     * owner-only ({@code 0600}), every line is forced to disk, and so is the directory entry of a new file.
     *
     * @param directory where journals go
     * @return the store
     */
    static JournalStore directory(Path directory) {
        return new FileJournalStore(directory);
    }

    /**
     * A store for one part of the work, such as one account-region of a fleet: a subdirectory, a key prefix.
     *
     * @param name the part's name, e.g. an account ID or a region (letters, digits, {@code -} and {@code _})
     * @return the part's store
     */
    JournalStore below(String name);

    /**
     * Creates the journal of a new apply, owned by the returned writer until it is closed.
     *
     * @param plan the plan about to be applied; the writer's first line records it
     * @return the writer
     * @throws JournalException when the journal cannot be created (nothing was changed yet)
     */
    Writer create(Plan plan);

    /**
     * Opens the journal of an apply that finishes an earlier one ({@link AgentInstaller#resume(Journal)}). The local
     * store starts a new journal that begins with the earlier one's lines; a shared store takes the earlier journal
     * over (once its owner's lease expired) and appends to it, so that the run keeps one journal wherever it runs.
     * This default starts a new journal ({@link #create}) and appends the earlier one's lines to it ({@link #read}), one
     * at a time. Either way the resume's journal holds the whole run: a rollback of it undoes what every apply of the
     * run sent.
     *
     * @param earlier the journal being resumed
     * @param plan the plan of the remaining work
     * @return the writer
     * @throws JournalException when the journal cannot be opened, or another worker still owns it
     */
    default Writer resume(Journal earlier, Plan plan) {
        return JournalWriter.carryInto(this, earlier, create(plan));
    }

    /**
     * @param location a location this store's writer reported ({@link Writer#location()})
     * @return the journal's lines
     * @throws AgentException when it cannot be read
     */
    List<String> read(String location);

    /** @return the locations of the journals directly in this store, oldest first */
    List<String> list();

    /** Writes one journal. */
    interface Writer extends AutoCloseable {
        /** @return where the journal is: a file path, an {@code s3://} URI */
        String location();

        /** @return the journal's file, when it is one */
        default Optional<Path> file() {
            return Optional.empty();
        }

        /**
         * Appends one line and returns once it is durable.
         *
         * @param line a JSON object without line breaks
         * @throws JournalException when it cannot be written, or this writer no longer owns the journal
         */
        void append(String line);

        /**
         * Ends the writing: releases what the writer holds (a file, a lease).
         *
         * @throws JournalException when that fails
         */
        @Override
        void close();
    }
}
