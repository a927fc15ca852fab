package com.cloudaeye.agent.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.Pacing;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The share's hard cap, driven by a fake clock (times are passed in): no sleeping, no timing assertions.
 */
class SlidingWindowTest {
    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);
    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);

    @Test
    void admit_neverLetsMoreThanTheLimitThroughInAnyWindow_howeverTheEventsBunch() {
        Random random = new Random(18);
        SlidingWindow window = new SlidingWindow(SECOND);
        PriorityQueue<Long> asking = new PriorityQueue<>();
        for (int i = 0; i < 200; i++) { // bursts of up to 30 at once, the same instant repeated, retries
            long at = random.nextInt(300) * SECOND / 10;
            for (int k = random.nextInt(30); k >= 0; k--) {
                asking.add(at + random.nextInt(3) * MS);
            }
        }
        int events = asking.size();
        List<Long> through = new ArrayList<>();
        while (!asking.isEmpty()) {
            long now = asking.poll();
            long wait = window.admit(now, 9);
            if (wait == 0) {
                through.add(now);
            } else {
                assertThat(wait).isPositive();
                asking.add(now + wait);
            }
        }
        assertThat(through).hasSize(events);
        assertThat(maxInAnyWindow(through, SECOND)).isEqualTo(9);
    }

    @Test
    void admit_answersExactlyWhenTheOldestLeavesTheWindow() {
        SlidingWindow window = new SlidingWindow(SECOND);
        for (int i = 0; i < 3; i++) {
            assertThat(window.admit(i * 100L * MS, 3)).isZero();
        }
        assertThat(window.admit(500 * MS, 3)).isEqualTo(500 * MS);
        assertThat(window.admit(SECOND - 1, 3)).isEqualTo(1);
        assertThat(window.admit(SECOND, 3)).isZero();
        assertThat(window.admit(SECOND, 1))
                .as("a lower limit waits for more to leave")
                .isEqualTo(SECOND);
    }

    /**
     * The proxy saw 11 calls within one second against a share of 9 while the calls' starts never exceeded 9: the
     * SDK took up to 160 ms to marshal and sign a call before sending it. The send gate counts the sends themselves.
     */
    @Test
    void share_capsTheSends_evenWhenCallsTakeUnevenlyLongFromTheirStartToTheirSend() {
        Random random = new Random(17);
        QuotaPace pace = new QuotaPace(15, Pacing.share(0.6), 0);
        List<Long> ungated = new ArrayList<>();
        List<Long> gated = new ArrayList<>();
        PriorityQueue<Long> sending = new PriorityQueue<>();
        long now = 0;
        for (int i = 0; i < 900; i++) {
            now = Math.max(now, pace.nextFree());
            pace.dispatched(now);
            long start = now;
            for (long wait = pace.admit(start); wait > 0; wait = pace.admit(start)) {
                start += wait;
            }
            pace.succeeded(true, 200 * MS);
            long send = start + (random.nextInt(10) == 0 ? 160 : random.nextInt(10)) * MS;
            ungated.add(send);
            sending.add(send);
        }
        while (!sending.isEmpty()) {
            long at = sending.poll();
            long wait = pace.admitSend(at);
            if (wait == 0) {
                gated.add(at);
            } else {
                sending.add(at + wait);
            }
        }
        ungated.sort(null);
        assertThat(maxInAnyWindow(ungated, SECOND))
                .as("without the send gate, delays after the start put more than the share into a second")
                .isGreaterThan(9);
        assertThat(maxInAnyWindow(gated, SECOND))
                .as("sends within any one second")
                .isLessThanOrEqualTo(9);
        assertThat(gated.get(gated.size() - 1) / 1e9)
                .as("within 1.1x of the shared floor, 900 calls at 9/s")
                .isLessThan(1.1 * 900 / 9.0);

        QuotaPace adaptive = new QuotaPace(15, Pacing.adaptive(), 0);
        for (int i = 0; i < 100; i++) {
            assertThat(adaptive.admitSend(0))
                    .as("adaptive pacing has no cap to keep")
                    .isZero();
        }
    }

    @Test
    void awaitSendTurn_outsideAScheduledCall_passesAtOnce() {
        RateLimitedScheduler.awaitSendTurn(); // no quota on this thread: nothing to wait for, and it must not throw
        assertThat(Thread.currentThread().isInterrupted()).isFalse();
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
}
