package com.cloudaeye.agent.internal;

import com.cloudaeye.agent.AgentException;
import com.cloudaeye.agent.Journal;
import com.cloudaeye.agent.JournalException;
import com.cloudaeye.agent.JournalStore;
import com.cloudaeye.agent.Plan;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The local journal store: one file per apply in a directory. Journals hold ARNs and configuration (never a secret),
 * so on POSIX file systems a new file is owner-only ({@code 0600}) and a directory the store creates is too ({@code
 * 0700}); the directory is forced to disk after a file is created, so the file itself survives a crash, and every
 * line is forced to disk before {@link Writer#append} returns. A resume's journal begins with the lines of the journal
 * it resumes, so that the newest file holds the whole run, and a rollback of it undoes what every apply of it sent.
 */
public final class FileJournalStore implements JournalStore {
    private final Path directory;

    /** @param directory where journals go; created when missing */
    public FileJournalStore(Path directory) {
        this.directory = directory;
    }

    @Override
    public JournalStore below(String name) {
        return new FileJournalStore(directory.resolve(name));
    }

    @Override
    public Writer create(Plan plan) {
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
            return new FileWriter(path, channel);
        } catch (IOException e) {
            throw new JournalException(
                    "Cannot create a journal in " + directory + ": " + e.getMessage()
                            + ". Nothing was changed. Choose a writable directory with journalDirectory(...).",
                    e);
        }
    }

    /**
     * Starts a new journal in this directory that begins with the earlier journal's lines, written at once: the
     * resume's journal holds the whole run, wherever the earlier one was.
     */
    @Override
    public Writer resume(Journal earlier, Plan plan) {
        List<String> lines = JournalWriter.carried(read(earlier.location()));
        FileWriter out = (FileWriter) create(plan);
        try {
            out.appendAll(lines);
        } catch (JournalException e) {
            out.close();
            throw e;
        }
        return out;
    }

    @Override
    public List<String> read(String location) {
        try {
            return Files.readAllLines(Path.of(location), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new AgentException(
                    "Cannot read the journal " + location + ": " + e.getMessage()
                            + ". Pass the path that ApplyResult.journal() reported.",
                    e);
        }
    }

    @Override
    public List<String> list() {
        try (Stream<Path> files = Files.list(directory)) {
            // The names start with the creation instant, so their order is the order of the applies.
            return files.filter(f -> f.getFileName().toString().endsWith(".jsonl"))
                    .map(Path::toString)
                    .sorted()
                    .toList();
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw new AgentException("Cannot list the journals in " + directory + ": " + e.getMessage(), e);
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

    @Override
    public String toString() {
        return directory.toString();
    }

    private static final class FileWriter implements Writer {
        private final Path path;
        private final FileChannel channel;

        FileWriter(Path path, FileChannel channel) {
            this.path = path;
            this.channel = channel;
        }

        @Override
        public String location() {
            return path.toString();
        }

        @Override
        public Optional<Path> file() {
            return Optional.of(path);
        }

        /** Appends lines with one write, forced to disk once. */
        synchronized void appendAll(List<String> lines) {
            if (!lines.isEmpty()) {
                append(String.join("\n", lines));
            }
        }

        @Override
        public synchronized void append(String line) {
            ByteBuffer buffer = ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8));
            try {
                while (buffer.hasRemaining()) {
                    channel.write(buffer);
                }
                channel.force(false);
            } catch (IOException e) {
                throw new JournalException("Cannot write the journal " + path + " (" + e.getMessage() + ")", e);
            }
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
}
