package com.cloudaeye.agent.eks.internal;

import java.time.Duration;

/**
 * How the EKS target waits for asynchronous AWS work (a cluster update, a stack): poll every {@code pollInterval}
 * through the scheduler's timer (no thread is held while waiting) until {@code timeout}.
 *
 * @param pollInterval between two status reads, and between retries while another cluster update is in progress
 * @param timeout the longest wait for one resource
 */
public record Waits(Duration pollInterval, Duration timeout) {
    /** AWS's own console polls about every 10 s; a logging update usually takes one to three minutes. */
    public static final Waits DEFAULT = new Waits(Duration.ofSeconds(10), Duration.ofMinutes(30));

    /** @return the deadline of a wait starting now, in {@link System#nanoTime()} terms */
    public long deadline() {
        return System.nanoTime() + timeout.toNanos();
    }

    /**
     * @param deadline from {@link #deadline()}
     * @return true when the wait is over
     */
    public static boolean passed(long deadline) {
        return System.nanoTime() - deadline > 0;
    }
}
