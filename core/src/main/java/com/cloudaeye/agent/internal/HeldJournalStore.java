package com.cloudaeye.agent.internal;

import com.cloudaeye.agent.Journal;
import com.cloudaeye.agent.JournalStore;
import com.cloudaeye.agent.Plan;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * A journal store for an apply that acts on a run another journal records, such as a rollback of it: it holds that
 * journal's lease (taken over like a resume takes it, so it is refused while the lease's writer may still be applying)
 * for as long as it is open, and every line the apply writes first checks that the lease is still this worker's, so
 * no change starts once another worker has taken the run. Closing it releases the lease.
 */
public final class HeldJournalStore implements JournalStore, AutoCloseable {
    private final JournalStore store;
    private final S3JournalWriter held;

    HeldJournalStore(JournalStore store, S3JournalWriter held) {
        this.store = store;
        this.held = held;
    }

    @Override
    public JournalStore below(String name) {
        return store.below(name);
    }

    @Override
    public Writer create(Plan plan) {
        held.checkOwned();
        return new Gated(store.create(plan));
    }

    @Override
    public Writer resume(Journal earlier, Plan plan) {
        held.checkOwned();
        return new Gated(store.resume(earlier, plan));
    }

    @Override
    public List<String> read(String location) {
        return store.read(location);
    }

    @Override
    public List<String> list() {
        return store.list();
    }

    /** Releases the held journal's lease. */
    @Override
    public void close() {
        held.close();
    }

    @Override
    public String toString() {
        return store + " holding " + held.location();
    }

    /** Writes the apply's own journal, each line only while the held lease is this worker's. */
    final class Gated implements Writer {
        private final Writer out;

        Gated(Writer out) {
            this.out = out;
        }

        /** @return the location of the journal whose lease is held */
        String held() {
            return held.location();
        }

        @Override
        public String location() {
            return out.location();
        }

        @Override
        public Optional<Path> file() {
            return out.file();
        }

        @Override
        public void append(String line) {
            held.checkOwned();
            out.append(line);
        }

        @Override
        public void close() {
            out.close();
        }
    }
}
