package com.cloudaeye.agent.internal;

import com.cloudaeye.agent.AgentException;
import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.ConfigurationException;
import com.cloudaeye.agent.FleetResult;
import com.cloudaeye.agent.Journal;
import com.cloudaeye.agent.JournalStore;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.ResourceResult;
import com.cloudaeye.agent.spi.support.Json;
import com.fasterxml.jackson.core.JsonProcessingException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.exception.SdkException;

/**
 * Finishes or undoes a fleet run from the journals in the fleet's store, one part per account and region below it
 * ({@code store.below(account).below(region)}): each account's journals are found on the engine's threads, then its
 * account-regions are resumed or rolled back through {@link FleetRun}, side by side under the fleet's and each
 * account's limits, with the same per-account report as an apply. A failure stays with its account-region.
 *
 * <p>A part's journals are ordered by the time their first apply started (the first line's), not by the store's
 * listing: an S3 object's last-modified time moves whenever a lease on it is renewed or released.
 */
final class FleetRecovery {
    private static final Logger LOG = LoggerFactory.getLogger(FleetRecovery.class);

    private FleetRecovery() {}

    /** Finds the work of one account-region in its part of the store, if it has any. */
    private interface Finder {
        Optional<FleetRun.Work> find(String account, String region, JournalStore part);
    }

    /** Adds to the work found, once every account's part was searched. */
    private interface Completion {
        void complete(
                SortedMap<String, SortedMap<String, FleetRun.Work>> work,
                SortedMap<String, SortedMap<String, String>> failures);
    }

    /** A journal and when its first apply started. */
    private record Found(Journal journal, Instant started) {}

    /** One account's work, and its account-regions that failed before any work. */
    private record Account(SortedMap<String, FleetRun.Work> work, SortedMap<String, String> failures) {}

    /**
     * In every account-region, the latest journal is resumed. An account-region without one, which the interrupted run
     * never reached (its worker died first, or {@code maxParallel} had not started it), gets that run's install or
     * uninstall planned and applied, so that a resume finishes the whole run; the run's kind is that of the other
     * account-regions' latest journals, and where they disagree such an account-region is reported instead.
     */
    static FleetResult resume(FleetEngine engine, @Nullable JournalStore store) {
        Set<Plan.Kind> kinds = ConcurrentHashMap.newKeySet();
        Map<String, Set<String>> notStarted = new ConcurrentHashMap<>();
        Finder finder = (account, region, part) -> {
            List<Found> journals = journals(part);
            if (journals.isEmpty()) {
                notStarted
                        .computeIfAbsent(account, a -> ConcurrentHashMap.newKeySet())
                        .add(region);
                return Optional.empty();
            }
            Journal latest = journals.get(journals.size() - 1).journal();
            kinds.add(latest.plan().kind());
            return Optional.of(
                    new FleetRun.Work(installer -> installer.resume(latest), installer -> latest.unfinished()));
        };
        return run(engine, required(store, "resume"), finder, (work, failures) -> {
            Set<Plan.Kind> runs = EnumSet.noneOf(Plan.Kind.class);
            kinds.stream().filter(k -> k != Plan.Kind.ROLLBACK).forEach(runs::add);
            if (runs.isEmpty()) {
                return; // nothing was started anywhere, or the run is being rolled back: nothing to do there
            }
            notStarted.forEach((account, regions) -> regions.forEach(region -> {
                if (runs.size() == 1) {
                    Plan.Kind kind = runs.iterator().next();
                    work.computeIfAbsent(account, a -> new TreeMap<>()).put(region, fresh(kind));
                } else {
                    failures.computeIfAbsent(account, a -> new TreeMap<>())
                            .put(
                                    region,
                                    "No journal in " + account + "/" + region + ", and the run's other"
                                            + " account-regions hold both installs and uninstalls, so the resume"
                                            + " cannot tell which this one was to get: apply the plan you meant"
                                            + " here. Nothing was changed.");
                }
            }));
        });
    }

    /** An account-region's apply of a kind, planned on its own installer. */
    private static FleetRun.Work fresh(Plan.Kind kind) {
        Function<AgentInstaller, Plan> plan =
                kind == Plan.Kind.UNINSTALL ? AgentInstaller::planUninstall : AgentInstaller::plan;
        return new FleetRun.Work(
                installer -> installer.apply(plan.apply(installer)),
                installer -> plan.apply(installer).mutations());
    }

    /**
     * In every account-region, the latest install or uninstall journal is rolled back; when a rollback of it was
     * started before (its journal started later), that rollback is resumed instead, so nothing is restored twice.
     */
    static FleetResult rollback(FleetEngine engine, @Nullable JournalStore store) {
        return run(engine, required(store, "roll back"), (account, region, part) -> {
            List<Found> journals = journals(part);
            Optional<Found> run = journals.stream()
                    .filter(f -> f.journal().plan().kind() != Plan.Kind.ROLLBACK)
                    .reduce((a, b) -> b);
            if (run.isEmpty()) {
                return Optional.empty();
            }
            Instant since = run.get().started();
            Optional<Found> started = journals.stream()
                    .filter(f -> f.journal().plan().kind() == Plan.Kind.ROLLBACK)
                    .filter(f -> !f.started().isBefore(since))
                    .reduce((a, b) -> b);
            if (started.isPresent()) {
                Journal rollback = started.get().journal();
                return Optional.of(
                        new FleetRun.Work(installer -> installer.resume(rollback), installer -> rollback.unfinished()));
            }
            return Optional.of(rollbackOf(run.get().journal()));
        });
    }

