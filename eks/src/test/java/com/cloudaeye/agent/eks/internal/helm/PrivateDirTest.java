package com.cloudaeye.agent.eks.internal.helm;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.testing.ChildJvm;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The private directories for Helm's files (the values hold the agent token): owner-only, deleted after each call,
 * and, when a JVM was killed with SIGKILL before it could delete its own, deleted by the next JVM that starts.
 */
class PrivateDirTest {
    private static final String TOKEN = "cae-private-dir-token-4b1f";

    @TempDir
    Path tmp;

    @Test
    void create_isOwnerOnly_withOwnerOnlyFiles_andCloseDeletesIt() throws IOException {
        Path dir;
        Path file;
        try (PrivateDir created = PrivateDir.create()) {
            dir = created.path();
            file = created.write("values.json", "{\"apiToken\":\"" + TOKEN + "\"}");

            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)))
                    .isEqualTo("rwx------");
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
                    .isEqualTo("rw-------");
            assertThat(dir.getFileName().toString())
                    .startsWith(PrivateDir.PREFIX + ProcessHandle.current().pid() + "-");
        }
        assertThat(file).doesNotExist();
        assertThat(dir).doesNotExist();
    }

    @Test
    void removeStale_deletesTheDirectoriesOfEndedProcesses_only() throws Exception {
        Process ended = new ProcessBuilder("true").start();
        assertThat(ended.waitFor(30, TimeUnit.SECONDS)).isTrue();
        Path endedDir = Files.createDirectory(tmp.resolve(PrivateDir.PREFIX + ended.pid() + "-1700000000000-1"));
        Files.writeString(endedDir.resolve("values.json"), TOKEN);
        ProcessHandle me = ProcessHandle.current();
        long myStart = me.info().startInstant().orElseThrow().toEpochMilli();
        Path liveDir = Files.createDirectory(tmp.resolve(PrivateDir.PREFIX + me.pid() + "-" + myStart + "-2"));
        // The same id with another start time: an ended process whose id was reused.
        Path reusedDir = Files.createDirectory(tmp.resolve(PrivateDir.PREFIX + me.pid() + "-" + (myStart - 1) + "-3"));
        Path someoneElses = Files.createDirectory(tmp.resolve("helm-1234"));
        Path own = Files.createDirectory(tmp.resolve(PrivateDir.PREFIX + "own"));

        int removed = PrivateDir.removeStale(tmp, own);

        assertThat(removed).isEqualTo(2);
        assertThat(endedDir).doesNotExist();
        assertThat(reusedDir).doesNotExist();
        assertThat(liveDir).isDirectory();
        assertThat(someoneElses).isDirectory();
        assertThat(own).isDirectory();
    }

    @Test
    void aJvmKilledDuringAHelmCall_leavesItsValues_andTheNextJvmDeletesThem() throws Exception {
        Path log = tmp.resolve("killed.log");
        Process child = ChildJvm.start(HoldPrivateDir.class, log, List.of(tmp.toString(), TOKEN));
        Path left;
        try {
            left = awaitHeldDirectory(child, log);
        } finally {
            child.destroyForcibly(); // SIGKILL: no finally blocks, no shutdown hooks
            assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }
        Path values = left.resolve("values.json");
        assertThat(values).as("what the kill leaves").content().contains(TOKEN);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(values)))
                .isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(left)))
                .isEqualTo("rwx------");

        Path nextLog = tmp.resolve("next.log");
        Process next = ChildJvm.start(HoldPrivateDir.class, nextLog, List.of(tmp.toString(), "-"));
        ChildJvm.awaitSuccess(next, nextLog, "a JVM that creates one private directory");

        assertThat(left).as("deleted by the next JVM's first private directory").doesNotExist();
        try (Stream<Path> files = Files.list(tmp)) {
            assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith(PrivateDir.PREFIX));
        }
    }

    private static Path awaitHeldDirectory(Process child, Path log) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline) {
            assertThat(child.isAlive()).as(Files.readString(log)).isTrue();
            String held = Files.readString(log)
                    .lines()
                    .filter(l -> l.startsWith("HELD "))
                    .findFirst()
                    .orElse("");
            if (!held.isEmpty()) {
                return Path.of(held.substring("HELD ".length()));
            }
            Thread.sleep(20);
        }
        throw new AssertionError("the child never held a directory:\n" + Files.readString(log));
    }

    /**
     * A child JVM's main: with {@code TMPDIR TOKEN}, writes the token into a private directory of TMPDIR as a Helm call
     * would, prints {@code HELD <dir>} and waits to be killed; with {@code TMPDIR -}, creates and closes one directory.
     */
    public static final class HoldPrivateDir {
        private HoldPrivateDir() {}

        /**
         * @param args the temporary directory, then the token or {@code -}
         * @throws InterruptedException never: the test kills it
         */
        public static void main(String[] args) throws InterruptedException {
            System.setProperty("java.io.tmpdir", args[0]);
            PrivateDir dir = PrivateDir.create();
            if ("-".equals(args[1])) {
                dir.close();
                return;
            }
            dir.write("values.json", "{\"cloudaeye\":{\"apiToken\":\"" + args[1] + "\"}}");
            System.out.println("HELD " + dir.path());
            System.out.flush();
            Thread.sleep(TimeUnit.MINUTES.toMillis(5));
        }
    }
}
