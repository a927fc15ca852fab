package com.cloudaeye.agent.internal;

import com.cloudaeye.agent.JournalException;
import com.cloudaeye.agent.JournalStore;
import java.time.Instant;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * Writes one S3 journal object under a lease: each append puts the whole journal with {@code If-Match} on the ETag of
 * this writer's last put (the first with {@code If-None-Match: *}) and moves the lease's end; a daemon thread renews
 * the lease every third of it. When the object changed under it (another worker took it over after the lease
 * expired), every later append fails with a {@link JournalException}, so this worker starts no more changes.
 */
final class S3JournalWriter implements JournalStore.Writer {
    private static final int ATTEMPTS = 3;

    private final S3Journals journals;
    private final String key;
    private @Nullable ScheduledExecutorService renewer;
    private @Nullable ScheduledFuture<?> renewing;
    /** The journal as last put; guarded by this. */
    private String body;
    /** The ETag of this writer's last put, null before the object exists; guarded by this. */
    private @Nullable String etag;
    /** Why this writer no longer owns the journal; guarded by this. */
    private @Nullable JournalException lost;

    private boolean lostReported;
    private boolean closed;

    S3JournalWriter(S3Journals journals, String key, String body, @Nullable String etag) {
        this.journals = journals;
        this.key = key;
        this.body = body;
        this.etag = etag;
    }

    /** Starts the daemon thread that renews the lease, once the journal is this writer's. */
    synchronized void startRenewing() {
        ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "cloudaeye-journal-lease");
            t.setDaemon(true);
            return t;
        });
        long every = Math.max(100, journals.lease().toMillis() / 3);
        renewer = thread;
        renewing = thread.scheduleWithFixedDelay(this::renew, every, every, TimeUnit.MILLISECONDS);
    }

    @Override
    public String location() {
        return journals.location(key);
    }

    @Override
    public synchronized void append(String line) {
        JournalException gone = lost;
        if (gone != null) {
            lostReported = true;
            throw gone;
        }
        try {
            write(body + line + "\n", false);
        } catch (JournalException e) {
            lost = e;
            lostReported = true;
            throw e;
        }
    }

    /**
     * @throws com.cloudaeye.agent.JournalException when this writer no longer owns the journal (another worker took
     *     it over, or its lease could not be renewed)
     */
    synchronized void checkOwned() {
        JournalException gone = lost;
        if (gone != null) {
            lostReported = true;
            throw gone;
        }
    }

    /** Renews the lease; a failure is kept and reported by the next append (or by close). */
    private synchronized void renew() {
        if (closed || lost != null) {
            return;
        }
        try {
            write(body, false);
        } catch (JournalException e) {
            lost = e;
        }
    }

    /**
     * Puts the whole journal with a new lease end.
     *
     * @param next the journal's new content
     * @param create true to create the object (it must not exist)
     */
    synchronized void write(String next, boolean create) {
        long expires = Instant.now().plus(journals.lease()).toEpochMilli();
        write(next, create, expires);
        requireLeaseLeft(expires);
    }

    private void write(String next, boolean create, long expires) {
        String expected = create ? null : etag;
        for (int attempt = 1; ; attempt++) {
            SdkException failure;
            try {
                etag = journals.put(key, next, expires, expected);
                body = next;
                return;
            } catch (S3Exception e) {
                if (e.statusCode() != 412 && e.statusCode() != 409 && e.statusCode() < 500) {
                    throw new JournalException(
                            "Cannot write the journal " + location() + " (" + AwsErrors.describe(e) + ")", e);
                }
                failure = e;
            } catch (SdkException e) {
                failure = e; // no answer: the put may have landed
            }
            S3Journals.Remote now;
            try {
                now = journals.get(key);
            } catch (SdkException e) {
                failure.addSuppressed(e);
                throw new JournalException(
                        "Cannot write the journal " + location() + " (" + AwsErrors.describe(failure)
                                + "), and cannot read it back",
                        failure);
            }
            if (now != null
                    && now.holder().equals(journals.holder())
                    && now.expires() == expires
                    && now.body().equals(next)) {
                etag = now.etag(); // it landed; only its answer was lost or refused on a retry
                body = next;
                return;
            }
            boolean unchanged = expected == null ? now == null : now != null && sameTag(now.etag(), expected);
            if (unchanged && attempt < ATTEMPTS) {
                continue; // a conflicting put that did not land (409), or ours did not: send it again
            }
            throw lostTo(now, create, failure);
        }
    }

    /**
     * A write answered only after the lease it set ran out may already be followed by another worker's takeover: this
     * writer no longer owns the journal, and must start no change on the strength of that write.
     */
    private void requireLeaseLeft(long expires) {
        if (Instant.now().toEpochMilli() >= expires) {
            throw new JournalException(
                    "The lease on the journal " + location() + " ran out before its write was"
                            + " answered (the write took longer than the lease, " + journals.lease()
                            + "): another worker may"
                            + " take the journal over now. This worker starts no more changes; resume the run once it stopped,"
                            + " or choose a longer lease(...).",
                    new IllegalStateException("lease ran out at " + Instant.ofEpochMilli(expires)));
        }
    }

    private JournalException lostTo(S3Journals.@Nullable Remote now, boolean create, SdkException failure) {
        if (create && now != null) {
            return new JournalException(
                    "A journal already exists at " + location() + " (" + now.describe() + "): another worker owns"
                            + " this run, or it was started before. Resume it (resume(...) with that journal), or"
                            + " name a new run with another prefix. Nothing was changed.",
                    failure);
        }
        return new JournalException(
                "Lost the journal " + location() + ": "
                        + (now == null ? "it was deleted" : "it was taken over, " + now.describe())
                        + ". This worker starts no more changes; the worker that holds the journal finishes the run",
                failure);
    }

    private static boolean sameTag(String a, String b) {
        return a.replace("\"", "").equals(b.replace("\"", ""));
    }

    /** Stops renewing and releases the lease (its end becomes now), so another worker may resume at once. */
    @Override
    public void close() {
        ScheduledExecutorService thread;
        synchronized (this) {
            thread = renewer;
            ScheduledFuture<?> task = renewing;
            if (task != null) {
                task.cancel(false);
            }
        }
        if (thread != null) {
            thread.shutdownNow();
        }
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            JournalException gone = lost;
            if (gone != null) {
                if (!lostReported) {
                    lostReported = true;
                    throw gone;
                }
                return; // the apply already stopped on it
            }
            write(body, false, Instant.now().toEpochMilli());
        }
    }
}
