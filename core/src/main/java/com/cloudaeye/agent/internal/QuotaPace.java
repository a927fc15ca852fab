package com.cloudaeye.agent.internal;

import com.cloudaeye.agent.Pacing;
import java.util.concurrent.TimeUnit;

/**
 * The pace of one quota's calls: when the next may go and how the rate moves (AIMD). Calls are spaced evenly at the
 * current rate (a burst of one, or two after a late call; a capped pacing spaces them wider, see {@link #SHARE_SLACK}).
 * The rate starts at the quota's rate times the pacing's share.
 *
 * <ul>
 *   <li>Below that start, each success wins back 2 % of it: the quota was only lowered by a throttle.
 *   <li>Above it (only with {@link Pacing#adaptive()}), the rate rises only while calls wait for it, so an idle
 *       quota never inflates (nor one whose calls wait for busy workers instead): first in a slow start that grows
 *       the rate by about 10 % per round trip (each success
 *       adds {@link #SLOW_START_GROWTH} divided by the smoothed round-trip time: 0.5 requests/s at AWS's 200 ms, 10
 *       at an emulator's 10 ms), so an emulator is reached within a second and AWS's limit is overshot by the same
 *       few calls whatever the latency (the overshoot grows with the growth per round trip: 0.5/s per success at
 *       200 ms already threw 2 % of the calls back as throttled when it was 1/s); after the first throttle by a slope
 *       of 1 % of the start per second, halved on every throttle above the start so the probing dies down where
 *       AWS's limit is.
 *   <li>A throttle cuts the rate once per round trip (calls sent before the last cut do not cut again) and pauses
 *       the quota for 250 ms so that AWS's bucket refills: above the start by 10 %, or to half when it ends the slow
 *       start (but not below the start, which is known to be fine); at or below the start, where only the account's
 *       other users can have taken the quota, by 30 %. Never below a tenth of the start.
 * </ul>
 *
 * <p>Times are {@link System#nanoTime()} values passed in, so tests drive it with a fake clock. Not thread-safe: its
 * bucket holds the lock.
 */
final class QuotaPace {
    /** The slow start's growth per round trip: each success adds this much divided by the round trip, in seconds. */
    static final double SLOW_START_GROWTH = 0.1;
    /** Assumed until a call of the quota has answered: AWS's control plane as the throttling proxy plays it. */
    static final long FIRST_ROUND_TRIP_NANOS = TimeUnit.MILLISECONDS.toNanos(200);
    /** Shorter round trips count as this one, so that one success never adds more than 100 requests/s. */
    static final double MIN_ROUND_TRIP_NANOS = 1e6;

    static final double PROBE_SLOPE = 0.01;
    static final double EDGE_BACK_OFF = 0.9;
    static final double BACK_OFF = 0.7;
    static final double RECOVERY = 0.02;
    static final double FLOOR = 0.1;
    /** The adaptive rate's ceiling, as a multiple of the start: a bound, not a target. */
    static final double MAX_RAISE = 50;

    /**
     * A share lets at most its rate's worth of calls start, and be sent, within this much more than a second, and
     * spaces them to match: any ten sends of a share of 9/s then span at least 1.1 s, so requests that reach AWS up to
     * 100 ms apart from how they left (the socket, the network, threads that wait for a core on a loaded machine)
     * still never put one call too many into any one second as AWS counts it, which is the share's promise to the
     * account's other users. The margin costs its own size: a share runs at 1/1.1 of its rate (within 1.1x of the
     * shared floor). 2 % (20 ms) and then 8 % (80 ms), counted before the SDK signed the request, were measured too
     * little on a loaded 2-core machine: the throttling proxy saw 11 and then 10 calls within one second against a
     * share of 9. The send is now counted after signing, right before the HTTP client ({@link SendGate}). A longer
     * stall of the whole process between the gate and the socket (a garbage collection or safepoint of 100-260 ms on
     * that machine) is not covered by the margin: {@link StallWatch} reports it and the send window counts the
     * requests it held from its end ({@link #stalled(long, long)}).
     */
    static final double SHARE_SLACK = 1.10;

    /**
     * Documented quotas keep the 2 % slack: AWS's bucket holds a second's burst, so a call that arrives a little early
     * is not throttled, and nobody else was promised the rest.
     */
    static final double QUOTA_SLACK = 1.02;

    static final long PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(250);
    static final long SECOND_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final double start;
    private final double ceiling;
    private final double slack;
    /** At most the rate's worth of calls start within a second and its slack ({@link #admit(long)}), in any pacing. */
    private final SlidingWindow starts;
    /** ... and are handed to the HTTP client within a second and its slack ({@link #admitSend(long)}). */
    private final SlidingWindow sends;

    private double rate;
    private boolean slowStart;
    private double probeSlope = PROBE_SLOPE;
    private double roundTripNanos = FIRST_ROUND_TRIP_NANOS;
    private boolean answered;
    private long nextFree;
    private long lastCut;
    private boolean cutBefore;

