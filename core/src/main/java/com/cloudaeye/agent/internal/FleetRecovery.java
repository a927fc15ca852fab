package com.cloudaeye.agent.internal;

import com.cloudaeye.agent.AgentException;
import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.ConfigurationException;
import com.cloudaeye.agent.FleetPlan;
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
     * What rolling back one account-region means: its latest install or uninstall journal, and the rollback of it
     * that was started since (its journal started later), if any.
     */
    private record ToRollBack(Journal run, @Nullable Journal started) {}

    /** @return what rolling back the account-region of this part means; empty when it holds no install or uninstall */
    private static Optional<ToRollBack> toRollBack(JournalStore part) {
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
        return Optional.of(
                new ToRollBack(run.get().journal(), started.map(Found::journal).orElse(null)));
    }

    /**
     * In every account-region, the latest install or uninstall journal is rolled back; when a rollback of it was
     * started before (its journal started later), that rollback is resumed instead, so nothing is restored twice.
     * Each account-region is planned by {@link AgentInstaller#rollback(Journal)} itself rather than from a fleet
     * plan, so that with an {@link com.cloudaeye.agent.S3JournalStore} it plans and applies under the journal's lease.
     */
    static FleetResult rollback(FleetEngine engine, @Nullable JournalStore store) {
        return run(
                engine,
                required(store, "roll back"),
                (account, region, part) -> toRollBack(part).map(found -> {
                    Journal started = found.started();
                    if (started != null) {
                        return new FleetRun.Work(
                                installer -> installer.resume(started), installer -> started.unfinished());
                    }
                    return rollbackOf(found.run());
                }));
    }

    /**
     * Plans the rollback that {@link #rollback(FleetEngine, JournalStore)} would make, read-only, side by side. An
     * account-region whose rollback was started before is not planned again: a finished one gets an empty plan that
     * says so, an unfinished one is a failure naming its journal (the fleet's rollback() resumes it there).
     */
    static FleetPlan planRollback(FleetEngine engine, @Nullable JournalStore store) {
        JournalStore journals = required(store, "plan the rollback of");
        return engine.plan(
                Plan.Kind.ROLLBACK,
                engine.accounts(),
                engine::regionsOf,
                account -> engine.knownRegions(),
                (account, region, installer) -> toRollBack(
                                journals.below(account).below(region))
                        .map(found -> planned(found, account, region, installer)));
    }

    private static Plan planned(ToRollBack found, String account, String region, AgentInstaller installer) {
        Journal started = found.started();
        if (started == null) {
            return installer.planRollback(found.run());
        }
        int unfinished = started.unfinished().size();
        if (unfinished == 0) {
            return Plan.builder()
                    .kind(Plan.Kind.ROLLBACK)
                    .region(region)
                    .addNotes(FleetTable.rolledBack(started.location()))
                    .build();
        }
        throw new AgentException("A rollback of " + found.run().location() + " in " + account + "/" + region
                + " was started before and did not finish (" + unfinished + " change" + (unfinished == 1 ? "" : "s")
                + " left in its journal " + started.location() + "): the fleet's rollback() resumes it there, so"
                + " that nothing is restored twice. A rollback plan is made only where no rollback was started."
                + " Nothing was planned or changed here.");
    }

    /** Plans the rollback of each account-region's journal in an apply's result, read-only, side by side. */
    static FleetPlan planRollback(FleetEngine engine, @Nullable JournalStore store, FleetResult applied) {
        JournalStore journals = required(store, "plan the rollback of");
        // Account to region to its apply's journal, or empty where the apply wrote none yet may have changed something.
        SortedMap<String, SortedMap<String, Optional<String>>> toPlan = new TreeMap<>();
        applied.results()
                .forEach((account, byRegion) -> byRegion.forEach((region, result) -> {
                    engine.checkIncluded("The fleet result", account, region);
                    if (result.journalLocation().isPresent() || mayHaveChanged(result)) {
                        toPlan.computeIfAbsent(account, a -> new TreeMap<>()).put(region, result.journalLocation());
                    }
                }));
        Function<String, List<String>> regions =
                account -> List.copyOf(Objects.requireNonNull(toPlan.get(account), "planned accounts only")
                        .keySet());
        return engine.plan(
                Plan.Kind.ROLLBACK,
                toPlan.keySet(),
                account -> {
                    String refused = engine.roleFailure(account);
                    return refused != null
                            ? FleetEngine.Outcome.failed(refused)
                            : FleetEngine.Outcome.of(regions.apply(account));
                },
                regions,
                (account, region, installer) -> {
                    String location = Objects.requireNonNull(
                                    Objects.requireNonNull(toPlan.get(account), "planned accounts only")
                                            .get(region),
                                    "planned account-regions only")
                            .orElseThrow(() -> new AgentException(noJournal(account, region)));
                    return Optional.of(installer.planRollback(
                            Journal.read(journals.below(account).below(region), location)));
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
                        failures.computeIfAbsent(account, a -> new TreeMap<>()).put(region, noJournal(account, region));
                    }
                }));
        return FleetRun.run(engine, work, failures);
    }

    /** @return why an account-region whose apply may have changed something, but wrote no journal, is not rolled back */
    private static String noJournal(String account, String region) {
        return "The apply in " + account + "/" + region + " wrote no journal, so it cannot be rolled back: remove the"
                + " agent there with planUninstall(). Nothing was changed.";
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
