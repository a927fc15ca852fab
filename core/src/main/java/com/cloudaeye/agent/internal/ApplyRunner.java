package com.cloudaeye.agent.internal;

import com.cloudaeye.agent.AgentException;
import com.cloudaeye.agent.ApplyException;
import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.Journal;
import com.cloudaeye.agent.JournalException;
import com.cloudaeye.agent.JournalStore;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.ProgressListener;
import com.cloudaeye.agent.ResourceResult;
import com.cloudaeye.agent.ResourceResult.Outcome;
import com.cloudaeye.agent.spi.ApplyContext;
import com.cloudaeye.agent.spi.NotStartedException;
import com.cloudaeye.agent.spi.TargetService;
import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs an apply: asks every target to check its changes (one refusal ends the apply before anything changes),
 * journals the plan, hands each target its mutating changes, collects exactly one outcome per change (a change a
 * target never reported is {@code NOT_ATTEMPTED}), and enforces the failure limit.
 *
 * <p>The one place a journal failure is handled: a failed {@code STARTING} line ends that change as not attempted
 * (the target does not mutate it); a failed outcome line keeps the true outcome in the result. Either stops the
 * apply, and the run ends with an {@link ApplyException} whose cause is the {@link JournalException}.
 */
public final class ApplyRunner {
    private static final Logger LOG = LoggerFactory.getLogger(ApplyRunner.class);

    private final DefaultTargetContext base;
    private final CallRecorder recorder;
    private final ProgressListener listener;
    private final @Nullable JournalStore journals;
    private final int maxFailures;
    private final List<FailureBudget> shared;

    /**
     * @param base the context shared with planning
     * @param recorder the call recorder, for the result's call counts
     * @param listener progress
     * @param journals where the journal goes, null for none
     * @param maxFailures stop starting new changes after this many failures
     * @param shared limits shared with other applies (a fleet's, an account's): each failure counts in them too, and
     *     no change starts once one is reached
     */
    public ApplyRunner(
            DefaultTargetContext base,
            CallRecorder recorder,
            ProgressListener listener,
            @Nullable JournalStore journals,
            int maxFailures,
            List<FailureBudget> shared) {
        this.shared = List.copyOf(shared);
        this.base = base;
        this.recorder = recorder;
        this.listener = new GuardedListener(listener);
        this.journals = journals;
        this.maxFailures = maxFailures;
    }

