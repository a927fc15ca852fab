package com.cloudaeye.agent.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.cloudaeye.agent.ConfigurationException;
import com.cloudaeye.agent.Pacing;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The pacing rules of one quota, driven by a fake clock (times are passed in): no sleeping, no timing assertions. The
 * simulations at the end play a quota against a simulated endpoint (AWS's token bucket, or an emulator without one)
 * in simulated time.
 */
class QuotaPaceTest {
    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);
    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);
    /** AWS's round trip as the throttling proxy plays it. */
    private static final long AWS = 200 * MS;

    @Test
    void adaptive_raisesAboveTheQuota_onlyWhileCallsWaitForIt() {
        QuotaPace pace = new QuotaPace(15, Pacing.adaptive(), 0);
        for (int i = 0; i < 100; i++) {
            pace.succeeded(false, AWS);
        }
        assertThat(pace.rate()).as("an idle quota never inflates").isEqualTo(15);

        for (int i = 0; i < 10; i++) {
            pace.succeeded(true, AWS);
        }
        assertThat(pace.rate())
                .as("slow start at 200 ms: 0.5/s per waited success")
                .isCloseTo(20, within(1e-9));
    }

    @Test
    void adaptive_slowStart_growsByTheSameShareEveryRoundTrip_soItIsFastWhereAnswersAreFast() {
        QuotaPace aws = new QuotaPace(15, Pacing.adaptive(), 0);
        QuotaPace emulator = new QuotaPace(15, Pacing.adaptive(), 0);
        for (int i = 0; i < 10; i++) {
            aws.succeeded(true, AWS);
            emulator.succeeded(true, 10 * MS);
        }
        assertThat(aws.rate()).as("0.1 per success / 0.2 s").isCloseTo(20, within(1e-9));
        assertThat(emulator.rate()).as("0.1 per success / 0.01 s").isCloseTo(115, within(1e-9));

        QuotaPace smoothed = new QuotaPace(15, Pacing.adaptive(), 0);
        smoothed.succeeded(false, 10 * MS);
        smoothed.succeeded(true, AWS); // one slow answer moves the smoothed round trip an eighth of the way
        assertThat(smoothed.rate()).isCloseTo(15 + 0.1 / (0.875 * 0.010 + 0.125 * 0.2), within(1e-9));
    }

    @Test
    void adaptive_raisesAtMostFiftyFold() {
        QuotaPace pace = new QuotaPace(15, Pacing.adaptive(), 0);
        for (int i = 0; i < 10_000; i++) {
            pace.succeeded(true, AWS);
        }
        assertThat(pace.rate()).isEqualTo(15 * QuotaPace.MAX_RAISE);
    }

    @Test
    void documentedQuotas_neverGoAboveTheQuota() {
        QuotaPace pace = new QuotaPace(15, Pacing.documentedQuotas(), 0);
        for (int i = 0; i < 1000; i++) {
            pace.succeeded(true, AWS);
        }
        assertThat(pace.rate()).isEqualTo(15);
    }

    @Test
    void share_startsAtItsShareOfTheQuota_andNeverGoesAbove() {
        QuotaPace pace = new QuotaPace(15, Pacing.share(0.6), 0);
        assertThat(pace.rate()).isCloseTo(9, within(1e-9));
        for (int i = 0; i < 1000; i++) {
            pace.succeeded(true, AWS);
        }
        assertThat(pace.rate()).isCloseTo(9, within(1e-9));
    }

    @Test
    void share_spacesCalls_soThatNoOneSecondWindowHoldsMoreThanTheShare() {
        QuotaPace pace = new QuotaPace(15, Pacing.share(0.6), 0);
        List<Long> sent = new ArrayList<>();
        long now = 0;
        for (int i = 0; i < 200; i++) {
            now = Math.max(now, pace.nextFree());
            pace.dispatched(now);
            sent.add(now);
            pace.succeeded(true, AWS);
            now += i % 7 == 0 ? 30 * MS : 0; // the timer is sometimes late; the next catches up by one interval at most
        }
        assertThat(maxInAnyWindow(sent, SECOND)).isLessThanOrEqualTo(9);
    }

    @Test
    void share_keepsEverySecondAtTheEndpointWithinTheShare_whenCallsReachItLateAndUnevenly() {
        // Each call's timer fires up to 40 ms late, the call waits up to 150 ms for a worker, and reaches the
        // endpoint up to 75 ms after it starts: the delays of a loaded 2-core machine, drawn from a fixed seed.
        Random random = new Random(18);
        QuotaPace pace = new QuotaPace(15, Pacing.share(0.6), 0);
        int calls = 900;
        PriorityQueue<Long> ready = new PriorityQueue<>();
        long now = 0;
        for (int i = 0; i < calls; i++) {
            now = Math.max(now, pace.nextFree()) + random.nextInt(40) * MS;
            pace.dispatched(now);
            pace.succeeded(true, AWS);
            ready.add(now + random.nextInt(150) * MS);
        }
        List<Long> arrivals = new ArrayList<>();
        while (!ready.isEmpty()) {
            long at = ready.poll();
            long wait = pace.admit(at);
            if (wait > 0) {
                ready.add(at + wait);
            } else {
                arrivals.add(at + random.nextInt(75) * MS);
            }
        }
        arrivals.sort(null);
        assertThat(maxInAnyWindow(arrivals, SECOND))
                .as("calls within any one second at the endpoint")
                .isLessThanOrEqualTo(9);
        assertThat(arrivals.get(calls - 1) / 1e9)
                .as("late timers do not add up: within the share's margin (1.1x) and 2 % of the shared floor")
                .isLessThan(QuotaPace.SHARE_SLACK * 1.02 * calls / 9.0);
    }

    @Test
    void admit_letsAtMostTheRatesWorthOfCallsStartInAnyWindow_evenWhenTheyWereHeldUpTogether() {
        QuotaPace pace = new QuotaPace(15, Pacing.share(0.6), 0);
        long now = 5 * SECOND; // nine calls dispatched a second ago start together, after waiting for a worker
        for (int i = 0; i < 9; i++) {
            assertThat(pace.admit(now + i)).isZero();
        }
        long wait = pace.admit(now + 9);
        assertThat(wait)
                .as("the tenth waits until the first leaves the window")
                .isEqualTo((long) (SECOND * QuotaPace.SHARE_SLACK) - 9);
        assertThat(pace.admit(now + 9 + wait)).isZero();
        assertThat(pace.admit(now + 9 + wait))
                .as("the second start is still in the window")
                .isEqualTo(1);
    }

    @Test
    void adaptive_admit_letsABacklogThatWaitedForWorkersStartOnlyAtTheRate_notAllAtOnce() {
        QuotaPace pace = new QuotaPace(15, Pacing.adaptive(), 0);
        long now = 0;
        for (int i = 0; i < 40; i++) { // dispatched at 15/s while every worker was busy with another quota's calls
            now = Math.max(now, pace.nextFree());
            pace.dispatched(now);
        }
        long freed = now + 100 * MS; // the workers free up: the 40 calls ask to start together
        for (int i = 0; i < 15; i++) {
            assertThat(pace.admit(freed))
                    .as("call %d of the rate's worth", i + 1)
                    .isZero();
        }
        long wait = pace.admit(freed);
        assertThat(wait).as("the 16th waits for the first to leave the second").isEqualTo(SECOND);
        assertThat(pace.admit(freed + wait)).isZero();

        pace.succeeded(true, MS); // an emulator: one fast answer raises the rate by 100/s, and the gate with it
        for (int i = 0; i < 100; i++) {
            assertThat(pace.admit(freed + wait))
                    .as("call %d at the raised rate", i + 1)
                    .isZero();
        }
    }

    @Test
    void share_outsideZeroToOne_isRejected_withTheFix() {
        for (double bad : new double[] {0, -0.5, 1.5, Double.NaN}) {
            assertThatThrownBy(() -> Pacing.share(bad))
                    .isInstanceOf(ConfigurationException.class)
                    .hasMessageContaining("Pacing.share(" + bad + ")")
                    .hasMessageContaining("0.6");
        }
        assertThat(Pacing.share(1)).isEqualTo(Pacing.documentedQuotas());
        assertThat(Pacing.share(0.6)).hasToString("at most 60 % of the documented quotas");
    }

    @Test
    void share_printsItsPercentToThreeDigits_andIsRejectedBelowATenthOfAPercent() {
        assertThat(Pacing.share(0.001)).hasToString("at most 0.1 % of the documented quotas");
        assertThat(Pacing.share(1.0 / 3)).hasToString("at most 33.3 % of the documented quotas");
        assertThat(Pacing.share(0.0125)).hasToString("at most 1.25 % of the documented quotas");
        assertThatThrownBy(() -> Pacing.share(0.0001))
                .isInstanceOf(ConfigurationException.class)
                .hasMessage("Pacing.share(1.0E-4) must be from 0.001 (0.1 % of each quota) to 1 (all of it): pass e.g."
                        + " 0.6 to use at most 60 % of each quota.");
    }

    @Test
    void throttle_endingTheSlowStart_halvesTheRate_butNotBelowTheQuota() {
        QuotaPace pace = new QuotaPace(15, Pacing.adaptive(), 0);
        for (int i = 0; i < 82; i++) {
            pace.succeeded(true, AWS);
        }
        assertThat(pace.rate()).isCloseTo(56, within(1e-9));
        assertThat(pace.throttled(0, SECOND)).isTrue();
        assertThat(pace.rate()).isCloseTo(28, within(1e-9));

        QuotaPace barelyAbove = new QuotaPace(15, Pacing.adaptive(), 0);
        barelyAbove.succeeded(true, AWS);
        assertThat(barelyAbove.throttled(0, SECOND)).isTrue();
        assertThat(barelyAbove.rate()).isEqualTo(15);
    }

    @Test
    void afterTheFirstThrottle_theRateRisesSlowly_andSlowerAfterEachThrottleAboveTheQuota() {
        QuotaPace pace = new QuotaPace(15, Pacing.adaptive(), 0);
        pace.succeeded(true, AWS);
        pace.throttled(0, SECOND); // slow start ends at 15
        pace.succeeded(true, AWS);
        double firstStep = pace.rate() - 15;
        assertThat(firstStep)
                .as("1 %% of the start per second: per success 0.01*15/15")
                .isCloseTo(0.01, within(1e-9));

        pace.throttled(2 * SECOND, 3 * SECOND); // above the quota: 10 % off, the probing slope halved
        double cut = pace.rate();
        assertThat(cut).isCloseTo(15.01 * 0.9, within(1e-9));
        for (int i = 0; i < 100; i++) { // below the quota: back to it quickly, waiting or not
            pace.succeeded(false, AWS);
        }
        assertThat(pace.rate()).isEqualTo(15);
        pace.succeeded(true, AWS);
        assertThat(pace.rate() - 15).isCloseTo(firstStep / 2, within(1e-9));
    }

    @Test
    void throttle_atTheQuota_backsOffThirtyPercent_thenWinsItBack_withoutGoingAbove() {
        QuotaPace pace = new QuotaPace(15, Pacing.documentedQuotas(), 0);
        assertThat(pace.throttled(0, SECOND)).isTrue();
        assertThat(pace.rate()).isCloseTo(10.5, within(1e-9));
        for (int i = 0; i < 100; i++) {
            pace.succeeded(false, AWS);
        }
        assertThat(pace.rate()).isEqualTo(15);
    }

    @Test
    void throttle_cutsOncePerRoundTrip_callsSentBeforeTheCutDoNotCutAgain() {
        QuotaPace pace = new QuotaPace(15, Pacing.documentedQuotas(), 0);
        assertThat(pace.throttled(100 * MS, SECOND)).isTrue();
        double once = pace.rate();
        assertThat(pace.throttled(900 * MS, SECOND + 10 * MS))
                .as("sent before the cut")
                .isFalse();
        assertThat(pace.rate()).isEqualTo(once);
        assertThat(pace.throttled(SECOND + 300 * MS, SECOND + 500 * MS))
                .as("sent after it")
                .isTrue();
        assertThat(pace.rate()).isCloseTo(once * QuotaPace.BACK_OFF, within(1e-9));
    }

    @Test
    void throttle_pausesTheQuota_soTheEndpointsBucketRefills() {
        QuotaPace pace = new QuotaPace(15, Pacing.documentedQuotas(), 0);
        pace.dispatched(SECOND);
        pace.throttled(SECOND, SECOND + 10 * MS);
        assertThat(pace.nextFree()).isGreaterThanOrEqualTo(SECOND + 10 * MS + QuotaPace.PAUSE_NANOS);
    }

    @Test
    void throttles_neverSlowTheQuotaBelowATenth() {
        QuotaPace pace = new QuotaPace(15, Pacing.share(0.6), 0);
        for (int i = 1; i <= 50; i++) {
            pace.throttled(i * SECOND, i * SECOND);
        }
        assertThat(pace.rate()).isCloseTo(0.9, within(1e-9));
    }

    // Simulations: the pacing against a simulated endpoint, in simulated time.

    @Test
    void adaptive_againstAwsLimit_settlesAtTheLimit_withFewThrottles() {
        Simulation run = Simulation.run(Pacing.adaptive(), 15, 15, 200 * MS, 3000);
        assertThat(run.throttled).as("throttled calls under 2 %% of all").isLessThan((int) (0.02 * run.sent));
        assertThat(run.seconds()).as("within 1.15x of the floor").isLessThan(1.15 * 3000 / 15.0);
    }

    @Test
    void adaptive_againstAwsLimit_atAShortRoundTrip_throttlesAsLittle() {
        Simulation run = Simulation.run(Pacing.adaptive(), 15, 15, 20 * MS, 1000);
        assertThat(run.throttled).as("throttled calls under 2 %% of all").isLessThan((int) (0.02 * run.sent));
        assertThat(run.seconds()).isLessThan(1.15 * 1000 / 15.0);
    }

    @Test
    void adaptive_againstARaisedQuota_usesIt() {
        Simulation run = Simulation.run(Pacing.adaptive(), 15, 60, 200 * MS, 6000);
        assertThat(run.seconds()).as("faster than the documented 15/s allows").isLessThan(6000 / 15.0 / 2);
        assertThat(run.throttled).isLessThan((int) (0.02 * run.sent));
    }

    @Test
    void adaptive_againstAnEmulator_runsFarAboveTheQuota() {
        Simulation run = Simulation.run(Pacing.adaptive(), 15, Double.POSITIVE_INFINITY, 5 * MS, 1500);
        assertThat(run.throttled).isZero();
        assertThat(run.seconds()).as("the floor at 15/s is 100 s").isLessThan(15);
    }

    @Test
    void documentedQuotas_againstAwsLimit_matchTheFloor_withoutThrottles() {
        Simulation run = Simulation.run(Pacing.documentedQuotas(), 15, 15, 200 * MS, 1500);
        assertThat(run.throttled).isZero();
        assertThat(run.seconds()).isLessThan(1.03 * 1500 / 15.0);
    }

    @Test
    void share_againstAwsLimit_neverExceedsTheShareInAnySecond() {
        Simulation run = Simulation.run(Pacing.share(0.6), 15, 15, 200 * MS, 900);
        assertThat(run.throttled).isZero();
        assertThat(maxInAnyWindow(run.sentAt, SECOND)).isLessThanOrEqualTo(9);
        assertThat(run.seconds())
                .as("the shared floor: 900 calls at 9/s, and the share's margin (1.1x)")
                .isLessThan(QuotaPace.SHARE_SLACK * 1.02 * 900 / 9.0);
    }

    private static int maxInAnyWindow(List<Long> times, long window) {
        int max = 0;
        int first = 0;
        for (int i = 0; i < times.size(); i++) {
            while (times.get(i) - times.get(first) >= window) {
                first++;
            }
            max = Math.max(max, i - first + 1);
        }
        return max;
    }

    /**
     * A backlog of calls paced by one quota against an endpoint with a token bucket (burst = one second of its rate,
     * as AWS and the throttling proxy have), answering after a fixed latency. A throttled call is sent again.
     */
    private static final class Simulation {
        final List<Long> sentAt = new ArrayList<>();
        int sent;
        int throttled;
        long end;

        double seconds() {
            return end / 1e9;
        }

        static Simulation run(Pacing pacing, double quota, double limit, long latency, int calls) {
            Simulation s = new Simulation();
            QuotaPace pace = new QuotaPace(quota, pacing, 0);
            ArrayDeque<long[]> answers = new ArrayDeque<>(); // {arrives, dispatchedAt, throttled 0/1}
            double tokens = Double.isInfinite(limit) ? 0 : limit;
            long lastRefill = 0;
            int succeeded = 0;
            long now = 0;
            while (succeeded < calls) {
                long next = Math.max(now, pace.nextFree());
                if (!answers.isEmpty() && answers.peek()[0] <= next) {
                    long[] a = answers.poll();
                    now = Math.max(now, a[0]);
                    if (a[2] == 1) {
                        pace.throttled(a[1], now);
                    } else {
                        succeeded++;
                        pace.succeeded(true, latency);
                        s.end = now;
                    }
                    continue;
                }
                if (s.sent - s.throttled >= calls) { // every call is out: wait for the answers
                    now = answers.isEmpty() ? now : answers.peek()[0];
                    continue;
                }
                now = next;
                pace.dispatched(now);
                s.sent++;
                s.sentAt.add(now);
                boolean ok = true;
                if (!Double.isInfinite(limit)) {
                    tokens = Math.min(limit, tokens + (now - lastRefill) / 1e9 * limit);
                    lastRefill = now;
                    ok = tokens >= 1;
                    tokens -= ok ? 1 : 0;
                }
                if (!ok) {
                    s.throttled++;
                }
                answers.add(new long[] {now + latency, now, ok ? 0 : 1});
            }
            return s;
        }
    }
}
