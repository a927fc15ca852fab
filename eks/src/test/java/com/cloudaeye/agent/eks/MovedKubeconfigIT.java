package com.cloudaeye.agent.eks;

import static com.cloudaeye.agent.eks.StoppedApply.assertStoppedBeforeAnyChange;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.ApplyException;
import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.ConfigurationException;
import com.cloudaeye.agent.Journal;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.eks.testing.EksOnKubeCluster;
import com.cloudaeye.agent.eks.testing.KubeCluster;
import com.cloudaeye.agent.spi.support.AwsActions;
import com.cloudaeye.agent.testing.Moto;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A saved plan whose agent DaemonSet goes through a caller's kubeconfig, applied after that file was moved away (or on
 * a machine without it): the apply is refused before any change, naming the file, the cluster and release, and the
 * fix; the access stack and control-plane logging the plan also changes stay as they were, and no change is journaled
 * as applied. Before the fix the stack and logging landed and the release failed: a partial apply. A resume of a
 * journal whose release change went through a kubeconfig moved since is refused the same way, and leaves that journal
 * as it was.
 */
class MovedKubeconfigIT {
    private static final String NAMESPACE = "cloudaeye-agent";

    @RegisterExtension
    static final EksOnKubeCluster CLUSTER = EksOnKubeCluster.callerKubeconfig().release(NAMESPACE);

    @TempDir
    Path work;

    private final List<AccessKey> keys = new CopyOnWriteArrayList<>();

    @BeforeEach
    void cluster() {
        Moto.reset();
        MotoEks.createCluster(MotoEks.CLUSTER);
    }

    @Test
    void savedPlan_whoseKubeconfigWasMoved_isRefusedBeforeAnyChange_namingTheFileAndTheFix() throws IOException {
        Path kubeconfig = Files.copy(KubeCluster.kubeconfig(), work.resolve("team.kubeconfig"));
        String saved;
        try (AgentInstaller planner = planner(kubeconfig)) {
            saved = planner.plan().toJson();
        }
        assertThat(actions(Plan.fromJson(saved)))
                .as(saved)
                .anyMatch(a -> a.contains("Kubernetes::Helm::Release"))
                .hasSizeGreaterThanOrEqualTo(3);
        Path moved = Files.move(kubeconfig, work.resolve("moved.kubeconfig"));
        Path journals = work.resolve("journals");

        try (AgentInstaller fresh = MotoEks.environment()
                .sink(EksTarget.ACCESS_KEY_SINK, keys::add)
                .journalDirectory(journals)
                .build()) {
            AtomicReference<ApplyResult> returned = new AtomicReference<>();
            ApplyException stopped =
                    catchThrowableOfType(ApplyException.class, () -> returned.set(fresh.apply(Plan.fromJson(saved))));
            assertStoppedBeforeAnyChange(stopped, fresh, "the apply must be refused, not return " + returned.get())
                    .hasMessageContaining(kubeconfig.toString())
                    .hasMessageContaining(MotoEks.CLUSTER)
                    .hasMessageContaining(NAMESPACE + "/cloudaeye-agent")
                    .hasMessageContaining("AgentDaemonSet.kubeconfig(...)");
        }
        assertThat(keys).as("no access key was made").isEmpty();
        assertThat(journaledLines(journals))
                .as("nothing journaled as started or applied")
                .noneMatch(l -> l.contains("\"event\":\"STARTING\"") || l.contains("\"event\":\"APPLIED\""));
        try (KubernetesClient kubernetes = KubeCluster.admin()) {
            assertThat(kubernetes.namespaces().withName(NAMESPACE).get()).isNull();
        }

        // With the file back, the same plan is still to be made: nothing had changed.
        Files.move(moved, kubeconfig);
        try (AgentInstaller planner = planner(kubeconfig)) {
            assertThat(actions(planner.plan())).isEqualTo(actions(Plan.fromJson(saved)));
        }
    }

    @Test
    void rollback_whoseKubeconfigWasMoved_isRefusedBeforeAnyChange_namingTheFileAndTheFix() throws IOException {
        Path kubeconfig = Files.copy(KubeCluster.kubeconfig(), work.resolve("team.kubeconfig"));
        Path journal;
        try (AgentInstaller installer = MotoEks.installer(throughKubeconfig(kubeconfig))
                .journalDirectory(work.resolve("journals"))
                .build()) {
            ApplyResult applied = installer.apply(installer.plan());
            assertThat(applied.isSuccess()).as(applied.toString()).isTrue();
            journal = applied.journal().orElseThrow();
        }
        Path moved = Files.move(kubeconfig, work.resolve("moved.kubeconfig"));

        try (AgentInstaller fresh = MotoEks.environment()
                .journalDirectory(work.resolve("rollbacks"))
                .build()) {
            Throwable refused = catchThrowable(() -> fresh.rollback(Journal.read(journal)));
            assertThat(refused)
                    .as("the rollback must be refused")
                    .isInstanceOf(ConfigurationException.class)
                    .hasMessageContaining(kubeconfig.toString())
                    .hasMessageContaining(NAMESPACE + "/cloudaeye-agent")
                    .hasMessageContaining("restore " + kubeconfig)
                    .hasMessageContaining("Nothing was changed");
            assertThat(fresh.calls().keySet()).as("no mutating call was sent").allMatch(AwsActions::isReadOnly);
        }

        // With the file back, the install is still whole: nothing was rolled back.
        Files.move(moved, kubeconfig);
        try (AgentInstaller planner = planner(kubeconfig)) {
            assertThat(planner.plan().mutations()).isEmpty();
        }
    }

