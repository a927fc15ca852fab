package com.cloudaeye.agent.internal;

import java.util.concurrent.TimeUnit;

/**
 * Notices when this process stood still, so that a share's send window can count a request from when it may really
 * have left. A request is counted where the {@link SendGate} lets it go, but it reaches the socket a little later; if
 * the process stops in between (a garbage collection or a safepoint stops every Java thread; on a machine with more
 * runnable threads than cores a thread can also wait that long for one), it leaves only when the process runs again.
 * Measured on the loaded 2-core machine (docs/BENCHMARKS.md, issue 18): from the gate to the wire at most 16 ms
 * normally, but pauses of 100-260 ms in the same JVM, and then ten requests within 947 ms on the wire against a share
 * of 9, sent at most 9 per 1.1 s by the gate.
 *
 * <p>A daemon thread sleeps {@link #PERIOD_NANOS} at a time; when it wakes more than {@link #THRESHOLD_NANOS} late, it
 * reports the stall: from {@link #LEAD_NANOS} before it fell asleep (a request let through then may not have reached
 * the socket yet) to when it woke. Stalls shorter than the threshold fit within the share's window margin. A thread of
 * the installer held alone while this one ran is not seen.
 */
final class StallWatch implements AutoCloseable {
    /** How long the watch sleeps at a time. */
    static final long PERIOD_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
    /** How much later than that it must wake to report a stall. */
    static final long THRESHOLD_NANOS = TimeUnit.MILLISECONDS.toNanos(40);
    /** How long a request let through by the gate may normally take to reach the socket (measured: up to 16 ms). */
    static final long LEAD_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

    /** Told of each stall, on the watch's thread. */
    interface Listener {
        /**
         * @param from the earliest time a request may have been let through and not yet left when the stall began
         * @param to when the process ran again
         */
        void stalled(long from, long to);
    }

    private final Thread thread;

    /** @param listener told of each stall */
    StallWatch(Listener listener) {
        this.thread = new Thread(() -> watch(listener), "cloudaeye-stall-watch");
        thread.setDaemon(true);
        thread.start();
    }

    private static void watch(Listener listener) {
        long before = System.nanoTime();
        while (!Thread.currentThread().isInterrupted()) {
            try {
                TimeUnit.NANOSECONDS.sleep(PERIOD_NANOS);
            } catch (InterruptedException e) {
                return; // closed
            }
            long after = System.nanoTime();
            if (after - before - PERIOD_NANOS > THRESHOLD_NANOS) {
                listener.stalled(before - LEAD_NANOS, after);
            }
            before = after;
        }
    }

    /** Stops the watch. */
    @Override
    public void close() {
        thread.interrupt();
    }
}
