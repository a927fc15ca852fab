package com.cloudaeye.agent.eks;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.Journal;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.ResourceResult;
import com.cloudaeye.agent.spi.support.Json;
import com.cloudaeye.agent.testing.Moto;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A saved plan and its journals as main wrote them before the EKS target was split into planners and components
 * (issue 15; fixtures under {@code fixtures/saved/}, written by commit ae7f6e0 against moto: logging and the IAM-user
 * access on one cluster, logging and the cross-account role on another): today's code plans the same target states,
 * applies the saved plan in a fresh installer (the service {@link java.util.ServiceLoader} finds), resumes the
 * journal of an apply killed during its last change, and rolls back the finished journal.
 */
class SavedStateFormatIT {
    private static final String USER_CLUSTER = "fixture-user";
    private static final String ROLE_CLUSTER = "fixture-role";

    @TempDir
    Path journals;

    private final List<AccessKey> keys = new CopyOnWriteArrayList<>();

    @BeforeEach
    void clusters() {
        Moto.reset();
        MotoEks.createCluster(USER_CLUSTER);
        MotoEks.createCluster(ROLE_CLUSTER);
    }

    /** The target the fixtures were planned with, its new keys going to {@link #keys}. */
    private EksTarget target() {
        return EksTarget.builder()
                .cluster(USER_CLUSTER)
                .controlPlaneLogging(true)
                .cloudAEyeAccess(a -> a.iamUserStack().accessKeySink(keys::add))
                .addCluster(
                        ROLE_CLUSTER,
                        c -> c.logTypes(LogType.API, LogType.AUDIT)
                                .cloudAEyeAccess(a -> a.crossAccountRole("111122223333", "fixture-external-id")))
                .waits(Duration.ofMillis(100), Duration.ofSeconds(30))
                .build();
    }

    private AgentInstaller fresh() {
        return MotoEks.environment()
                .sink(EksTarget.ACCESS_KEY_SINK, keys::add)
                .journalDirectory(journals)
                .build();
    }

    @Test
    void savedPlanOfMain_isWhatTodayPlans_andAppliesInAFreshInstaller() throws IOException {
        Plan saved = Plan.fromJson(fixture("plan.json"));
        try (AgentInstaller planner =
                MotoEks.installer(target()).withoutJournal().build()) {
            assertThat(states(planner.plan()))
                    .as("today's planners write the states main wrote")
                    .isEqualTo(states(saved))
                    .hasSize(5);
        }

        try (AgentInstaller fresh = fresh()) {
            ApplyResult applied = fresh.apply(saved);
            assertThat(applied.status()).as(applied.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
        }
        assertThat(keys).hasSize(1);
        try (AgentInstaller planner =
                MotoEks.installer(target()).withoutJournal().build()) {
            assertThat(planner.plan().mutations())
                    .as("applied: nothing left to do")
                    .isEmpty();
        }
    }

    @Test
    void journalsOfMain_resumeTheKilledChange_andRollBack() throws IOException {
        Plan saved = Plan.fromJson(fixture("plan.json"));
        try (AgentInstaller fresh = fresh()) {
            ApplyResult applied = fresh.apply(saved);
            assertThat(applied.status()).as(applied.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
        }

        // Killed after the last change's mutation, before its outcome was journaled: the resume reads it back.
        Journal killed = journal("journal-killed.jsonl");
        assertThat(killed.interrupted()).hasSize(1);
        Change last = killed.interrupted().get(0);
        // A resume plans again what was never started, so it needs the target (here: nothing is left to plan).
        try (AgentInstaller configured =
                MotoEks.installer(target()).journalDirectory(journals).build()) {
            ApplyResult resumed = configured.resume(killed);
            assertThat(resumed.status()).as(resumed.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            assertThat(resumed.results())
                    .filteredOn(r -> r.change().resourceId().equals(last.resourceId()))
                    .singleElement()
                    .extracting(ResourceResult::outcome)
                    .isEqualTo(ResourceResult.Outcome.APPLIED);
        }
        assertThat(keys).as("the resume made no second key").hasSize(1);

        try (AgentInstaller fresh = fresh()) {
            ApplyResult rolledBack = fresh.rollback(journal("journal.jsonl"));
            assertThat(rolledBack.status()).as(rolledBack.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
        }
        try (AgentInstaller planner =
                MotoEks.installer(target()).withoutJournal().build()) {
            assertThat(states(planner.plan()))
                    .as("rolled back: the saved plan's changes are to do again")
                    .isEqualTo(states(saved));
        }
    }

    /** The mutations' target states by resource, as compact JSON. */
    private static Map<String, String> states(Plan plan) {
        Map<String, String> out = new TreeMap<>();
        plan.mutations()
                .forEach(c -> out.put(
                        c.resourceType() + " " + c.resourceId() + " " + c.action(), Json.compact(c.targetState())));
        return out;
    }

    private Journal journal(String name) throws IOException {
        Path copy = Files.createTempDirectory(journals, "fixture").resolve(name);
        Files.writeString(copy, fixture(name));
        return Journal.read(copy);
    }

    private static String fixture(String name) throws IOException {
        try (InputStream in = SavedStateFormatIT.class.getResourceAsStream("/fixtures/saved/" + name)) {
            assertThat(in).as(name).isNotNull();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
