package com.cloudaeye.agent.internal;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

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
 * the installer held alone while this one ran is not seen. The thread runs only while calls are made ({@link #use}):
 * like the scheduler's other threads it ends once idle for a while, since a fleet keeps an installer per
 * account-region for its life.
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

    private final Listener listener;
    private final long idleNanos;
    private long lastUse; // guarded by this
    private boolean running; // guarded by this
    private boolean closed; // guarded by this
    private @Nullable Thread thread; // guarded by this

    /**
     * @param listener told of each stall
     * @param idle how long the watch runs after the last {@link #use}
     */
    StallWatch(Listener listener, Duration idle) {
        this.listener = listener;
        this.idleNanos = idle.toNanos();
    }

    /** Keeps the watch running (starts it when it ended): a call that the share paces is about to be made. */
    synchronized void use() {
        lastUse = System.nanoTime();
        if (!running && !closed) {
            running = true;
            Thread t = new Thread(this::watch, "cloudaeye-stall-watch");
            t.setDaemon(true);
            thread = t;
            t.start();
        }
    }

    /** @return true while the watch's thread runs */
    synchronized boolean running() {
        return running;
    }

    private void watch() {
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
            synchronized (this) {
                if (after - lastUse > idleNanos) {
                    running = false; // idle: the next use starts a new thread
                    thread = null;
                    return;
                }
            }
        }
    }

    /** Stops the watch. */
    @Override
    public synchronized void close() {
        closed = true;
        Thread t = thread;
        if (t != null) {
            t.interrupt();
        }
    }
}