    /**
     * @param plan the plan
     * @param servicesByName resolves a change's target to the service that applies it
     * @param resumed the journal this apply finishes, null for a new apply
     * @return the result
     * @throws ApplyException when a target refused its changes before any started (nothing was changed, every change
     *     is not attempted), or when the apply stopped part way; it carries the result
     */
    public ApplyResult run(Plan plan, Function<String, TargetService> servicesByName, @Nullable Journal resumed) {
        long start = System.nanoTime();
        Map<String, Long> callsBefore = recorder.snapshot();
        long throttledBefore = base.scheduler().throttledCount();
        List<Change> mutations = plan.mutations();
        Changes.requireOnePerResource(mutations); // a plan read from JSON has not been through TargetPlan's check
        Map<String, List<Change>> byTarget = new LinkedHashMap<>();
        mutations.forEach(c ->
                byTarget.computeIfAbsent(c.target(), t -> new ArrayList<>()).add(c));
        List<Batch> batches = new ArrayList<>();
        byTarget.forEach((name, changes) -> batches.add(new Batch(name, servicesByName.apply(name), changes)));
        refuseBeforeAnyChange(batches, mutations, resumed, callsBefore, throttledBefore, start);

        JournalStore store = journals;
        JournalWriter journal = mutations.isEmpty() || store == null
                ? null
                : resumed == null ? JournalWriter.create(store, plan) : JournalWriter.resume(store, resumed, plan);
        Context context = new Context(journal, mutations.size(), start);
        listener.started(plan, mutations.size());
        AgentException stoppedBy = null;
        try {
            for (Batch batch : batches) {
                if (context.shouldStop()) {
                    break;
                }
                try {
                    batch.service().apply(batch.changes(), context);
                } catch (JournalException ex) {
                    context.journalFailed(ex); // from starting(): already recorded, and the apply stops
                    break;
                } catch (NotStartedException ex) {
                    break; // from starting(): the failure limit is reached, and that change is recorded
                } catch (AgentException ex) {
                    stoppedBy = ex;
                    break;
                } catch (RuntimeException bug) {
                    // A target's own error must not lose what was applied: report it with the result.
                    stoppedBy = new AgentException(
                            "The " + batch.name() + " target stopped with an unexpected error: " + bug
                                    + ". What was applied is in the result and the journal; roll back or resume.",
                            bug);
                    break;
                }
            }
        } finally {
            if (journal != null) {
                try {
                    journal.close();
                } catch (JournalException ex) {
                    context.journalFailed(ex);
                }
            }
        }
        List<ResourceResult> results = new ArrayList<>();
        for (Change c : mutations) {
            ResourceResult r = context.results.get(key(c));
            results.add(r != null ? r : ResourceResult.of(c, Outcome.NOT_ATTEMPTED, context.whyNotStarted()));
        }
        ApplyResult result = ApplyResult.builder()
                .results(results)
                .journal(journal == null ? null : journal.file().orElse(null))
                .journalLocation(journal == null ? null : journal.location())
                .calls(recorder.since(callsBefore))
                .throttled(base.scheduler().throttledCount() - throttledBefore)
                .duration(Duration.ofNanos(System.nanoTime() - start))
                .build();
        JournalException journalFailure = context.journalFailure.get();
        if (journalFailure != null) {
            throw new ApplyException(
                    Objects.requireNonNullElse(journalFailure.getMessage(), journalFailure.toString())
                            + ". The apply stopped; the result says what was applied. Free disk space, then resume or"
                            + " roll back with this journal: a change it shows as started is checked against the live"
                            + " state.",
                    result,
                    journalFailure);
        }
        if (stoppedBy != null) {
            throw new ApplyException(
                    Objects.requireNonNullElse(stoppedBy.getMessage(), stoppedBy.toString()), result, stoppedBy);
        }
        return result;
    }

    /**
     * Asks every target, before any of them applies, whether it can apply its changes ({@link
     * TargetService#checkApply}); when one refuses, the apply ends here: nothing was journaled (a resumed journal is
     * left as it was) and every change is not attempted.
     *
     * @throws ApplyException carrying that result, whose cause is the refusal
     */
    private void refuseBeforeAnyChange(
            List<Batch> batches,
            List<Change> mutations,
            @Nullable Journal resumed,
            Map<String, Long> callsBefore,
            long throttledBefore,
            long start) {
        for (Batch batch : batches) {
            AgentException refusal;
            try {
                batch.service().checkApply(List.copyOf(batch.changes()), base);
                continue;
            } catch (AgentException ex) {
                refusal = ex;
            } catch (RuntimeException bug) {
                refusal = new AgentException(
                        "The " + batch.name() + " target's check of its changes stopped with an unexpected error: "
                                + bug + ".",
                        bug);
            }
            LOG.error("The {} target refused the plan before any change: {}", batch.name(), refusal.getMessage());
            String why = "not started: the " + batch.name()
                    + " target refused the plan before any change started, so nothing was changed (see the error)";
            ApplyResult result = ApplyResult.builder()
                    .results(mutations.stream()
                            .map(c -> ResourceResult.of(c, Outcome.NOT_ATTEMPTED, why))
                            .toList())
                    .calls(recorder.since(callsBefore))
                    .throttled(base.scheduler().throttledCount() - throttledBefore)
                    .duration(Duration.ofNanos(System.nanoTime() - start))
                    .build();
            throw new ApplyException(
                    Objects.requireNonNullElse(refusal.getMessage(), refusal.toString())
                            + " Nothing was changed: every target's changes are checked before the first one starts,"
                            + " and no target applies anything when one refuses"
                            + (resumed == null
                                    ? "."
                                    : "; the journal " + resumed.location()
                                            + " is as it was: resume it again after the fix."),
                    result,
                    refusal);
        }
    }

    /** One target's share of the plan. */
    private record Batch(String name, TargetService service, List<Change> changes) {}

    private static String key(Change c) {
        return Changes.key(c);
    }

