package com.cloudaeye.agent;

import com.cloudaeye.agent.internal.HeldJournalStore;
import com.cloudaeye.agent.internal.S3Journals;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * Keeps journals in S3, so that a run one machine started is resumed or rolled back by another: one object per run
 * and account-region ({@code <prefix><account>/<region>/<kind>.jsonl} below a fleet, {@code <prefix><kind>.jsonl} for
 * one installer; name the run in the prefix). Every write is conditional: the object is created with {@code
 * If-None-Match: *}, and each update carries {@code If-Match} with the ETag of the writer's last write, so two workers
 * can never both write one journal. The writer holds a lease on it (its holder, a random token of the store, with the
 * {@link Builder#owner(String) owner}'s name, and its expiry, in the object's metadata and in its last line, which also
 * carries a nonce so that every write gets a new ETag, and which readers skip; renewed with every write and every third
 * of the lease); {@link AgentInstaller#resume(Journal)} with another store (another machine, or another worker given
 * the same owner name) takes the journal over only once that lease has expired, and the first worker's next write then fails and stops its
 * apply before its next mutation. {@link AgentInstaller#rollback(Journal)} takes the rolled-back journal's lease the
 * same way and holds it while it rolls back (its own journal is a new object beside it, which names the rolled-back
 * journal); a resume of an interrupted rollback takes both leases: its own journal's and the rolled-back one's. A
 * finished apply releases the lease.
 *
 * <pre>{@code
 * JournalStore journals = S3JournalStore.builder()
 *         .client(s3).bucket("cloudaeye-runs").prefix("runs/2026-12-01-shard-3/")
 *         .lease(Duration.ofMinutes(2))
 *         .build();
 * FleetInstaller.builder()....journalStore(journals)
 * }</pre>
 *
 * <p>The client is the caller's (its credentials reach the bucket, not the target accounts) and stays open. Journals
 * hold no secret, but they name resources: keep the bucket private.
 */
public final class S3JournalStore implements JournalStore {
    private static final Pattern PART = Pattern.compile("[A-Za-z0-9_.-]+");

    private final S3Journals journals;

    private S3JournalStore(S3Journals journals) {
        this.journals = journals;
    }

    /** @return a new builder */
    public static Builder builder() {
        return new Builder();
    }

    /** @return the lease a writer holds, renewed while it writes */
    public Duration lease() {
        return journals.lease();
    }

    @Override
    public JournalStore below(String name) {
        if (!PART.matcher(name).matches()) {
            throw new ConfigurationException("'" + name + "' cannot name a part of an S3 journal key: use letters,"
                    + " digits, '.', '-' and '_'.");
        }
        return new S3JournalStore(journals.below(name));
    }

    @Override
    public Writer create(Plan plan) {
        return journals.create(plan.kind());
    }

    @Override
    public Writer resume(Journal earlier, Plan plan) {
        return journals.owns(earlier.location())
                ? journals.takeOver(earlier.location(), earlier.lineCount())
                : create(plan);
    }

    /**
     * @param location a journal's location
     * @return true when it is a journal in this store's bucket, which an apply resumes by taking it over
     */
    boolean holds(String location) {
        return journals.owns(location);
    }

    /**
     * @param earlier the location of a journal whose run another apply acts on (a rollback of it, or its resume)
     * @return a store that holds the journal's lease until closed; null when the journal is not in this bucket
     * @throws JournalException when another worker's lease on it is live
     */
    @Nullable
    HeldJournalStore hold(String earlier) {
        return journals.owns(earlier) ? journals.hold(earlier, this) : null;
    }

    @Override
    public List<String> read(String location) {
        return journals.read(location);
    }

    @Override
    public List<String> list() {
        return journals.list();
    }

    @Override
    public String toString() {
        return journals.toString();
    }

    /** Builds an {@link S3JournalStore}; validation happens in {@link #build()}. */
    public static final class Builder {
        private @Nullable S3Client client;
        private @Nullable String bucket;
        private String prefix = "";
        private Duration lease = Duration.ofMinutes(2);
        private String owner = S3Journals.defaultOwner(UUID.randomUUID());

        private Builder() {}

        /**
         * @param client the S3 client (the caller's; it stays open)
         * @return this
         */
        public Builder client(S3Client client) {
            this.client = client;
            return this;
        }

        /**
         * @param bucket the bucket (private, in the caller's account)
         * @return this
         */
        public Builder bucket(String bucket) {
            this.bucket = bucket;
            return this;
        }

        /**
         * @param prefix the key prefix that names the run, e.g. {@code runs/2026-12-01-shard-3/} (default: none)
         * @return this
         */
        public Builder prefix(String prefix) {
            this.prefix = prefix;
            return this;
        }

        /**
         * @param lease how long a writer that stopped renewing (a killed machine) keeps its journal from others
         *     (default 2 minutes; at least 1 second); a writer renews it every third of it
         * @return this
         */
        public Builder lease(Duration lease) {
            this.lease = lease;
            return this;
        }

        /**
         * A display name, not an identity: the lease is held by the built store, under a random token each store
         * draws for itself (every part {@link S3JournalStore#below(String)} it is the same worker). Two stores given
         * the same owner, say a job system's retry of {@code shard-3} while the first attempt is still alive, are two
         * workers: the second is refused while the first one's lease is live, and takes the run over once it
         * expired. An installer that resumes its own run with the same store takes it back at once.
         *
         * @param owner names this worker in the lease, as other workers' errors show it (default: host, process
         *     ID and a random suffix); never put a secret here
         * @return this
         */
        public Builder owner(String owner) {
            this.owner = owner;
            return this;
        }

        /**
         * @return the store
         * @throws ConfigurationException when the client or bucket is missing, or the lease is under a second
         */
        public S3JournalStore build() {
            S3Client s3 = client;
            String name = bucket;
            if (s3 == null || name == null || name.isBlank()) {
                throw new ConfigurationException("An S3 journal store needs " + (s3 == null ? "a client" : "a bucket")
                        + ": set .client(S3Client.create()) and .bucket(\"my-cloudaeye-runs\").");
            }
            if (lease.compareTo(Duration.ofSeconds(1)) < 0) {
                throw new ConfigurationException(
                        "The journal lease " + lease + " is under a second: use .lease(Duration.ofMinutes(2)).");
            }
            if (!prefix.isEmpty() && !prefix.endsWith("/")) {
                throw new ConfigurationException("The prefix '" + prefix + "' must end with '/', e.g. 'runs/run-42/'.");
            }
            return new S3JournalStore(new S3Journals(s3, name, prefix, lease, Objects.requireNonNull(owner)));
        }
    }
}
