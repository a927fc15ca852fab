package com.cloudaeye.agent.eks.internal.helm;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the DaemonSet's rollout every second while Helm installs, so that when Helm gives up (and, being atomic,
 * removes what it made) the failure can still say which pods were not ready and why; and waits, after Helm, until
 * the rollout is complete. Helm's call blocks its thread for the whole install anyway, so this polls from a thread
 * of its own rather than through the scheduler.
 *
 * <p>Both notice early a DaemonSet that gets no pod because the API server refuses them (PodSecurity admission, a
 * quota): when the DaemonSet should run somewhere but has no pod of its latest spec, they read its {@code
 * FailedCreate} events ({@link FailedCreateEvents}), and a refusal newer than this watch ends the wait instead of the
 * timeout (a quota's refusal only once it has lasted {@link QuotaPatience#PATIENCE}: an upgrade in a quota full of
 * the agent's own pods is refused until the quota counts the replaced pod gone). Helm's own wait cannot be cancelled
 * from Java; it ends at once when its DaemonSet is gone, so during a first install (whose atomic failure uninstalls
 * everything anyway) the watch deletes the refused DaemonSet. During an
 * upgrade it does not: Helm's atomic rollback would recreate the DaemonSet of the revision before and wait for it, and
 * deleting that would take down the pods still running; the refusal is then quoted when Helm gives up.
 *
 * <p>Such an upgrade seldom gets here: before Helm runs, the plan and the apply dry-run one agent pod in the existing
 * release namespace ({@link PodPreflight}), and a refusal ends them with nothing changed. The watch remains the check
 * for what that pre-flight cannot see: a namespace the install creates (a cluster-wide refusal), a caller who may not
 * create pods (no dry run), and a refusal that came between the pre-flight and the rollout.
 */
final class RolloutWatch implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RolloutWatch.class);
    static final Duration POLL = Duration.ofSeconds(1);

    private final KubeApi api;
    private final String namespace;
    private final String daemonSet;
    private final boolean endHelmsWait;
    private final Instant since = Instant.now();
    private final AtomicReference<@Nullable Rollout> last = new AtomicReference<>();
    private final AtomicReference<@Nullable String> refused = new AtomicReference<>();
    private final AtomicReference<@Nullable String> lastFailedCreate = new AtomicReference<>();
    private final AtomicBoolean eventsUnreadable = new AtomicBoolean();
    private final AtomicBoolean deleted = new AtomicBoolean();
    private final QuotaPatience quota = new QuotaPatience();
    private final ScheduledExecutorService poller = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "cloudaeye-rollout-watch");
        t.setDaemon(true);
        return t;
    });

    private RolloutWatch(KubeApi api, String namespace, String daemonSet, boolean endHelmsWait) {
        this.api = api;
        this.namespace = namespace;
        this.daemonSet = daemonSet;
        this.endHelmsWait = endHelmsWait;
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
        return start(api, namespace, daemonSet, false);
    }

    /**
     * Starts reading the rollout in the background.
     *
     * @param api the API server
     * @param namespace the DaemonSet's namespace
     * @param daemonSet its name
     * @param endHelmsWait true during a first install: a DaemonSet whose pods the API server refuses is deleted, so
     *     that Helm's wait ends now and its atomic install removes the release
     * @return the watch; close it
     */
    static RolloutWatch start(KubeApi api, String namespace, String daemonSet, boolean endHelmsWait) {
        RolloutWatch watch = new RolloutWatch(api, namespace, daemonSet, endHelmsWait);
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
            String refusal = checkRefused(now);
            if (refusal != null && endHelmsWait && !deleted.getAndSet(true)) {
                LOG.info(
                        "DaemonSet {}/{} gets no pod ({}): deleting it so that Helm's wait ends now and its atomic"
                                + " install removes the release",
                        namespace,
                        daemonSet,
                        refusal);
                api.delete(
                        Rollout.path(namespace, daemonSet),
                        "delete DaemonSet " + namespace + "/" + daemonSet + ", which gets no pod");
            }
        } catch (RuntimeException e) {
            LOG.debug("Could not read the rollout of {}/{}: {}", namespace, daemonSet, e.getMessage());
        }
    }

    /**
     * Reads the DaemonSet's FailedCreate events when it has no pod of its latest spec, until one is a refusal.
     *
     * @return the refusal, null when there is none (yet)
     */
    private @Nullable String checkRefused(Rollout now) {
        String refusal = refused.get();
        if (refusal != null) {
            return refusal;
        }
        if (!now.noPodCreated() || now.uid().isEmpty()) {
            quota.reset();
            return null;
        }
        FailedCreateEvents.Found found;
        try {
            found = FailedCreateEvents.find(api, namespace, daemonSet, now.uid(), since);
        } catch (RuntimeException e) {
            LOG.debug("Could not read the events of {}/{}: {}", namespace, daemonSet, e.getMessage());
            return null;
        }
        if (!found.readable()) {
            eventsUnreadable.set(true);
            return null;
        }
        if (found.message() != null) {
            lastFailedCreate.set(found.message());
        }
        found.refusal().filter(r -> quota.lasting(r, Instant.now())).ifPresent(r -> refused.compareAndSet(null, r));
        return refused.get();
    }

    /**
     * When a quota's refusal ends the wait: only once it has lasted {@link #PATIENCE} with still no pod created. A
     * quota exactly full of the agent's own pods takes an upgrade (the rolling update deletes a node's pod before it
     * creates the new one), but admission counts the deleted pod until the quota controller has recounted, so the
     * DaemonSet controller's first create may be refused and its retry, moments later, admitted. Other refusals
     * (PodSecurity, policies, webhooks) answer the same to every retry and end the wait at once.
     */
    static final class QuotaPatience {
        static final Duration PATIENCE = Duration.ofSeconds(15);
        private final AtomicReference<@Nullable Instant> since = new AtomicReference<>();

        /**
         * @param refusal a FailedCreate refusal seen while the DaemonSet has no pod of its latest spec
         * @param at when it was seen
         * @return true when it ends the wait
         */
        boolean lasting(String refusal, Instant at) {
            if (!QuotaRoom.isQuotaRefusal(refusal)) {
                return true;
            }
            Instant first = since.updateAndGet(s -> s == null ? at : s);
            return !at.isBefore(first.plus(PATIENCE));
        }

        /** The rollout created a pod (or has nothing to create): a later refusal starts the wait anew. */
        void reset() {
            since.set(null);
        }
    }

    /** @return the last incomplete rollout read while Helm ran, empty when none was seen */
    Optional<Rollout> lastSeen() {
        return Optional.ofNullable(last.get());
    }

    /**
     * @return the API server's refusal of the DaemonSet's pods (a FailedCreate event's message), which ended the wait
     */
    Optional<String> refused() {
        return Optional.ofNullable(refused.get());
    }

    /** @return true when this watch deleted the refused DaemonSet to end Helm's wait */
    boolean endedHelmsWait() {
        return deleted.get();
    }

    /**
     * What the DaemonSet's events told, or that they could not be read, for a wait that timed out.
     *
     * @return a clause to append to the failure, starting with "; ", or ""
     */
    String eventsNote() {
        String failedCreate = lastFailedCreate.get();
        if (failedCreate != null) {
            return "; the DaemonSet controller's last " + FailedCreateEvents.REASON + " event says: " + failedCreate;
        }
        if (eventsUnreadable.get()) {
            return "; the DaemonSet had no pod, and its events (which would say why) could not be read: grant list on"
                    + " events in namespace " + namespace + " (the RBAC the plan's notes list) to have a refused pod"
                    + " reported at once instead of after the timeout";
        }
        return "";
    }

    /**
     * The failure of a DaemonSet whose pods the API server refused, with the fix.
     *
     * @param refusal the FailedCreate event's message
     * @return what happened and what to do, for the failure message
     */
    String refusedMessage(String refusal) {
        return "DaemonSet " + namespace + "/" + daemonSet + " got no pod: the DaemonSet controller's "
                + FailedCreateEvents.REASON + " event says: " + refusal + ". "
                + FailedCreateEvents.fix(api, namespace, refusal);
    }

    /**
     * Waits until the rollout is complete, the API server refuses the DaemonSet's pods ({@link #refused()}), or the
     * deadline passes.
     *
     * @param deadline when to stop waiting
     * @return the last rollout read: complete, or how far it got
     */
    Rollout awaitComplete(Instant deadline) {
        Rollout now = Rollout.read(api, namespace, daemonSet);
        while (!now.complete() && Instant.now().isBefore(deadline) && checkRefused(now) == null) {
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
