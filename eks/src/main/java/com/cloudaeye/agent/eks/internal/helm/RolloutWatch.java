package com.cloudaeye.agent.eks.internal.helm;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the DaemonSet's rollout every second while Helm installs, so that when Helm gives up (and, being atomic,
 * removes what it made) the failure can still say which pods were not ready and why; and waits, after Helm, until
 * the rollout is complete. Helm's call blocks its thread for the whole install anyway, so this polls from a thread
 * of its own rather than through the scheduler.
 */
final class RolloutWatch implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RolloutWatch.class);
    static final Duration POLL = Duration.ofSeconds(1);

    private final KubeApi api;
    private final String namespace;
    private final String daemonSet;
    private final AtomicReference<@Nullable Rollout> last = new AtomicReference<>();
    private final ScheduledExecutorService poller = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "cloudaeye-rollout-watch");
        t.setDaemon(true);
        return t;
    });

    private RolloutWatch(KubeApi api, String namespace, String daemonSet) {
        this.api = api;
        this.namespace = namespace;
        this.daemonSet = daemonSet;
    }

    /**
     * Starts reading the rollout in the background.
     *
     * @param api the API server
     * @param namespace the DaemonSet's namespace
     * @param daemonSet its name
     * @return the watch; close it
     */
    static RolloutWatch start(KubeApi api, String namespace, String daemonSet) {
        RolloutWatch watch = new RolloutWatch(api, namespace, daemonSet);
        // Not kept: close() stops the task, and a failed read only leaves the last one in place.
        ScheduledFuture<?> unused =
                watch.poller.scheduleWithFixedDelay(watch::sample, 0, POLL.toMillis(), TimeUnit.MILLISECONDS);
        return watch;
    }

    private void sample() {
        try {
            Rollout now = Rollout.read(api, namespace, daemonSet);
            // Keep the last incomplete rollout: an atomic Helm that gives up removes the DaemonSet of an install, or
            // puts back the complete one of the revision before.
            if (!now.complete() && (now.desired() > 0 || now.observed())) {
                last.set(now);
            }
        } catch (RuntimeException e) {
            LOG.debug("Could not read the rollout of {}/{}: {}", namespace, daemonSet, e.getMessage());
        }
    }

    /** @return the last incomplete rollout read while Helm ran, empty when none was seen */
    Optional<Rollout> lastSeen() {
        return Optional.ofNullable(last.get());
    }

    /**
     * Waits until the rollout is complete or the deadline passes.
     *
     * @param deadline when to stop waiting
     * @return the last rollout read: complete, or how far it got
     */
    Rollout awaitComplete(Instant deadline) {
        Rollout now = Rollout.read(api, namespace, daemonSet);
        while (!now.complete() && Instant.now().isBefore(deadline)) {
            try {
                Thread.sleep(POLL.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return now;
            }
            now = Rollout.read(api, namespace, daemonSet);
        }
        return now;
    }

    @Override
    public void close() {
        poller.shutdownNow();
    }
}
