package com.cloudaeye.agent.internal;

import com.cloudaeye.agent.AgentException;
import com.cloudaeye.agent.JournalException;
import com.cloudaeye.agent.JournalStore;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.spi.support.Json;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.core.ResponseBytes;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * The S3 journal store's calls: conditional puts (create with {@code If-None-Match: *}, update with {@code If-Match}),
 * the lease in the object's metadata, reads and lists. A put whose answer was lost or refused (412, 409) is read back:
 * when the object holds exactly what was sent, it landed.
 */
public final class S3Journals {
    /** The lease holder's display name: what messages show. */
    static final String OWNER = "cloudaeye-lease-owner";
    /** The lease holder's identity: a random token per store, so two workers given one display name differ. */
    static final String HOLDER = "cloudaeye-lease-holder";

    static final String EXPIRES = "cloudaeye-lease-expires";
    /** The field of the object's last line, which holds the lease and is not a journal line. */
    static final String LEASE = "cloudaeye-lease";

    private final S3Client s3;
    private final String bucket;
    private final String prefix;
    private final Duration lease;
    private final String owner;
    private final String holder;

    /**
     * A new worker: its leases are held under a random token of its own, whatever its display name, so another store
     * given the same name (a job system's retry of a shard while the first attempt still runs) is another worker.
     *
     * @param s3 the client
     * @param bucket the bucket
     * @param prefix the keys' prefix, empty or ending in {@code /}
     * @param lease how long a write holds the journal
     * @param owner names this worker in messages
     */
    public S3Journals(S3Client s3, String bucket, String prefix, Duration lease, String owner) {
        this(s3, bucket, prefix, lease, owner, UUID.randomUUID().toString());
    }

    private S3Journals(S3Client s3, String bucket, String prefix, Duration lease, String owner, String holder) {
        this.s3 = s3;
        this.bucket = bucket;
        this.prefix = prefix;
        this.lease = lease;
        this.owner = owner;
        this.holder = holder;
    }

