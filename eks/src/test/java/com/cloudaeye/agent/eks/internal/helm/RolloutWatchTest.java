package com.cloudaeye.agent.eks.internal.helm;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * Which FailedCreate refusals end the rollout's wait, and when; the real server's refusals are in {@code
 * HelmReleaseIT}, {@code HelmReleaseStepsIT} and {@code AdmissionPreflightIT}.
 */
class RolloutWatchTest {
    private static final String QUOTA = "pods \"a-cloudaeye-agent-x\" is forbidden: exceeded quota: agent-only,"
            + " requested: pods=1, used: pods=3, limited: pods=3";
    private static final String POD_SECURITY =
            "pods \"a-cloudaeye-agent-x\" is forbidden: violates PodSecurity \"baseline:latest\": hostPath volumes";
    private static final Instant T0 = Instant.parse("2026-12-05T18:00:00Z");

    @Test
    void aPolicysRefusal_endsTheWaitAtOnce() {
        assertThat(new RolloutWatch.QuotaPatience().lasting(POD_SECURITY, T0)).isTrue();
    }

    @Test
    void aQuotasRefusal_endsTheWaitOnlyOnceItHasLastedThePatience() {
        RolloutWatch.QuotaPatience quota = new RolloutWatch.QuotaPatience();
        Duration patience = RolloutWatch.QuotaPatience.PATIENCE;

        assertThat(quota.lasting(QUOTA, T0)).isFalse();
        assertThat(quota.lasting(QUOTA, T0.plus(patience).minusMillis(1))).isFalse();
        assertThat(quota.lasting(QUOTA, T0.plus(patience))).isTrue();
    }

    @Test
    void aPodCreatedInBetween_startsThePatienceAnew() {
        RolloutWatch.QuotaPatience quota = new RolloutWatch.QuotaPatience();
        Duration patience = RolloutWatch.QuotaPatience.PATIENCE;
        assertThat(quota.lasting(QUOTA, T0)).isFalse();

        quota.reset();

        assertThat(quota.lasting(QUOTA, T0.plus(patience))).isFalse();
        assertThat(quota.lasting(QUOTA, T0.plus(patience.multipliedBy(2)))).isTrue();
    }
}