    @Test
    void resume_whoseKubeconfigWasMoved_isRefusedBeforeAnyChange_leavingTheJournalAsItWas() throws IOException {
        Path kubeconfig = Files.copy(KubeCluster.kubeconfig(), work.resolve("team.kubeconfig"));
        Path journal;
        String release;
        try (AgentInstaller installer = MotoEks.installer(throughKubeconfig(kubeconfig))
                .journalDirectory(work.resolve("journals"))
                .build()) {
            Plan plan = installer.plan();
            release = plan.mutations().stream()
                    .filter(c -> c.resourceType().equals("Kubernetes::Helm::Release"))
                    .findFirst()
                    .orElseThrow()
                    .resourceId();
            ApplyResult applied = installer.apply(plan);
            assertThat(applied.isSuccess()).as(applied.toString()).isTrue();
            journal = applied.journal().orElseThrow();
        }
        // A crash after the release's start: its outcome line never reached the journal, so a resume hands it back.
        String releaseApplied = "\"resourceId\":" + com.cloudaeye.agent.spi.support.Json.compact(release);
        List<String> lines = Files.readAllLines(journal);
        List<String> crashed = lines.stream()
                .filter(l -> !(l.contains("\"event\":\"APPLIED\"") && l.contains(releaseApplied)))
                .toList();
        assertThat(crashed).as("the release's outcome line is cut").hasSize(lines.size() - 1);
        Files.write(journal, crashed);
        byte[] before = Files.readAllBytes(journal);
        Path moved = Files.move(kubeconfig, work.resolve("moved.kubeconfig"));
        Path resumes = work.resolve("resumes");

        try (AgentInstaller fresh = MotoEks.installer(loggingAndAccess().build())
                .journalDirectory(resumes)
                .build()) {
            ApplyException stopped =
                    catchThrowableOfType(ApplyException.class, () -> fresh.resume(Journal.read(journal)));

            assertStoppedBeforeAnyChange(stopped, fresh, "the resume must be refused")
                    .hasMessageContaining(kubeconfig.toString())
                    .hasMessageContaining("restore " + kubeconfig);
            assertThat(stopped.result().results())
                    .as(stopped.result().toString())
                    .extracting(r -> r.change().resourceId())
                    .containsExactly(release);
            assertThat(stopped).hasMessageContaining("the journal " + journal + " is as it was");
        }
        assertThat(journaledLines(resumes)).as("the resume wrote no journal").isEmpty();
        assertThat(Files.readAllBytes(journal))
                .as("the resumed journal is unchanged")
                .isEqualTo(before);

        // With the file back, the same journal resumes: the release is found applied, nothing is done twice.
        Files.move(moved, kubeconfig);
        try (AgentInstaller fresh = MotoEks.installer(loggingAndAccess().build())
                .journalDirectory(resumes)
                .build()) {
            ApplyResult resumed = fresh.resume(Journal.read(journal));
            assertThat(resumed.isSuccess()).as(resumed.toString()).isTrue();
        }
    }

    private AgentInstaller planner(Path kubeconfig) {
        return MotoEks.installer(throughKubeconfig(kubeconfig)).withoutJournal().build();
    }

    /** @return the target of every test: control-plane logging and the IAM-user stack, whose keys go to {@link #keys} */
    private EksTarget.Builder loggingAndAccess() {
        return MotoEks.target()
                .controlPlaneLogging(true)
                .cloudAEyeAccess(a -> a.iamUserStack().accessKeySink(keys::add));
    }

    /** @return {@link #loggingAndAccess()} with the agent DaemonSet, installed through the caller's kubeconfig */
    private EksTarget throughKubeconfig(Path kubeconfig) {
        return loggingAndAccess()
                .daemonSet(d -> d.kubeconfig(kubeconfig).timeout(Duration.ofMinutes(2)))
                .build();
    }

    private static List<String> journaledLines(Path journals) throws IOException {
        if (!Files.isDirectory(journals)) {
            return List.of();
        }
        try (Stream<Path> files = Files.walk(journals)) {
            return files.filter(Files::isRegularFile)
                    .flatMap(f -> {
                        try {
                            return Files.readAllLines(f).stream();
                        } catch (IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                    })
                    .toList();
        }
    }

    private static List<String> actions(Plan plan) {
        return plan.mutations().stream()
                .map(c -> c.resourceType() + " " + c.resourceId() + " " + c.action())
                .sorted()
                .toList();
    }
}
