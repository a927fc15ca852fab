package com.cloudaeye.agent.eks.internal.helm;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.eks.testing.KubeCluster;
import com.cloudaeye.agent.testing.ChildJvm;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.marcnuri.helm.Helm;
import com.marcnuri.helm.Release;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kill -9 of an apply inside its Helm install on the real API server, during the rollout wait (Helm done and the
 * release deployed, one node's pod never ready), then a new JVM resumes or rolls back. A resume must not take the
 * deployed release for a finished install: it waits for the rollout again and, as it does not complete, reports it
 * failed and uninstalls. A rollback uninstalls. Either way no release, DaemonSet or token Secret is left.
 */
class HelmCrashIT {
    private static WireMockServer aws;
    private static KubeCluster.User user;
    private static final String ACCESS_KEY = "AKIDHELMCRASHIT";

    @TempDir
    Path work;

    private String name;

    @BeforeAll
    static void startAws() {
        user = KubeCluster.eksUser(ACCESS_KEY).grantClusterRole("cluster-admin");
        aws = KubeCluster.startEksApi();
    }

    @AfterAll
    static void stopAws() {
        aws.stop();
        user.delete();
    }

    @org.junit.jupiter.api.BeforeEach
    void name(TestInfo test) {
        name = "crash-" + Integer.toHexString(test.getDisplayName().hashCode() & 0xfffffff);
    }

    @AfterEach
    void removeNamespace() {
        if (!helmList().isEmpty()) {
            Helm.uninstall(name)
                    .withNamespace(name)
                    .withKubeConfig(KubeCluster.kubeconfig())
                    .call();
        }
        try (KubernetesClient admin = KubeCluster.admin()) {
            admin.namespaces().withName(name).delete();
        }
    }

    @Test
    void killedDuringTheRolloutWait_resume_waitsAgain_reportsTheRolloutFailed_andUninstalls() throws Exception {
        Path journal = killDuringRolloutWait();

        ChildJvm.Result resumed = ChildJvm.run(HelmApplyInChildJvm.class, work, this::args, "resume", journal);

        assertThat(resumed.status()).as(resumed.output()).isEqualTo(ApplyResult.Status.FAILED);
        assertThat(resumed.failed()).isEqualTo(1);
        assertThat(resumed.output()).doesNotContain(HelmApplyInChildJvm.TOKEN);
        assertNothingLeft();
    }

    @Test
    void killedDuringTheRolloutWait_rollback_uninstalls() throws Exception {
        Path journal = killDuringRolloutWait();

        ChildJvm.Result rolledBack = ChildJvm.run(HelmApplyInChildJvm.class, work, this::args, "rollback", journal);

        assertThat(rolledBack.status()).as(rolledBack.output()).isEqualTo(ApplyResult.Status.SUCCEEDED);
        assertNothingLeft();
    }

    /** Starts an apply, kills it once Helm has deployed the release and the installer waits for the rollout. */
    private Path killDuringRolloutWait() throws Exception {
        Path journals = Files.createDirectories(work.resolve("journals-apply"));
        Path log = work.resolve("apply.log");
        Process child = ChildJvm.start(HelmApplyInChildJvm.class, log, args("apply", journals, null));
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (helmList().stream().noneMatch(r -> "deployed".equals(r.getStatus()))) {
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

    private List<String> args(String mode, Path journals, Path journal) {
        List<String> args =
                new java.util.ArrayList<>(List.of(mode, aws.baseUrl(), journals.toString(), ACCESS_KEY, name));
        if (journal != null) {
            args.add(journal.toString());
        }
        return args;
    }

    private void assertNothingLeft() {
        assertThat(helmList()).isEmpty();
        try (KubernetesClient admin = KubeCluster.admin()) {
            assertThat(admin.apps().daemonSets().inNamespace(name).list().getItems())
                    .isEmpty();
            assertThat(admin.secrets().inNamespace(name).list().getItems()).isEmpty();
        }
    }

    private List<Release> helmList() {
        return Helm.list()
                .withKubeConfig(KubeCluster.kubeconfig())
                .withNamespace(name)
                .all()
                .call();
    }
}