    /**
     * @param random a random suffix, so two workers on one host differ
     * @return host, process ID and the suffix
     */
    public static String defaultOwner(UUID random) {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            host = "unknown-host";
        }
        return host + "/" + ProcessHandle.current().pid() + "/"
                + random.toString().substring(0, 8);
    }

    /** @return the lease */
    public Duration lease() {
        return lease;
    }

    /**
     * @param name a part's name
     * @return the store of that part
     */
    public S3Journals below(String name) {
        return new S3Journals(s3, bucket, prefix + name + "/", lease, owner, holder); // the same worker
    }

    /**
     * @param kind the plan's kind, which names the object
     * @return the writer of a new journal object
     */
    public JournalStore.Writer create(Plan.Kind kind) {
        String key = prefix + kind.name().toLowerCase(Locale.ROOT) + ".jsonl";
        S3JournalWriter writer = new S3JournalWriter(this, key, "", null);
        try {
            writer.write("", true);
        } catch (JournalException exists) {
            // A worker that died between creating the object and writing its plan line left no journal line in it:
            // once its lease ran out there is nothing to resume or roll back, and the run starts in it.
            Remote now = get(key);
            if (now == null || !now.body().isBlank() || now.live()) {
                throw exists;
            }
            writer = new S3JournalWriter(this, key, "", now.etag());
            writer.write("", false);
        }
        writer.startRenewing();
        return writer;
    }

    /**
     * @param location an {@code s3://} location
     * @return true when it is an object of this bucket
     */
    public boolean owns(String location) {
        return location.startsWith("s3://" + bucket + "/");
    }

    /**
     * Takes over a journal whose owner's lease has expired (or which this worker, this very store, holds).
     *
     * @param location the journal's location
     * @param linesRead how many non-blank lines the journal had when the resume that takes it over read it
     * @return its writer, which appends to it
     * @throws JournalException when another worker's lease is live, or the journal has grown since it was read (the
     *     resume was planned from less than the run did); nothing is written then
     */
    public JournalStore.Writer takeOver(String location, int linesRead) {
        return takeOverWriter(location, linesRead);
    }

    /**
     * Holds a journal's lease while another apply acts on its run (a rollback of it): taken over like {@link
     * #takeOver(String, int)}, without writing a line to it.
     *
     * @param location the journal's location
     * @param store where the acting apply writes its own journal
     * @return the store to apply with; closing it releases the lease
     * @throws JournalException when another worker's lease is live
     */
    public HeldJournalStore hold(String location, JournalStore store) {
        return new HeldJournalStore(store, takeOverWriter(location, -1));
    }

    /** @param linesRead the lines the taker read, checked unless negative */
    private S3JournalWriter takeOverWriter(String location, int linesRead) {
        String key = key(location);
        Remote now = get(key);
        if (now == null) {
            throw new JournalException(
                    "The journal " + location + " to resume is gone: read it again, or re-plan.",
                    new IllegalStateException("no object " + key));
        }
        if (now.live() && !holder.equals(now.holder())) {
            throw new JournalException(
                    "The journal " + location + " is owned by worker " + now.owner() + ", whose lease runs until "
                            + Instant.ofEpochMilli(now.expires()) + ": it may still be applying. Resume after that"
                            + " time (a stopped worker stops renewing), or stop that worker first. Nothing was"
                            + " changed.",
                    new IllegalStateException("lease held"));
        }
        long linesNow = now.body().lines().filter(l -> !l.isBlank()).count();
        if (linesRead >= 0 && linesNow != linesRead) {
            // Its writer went on (or died) after the journal was read: a resume planned from the copy would miss
            // what the run sent since, and could send it again.
            throw new JournalException(
                    "The journal " + location + " has " + linesNow + " lines, " + linesRead + " when it was read:"
                            + " its run went on since. Read it again (Journal.read(store, location)) and resume"
                            + " that. Nothing was changed.",
                    new IllegalStateException("journal grew"));
        }
        S3JournalWriter writer = new S3JournalWriter(this, key, now.body(), now.etag());
        writer.write(now.body(), false);
        writer.startRenewing();
        return writer;
    }

    /**
     * @param location an {@code s3://} location
     * @return the journal's lines
     */
    public List<String> read(String location) {
        Remote now;
        try {
            now = get(key(location));
        } catch (SdkException e) {
            throw new AgentException("Cannot read the journal " + location + ": " + AwsErrors.describe(e), e);
        }
        if (now == null) {
            throw new AgentException("There is no journal at " + location + ": pass a location that"
                    + " ApplyResult.journalLocation() or JournalStore.list() reported.");
        }
        return now.body().lines().toList();
    }

    /** @return the locations of the journals directly below the prefix, oldest first */
    public List<String> list() {
        List<S3Object> objects = new ArrayList<>();
        try {
            for (ListObjectsV2Response page : s3.listObjectsV2Paginator(
                    r -> r.bucket(bucket).prefix(prefix).delimiter("/"))) {
                page.contents().stream().filter(o -> o.key().endsWith(".jsonl")).forEach(objects::add);
            }
        } catch (SdkException e) {
            throw new AgentException("Cannot list the journals in " + this + ": " + AwsErrors.describe(e), e);
        }
        objects.sort((a, b) -> a.lastModified().compareTo(b.lastModified()));
        return objects.stream().map(o -> location(o.key())).toList();
    }

    String location(String key) {
        return "s3://" + bucket + "/" + key;
    }

    private String key(String location) {
        if (!owns(location)) {
            throw new AgentException("The journal " + location + " is not in the bucket " + bucket
                    + ": read it with the store it was written to.");
        }
        return location.substring(("s3://" + bucket + "/").length());
    }

    /** @return this worker's lease identity, unique to the store */
    String holder() {
        return holder;
    }

    /**
     * Puts a journal object.
     *
     * @param key the key
     * @param body the whole journal
     * @param expires the lease's end, epoch milliseconds
     * @param etag the ETag it must still have; null to create it
     * @return the new ETag
     */
    String put(String key, String body, long expires, @Nullable String etag) {
        PutObjectRequest.Builder request = PutObjectRequest.builder()
                .bucket(bucket)
                .key(key)
                .contentType("application/x-ndjson")
                .metadata(Map.of(OWNER, owner, HOLDER, holder, EXPIRES, Long.toString(expires)));
        if (etag == null) {
            request.ifNoneMatch("*");
        } else {
            request.ifMatch(etag);
        }
        // S3's ETag is the MD5 of the content, not of the metadata: the last line, unique to each put, makes every
        // write's ETag new, so a worker's If-Match fails once anyone else wrote, even the very same journal lines.
        ObjectNode lease =
                Json.object().put("owner", owner).put("holder", holder).put("expires", expires);
        lease.put("write", UUID.randomUUID().toString());
        String content = body + Json.compact(Json.object().set(LEASE, lease)) + "\n";
        return s3.putObject(request.build(), RequestBody.fromString(content, StandardCharsets.UTF_8))
                .eTag();
    }

    /**
     * @param key the key
     * @return the object now, null when there is none
     */
    @Nullable
    Remote get(String key) {
        try {
            ResponseBytes<GetObjectResponse> bytes =
                    s3.getObjectAsBytes(r -> r.bucket(bucket).key(key));
            GetObjectResponse r = bytes.response();
            String expires = r.metadata().getOrDefault(EXPIRES, "0");
            StringBuilder lines = new StringBuilder();
            bytes.asUtf8String()
                    .lines()
                    .filter(l -> !l.startsWith("{\"" + LEASE + "\""))
                    .forEach(l -> lines.append(l).append('\n'));
            return new Remote(
                    r.eTag(),
                    lines.toString(),
                    r.metadata().getOrDefault(OWNER, "unknown"),
                    r.metadata().getOrDefault(HOLDER, ""), // none: written by no store of ours, held by no one here
                    parseLong(expires));
        } catch (NoSuchKeyException e) {
            return null;
        } catch (S3Exception e) {
            if (e.statusCode() == 404) {
                return null;
            }
            throw e;
        }
    }

    private static long parseLong(String value) {
        try {
            return Long.parseLong(value);
        } catch (NumberFormatException e) {
            return 0; // not our lease: treat it as expired
        }
    }

    @Override
    public String toString() {
        return "s3://" + bucket + "/" + prefix;
    }

    /**
     * A journal object as read.
     *
     * @param etag its ETag
     * @param body its lines
     * @param owner its lease holder's display name
     * @param holder its lease holder's identity ({@link #HOLDER}), empty when it has none
     * @param expires its lease's end, epoch milliseconds
     */
    record Remote(String etag, String body, String owner, String holder, long expires) {
        boolean live() {
            return expires > Instant.now().toEpochMilli();
        }

        String describe() {
            return "worker " + owner + (live() ? " holds it until " : " held it until ")
                    + Instant.ofEpochMilli(expires);
        }
    }
}
