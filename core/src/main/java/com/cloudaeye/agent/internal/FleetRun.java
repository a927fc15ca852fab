package com.cloudaeye.agent.internal;

import com.cloudaeye.agent.AgentException;
import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.ApplyException;
import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.FleetResult;
import com.cloudaeye.agent.ResourceResult;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import software.amazon.awssdk.core.exception.SdkException;

/**
 * Runs one apply per account-region of a fleet side by side on the engine's threads, under the fleet's and each
 * account's failure limits, and gathers the results and failures.
 */
final class FleetRun {
    /**
     * The failure limits of the operation whose account-region this thread runs. An account-region's installer lives
     * as long as the fleet and serves every operation on it (an apply beside a rollback), so its apply asks for the
     * limits of the operation it runs for, here, rather than holding one operation's.
     */
    private static final ThreadLocal<List<FailureBudget>> LIMITS = new ThreadLocal<>();

    private FleetRun() {}

    /** @return the failure limits of the operation this thread applies for; none outside a fleet run */
    static List<FailureBudget> limitsOfThisThread() {
        List<FailureBudget> limits = LIMITS.get();
        return limits == null ? List.of() : limits;
    }

    /**
     * One account-region's apply, and the changes it reports not attempted when a failure limit stops it first (asked
     * only then: a rollback plans them with read calls).
     */
    record Work(Function<AgentInstaller, ApplyResult> apply, Function<AgentInstaller, List<Change>> changes) {}

    static FleetResult run(
            FleetEngine engine,
            SortedMap<String, SortedMap<String, Work>> work,
            Map<String, SortedMap<String, String>> known) {
        FailureBudget fleet = new FailureBudget(
                "the fleet's maxFailures(" + engine.settings.maxFailures() + ")", engine.settings.maxFailures());
        Map<String, CompletableFuture<Map<String, FleetEngine.Outcome<ApplyResult>>>> running = new TreeMap<>();
        work.forEach((account, byRegion) -> {
            FailureBudget perAccount = new FailureBudget(
                    "account " + account + "'s maxFailuresPerAccount(" + engine.settings.maxFailuresPerAccount() + ")",
                    engine.settings.maxFailuresPerAccount());
            List<FailureBudget> accountLimits = List.of(fleet, perAccount);
            Map<String, CompletableFuture<FleetEngine.Outcome<ApplyResult>>> futures = new TreeMap<>();
            byRegion.forEach((region, w) -> futures.put(
                    region,
                    CompletableFuture.supplyAsync(
                            () -> applyOne(engine, account, region, w, accountLimits), engine.pool)));
            running.put(account, FleetEngine.all(futures));
        });
        SortedMap<String, SortedMap<String, ApplyResult>> results = new TreeMap<>();
        SortedMap<String, SortedMap<String, String>> failures = new TreeMap<>();
        known.forEach((account, byRegion) -> failures.put(account, new TreeMap<>(byRegion)));
        running.forEach((account, future) -> future.join().forEach((region, outcome) -> {
            if (outcome.value != null) {
                results.computeIfAbsent(account, a -> new TreeMap<>()).put(region, outcome.value);
            }
            if (outcome.failure != null) {
                failures.computeIfAbsent(account, a -> new TreeMap<>()).put(region, outcome.failure);
            }
        }));
        return FleetResult.builder().results(results).failures(failures).build();
    }

    private static FleetEngine.Outcome<ApplyResult> applyOne(
            FleetEngine engine, String account, String region, Work work, List<FailureBudget> shared) {
        LIMITS.set(shared);
        try {
            AgentInstaller installer = engine.installer(account, region);
            for (FailureBudget limit : shared) {
                if (limit.exhausted()) {
                    List<Change> changes = work.changes().apply(installer);
                    if (!changes.isEmpty()) {
                        // Not started at all: every change is reported, none was sent.
                        String why = limit.whyNotStarted();
                        List<ResourceResult> none = new ArrayList<>();
                        changes.forEach(c -> none.add(ResourceResult.of(c, ResourceResult.Outcome.NOT_ATTEMPTED, why)));
                        return FleetEngine.Outcome.of(ApplyResult.builder()
                                .results(none)
                                .duration(Duration.ZERO)
                                .build());
                    }
                }
            }
            return FleetEngine.Outcome.of(work.apply().apply(installer));
        } catch (ApplyException e) {
            // It stopped, but what it applied is in its result: report both.
            return new FleetEngine.Outcome<>(e.result(), e.getMessage());
        } catch (AgentException | SdkException e) {
            return FleetEngine.Outcome.failed(AwsErrors.describe(e));
        } catch (RuntimeException e) {
            // Any other failure stays with its account-region; the others go on.
            return FleetEngine.Outcome.failed(e.getClass().getName() + ": " + e.getMessage());
        } finally {
            LIMITS.remove();
        }
    }
}
