package com.cloudaeye.agent.eks;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.ResourceResult.Outcome;
import com.cloudaeye.agent.testing.Moto;
import com.cloudaeye.agent.testing.ThrottlingProxy;
import com.cloudaeye.agent.testing.ThrottlingProxy.Fault;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.eks.EksClient;

/**
 * {@code maxFailures} stops the EKS apply: 6 clusters with control-plane logging and the cross-account role, in moto
 * behind a {@link ThrottlingProxy} that refuses every {@code UpdateClusterConfig} with a 500 (one attempt per call).
 * Once the limit is reached no new mutation starts (no tag, update or role), and every other change is not
 * attempted, saying why. EKS updates one cluster at a time (EKS refuses a second update in progress), so at most one
 * change is in flight.
 */
class EksMaxFailuresIT {
    private static final int CLUSTERS = 6;
    private static final int MAX_FAILURES = 2;

    private final List<String> clusters = new ArrayList<>();
    private EksClient eks;

    @BeforeEach
    void createClusters() {
        Moto.reset();
        eks = MotoEks.eks();
        for (int i = 0; i < CLUSTERS; i++) {
            String name = "limit-" + i;
            MotoEks.createCluster(name);
            clusters.add(name);
        }
    }

    @AfterEach
    void close() {
        eks.close();
    }

    @Test
    void apply_whenLoggingUpdatesFail_stopsAtMaxFailures_andStartsNothingElse() {
        EksTarget.Builder target = EksTarget.builder()
                .cluster(clusters.get(0))
                .controlPlaneLogging(true)
                .waits(Duration.ofMillis(50), Duration.ofSeconds(30));
        for (String cluster : clusters.subList(1, CLUSTERS)) {
            target.addCluster(cluster, b -> {
                b.controlPlaneLogging(true);
                if (cluster.equals(clusters.get(1))) {
                    b.cloudAEyeAccess(a -> a.crossAccountRole("111122223333", "ext-42"));
                }
            });
        }
        try (ThrottlingProxy proxy = ThrottlingProxy.builder()
                        .target(Moto.endpoint())
                        .unlimited()
                        .fault(Fault.SERVER_ERROR, 1.0)
                        .faultOnly("UpdateClusterConfig")
                        .start();
                AgentInstaller installer = MotoEks.installer(target.build())
                        .endpointOverride(proxy.endpoint())
                        .retries(1, Duration.ofMillis(10))
                        .maxFailures(MAX_FAILURES)
                        .build()) {
            Plan plan = installer.plan();
            assertThat(plan.mutations()).hasSize(CLUSTERS + 1);
            proxy.resetCounters();

            ApplyResult result = installer.apply(plan);

            assertThat(result.results().stream()
                            .filter(r -> r.outcome() == Outcome.FAILED || r.outcome() == Outcome.UNKNOWN))
                    .as("failed or unknown: " + result)
                    .hasSize(MAX_FAILURES);
            assertThat(proxy.requests("UpdateClusterConfig"))
                    .as("no update was sent once the limit was reached")
                    .isEqualTo(MAX_FAILURES);
            assertThat(proxy.requests("TagResource") + proxy.requests("CreateRole"))
                    .as("no tag or role after the limit: only the failed clusters were tagged")
                    .isEqualTo(MAX_FAILURES);
            assertThat(result.withOutcome(Outcome.NOT_ATTEMPTED))
                    .as("every change not attempted says why")
                    .hasSize(CLUSTERS + 1 - MAX_FAILURES)
                    .allSatisfy(r -> assertThat(r.message())
                            .hasValueSatisfying(m -> assertThat(m).contains("maxFailures(" + MAX_FAILURES + ")")));
        }
    }
}