    /**
     * @param quotaRate the quota's documented (or overridden) rate, requests per second
     * @param pacing the pacing
     * @param now the current time
     */
    QuotaPace(double quotaRate, Pacing pacing, long now) {
        this.start = quotaRate * pacing.share();
        this.ceiling = pacing.raisesAboveQuota() ? start * MAX_RAISE : start;
        this.slowStart = pacing.raisesAboveQuota();
        this.slack = pacing.raisesAboveQuota() ? 1 : pacing.share() < 1 ? SHARE_SLACK : QUOTA_SLACK;
        this.starts = new SlidingWindow((long) (SECOND_NANOS * slack));
        this.sends = new SlidingWindow((long) (SECOND_NANOS * slack));
        this.rate = start;
        this.nextFree = now;
    }

    double rate() {
        return rate;
    }

    /** @return when the next call may go */
    long nextFree() {
        return nextFree;
    }

    /**
     * A call goes now: the next one may go one interval after this one's turn. A call that went late (its timer
     * fired late on a loaded machine) lets the next catch up by at most one interval, so that the lateness does not
     * add up over thousands of calls; after a longer idle spell the schedule restarts from now. Under a capped
     * pacing {@link #admit(long)} still keeps every window within the cap.
     *
     * @param now the current time
     */
    void dispatched(long now) {
        long interval = (long) Math.ceil(1e9 / rate * slack);
        nextFree = Math.max(nextFree, now - interval) + interval;
    }

    /**
     * Admits a dispatched call to start on its worker thread. Dispatching spaces calls evenly, but a call may wait for
     * a free worker and then start right beside the calls dispatched after it: so a call starts only when fewer than
     * the rate's worth of calls (at least one) started in the last second (and its slack, under a capped pacing).
     * Under a capped pacing this keeps every second within the cap, as AWS counts them. Under adaptive pacing it keeps
     * a backlog from going out at once: while the workers were busy with another quota's calls (the plan's tag reads
     * beside its alias listings), dispatched calls queued for them, and without this gate 127 calls of a 15/s quota
     * then started within one second and 6 % were throttled (docs/BENCHMARKS.md, issue 18). It costs an emulator
     * nothing: the rate it follows rises as fast as the answers come.
     *
     * @param now the current time
     * @return 0 when the call may start now (it is counted), else how many nanoseconds to wait before asking again
     */
    long admit(long now) {
        return starts.admit(now, cap());
    }

    /**
     * Admits a started call's request to be sent: the same cap as {@link #admit(long)}, counted where the request
     * leaves for the endpoint (after the SDK marshalled and signed it, which took up to 160 ms on a loaded machine,
     * right before the HTTP client opens the connection), so that
     * calls delayed unevenly between their start and their send, and every retry, which is a call of its own, still
     * never put more than the cap into any window. Adaptive pacing admits every send.
     *
     * @param now the current time
     * @return 0 when the request may be sent now (it is counted), else how many nanoseconds to wait before asking again
     */
    long admitSend(long now) {
        return slack == 1 ? 0 : sends.admit(now, cap());
    }

    /**
     * The process stood still ({@link StallWatch}): the requests let through to be sent from {@code from} on may have
     * left only at {@code to}, so the send window counts them from then, and a later request waits for them as if
     * they had been let through at {@code to}. Only under a capped pacing.
     *
     * @param from the earliest time a request may have been let through and not yet left
     * @param to when the process ran again
     */
    void stalled(long from, long to) {
        if (slack != 1) {
            sends.restamp(from, to);
        }
    }

    /** @return the most calls in one window: the rate's worth, at least one */
    private int cap() {
        return Math.max(1, (int) Math.floor(rate));
    }

    /**
     * @param waited true when the rate held this call back: more calls were waiting for this quota as it went, and a
     *     worker was free for it (the scheduler's test)
     * @param roundTripNanos how long the call took, from its start to its answer
     */
    void succeeded(boolean waited, long roundTripNanos) {
        // Smoothed like TCP's round-trip time; the first answer replaces the assumed one.
        this.roundTripNanos = answered ? 0.875 * this.roundTripNanos + 0.125 * roundTripNanos : roundTripNanos;
        answered = true;
        if (rate < start) {
            rate = Math.min(start, rate + start * RECOVERY);
        } else if (waited && rate < ceiling) {
            double step = slowStart
                    ? SLOW_START_GROWTH * 1e9 / Math.max(this.roundTripNanos, MIN_ROUND_TRIP_NANOS)
                    : probeSlope * start / rate;
            rate = Math.min(ceiling, rate + step);
        }
    }

    /**
     * @param dispatchedAt when the throttled call went
     * @param now the current time
     * @return true when this throttle cut the rate; false when an earlier cut already answered it
     */
    boolean throttled(long dispatchedAt, long now) {
        if (cutBefore && dispatchedAt - lastCut <= 0) {
            return false;
        }
        cutBefore = true;
        lastCut = now;
        if (rate > start) {
            rate = slowStart ? Math.max(start, rate / 2) : rate * EDGE_BACK_OFF;
            probeSlope = slowStart ? probeSlope : probeSlope / 2;
        } else {
            rate = Math.max(start * FLOOR, rate * BACK_OFF);
        }
        slowStart = false;
        nextFree = Math.max(nextFree, now) + PAUSE_NANOS;
        return true;
    }
}