    /** Rolls back each account-region's journal in an apply's result. */
    static FleetResult rollback(FleetEngine engine, @Nullable JournalStore store, FleetResult applied) {
        JournalStore journals = required(store, "roll back");
        applied.results()
                .forEach((account, byRegion) ->
                        byRegion.keySet().forEach(region -> engine.checkIncluded("The fleet result", account, region)));
        SortedMap<String, SortedMap<String, FleetRun.Work>> work = new TreeMap<>();
        SortedMap<String, SortedMap<String, String>> failures = new TreeMap<>();
        applied.results()
                .forEach((account, byRegion) -> byRegion.forEach((region, result) -> {
                    Optional<String> location = result.journalLocation();
                    if (location.isPresent()) {
                        JournalStore part = journals.below(account).below(region);
                        work.computeIfAbsent(account, a -> new TreeMap<>())
                                .put(region, rollbackOf(() -> Journal.read(part, location.get())));
                    } else if (mayHaveChanged(result)) {
                        failures.computeIfAbsent(account, a -> new TreeMap<>())
                                .put(
                                        region,
                                        "The apply in " + account + "/" + region + " wrote no journal, so it cannot"
                                                + " be rolled back: remove the agent there with planUninstall(). Nothing was"
                                                + " changed.");
                    }
                }));
        return FleetRun.run(engine, work, failures);
    }

    private static FleetRun.Work rollbackOf(Journal journal) {
        return rollbackOf(() -> journal);
    }

    /** Reads the journal on the account-region's own thread, so a failure to read it stays there. */
    private static FleetRun.Work rollbackOf(Supplier<Journal> journal) {
        return new FleetRun.Work(
                installer -> installer.rollback(journal.get()),
                installer -> installer.planRollback(journal.get()).mutations());
    }

    /** FAILED means nothing changed (the outcome contract), so only APPLIED and UNKNOWN may need undoing. */
    private static boolean mayHaveChanged(ApplyResult result) {
        return result.results().stream()
                .anyMatch(r ->
                        r.outcome() == ResourceResult.Outcome.APPLIED || r.outcome() == ResourceResult.Outcome.UNKNOWN);
    }

    private static JournalStore required(@Nullable JournalStore store, String what) {
        if (store == null) {
            throw new ConfigurationException("This fleet writes no journals (withoutJournal()), so it has no run to "
                    + what + ": build it with the journal store of the run, e.g. .journalStore(s3Journals).");
        }
        return store;
    }

    private static FleetResult run(FleetEngine engine, JournalStore store, Finder finder) {
        return run(engine, store, finder, (work, failures) -> {});
    }

    private static FleetResult run(FleetEngine engine, JournalStore store, Finder finder, Completion completion) {
        Map<String, CompletableFuture<Account>> running = new TreeMap<>();
        for (String account : new TreeSet<>(engine.accounts())) {
            running.put(
                    account,
                    CompletableFuture.supplyAsync(
                            () -> find(engine, store.below(account), account, finder), engine.pool));
        }
        SortedMap<String, SortedMap<String, FleetRun.Work>> work = new TreeMap<>();
        SortedMap<String, SortedMap<String, String>> failures = new TreeMap<>();
        running.forEach((account, future) -> {
            Account found = future.join();
            if (!found.work().isEmpty()) {
                work.put(account, found.work());
            }
            if (!found.failures().isEmpty()) {
                failures.put(account, found.failures());
            }
        });
        completion.complete(work, failures);
        return FleetRun.run(engine, work, failures);
    }

    private static Account find(FleetEngine engine, JournalStore store, String account, Finder finder) {
        SortedMap<String, FleetRun.Work> work = new TreeMap<>();
        SortedMap<String, String> failures = new TreeMap<>();
        FleetEngine.Outcome<List<String>> regions = engine.regionsOf(account);
        String failure = regions.failure;
        if (failure != null) {
            engine.knownRegions().forEach(region -> failures.put(region, failure));
            return new Account(work, failures);
        }
        for (String region : Objects.requireNonNull(regions.value, "a success has a value")) {
            try {
                finder.find(account, region, store.below(region)).ifPresent(w -> work.put(region, w));
            } catch (AgentException | SdkException e) {
                failures.put(region, AwsErrors.describe(e));
            }
        }
        return new Account(work, failures);
    }

    /**
     * @return the part's journals, ordered by the time their first apply started; without a journal that has no line
     *     (its worker died after its store made it and before the plan line: nothing was started there, since a
     *     change's start is journaled before it is sent)
     */
    private static List<Found> journals(JournalStore part) {
        List<Found> found = new ArrayList<>();
        for (String location : part.list()) {
            Optional<String> first =
                    part.read(location).stream().filter(l -> !l.isBlank()).findFirst();
            if (first.isEmpty()) {
                LOG.info("Passing over the journal {}: it has no line, so nothing was started under it", location);
                continue;
            }
            found.add(new Found(Journal.read(part, location), started(location, first.get())));
        }
        found.sort(Comparator.comparing(Found::started));
        return found;
    }

    /** @return the time of the journal's first line, its plan's */
    private static Instant started(String location, String firstLine) {
        try {
            return Instant.parse(Json.parse(firstLine).path("time").asText());
        } catch (JsonProcessingException | DateTimeParseException e) {
            throw new AgentException(
                    "The journal " + location + " does not start with a plan line and its time: it is not a"
                            + " journal of this installer. Move it out of the run's store.",
                    e);
        }
    }
}
