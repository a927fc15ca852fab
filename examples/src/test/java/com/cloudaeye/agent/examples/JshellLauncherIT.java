package com.cloudaeye.agent.examples;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.examples.Jshell.Run;
import com.cloudaeye.agent.testing.Moto;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs {@code lambda-plan.jsh} through the launcher {@code examples/jshell/cloudaeye-jshell}, as an operator would,
 * against moto: its class-data-sharing archive is dumped by the first run, used by later ones, and never breaks a run
 * or shows in its output.
 */
class JshellLauncherIT {
    /** What the JVM's CDS logging prints ({@code [warning][cds] ...}, "shared archive", "CDS"). */
    private static final List<String> CDS_TEXT = List.of("[cds", "shared archive", "CDS", "hs_err");

    @TempDir
    Path work;

    private final Map<String, String> env = new HashMap<>();

    /** The launcher's archive directory, which it makes: never the user's cache. */
    private Path cache;

    @BeforeEach
    void setUp() {
        Moto.reset();
        cache = work.resolve("cds");
        assertThat(Jshell.JAR).as("the shaded jar (made by the package phase)").isRegularFile();
        SampleLambdaFunctions layers = SampleLambdaFunctions.create(Moto.endpoint(), Moto.REGION, Moto.credentials());
        env.put("CLOUDAEYE_AWS_ENDPOINT", Moto.endpoint().toString());
        env.put("AWS_REGION", Moto.REGION.id());
        env.put("CLOUDAEYE_LOGS_ENDPOINT", "https://logs.example.cloudaeye.com");
        env.put("CLOUDAEYE_API_TOKEN", "tok-launcher-it-secret");
        env.put("CLOUDAEYE_LAYER_X86_64", layers.x86Layer());
        env.put("CLOUDAEYE_LAYER_ARM64", layers.armLayer());
        env.put("CLOUDAEYE_CDS_DIR", cache.toString()); // the jar: the default, beside the launcher
    }

    @Test
    void lambdaPlan_runTwice_firstDumpsTheArchiveSecondUsesItWithTheSamePlan() throws IOException {
        Run first = plan();
        List<Path> archives = archives();
        assertThat(archives).as("the archive the first run dumped").hasSize(1);
        long dumped = Files.getLastModifiedTime(archives.get(0)).toMillis();

        Run second = plan();

        assertThat(second.output()).isEqualTo(first.output());
        assertThat(archives())
                .as("the second run used the archive, not a new one")
                .isEqualTo(archives);
        assertThat(Files.getLastModifiedTime(archives.get(0)).toMillis()).isEqualTo(dumped);
        assertThat(files(cache)).as("no temporary file or log is left").isEqualTo(archives);
    }

    /** Two first runs side by side each dump an archive and rename it into place: neither leaves half of one. */
    @Test
    void lambdaPlan_twoFirstRunsSideBySide_bothSucceedAndEveryArchiveIsWhole() throws Exception {
        Path a = Files.createDirectory(work.resolve("a"));
        Path b = Files.createDirectory(work.resolve("b"));
        CompletableFuture<Run> first = CompletableFuture.supplyAsync(() -> uncheckedPlan(a));
        Run second = plan(b);

        assertThat(first.get(3, TimeUnit.MINUTES).output())
                .isEqualTo(second.output().replace(b.toString(), a.toString()));
        assertThat(archives())
                .isNotEmpty()
                .allSatisfy(archive -> assertThat(archive.getFileName().toString())
                        .as("named by its size")
                        .endsWith("-" + Files.size(archive) + ".jsa"));
        assertThat(files(cache)).as("no temporary file or log is left").isEqualTo(archives());
        assertThat(plan().output()).isEqualTo(second.output().replace(b.toString(), work.toString()));
    }

