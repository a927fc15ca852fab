package com.cloudaeye.agent.ecs;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.ResourceResult;
import com.cloudaeye.agent.ResourceResult.Outcome;
import com.cloudaeye.agent.ecs.internal.EcsPlanner;
import com.cloudaeye.agent.testing.Moto;
import com.cloudaeye.agent.testing.ThrottlingProxy;
import com.cloudaeye.agent.testing.ThrottlingProxy.Fault;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code maxFailures} stops the ECS apply while it runs its changes concurrently: 12 services with a revision each, in
 * moto behind a {@link ThrottlingProxy} that refuses every {@code UpdateService} with a 500 (one attempt per call) and
 * adds latency, so that many changes are in flight at once. Once the limit is reached no new mutation starts, changes
 * in flight count against it (so no more than the limit fail, however many the target runs at once), and every other
 * change is not attempted, saying why.
 */
class EcsMaxFailuresIT {
    private static final int SERVICES = 12;
    private static final int MAX_FAILURES = 3;

    private MotoEcs moto;

    @BeforeEach
    void services() {
        Moto.reset();
        moto = new MotoEcs();
        moto.cluster("prod");
        for (int i = 0; i < SERVICES; i++) {
            moto.service("prod", "svc-" + i, moto.fargate("fam-" + i, "256", "512", MotoEcs.app("app", 128, 256)));
        }
    }

    @AfterEach
    void close() {
        moto.close();
    }

    @Test
    void apply_whenUpdatesFail_stopsAtMaxFailures_countingChangesInFlight() {
        try (ThrottlingProxy proxy = ThrottlingProxy.builder()
                        .target(Moto.endpoint())
                        .unlimited()
                        .latency(Duration.ofMillis(100))
                        .fault(Fault.SERVER_ERROR, 1.0)
                        .faultOnly("UpdateService")
                        .start();
                AgentInstaller installer = MotoEcs.installer(MotoEcs.target().build())
                        .endpointOverride(proxy.endpoint())
                        .retries(1, Duration.ofMillis(10))
                        .maxFailures(MAX_FAILURES)
                        .build()) {
            Plan plan = installer.plan();
            assertThat(plan.mutations()).hasSize(2 * SERVICES);
            proxy.resetCounters();

            ApplyResult result = installer.apply(plan);

            List<ResourceResult> services = result.results().stream()
                    .filter(r -> r.change().resourceType().equals(EcsPlanner.SERVICE_TYPE))
                    .toList();
            assertThat(result.withOutcome(Outcome.FAILED))
                    .as("failed changes, however many were in flight: " + result)
                    .hasSize(MAX_FAILURES);
            assertThat(proxy.requests("UpdateService"))
                    .as("no UpdateService was sent once the limit was reached")
                    .isEqualTo(MAX_FAILURES);
            assertThat(services)
                    .filteredOn(r -> r.outcome() == Outcome.NOT_ATTEMPTED)
                    .hasSize(SERVICES - MAX_FAILURES);
            assertThat(result.withOutcome(Outcome.NOT_ATTEMPTED))
                    .as("every change not attempted says why")
                    .allSatisfy(r -> assertThat(r.message())
                            .hasValueSatisfying(m -> assertThat(m).contains("maxFailures(" + MAX_FAILURES + ")")));
            long registered = result.results().stream()
                    .filter(r -> r.change().resourceType().equals(EcsPlanner.TASK_DEFINITION_TYPE))
                    .filter(r -> r.outcome() == Outcome.APPLIED)
                    .count();
            assertThat(proxy.requests("RegisterTaskDefinition"))
                    .as("a registration not attempted sent nothing")
                    .isEqualTo(registered);
            assertThat(proxy.peakConcurrentRequests())
                    .as("the apply ran its calls concurrently")
                    .isGreaterThan(1);
            for (int i = 0; i < SERVICES; i++) {
                String name = "svc-" + i;
                assertThat(moto.taskDefinitionOf("prod", name))
                        .as(name + " still runs its original revision")
                        .endsWith("/fam-" + i + ":1");
            }
        }
    }
}
