package com.cloudaeye.agent.eks.internal.helm;

import com.cloudaeye.agent.AgentException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * A temporary directory readable only by this user, for the files Helm must read from disk (the chart, a kubeconfig
 * holding a bearer token, the values holding the agent token). {@link #close()} deletes it with everything in it.
 */
final class PrivateDir implements AutoCloseable {
    private static final boolean POSIX =
            FileSystems.getDefault().supportedFileAttributeViews().contains("posix");

    private final Path path;

    private PrivateDir(Path path) {
        this.path = path;
    }

    /** @return a new, empty private directory */
    static PrivateDir create() {
        try {
            Path dir = POSIX
                    ? Files.createTempDirectory(
                            "cloudaeye-eks-",
                            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")))
                    : Files.createTempDirectory("cloudaeye-eks-");
            return new PrivateDir(dir);
        } catch (IOException e) {
            throw new AgentException("Could not create a private temporary directory for Helm: " + e.getMessage(), e);
        }
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
        try (Stream<Path> files = Files.walk(path)) {
            for (Path p : (Iterable<Path>) files.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Could not delete the temporary directory " + path, e);
        }
    }
}
