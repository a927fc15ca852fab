package com.cloudaeye.agent.ecs;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.Journal;
import com.cloudaeye.agent.ecs.crash.EcsApplyInChildJvm;
import com.cloudaeye.agent.testing.ChildJvm;
import com.cloudaeye.agent.testing.Moto;
import com.cloudaeye.agent.testing.ThrottlingProxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.ecs.model.ContainerDefinition;
import software.amazon.awssdk.services.ecs.model.TaskDefinition;

/**
 * A killed ECS install loses nothing: 12 Fargate services over 6 task definitions in moto, the apply runs in a child
 * JVM behind a {@link ThrottlingProxy} (latency; the installer's own ECS modify rates are lowered, since the proxy only
 * rate-limits Lambda) and is killed with {@code SIGKILL} once a few outcomes are journaled; a new JVM then resumes
 * (every service on a revision with the router exactly once, one new revision per source revision) or rolls back
 * (every service on its original revision). The proxy lives in this JVM, so its request counts span both children.
 */
class EcsCrashRecoveryIT {
    private static final String CLUSTER = "crash";
    private static final int FAMILIES = 6;
    private static final int SERVICES = 12;
    private static final int KILL_AFTER = 3;

    @TempDir
    Path work;

    private MotoEcs moto;
    private ThrottlingProxy proxy;
    /** Each service's original task definition ARN, by service name. */
    private final Map<String, String> originals = new LinkedHashMap<>();

    @BeforeEach
    void createServices() {
        Moto.reset();
        moto = new MotoEcs();
        moto.cluster(CLUSTER);
        for (int f = 0; f < FAMILIES; f++) {
            TaskDefinition td = moto.fargate("crash-app-" + f, "512", "1024", MotoEcs.app("app", 256, 512));
            for (int s = 0; s < SERVICES / FAMILIES; s++) {
                String name = String.format("svc-%d-%d", f, s);
                moto.service(CLUSTER, name, td);
                originals.put(name, td.taskDefinitionArn());
            }
        }
        proxy = ThrottlingProxy.builder()
                .target(Moto.endpoint())
                .unlimited()
                .latency(Duration.ofMillis(20))
                .start();
    }

    @AfterEach
    void close() {
        proxy.close();
        moto.close();
    }

    @Test
    void killedInstall_resumedInANewJvm_putsTheRouterOnEveryServiceOnce_withoutDoubleRegistration() throws Exception {
        Path first = applyAndKill();
        Journal killed = Journal.read(first);
        assertThat(killed.applied()).hasSizeGreaterThanOrEqualTo(KILL_AFTER);
        assertThat(killed.unfinished()).as("the kill left work to resume").isNotEmpty();

        ChildJvm.Result resumed = run("resume", first);
        assertThat(resumed.status())
                .as(
                        "resume status, killed journal:\n%s\nresumed journal:\n%s",
                        Files.readString(first), Files.readString(resumed.journalPath()))
                .isEqualTo(ApplyResult.Status.SUCCEEDED);
        assertThat(resumed.failed()).as("failed").isZero();

        for (Map.Entry<String, String> e : originals.entrySet()) {
            String now = moto.taskDefinitionOf(CLUSTER, e.getKey());
            TaskDefinition td = moto.describe(now);
            String family = family(e.getValue());
            assertThat(td.family()).as(e.getKey() + " family").isEqualTo(family);
            assertThat(now).as(e.getKey() + " moved off its original revision").isNotEqualTo(e.getValue());
            assertThat(td.containerDefinitions().stream()
                            .map(ContainerDefinition::name)
                            .filter(LogRouter.DEFAULT_NAME::equals))
                    .as(e.getKey() + " runs the router exactly once")
                    .hasSize(1);
        }
        for (int f = 0; f < FAMILIES; f++) {
            String family = "crash-app-" + f;
            assertThat(moto.ecs.listTaskDefinitions(l -> l.familyPrefix(family)).taskDefinitionArns())
                    .as(family + ": the source revision and exactly one new revision")
                    .hasSize(2);
        }
        assertThat(proxy.requests("RegisterTaskDefinition"))
                .as("one registration per source revision across both JVMs")
                .isEqualTo(FAMILIES);
        assertThat(proxy.requests("UpdateService"))
                .as("one update per service across both JVMs")
                .isEqualTo(SERVICES);

        // The resume's journal begins with the killed apply's lines: it records every resource as applied, once, and
        // neither journal holds a secret.
        Journal resumedJournal = Journal.read(resumed.journalPath());
        List<String> applied = new ArrayList<>();
        resumedJournal.applied().forEach(c -> applied.add(c.resourceId()));
        killed.applied().forEach(c -> assertThat(applied).contains(c.resourceId()));
        assertThat(applied).hasSize(FAMILIES + SERVICES);
        assertThat(resumedJournal.unfinished()).isEmpty();
        assertThat(Files.readString(first) + Files.readString(resumedJournal.path()))
                .doesNotContain(EcsApplyInChildJvm.TOKEN)
                .doesNotContain("hello-user-value");

        // Resuming the finished journal again changes nothing.
        ChildJvm.Result again = run("resume", resumedJournal.path());
        assertThat(again.applied()).as("applied").isZero();
        assertThat(proxy.requests("RegisterTaskDefinition")).isEqualTo(FAMILIES);
        assertThat(proxy.requests("UpdateService")).isEqualTo(SERVICES);
    }

    @Test
    void killedInstall_rolledBackInANewJvm_putsEveryServiceBackOnItsOriginalRevision() throws Exception {
        Path first = applyAndKill();
        long registrationsBefore = proxy.requests("RegisterTaskDefinition");
        assertThat(originals.entrySet())
                .as("the killed apply moved at least one service, so the rollback has something to restore")
                .anyMatch(e -> !moto.taskDefinitionOf(CLUSTER, e.getKey()).equals(e.getValue()));

        ChildJvm.Result rolledBack = run("rollback", first);
        assertThat(rolledBack.status()).isIn(ApplyResult.Status.SUCCEEDED, ApplyResult.Status.NOTHING_TO_DO);
        assertThat(rolledBack.failed()).as("failed").isZero();

        for (Map.Entry<String, String> e : originals.entrySet()) {
            assertThat(moto.taskDefinitionOf(CLUSTER, e.getKey()))
                    .as(e.getKey() + " task definition")
                    .isEqualTo(e.getValue());
        }
        assertThat(proxy.requests("RegisterTaskDefinition"))
                .as("a rollback moves services back; it registers nothing")
                .isEqualTo(registrationsBefore);
    }

    private Path applyAndKill() throws Exception {
        return ChildJvm.applyAndKill(EcsApplyInChildJvm.class, work, this::args, KILL_AFTER);
    }

    private ChildJvm.Result run(String mode, Path journal) throws Exception {
        return ChildJvm.run(EcsApplyInChildJvm.class, work, this::args, mode, journal);
    }

    /** The child's arguments; the apply runs at a low rate, so that the kill lands half-way. */
    private List<String> args(String mode, Path journals, @Nullable Path journal) {
        String rate = mode.equals("apply") ? "1" : "5";
        List<String> args = new ArrayList<>(
                List.of(mode, proxy.endpoint().toString(), journals.toString(), CLUSTER, MotoEcs.ROUTER_IMAGE, rate));
        if (journal != null) {
            args.add(journal.toString());
        }
        return args;
    }

    private static String family(String arn) {
        String name = arn.substring(arn.lastIndexOf('/') + 1);
        return name.substring(0, name.lastIndexOf(':'));
    }
}