    private Run uncheckedPlan(Path dir) {
        try {
            return plan(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void lambdaPlan_withACorruptedArchive_runsCorrectlyAndTheArchiveIsDumpedAgain() throws IOException {
        Run first = plan();
        Path archive = archives().get(0);
        archive.toFile().setWritable(true);
        try (RandomAccessFile file = new RandomAccessFile(archive.toFile(), "rw")) {
            file.seek(file.length() / 2); // inside the classes: JDK 17 maps it and fails without a checksum check
            file.write(new byte[4096]);
        }

        Run corrupted = plan();
        assertThat(corrupted.output()).isEqualTo(first.output());
        assertThat(archives())
                .as("the JVM refused it, so the launcher deleted it")
                .isEmpty();

        plan();
        assertThat(archives()).as("the next run dumped a new one").hasSize(1);
    }

    @Test
    void lambdaPlan_withATruncatedArchive_runsCorrectlyAndReplacesIt() throws IOException {
        Run first = plan();
        Path archive = archives().get(0);
        long size = Files.size(archive);
        archive.toFile().setWritable(true);
        try (RandomAccessFile file = new RandomAccessFile(archive.toFile(), "rw")) {
            file.setLength(4096); // JDK 17 crashes (SIGBUS) mapping a short archive: the launcher must not hand it over
        }

        Run truncated = plan();

        assertThat(truncated.output()).isEqualTo(first.output());
        assertThat(archives())
                .as("deleted before the run, which dumped a new one")
                .hasSize(1);
        assertThat(Files.size(archives().get(0))).isGreaterThan(size / 2); // dumps differ by a few pages
    }

    @Test
    void lambdaPlan_withCdsOff_runsWithoutAnArchive() throws IOException {
        env.put("CLOUDAEYE_CDS", "off");

        plan();

        assertThat(cache).doesNotExist();
    }

    @Test
    void launcher_withoutTheJar_namesTheVariableAndExits2() {
        env.put("CLOUDAEYE_JAR", work.resolve("missing.jar").toString());

        Run run = Jshell.launcher(work, env, "lambda-plan.jsh");

        assertThat(run.exitStatus()).isEqualTo(2);
        assertThat(run.output()).contains("CLOUDAEYE_JAR").contains("missing.jar");
    }

    /**
     * The launcher runs slf4j-simple at warn, so an apply prints each change once (its progress line), not again as an
     * INFO log line; a level the user passes wins.
     */
    @Test
    void apply_printsEachChangeOnce_andTheUsersLogLevelWins() {
        env.put("CLOUDAEYE_CDS", "off");
        env.put("CLOUDAEYE_JOURNAL_DIR", work.resolve("journals").toString());
        Run plan = Jshell.launcher(work, env, "lambda-plan.jsh");
        assertThat(plan.exitStatus()).as(plan.output()).isZero();

        Run apply = Jshell.launcher(work, env, "apply.jsh");

        assertThat(apply.exitStatus()).as(apply.output()).isZero();
        assertThat(apply.output()).contains("Apply succeeded").doesNotContain(" INFO ");

        Run uninstall = Jshell.launcher(work, env, "lambda-uninstall.jsh");
        assertThat(uninstall.exitStatus()).as(uninstall.output()).isZero();
        Run logged = Jshell.launcher(work, env, "-J-Dorg.slf4j.simpleLogger.defaultLogLevel=info", "apply.jsh");

        assertThat(logged.exitStatus()).as(logged.output()).isZero();
        assertThat(logged.output()).contains("INFO com.cloudaeye.agent.internal.ApplyRunner - Applied");
    }

    /**
     * Runs {@code lambda-plan.jsh}, named as an operator names it (the launcher finds it beside itself), and checks it
     * planned, exited 0 and printed nothing about CDS.
     */
    private Run plan() throws IOException {
        return plan(work);
    }

    private Run plan(Path dir) throws IOException {
        Run run = Jshell.launcher(dir, env, "-J-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "lambda-plan.jsh");
        assertThat(run.exitStatus()).as(run.output()).isZero();
        assertThat(run.output()).contains("Wrote plan.json and policy.json");
        assertThat(Files.readString(dir.resolve("plan.json"))).contains("orders");
        for (String text : CDS_TEXT) {
            assertThat(run.output()).doesNotContain(text);
        }
        assertThat(run.output()).as("the API token is never printed").doesNotContain(env.get("CLOUDAEYE_API_TOKEN"));
        return run;
    }

    private List<Path> archives() throws IOException {
        return files(cache).stream()
                .filter(f -> f.getFileName().toString().endsWith(".jsa"))
                .collect(Collectors.toList());
    }

    private static List<Path> files(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.sorted().collect(Collectors.toList());
        }
    }
}
