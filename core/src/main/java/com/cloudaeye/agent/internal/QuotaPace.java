package com.cloudaeye.agent.internal;

import com.cloudaeye.agent.Pacing;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * The pace of one quota's calls: when the next may go and how the rate moves (AIMD). Calls are spaced evenly at the
 * current rate (a burst of one; 2 % wider under a capped pacing, see {@link #CAP_SLACK}). The rate starts at the
 * quota's rate times the pacing's share.
 *
 * <ul>
 *   <li>Below that start, each success wins back 2 % of it: the quota was only lowered by a throttle.
 *   <li>Above it (only with {@link Pacing#adaptive()}), the rate rises only while calls wait for it, so an idle
 *       quota never inflates: first by 0.5 requests/s per success (a slow start that grows the rate about e-fold in two
 *       seconds, so an emulator is reached within seconds; faster overshot AWS's limit more than twofold before the
 *       first 429 came back), after the first throttle by a slope of 1 % of the start
 *       per second, halved on every throttle above the start so the probing dies down where AWS's limit is.
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
    static final double SLOW_START_STEP = 0.5;
    static final double PROBE_SLOPE = 0.01;
    static final double EDGE_BACK_OFF = 0.9;
    static final double BACK_OFF = 0.7;
    static final double RECOVERY = 0.02;
    static final double FLOOR = 0.1;
    /** The adaptive rate's ceiling, as a multiple of the start: a bound, not a target. */
    static final double MAX_RAISE = 50;

    /**
     * A capped pacing spaces its calls this much wider than its rate, so that the jitter between our dispatch and
     * AWS's clock cannot put one call too many into any one second.
     */
    static final double CAP_SLACK = 1.02;

    static final long PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(250);
    /** The window in which at most the rate's worth of calls may start: a second, with the slack. */
    static final long WINDOW_NANOS = (long) (TimeUnit.SECONDS.toNanos(1) * CAP_SLACK);

    private final double start;
    private final double ceiling;
    private final double slack;
    private double rate;
    private boolean slowStart;
    private double probeSlope = PROBE_SLOPE;
    private long nextFree;
    private long lastCut;
    private boolean cutBefore;
    private final ArrayDeque<Long> starts = new ArrayDeque<>();

    /**
     * @param quotaRate the quota's documented (or overridden) rate, requests per second
     * @param pacing the pacing
     * @param now the current time
     */
    QuotaPace(double quotaRate, Pacing pacing, long now) {
        this.start = quotaRate * pacing.share();
        this.ceiling = pacing.raisesAboveQuota() ? start * MAX_RAISE : start;
        this.slowStart = pacing.raisesAboveQuota();
        this.slack = pacing.raisesAboveQuota() ? 1 : CAP_SLACK;
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
     * A call goes now: the next one may go one interval later.
     *
     * @param now the current time
     */
    void dispatched(long now) {
        nextFree = Math.max(now, nextFree) + (long) Math.ceil(1e9 / rate * slack);
    }

    /**
     * Admits a dispatched call to start on its worker thread. Dispatching spaces calls evenly, but a call may wait for
     * a free worker and then start right before the next one: so, under a capped pacing, a call starts only when fewer
     * than the rate's worth of calls (at least one) started in the last {@link #WINDOW_NANOS}, and no second holds
     * more calls than the cap, as AWS counts them. Adaptive pacing has no cap to keep and admits every call (a gate
     * would only slow down an emulator whose answers keep every worker busy).
     *
     * @param now the current time
     * @return 0 when the call may start now (it is counted), else how many nanoseconds to wait before asking again
     */
    long admit(long now) {
        if (slack == 1) {
            return 0;
        }
        while (!starts.isEmpty() && now - starts.peekFirst() >= WINDOW_NANOS) {
            starts.pollFirst();
        }
        int limit = Math.max(1, (int) Math.floor(rate));
        if (starts.size() < limit) {
            starts.addLast(now);
            return 0;
        }
        // Wait until enough of the oldest starts leave the window.
        long[] inWindow = starts.stream().mapToLong(Long::longValue).toArray();
        return inWindow[starts.size() - limit] + WINDOW_NANOS - now;
    }

    /**
     * @param waited true when more calls were waiting for this quota as this one went: the rate held them back
     */
    void succeeded(boolean waited) {
        if (rate < start) {
            rate = Math.min(start, rate + start * RECOVERY);
        } else if (waited && rate < ceiling) {
            rate = Math.min(ceiling, rate + (slowStart ? SLOW_START_STEP : probeSlope * start / rate));
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