    private final class Context extends DefaultTargetContext implements ApplyContext {
        private final @Nullable JournalWriter journal;
        private final Map<String, ResourceResult> results = new ConcurrentHashMap<>();
        /** Changes their target reported. */
        private final java.util.Set<String> reported = ConcurrentHashMap.newKeySet();
        /** Changes core ended itself because their start could not be journaled. */
        private final java.util.Set<String> notStarted = ConcurrentHashMap.newKeySet();

        private final AtomicInteger failures = new AtomicInteger();
        private final AtomicReference<@Nullable JournalException> journalFailure = new AtomicReference<>();
        private final int total;
        private final long startNanos;
        /** Changes started and not yet reported; with the failures, what {@link #start} admits against. */
        private final java.util.Set<String> inFlight = ConcurrentHashMap.newKeySet();
        /** Changes waiting in {@link #start} for a change in flight to finish. Guarded by this. */
        private final java.util.ArrayDeque<Waiting> waiting = new java.util.ArrayDeque<>();

        Context(@Nullable JournalWriter journal, int total, long startNanos) {
            super(
                    base.clients(),
                    base.scheduler(),
                    base.agentOrNull(),
                    base.sinks(),
                    null,
                    base.fleet().orElse(null));
            this.journal = journal;
            this.total = total;
            this.startNanos = startNanos;
        }

        @Override
        public java.util.Optional<String> accountId() {
            return base.accountId(); // the installer's, found at most once
        }

        private record Waiting(Change change, CompletableFuture<Void> admitted) {}

        @Override
        public void starting(Change change) {
            if (shouldStop()) {
                throw refuse(change);
            }
            begin(change);
        }

        @Override
        public CompletableFuture<Void> start(Change change) {
            CompletableFuture<Void> admitted = new CompletableFuture<>();
            synchronized (this) {
                waiting.add(new Waiting(change, admitted));
            }
            admitWaiting();
            return admitted;
        }

        /** Admits waiting changes while failures plus changes in flight stay below the limit; refuses all on stop. */
        private void admitWaiting() {
            while (true) {
                Waiting next;
                boolean refused;
                synchronized (this) {
                    next = waiting.peek();
                    if (next == null) {
                        return;
                    }
                    refused = shouldStop();
                    if (!refused && (long) failures.get() + inFlight.size() >= maxFailures) {
                        return; // a change in flight finishing calls this again
                    }
                    waiting.poll();
                    if (!refused) {
                        inFlight.add(key(next.change())); // reserved now, so no other start overtakes it
                    }
                }
                if (refused) {
                    next.admitted().completeExceptionally(refuse(next.change()));
                    continue;
                }
                try {
                    begin(next.change());
                    next.admitted().complete(null);
                } catch (JournalException e) {
                    next.admitted().completeExceptionally(e);
                }
            }
        }

        /** Records a change the apply stops before starting, and the exception that tells its target. */
        private NotStartedException refuse(Change change) {
            String why = whyNotStarted();
            record(change, ResourceResult.of(change, Outcome.NOT_ATTEMPTED, why), true);
            return new NotStartedException(change.resourceId() + " " + why);
        }

        /** @return the message of a change that was never started */
        String whyNotStarted() {
            if (journalFailure.get() != null) {
                return "not started: the apply stopped because the journal could not be written";
            }
            for (FailureBudget budget : shared) {
                if (budget.exhausted()) {
                    return budget.whyNotStarted();
                }
            }
            if (failures.get() >= maxFailures) {
                return "not started: the apply stopped after " + failures.get()
                        + " change(s) failed or had an unknown outcome (maxFailures(" + maxFailures + "))";
            }
            return "the apply stopped first";
        }

        /** Journals the start of an admitted change. */
        private void begin(Change change) {
            LOG.debug("Applying {} {}", change.action().label(), change.resourceId());
            inFlight.add(key(change));
            if (journal == null) {
                return;
            }
            try {
                journal.record(Journal.Event.STARTING, change, null, null);
            } catch (JournalException e) {
                journalFailed(e);
                inFlight.remove(key(change));
                // Not started, so not changed: recorded here, and the target's own report of it is ignored.
                record(
                        change,
                        ResourceResult.of(
                                change,
                                Outcome.NOT_ATTEMPTED,
                                "not started: the journal could not be written (" + e.getMessage() + ")"),
                        true);
                admitWaiting(); // the apply stops: refuse the rest
                throw e;
            }
        }

