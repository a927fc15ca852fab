package com.cloudaeye.agent.eks.internal.helm;

import com.cloudaeye.agent.AgentException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A temporary directory readable only by this user, for the files Helm must read from disk (the chart, and the values
 * holding the agent token), for one Helm call. {@link #close()} deletes it with everything in it; a shutdown hook
 * deletes the ones still open when the JVM exits; and since a JVM killed with SIGKILL runs neither, the first
 * directory a JVM creates also removes those of processes that no longer run. Each name carries its process's id and
 * start time ({@code cloudaeye-eks-PID-STARTMILLIS-RANDOM}), so a directory is never taken for stale while its
 * process runs, even when the id is reused.
 */
final class PrivateDir implements AutoCloseable {
    /** The name prefix of every such directory. */
    static final String PREFIX = "cloudaeye-eks-";

    private static final Logger LOG = LoggerFactory.getLogger(PrivateDir.class);
    private static final boolean POSIX =
            FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
    private static final Pattern NAME = Pattern.compile(Pattern.quote(PREFIX) + "(\\d+)-(\\d+)-\\d+");
    /** Names from before the process id was in them: stale once older than any Helm call can run. */
    private static final Pattern OLD_NAME = Pattern.compile(Pattern.quote(PREFIX) + "\\d+");

    private static final Duration OLD_NAME_STALE_AFTER = Duration.ofHours(1);
    private static final Set<Path> OPEN = ConcurrentHashMap.newKeySet();
    private static final AtomicBoolean SWEPT = new AtomicBoolean();

    static {
        Runtime.getRuntime()
                .addShutdownHook(new Thread(() -> OPEN.forEach(PrivateDir::deleteOrWarn), "cloudaeye-eks-tmp"));
    }

    private final Path path;

    private PrivateDir(Path path) {
        this.path = path;
    }

    /** @return a new, empty private directory in {@code java.io.tmpdir} */
    static PrivateDir create() {
        Path root = Path.of(System.getProperty("java.io.tmpdir"));
        String prefix = PREFIX + ProcessHandle.current().pid() + "-" + startMillis(ProcessHandle.current()) + "-";
        Path dir;
        try {
            dir = POSIX
                    ? Files.createTempDirectory(
                            root,
                            prefix,
                            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")))
                    : Files.createTempDirectory(root, prefix);
        } catch (IOException e) {
            throw new AgentException("Could not create a private temporary directory for Helm: " + e.getMessage(), e);
        }
        OPEN.add(dir);
        if (SWEPT.compareAndSet(false, true)) {
            removeStale(root, dir);
        }
        return new PrivateDir(dir);
    }

    /**
     * Deletes, once per JVM, the directories of processes that no longer run (a killed apply's Helm values hold the
     * agent token), also for a run that writes none itself, such as the rollback of a killed install. Only warns when
     * the temporary directory cannot be used: the run may not need it.
     */
    static void sweep() {
        if (SWEPT.get()) {
            return;
        }
        try {
            create().close();
        } catch (AgentException e) {
            LOG.warn("Could not look for stale Helm directories: {}", e.getMessage());
        }
    }

    /**
     * Deletes the directories that processes which no longer run left in {@code root}, owned by the same user as
     * {@code own}.
     *
     * @param root the temporary directory
     * @param own a directory of this process, whose owner is this user
     * @return how many were deleted
     */
    static int removeStale(Path root, Path own) {
        int removed = 0;
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(root, PREFIX + "*")) {
            UserPrincipal me = Files.getOwner(own, LinkOption.NOFOLLOW_LINKS);
            for (Path dir : entries) {
                if (!dir.equals(own)
                        && Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)
                        && me.equals(Files.getOwner(dir, LinkOption.NOFOLLOW_LINKS))
                        && isStale(dir)) {
                    LOG.debug("Deleting {}, left by a process that no longer runs", dir);
                    removed += deleteOrWarn(dir) ? 1 : 0;
                }
            }
        } catch (IOException | UncheckedIOException e) {
            LOG.warn("Could not look for stale Helm directories in {}: {}", root, e.getMessage());
        }
        return removed;
    }

    private static boolean isStale(Path dir) throws IOException {
        String name = String.valueOf(dir.getFileName());
        Matcher m = NAME.matcher(name);
        if (m.matches()) {
            Optional<ProcessHandle> process = ProcessHandle.of(Long.parseLong(m.group(1)));
            // Unknown start times (0) match only each other, so such a process is taken to be the same one.
            return process.isEmpty() || startMillis(process.get()) != Long.parseLong(m.group(2));
        }
        return OLD_NAME.matcher(name).matches()
                && Files.getLastModifiedTime(dir, LinkOption.NOFOLLOW_LINKS)
                        .toInstant()
                        .isBefore(Instant.now().minus(OLD_NAME_STALE_AFTER));
    }

    private static long startMillis(ProcessHandle process) {
        return process.info().startInstant().map(Instant::toEpochMilli).orElse(0L);
    }

    /** @return the directory */
    Path path() {
        return path;
    }

    /**
     * Writes a file readable only by this user.
     *
     * @param name the file name
     * @param content its content
     * @return the file
     */
    Path write(String name, String content) {
        Path file = path.resolve(name);
        try {
            if (POSIX) {
                Files.createFile(
                        file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            }
            Files.writeString(file, content);
            return file;
        } catch (IOException e) {
            throw new AgentException("Could not write " + name + " into a private temporary directory", e);
        }
    }

    @Override
    public void close() {
        delete(path);
        OPEN.remove(path);
    }

    private static boolean deleteOrWarn(Path dir) {
        try {
            delete(dir);
            return true;
        } catch (UncheckedIOException e) {
            LOG.warn("{}: {}", e.getMessage(), String.valueOf(e.getCause()));
            return false;
        }
    }

    /** Deletes a directory tree without following links out of it. */
    private static void delete(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) files.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Could not delete the temporary directory " + dir, e);
        }
    }
}
