package com.cloudaeye.agent.internal;

import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.Journal;
import com.cloudaeye.agent.JournalException;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.spi.support.Json;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.Set;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/**
 * Appends journal lines and forces each to disk before returning, so a line written before a mutation survives a
 * {@code kill -9} right after it. A line that cannot be written throws {@link JournalException}, which only
 * {@link ApplyRunner} handles. Holds no secrets: changes are already redacted and targets never journal a secret.
 * Journals still hold ARNs and configuration, so on POSIX file systems a new file is owner-only ({@code 0600}) and a
 * directory the writer creates is too ({@code 0700}); the directory is forced to disk after the file is created, so
 * the file itself survives a crash.
 */
public final class JournalWriter implements AutoCloseable {
    /** Tests of the one journal-failure path: writing a line this matches fails as a full disk would. */
    static volatile @Nullable Predicate<ObjectNode> failing;

    private final Path path;
    private final FileChannel channel;

    private JournalWriter(Path path, FileChannel channel) {
        this.path = path;
        this.channel = channel;
    }

    /**
     * Creates a new journal file and writes the plan line.
     *
     * @param directory where journals go; created when missing
     * @param plan the plan to be applied
     * @return the writer
     */
    public static JournalWriter create(Path directory, Plan plan) {
        try {
            createPrivateDirectories(directory);
            String name = "apply-" + Instant.now().toString().replace(':', '-') + "-"
                    + ProcessHandle.current().pid() + "-" + Integer.toHexString(System.identityHashCode(plan))
                    + ".jsonl";
            Path path = directory.resolve(name);
            FileChannel channel = posix(directory)
                    ? FileChannel.open(
                            path,
                            Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))
                    : FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            forceDirectory(directory);
            JournalWriter writer = new JournalWriter(path, channel);
            ObjectNode line =
                    Json.object().put("event", Journal.Event.PLAN.name()).put("time", now());
            line.set("plan", Json.tree(plan));
            writer.append(line);
            return writer;
        } catch (IOException e) {
            throw new JournalException(
                    "Cannot create a journal in " + directory + ": " + e.getMessage()
                            + ". Nothing was changed. Choose a writable directory with journalDirectory(...).",
                    e);
        }
    }

    private static boolean posix(Path directory) {
        return directory.getFileSystem().supportedFileAttributeViews().contains("posix");
    }

    /** Creates the missing directories owner-only; existing ones are the caller's and stay as they are. */
    private static void createPrivateDirectories(Path directory) throws IOException {
        if (Files.isDirectory(directory)) {
            return;
        }
        if (posix(directory)) {
            Files.createDirectories(
                    directory, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } else {
            Files.createDirectories(directory);
        }
    }

    /** Forces the directory's entry for a new file to disk (POSIX: fsync of the directory). */
    private static void forceDirectory(Path directory) throws IOException {
        if (!posix(directory)) {
            return; // Windows cannot open a directory as a channel; NTFS journals its metadata itself
        }
        try (FileChannel dir = FileChannel.open(directory, StandardOpenOption.READ)) {
            dir.force(true);
        }
    }

    /** @return the journal file */
    public Path path() {
        return path;
    }

    /**
     * Writes one event for a change and forces it to disk.
     *
     * @param event the event
     * @param change the change
     * @param message a note, may be null
     * @param appliedState rollback data, may be null
     * @throws JournalException when the line cannot be written and forced to disk; the caller says what that means
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
        } catch (IOException e) {
            throw new JournalException(
                    "Cannot write the journal " + path + " (" + e.getMessage() + ") for " + change.resourceId(), e);
        }
    }

    private synchronized void append(ObjectNode line) throws IOException {
        Predicate<ObjectNode> fail = failing;
        if (fail != null && fail.test(line)) {
            throw new IOException("No space left on device (injected)");
        }
        byte[] bytes = (Json.compact(line) + "\n").getBytes(StandardCharsets.UTF_8);
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
        channel.force(false);
    }

    private static String now() {
        return Instant.now().toString();
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            throw new JournalException("Cannot close the journal " + path + ": " + e.getMessage(), e);
        }
    }
}