        void journalFailed(JournalException e) {
            if (journalFailure.compareAndSet(null, e)) {
                LOG.error("{}: stopping the apply", e.getMessage());
            }
        }

        @Override
        public void applied(Change change, @Nullable String message, @Nullable JsonNode appliedState) {
            LOG.info(
                    "Applied {} {}{}",
                    change.action().label(),
                    change.resourceId(),
                    message == null ? "" : ": " + message);
            finish(change, Journal.Event.APPLIED, Outcome.APPLIED, message, appliedState);
        }

        @Override
        public void skipped(Change change, String reason) {
            LOG.info("Skipped {}: {}", change.resourceId(), reason);
            finish(change, Journal.Event.SKIPPED, Outcome.SKIPPED, reason, null);
        }

        @Override
        public void failed(Change change, String reason, @Nullable Throwable cause) {
            LOG.warn("Failed {} {}: {}", change.action().label(), change.resourceId(), reason);
            LOG.debug("Failure detail for {}", change.resourceId(), cause);
            finish(change, Journal.Event.FAILED, Outcome.FAILED, reason, null);
        }

        @Override
        public void unknown(Change change, String reason, @Nullable Throwable cause, @Nullable JsonNode appliedState) {
            LOG.warn("Outcome unknown for {} {}: {}", change.action().label(), change.resourceId(), reason);
            LOG.debug("Detail for {}", change.resourceId(), cause);
            finish(change, Journal.Event.UNKNOWN, Outcome.UNKNOWN, reason, appliedState);
        }

        @Override
        public void notAttempted(Change change, Change cause, String reason) {
            ResourceResult causeResult = results.get(key(cause));
            if (causeResult == null || causeResult.outcome() == Outcome.APPLIED || inFlight.contains(key(change))) {
                // The cause landed or is unreported, or this change was started: its failure is its own, and counts.
                failed(change, reason, null);
                return;
            }
            LOG.info("Not attempted {}: {}", change.resourceId(), reason);
            if (notStarted.contains(key(change))) {
                return; // core refused it already
            }
            if (!reported.add(key(change))) {
                throw new IllegalStateException("Target reported " + change.resourceId() + " twice");
            }
            // Never started, so no journal line (resume starts it again); not counted: its cause already was.
            record(change, ResourceResult.of(change, Outcome.NOT_ATTEMPTED, reason), false);
        }

        private void finish(
                Change change,
                Journal.Event event,
                Outcome outcome,
                @Nullable String message,
                @Nullable JsonNode state) {
            if (notStarted.contains(key(change))) {
                return; // core ended it when its start could not be journaled
            }
            // The first report is the outcome: a second one (a target's bug) is refused before it counts as a
            // failure or reaches the journal, where it would contradict what happened.
            if (!reported.add(key(change))) {
                throw new IllegalStateException("Target reported " + change.resourceId() + " twice");
            }
            if (outcome == Outcome.FAILED || outcome == Outcome.UNKNOWN) {
                failures.incrementAndGet();
                shared.forEach(FailureBudget::failed);
            }
            if (journal != null) {
                try {
                    journal.record(event, change, message, state);
                } catch (JournalException e) {
                    journalFailed(e); // the outcome stays true in the result; the journal shows the change started
                }
            }
            record(change, ResourceResult.of(change, outcome, message), false);
            inFlight.remove(key(change));
            admitWaiting();
        }

        private void record(Change change, ResourceResult result, boolean byCore) {
            synchronized (this) { // one at a time, so listeners see the counts in order
                ResourceResult before = results.putIfAbsent(key(change), result);
                if (before != null) {
                    throw new IllegalStateException("Target reported " + change.resourceId() + " twice");
                }
                if (byCore) {
                    notStarted.add(key(change));
                }
                listener.finished(
                        result,
                        new ProgressListener.Progress(
                                results.size(), total, failures.get(), (System.nanoTime() - startNanos) / 1_000_000));
            }
        }

        @Override
        public boolean shouldStop() {
            return failures.get() >= maxFailures
                    || journalFailure.get() != null
                    || shared.stream().anyMatch(FailureBudget::exhausted);
        }
    }
}
