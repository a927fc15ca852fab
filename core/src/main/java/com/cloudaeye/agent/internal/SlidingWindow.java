package com.cloudaeye.agent.internal;

import java.util.ArrayDeque;

/**
 * A hard cap on events in any window of time: an event is let through only while fewer than the limit went through
 * within the last window, whatever the events did before (bunched, late, retried). Times are {@link System#nanoTime()}
 * values passed in, so tests drive it with a fake clock. Not thread-safe: its owner holds the lock.
 */
final class SlidingWindow {
    private final long window;
    private final ArrayDeque<Long> passed = new ArrayDeque<>();

    /** @param windowNanos the window's length */
    SlidingWindow(long windowNanos) {
        this.window = windowNanos;
    }

    /**
     * The events let through from {@code from} on may have taken effect only at {@code to} (the process stood still in
     * between: {@link StallWatch}), so they count from then.
     *
     * @param from the earliest event that may have been held
     * @param to when the hold ended, not before any event let through
     */
    void restamp(long from, long to) {
        if (passed.isEmpty() || passed.peekLast() - from < 0) {
            return;
        }
        int n = passed.size();
        for (int i = 0; i < n; i++) {
            long t = passed.pollFirst();
            passed.addLast(t - from >= 0 && t - to < 0 ? to : t);
        }
    }

    /**
     * @param now the current time, never before an earlier call's
     * @param limit the most events in any window, at least one
     * @return 0 when the event goes through now (it is counted), else how many nanoseconds to wait before asking again
     */
    long admit(long now, int limit) {
        if (!passed.isEmpty() && now - passed.peekLast() < 0) {
            now = passed.peekLast(); // restamped to a stall's end that this caller's clock reading predates
        }
        while (!passed.isEmpty() && now - passed.peekFirst() >= window) {
            passed.pollFirst();
        }
        if (passed.size() < limit) {
            passed.addLast(now);
            return 0;
        }
        // Wait until enough of the oldest leave the window: the (size - limit + 1)-th oldest.
        int skip = passed.size() - limit;
        for (long t : passed) {
            if (skip-- == 0) {
                return Math.max(1, t + window - now);
            }
        }
        throw new AssertionError("unreachable: " + passed.size() + " >= " + limit);
    }
}
