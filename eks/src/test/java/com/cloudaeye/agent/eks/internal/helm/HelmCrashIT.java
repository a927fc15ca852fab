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
import java.util.Random;
import java.util.concurrent.TimeUnit;
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
 * <p>Inside the install and then inside its resume: the resume is killed too, once the API server has carried out its
 * N-th write (N from the seed), inside the Helm uninstall that clears the killed install's revision (which leaves it
 * {@code uninstalling}) or the install after it (no release, or revision 1 {@code pending-install} again). A second
 * resume finishes the install, each object written at most once; a rollback leaves nothing.
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
    /**
     * No more than the fewest writes a resume of a killed install makes: its uninstall records the revision
     * uninstalling and deletes the record (and the objects the killed install made), its install writes the record, six
     * objects and the record again.
     */
    private static final int RESUME_WRITES = 9;

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
            AuditedWrites.assertEachObjectChangedAtMostOnce("the killed apply", killed.writes());
            AuditedWrites.assertEachObjectChangedAtMostOnce("the resume", writesSince(mark));
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
            AuditedWrites.assertEachObjectChangedAtMostOnce("the killed apply", killed.writes());
            AuditedWrites.assertEachObjectChangedAtMostOnce("the rollback", writesSince(mark));
            assertNoFileHoldsTheToken();
        });
    }

    @Test
    void killedInsideTheHelmInstallAndInsideItsResume_resumeAgain_finishesTheInstall_changingEachObjectAtMostOnce()
            throws Exception {
        long seed = Seeds.of().findFirst().orElseThrow();
        Seeds.run(seed, "eks", "HelmCrashIT", () -> {
            KilledResume killed =
                    killInsideTheResume(killInsideTheHelmInstall(seed).journal(), seed);
            long mark = KubeCluster.auditMark();

            ChildJvm.Result resumed = run("resume", killed.journal(), GOOD_TAG);

            assertThat(resumed.status())
                    .as(killed.left() + "; the second resume: " + resumed.output())
                    .isEqualTo(ApplyResult.Status.SUCCEEDED);
            assertThat(resumed.applied()).isEqualTo(1);
            assertThat(CLUSTER.helmList()).singleElement().satisfies(r -> {
                assertThat(r.getRevision()).isEqualTo("1");
                assertThat(r.getStatus()).isEqualTo("deployed");
            });
            assertThat(daemonSet())
                    .isNotNull()
                    .satisfies(ds -> assertThat(ds.getStatus().getNumberReady()).isEqualTo(3));
            AuditedWrites.assertEachObjectChangedAtMostOnce("the second resume", writesSince(mark));
            assertNoFileHoldsTheToken();
        });
    }

    @Test
    void killedInsideTheHelmInstallAndInsideItsResume_rollback_leavesNothing() throws Exception {
        long seed = Seeds.of().findFirst().orElseThrow();
        Seeds.run(seed, "eks", "HelmCrashIT", () -> {
            KilledResume killed =
                    killInsideTheResume(killInsideTheHelmInstall(seed).journal(), seed);

            ChildJvm.Result rolledBack = run("rollback", killed.journal(), GOOD_TAG);

            assertThat(rolledBack.status())
                    .as(killed.left() + "; the rollback: " + rolledBack.output())
                    .isEqualTo(ApplyResult.Status.SUCCEEDED);
            assertNothingLeft();
            try (KubernetesClient admin = KubeCluster.admin()) {
                assertThat(admin.namespaces().withName(name).get())
                        .as("the namespace the killed install created")
                        .satisfiesAnyOf(
                                n -> assertThat(n).isNull(),
                                n -> assertThat(n.getMetadata().getDeletionTimestamp())
                                        .isNotNull());
            }
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
        List<JsonNode> writes = killAfterWrite(child, log, mark, killAfter);
        String seen =
                "killed after write " + killAfter + ", the API server carried out: " + AuditedWrites.describe(writes);
        assertThat(CLUSTER.helmList())
                .as(seen)
                .singleElement()
                .satisfies(r -> assertThat(r.getStatus()).isEqualTo("pending-install"));
        Path journal;
        try (Stream<Path> files = Files.list(journals)) {
            journal = files.findFirst().orElseThrow();
        }
        assertInstallInterrupted(journal, seen);
        try (Stream<Path> files = Files.walk(work.resolve("tmp"))) {
            assertThat(files.filter(Files::isRegularFile).anyMatch(HelmCrashIT::holdsTheToken))
                    .as("the killed JVM left its Helm values, with the token, in its private directory")
                    .isTrue();
        }
        return new Killed(journal, writes);
    }

    /**
     * Resumes the killed install in a new JVM and kills that too once the API server has carried out the N-th write of
     * the resume (N from the seed, 1 to 9: the resume's Helm uninstall of the killed install's revision first records
     * it uninstalling, then deletes the objects and the record; its install after that records revision 1
     * pending-install, then creates the objects; a kill lands where it lands).
     *
     * @return the killed resume's journal, and what it left
     */
    private KilledResume killInsideTheResume(Path journal, long seed) throws Exception {
        int killAfter = 1 + new Random(seed + 1).nextInt(RESUME_WRITES);
        Path journals = Files.createDirectories(work.resolve("journals-killed-resume"));
        Path log = work.resolve("killed-resume.log");
        long mark = KubeCluster.auditMark();
        Process child = ChildJvm.startInTempDirectory(
                HelmApplyInChildJvm.class, log, args("resume", journals, journal, GOOD_TAG), childTmp());
        List<JsonNode> writes = killAfterWrite(child, log, mark, killAfter);
        String left = "the resume, killed after write " + killAfter + " of " + AuditedWrites.describe(writes)
                + ", left "
                + CLUSTER.helmList().stream()
                        .map(r -> "revision " + r.getRevision() + " " + r.getStatus())
                        .toList();
        System.out.println(left);
        Path resumeJournal;
        try (Stream<Path> files = Files.list(journals)) {
            resumeJournal = files.findFirst().orElseThrow();
        }
        assertInstallInterrupted(resumeJournal, left);
        return new KilledResume(resumeJournal, left);
    }

    /** A killed resume's journal, and what it left (for failure messages). */
    private record KilledResume(Path journal, String left) {}

    /** Waits until the API server carried out the child's N-th write since the mark, kills it; its writes. */
    private static List<JsonNode> killAfterWrite(Process child, Path log, long mark, int killAfter) throws Exception {
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (writesSince(mark).size() < killAfter) {
                assertThat(child.isAlive())
                        .as("the child ended before its write " + killAfter + ":\n" + Files.readString(log))
                        .isTrue();
                assertThat(System.nanoTime()).as("write " + killAfter).isLessThan(deadline);
                Thread.sleep(5);
            }
            child.destroyForcibly();
            assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
        } finally {
            child.destroyForcibly();
        }
        // A request in flight when the child died is still carried out and audited.
        Thread.sleep(1000);
        assertThat(Files.readString(log)).as("killed before any result").doesNotContain("RESULT");
        return writesSince(mark);
    }

    /** The journal says the install started and did not finish. */
    private static void assertInstallInterrupted(Path journal, String seen) {
        Journal killed = Journal.read(journal);
        assertThat(killed.applied()).as(seen).isEmpty();
        assertThat(killed.interrupted())
                .as("the journal says the install started and did not finish; " + seen)
                .singleElement()
                .satisfies(c -> assertThat(c.action()).isEqualTo(ChangeAction.CREATE));
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
        return AuditedWrites.since(USER, mark);
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
