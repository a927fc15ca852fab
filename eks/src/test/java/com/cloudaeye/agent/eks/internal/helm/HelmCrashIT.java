package com.cloudaeye.agent.eks.internal.helm;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.Journal;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.eks.testing.EksOnKubeCluster;
import com.cloudaeye.agent.eks.testing.KubeCluster;
import com.cloudaeye.agent.testing.ChildJvm;
import com.cloudaeye.agent.testing.Seeds;
import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kill -9 of an apply inside its Helm install on the real API server, then a new JVM resumes or rolls back.
 *
 * <p>Inside the install: the child is killed once the API server has carried out the N-th write of the install, N
 * drawn from the seed ({@link Seeds}) among the writes from the release record ({@code pending-install}) to the
 * DaemonSet; the test counts them in the API server's audit log. The killed journal then shows the change started and
 * not finished, matching the release left pending. A resume finishes the install (the release deployed, the DaemonSet
 * rolled out, a re-plan empty); a rollback leaves nothing (release, objects, namespace). In each run every Kubernetes
 * object is created, changed and deleted at most once (Helm's release record: created and deleted at most once), and
 * afterwards no file holds the agent token (the killed JVM's Helm values included).
 *
 * <p>During the rollout wait (Helm done and the release deployed, one node's pod never ready): a resume must not take
 * the deployed release for a finished install: it waits for the rollout again and, as it does not complete, reports it
 * failed and uninstalls. A rollback uninstalls. Either way no release, DaemonSet or token Secret is left.
 */
class HelmCrashIT {
    private static final String ACCESS_KEY = "AKIDHELMCRASHIT";
    private static final String USER = "eks:" + ACCESS_KEY;
    /** The tag of the install the tests kill inside Helm: it rolls out. */
    private static final String GOOD_TAG = "1.0.0";
    /**
     * The writes of a first install up to its DaemonSet: the namespace (the installer's), then Helm's release record,
     * ServiceAccount, token Secret, ConfigMap, ClusterRole, ClusterRoleBinding and DaemonSet.
     */
    private static final int WRITES_TO_THE_DAEMONSET = 8;

    @RegisterExtension
    static final EksOnKubeCluster CLUSTER =
            EksOnKubeCluster.clusterAdmin(ACCESS_KEY).releasePerTest("crash");

    @TempDir
    Path work;

    private String name;

    @BeforeEach
    void name() {
        name = CLUSTER.name();
    }

    @Test
    void killedInsideTheHelmInstall_resume_finishesTheInstall_changingEachObjectAtMostOncePerRun() throws Exception {
        long seed = Seeds.of().findFirst().orElseThrow();
        Seeds.run(seed, "eks", "HelmCrashIT", () -> {
            Killed killed = killInsideTheHelmInstall(seed);
            long mark = KubeCluster.auditMark();

            ChildJvm.Result resumed = run("resume", killed.journal(), GOOD_TAG);

            assertThat(resumed.status()).as(resumed.output()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            assertThat(resumed.applied()).isEqualTo(1);
            assertThat(CLUSTER.helmList()).singleElement().satisfies(r -> {
                assertThat(r.getRevision()).isEqualTo("1");
                assertThat(r.getStatus()).isEqualTo("deployed");
            });
            assertThat(daemonSet())
                    .isNotNull()
                    .satisfies(ds -> assertThat(ds.getStatus().getNumberReady()).isEqualTo(3));
            try (AgentInstaller installer = CLUSTER.installer(
                    HelmApplyInChildJvm.daemonSet(name, GOOD_TAG),
                    HelmApplyInChildJvm.TOKEN,
                    work.resolve("journals-replan"))) {
                Plan again = installer.plan();
                assertThat(again.changes())
                        .singleElement()
                        .satisfies(
                                c -> assertThat(c.action()).as(again.toString()).isEqualTo(ChangeAction.NO_OP));
            }
            assertEachObjectChangedAtMostOnce("the killed apply", killed.writes());
            assertEachObjectChangedAtMostOnce("the resume", writesSince(mark));
            assertNoFileHoldsTheToken();
        });
    }

    @Test
    void killedInsideTheHelmInstall_rollback_leavesNothing_changingEachObjectAtMostOncePerRun() throws Exception {
        long seed = Seeds.of().findFirst().orElseThrow();
        Seeds.run(seed, "eks", "HelmCrashIT", () -> {
            Killed killed = killInsideTheHelmInstall(seed);
            long mark = KubeCluster.auditMark();

            ChildJvm.Result rolledBack = run("rollback", killed.journal(), GOOD_TAG);

            assertThat(rolledBack.status()).as(rolledBack.output()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            assertNothingLeft();
            try (KubernetesClient admin = KubeCluster.admin()) {
                String fullName = AgentChart.fullName(name);
                assertThat(admin.rbac().clusterRoles().withName(fullName).get()).isNull();
                assertThat(admin.rbac().clusterRoleBindings().withName(fullName).get())
                        .isNull();
                assertThat(admin.namespaces().withName(name).get())
                        .as("the namespace the killed install created")
                        .satisfiesAnyOf(
                                n -> assertThat(n).isNull(),
                                n -> assertThat(n.getMetadata().getDeletionTimestamp())
                                        .isNotNull());
            }
            assertEachObjectChangedAtMostOnce("the killed apply", killed.writes());
            assertEachObjectChangedAtMostOnce("the rollback", writesSince(mark));
            assertNoFileHoldsTheToken();
        });
    }

    @Test
    void killedDuringTheRolloutWait_resume_waitsAgain_reportsTheRolloutFailed_andUninstalls() throws Exception {
        Path journal = killDuringRolloutWait();

        ChildJvm.Result resumed = run("resume", journal, "fail-on-arm64");

        assertThat(resumed.status()).as(resumed.output()).isEqualTo(ApplyResult.Status.FAILED);
        assertThat(resumed.failed()).isEqualTo(1);
        assertThat(resumed.output()).doesNotContain(HelmApplyInChildJvm.TOKEN);
        assertNothingLeft();
    }

    @Test
    void killedDuringTheRolloutWait_rollback_uninstalls() throws Exception {
        Path journal = killDuringRolloutWait();

        ChildJvm.Result rolledBack = run("rollback", journal, "fail-on-arm64");

        assertThat(rolledBack.status()).as(rolledBack.output()).isEqualTo(ApplyResult.Status.SUCCEEDED);
        assertNothingLeft();
    }

    /** The killed apply's journal, and the writes the API server carried out for it. */
    private record Killed(Path journal, List<JsonNode> writes) {}

    /**
     * Starts an apply and kills it once the API server has carried out the N-th write of its install (N from the
     * seed, from Helm's release record to the DaemonSet); checks that the journal matches what it left.
     */
    private Killed killInsideTheHelmInstall(long seed) throws Exception {
        int killAfter = 2 + new Random(seed).nextInt(WRITES_TO_THE_DAEMONSET - 1);
        Path journals = Files.createDirectories(work.resolve("journals-apply"));
        Path log = work.resolve("apply.log");
        long mark = KubeCluster.auditMark();
        Process child = ChildJvm.startInTempDirectory(
                HelmApplyInChildJvm.class, log, args("apply", journals, null, GOOD_TAG), childTmp());
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (writesSince(mark).size() < killAfter) {
                assertThat(child.isAlive())
                        .as("the child ended before its write " + killAfter + ":\n" + Files.readString(log))
                        .isTrue();
                assertThat(System.nanoTime())
                        .as("write " + killAfter + " of the install")
                        .isLessThan(deadline);
                Thread.sleep(5);
            }
            child.destroyForcibly();
            assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
        } finally {
            child.destroyForcibly();
        }
        // A request in flight when the child died is still carried out and audited.
        Thread.sleep(1000);
        List<JsonNode> writes = writesSince(mark);
        String seen = "killed after write " + killAfter + ", the API server carried out: " + describe(writes);
        assertThat(Files.readString(log)).as("killed before any result").doesNotContain("RESULT");
        assertThat(CLUSTER.helmList())
                .as(seen)
                .singleElement()
                .satisfies(r -> assertThat(r.getStatus()).isEqualTo("pending-install"));
        Path journal;
        try (Stream<Path> files = Files.list(journals)) {
            journal = files.findFirst().orElseThrow();
        }
        Journal killed = Journal.read(journal);
        assertThat(killed.applied()).as(seen).isEmpty();
        assertThat(killed.interrupted())
                .as("the journal says the install started and did not finish; " + seen)
                .singleElement()
                .satisfies(c -> assertThat(c.action()).isEqualTo(ChangeAction.CREATE));
        try (Stream<Path> files = Files.walk(work.resolve("tmp"))) {
            assertThat(files.filter(Files::isRegularFile).anyMatch(HelmCrashIT::holdsTheToken))
                    .as("the killed JVM left its Helm values, with the token, in its private directory")
                    .isTrue();
        }
        return new Killed(journal, writes);
    }

    /** Starts an apply, kills it once Helm has deployed the release and the installer waits for the rollout. */
    private Path killDuringRolloutWait() throws Exception {
        Path journals = Files.createDirectories(work.resolve("journals-apply"));
        Path log = work.resolve("apply.log");
        Process child = ChildJvm.startInTempDirectory(
                HelmApplyInChildJvm.class, log, args("apply", journals, null, "fail-on-arm64"), childTmp());
        try {
            // As long as the kill inside the install waits: a child JVM and Helm's install on a loaded machine.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (CLUSTER.helmList().stream().noneMatch(r -> "deployed".equals(r.getStatus()))) {
                assertThat(child.isAlive())
                        .as("the child ended before it could be killed:\n" + Files.readString(log))
                        .isTrue();
                assertThat(System.nanoTime()).as("no deployed release").isLessThan(deadline);
                Thread.sleep(50);
            }
            child.destroyForcibly();
            assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
        } finally {
            child.destroyForcibly();
        }
        assertThat(Files.readString(log)).as("killed before any result").doesNotContain("RESULT");
        try (Stream<Path> files = Files.list(journals)) {
            return files.findFirst().orElseThrow();
        }
    }

    /** Runs a resume or rollback in a new JVM, with the same temporary directory as the killed one. */
    private ChildJvm.Result run(String mode, Path journal, String tag) throws Exception {
        Path journals = Files.createDirectories(work.resolve("journals-" + mode));
        Path log = work.resolve(mode + ".log");
        Process child = ChildJvm.startInTempDirectory(
                HelmApplyInChildJvm.class, log, args(mode, journals, journal, tag), childTmp());
        return ChildJvm.parse(ChildJvm.awaitSuccess(child, log, mode), mode);
    }

    /** Each child's java.io.tmpdir, under the test's directory, where Helm's values files can be checked. */
    private Path childTmp() {
        return work.resolve("tmp");
    }

    private List<String> args(String mode, Path journals, @Nullable Path journal, String tag) {
        List<String> args =
                new ArrayList<>(List.of(mode, CLUSTER.eksEndpoint(), journals.toString(), ACCESS_KEY, name, tag));
        if (journal != null) {
            args.add(journal.toString());
        }
        return args;
    }

    private static List<JsonNode> writesSince(long mark) {
        return KubeCluster.audited(USER, mark).stream()
                .filter(KubeCluster::isWrite)
                .toList();
    }

    /**
     * Every object gets each kind of write (create, update or patch, delete) at most once in one run; Helm's release
     * record is created and deleted at most once.
     */
    private static void assertEachObjectChangedAtMostOnce(String run, List<JsonNode> writes) {
        Map<String, Long> counts = writes.stream()
                // Helm's own record of the release, which it updates at each step (uninstalling, deployed).
                .filter(w -> !(w.path("verb").asText().equals("update")
                        && w.path("objectRef").path("name").asText().startsWith("sh.helm.release.")))
                .collect(Collectors.groupingBy(
                        w -> w.path("verb").asText().replace("patch", "update") + " " + object(w),
                        TreeMap::new,
                        Collectors.counting()));
        assertThat(counts)
                .as(run + ": " + describe(writes))
                .isNotEmpty()
                .allSatisfy((write, n) -> assertThat(n).as(write).isEqualTo(1L));
    }

    private static String object(JsonNode write) {
        JsonNode ref = write.path("objectRef");
        return ref.path("resource").asText() + "/" + ref.path("namespace").asText("-") + "/"
                + ref.path("name").asText();
    }

    private static String describe(List<JsonNode> writes) {
        return writes.stream()
                .map(w -> w.path("verb").asText() + " " + object(w))
                .collect(Collectors.joining(", ", "[", "]"));
    }

    private void assertNoFileHoldsTheToken() throws Exception {
        try (Stream<Path> files = Files.walk(work)) {
            assertThat(files.filter(Files::isRegularFile).filter(HelmCrashIT::holdsTheToken))
                    .as("files holding the agent token")
                    .isEmpty();
        }
    }

    private static boolean holdsTheToken(Path file) {
        try {
            String text = Files.readString(file, StandardCharsets.ISO_8859_1);
            String encoded = Base64.getEncoder()
                    .encodeToString(HelmApplyInChildJvm.TOKEN.getBytes(StandardCharsets.UTF_8))
                    .replace("=", "");
            return text.contains(HelmApplyInChildJvm.TOKEN) || text.contains(encoded);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private void assertNothingLeft() {
        assertThat(CLUSTER.helmList()).isEmpty();
        try (KubernetesClient admin = KubeCluster.admin()) {
            assertThat(admin.apps().daemonSets().inNamespace(name).list().getItems())
                    .isEmpty();
            assertThat(admin.secrets().inNamespace(name).list().getItems()).isEmpty();
        }
    }

    private @Nullable DaemonSet daemonSet() {
        try (KubernetesClient admin = KubeCluster.admin()) {
            return admin.apps()
                    .daemonSets()
                    .inNamespace(name)
                    .withName(AgentChart.fullName(name))
                    .get();
        }
    }
}
