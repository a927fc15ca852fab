package com.cloudaeye.agent.eks;

import static com.cloudaeye.agent.eks.StoppedApply.assertStoppedBeforeAnyChange;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.ApplyException;
import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.testing.Moto;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A saved plan that creates CloudAEye's access key, applied by a fresh installer without a target (the one
 * ServiceLoader finds has no sink): the installer's {@link EksTarget#ACCESS_KEY_SINK} receives the key, and without
 * it the apply stops before the EKS target changes anything.
 */
class SavedPlanAccessKeyIT {
    @TempDir
    Path journals;

    private final List<AccessKey> planners = new CopyOnWriteArrayList<>();
    private final List<AccessKey> installers = new CopyOnWriteArrayList<>();

    @BeforeEach
    void cluster() {
        Moto.reset();
        MotoEks.createCluster(MotoEks.CLUSTER);
    }

    private String savedPlan() {
        try (AgentInstaller planner = planner()) {
            return planner.plan().toJson();
        }
    }

    /** @return an installer without a journal whose target makes CloudAEye's access key, into {@link #planners} */
    private AgentInstaller planner() {
        return MotoEks.installer(MotoEks.target()
                        .controlPlaneLogging(true)
                        .cloudAEyeAccess(a -> a.iamUserStack().accessKeySink(planners::add))
                        .build())
                .withoutJournal()
                .build();
    }

    @Test
    void savedPlan_appliedByAFreshInstaller_handsTheKeyToTheInstallersSink() {
        String saved = savedPlan();
        try (AgentInstaller fresh = MotoEks.environment()
                .sink(EksTarget.ACCESS_KEY_SINK, installers::add)
                .journalDirectory(journals)
                .build()) {
            ApplyResult applied = fresh.apply(Plan.fromJson(saved));
            assertThat(applied.status()).as(applied.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
        }
        assertThat(planners).isEmpty();
        assertThat(installers).singleElement().satisfies(k -> {
            assertThat(k.userName()).isEqualTo("CloudAEyeServiceAccount");
            assertThat(k.secretAccessKey().reveal()).hasSizeGreaterThanOrEqualTo(20);
        });
    }

    @Test
    void savedPlan_appliedWithoutASink_stopsBeforeAnyChange_namingTheSetting() {
        String saved = savedPlan();
        try (AgentInstaller fresh =
                MotoEks.environment().journalDirectory(journals).build()) {
            ApplyException stopped =
                    catchThrowableOfType(ApplyException.class, () -> fresh.apply(Plan.fromJson(saved)));
            assertStoppedBeforeAnyChange(stopped, fresh, "the apply must stop")
                    .hasMessageContaining(".sink(EksTarget.ACCESS_KEY_SINK, key -> ...)");
        }
        try (AgentInstaller planner = planner()) {
            assertThat(actions(planner.plan()))
                    .as("nothing changed: the same plan")
                    .isEqualTo(actions(Plan.fromJson(saved)));
        }
    }

    private static List<String> actions(Plan plan) {
        return plan.mutations().stream()
                .map(c -> c.resourceId() + " " + c.action())
                .sorted()
                .toList();
    }
}
