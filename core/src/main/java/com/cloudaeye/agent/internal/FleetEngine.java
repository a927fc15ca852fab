package com.cloudaeye.agent.internal;

import com.cloudaeye.agent.AgentException;
import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.ConfigurationException;
import com.cloudaeye.agent.FleetPlan;
import com.cloudaeye.agent.FleetResult;
import com.cloudaeye.agent.JournalStore;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.spi.FleetScope;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.regions.PartitionMetadata;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sts.StsClient;
import software.amazon.awssdk.services.sts.auth.StsAssumeRoleCredentialsProvider;

/**
 * Runs a fleet: resolves its accounts (given, or from AWS Organizations) and each account's regions (given, or those
 * enabled in it), assumes the role in each account (credentials refreshed before they expire), and plans or applies
 * every account-region on its own installer, side by side, at most {@code maxParallel} at once. A failure stays with
 * its account or account-region; the failure limits of the fleet and of each account stop new work once reached.
 */
public final class FleetEngine implements AutoCloseable {
    /** The region key of an account whose regions could not be listed. */
    public static final String ALL_REGIONS = "*";

    /** Makes the installer of one account-region. */
    public interface InstallerFactory {
        /**
         * @param account the account ID
         * @param region the region
         * @param fleet the fleet's accounts and regions, which its targets leave ARNs of other members to
         * @param credentials the account's assumed-role credentials
         * @param limits the failure limits of the fleet operation an apply of it runs for, asked as each apply starts
         * @param callsInFlight its share of the fleet's calls in flight ({@code FleetEngine.callsEach()})
         * @return a new installer
         */
        AgentInstaller create(
                String account,
                Region region,
                FleetScope fleet,
                AwsCredentialsProvider credentials,
                Supplier<List<FailureBudget>> limits,
                int callsInFlight);
    }

    /**
     * What the fleet is.
     *
     * @param accounts resolves the accounts (once; it may call Organizations)
     * @param regions the regions, or empty for every region enabled in each account
     * @param home the region for STS and discovery calls
     * @param roleName the role to assume in each account
     * @param externalId the external ID the roles require, or null
     * @param sessionName the role session name
     * @param maxParallel account-regions at once
     * @param maxCallsInFlight AWS calls in flight at once over the account-regions at work
     * @param maxFailures fleet-wide failure limit
     * @param maxFailuresPerAccount per-account failure limit
     */
    public record Settings(
            Supplier<Set<String>> accounts,
            List<Region> regions,
            Region home,
            String roleName,
            @Nullable String externalId,
            String sessionName,
            int maxParallel,
            int maxCallsInFlight,
            int maxFailures,
            int maxFailuresPerAccount) {}

    final Settings settings;
    private final StsClient sts;
    private final SignedCalls calls;
    private final InstallerFactory factory;
    final ExecutorService pool;
    private final Map<String, StsAssumeRoleCredentialsProvider> credentials = new ConcurrentHashMap<>();
    private final Map<String, AgentInstaller> installers = new ConcurrentHashMap<>();
    private final Map<String, List<String>> enabledRegions = new ConcurrentHashMap<>();

    private volatile @Nullable Set<String> accounts;

    /**
     * @param settings the fleet
     * @param sts assumes the roles
     * @param calls lists the regions enabled in an account
     * @param factory makes the installers
     */
    public FleetEngine(Settings settings, StsClient sts, SignedCalls calls, InstallerFactory factory) {
        this.settings = settings;
        this.sts = sts;
        this.calls = calls;
        this.factory = factory;
        AtomicInteger threads = new AtomicInteger();
        ThreadFactory named = r -> {
            Thread t = new Thread(r, "cloudaeye-fleet-" + threads.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
        this.pool = Executors.newFixedThreadPool(settings.maxParallel(), named);
    }

    /** @return the fleet's accounts, resolved on first use */
    public Set<String> accounts() {
        Set<String> resolved = accounts;
        if (resolved == null) {
            synchronized (this) {
                resolved = accounts;
                if (resolved == null) {
                    resolved = Set.copyOf(settings.accounts().get());
                    accounts = resolved;
                }
            }
        }
        return resolved;
    }

    /** Plans one account-region on its installer; none when there is nothing to plan there. */
    interface Planner {
        /**
         * @param account the account ID
         * @param region the region ID
         * @param installer the account-region's installer
         * @return its plan, or empty to leave the account-region out of the fleet plan
         */
        Optional<Plan> plan(String account, String region, AgentInstaller installer);
    }

    /**
     * Plans every account-region.
     *
     * @param kind what for
     * @param planner plans one account-region
     * @return the fleet plan
     */
    public FleetPlan plan(Plan.Kind kind, Function<AgentInstaller, Plan> planner) {
        return plan(
                kind,
                accounts(),
                this::regionsOf,
                account -> knownRegions(),
                (account, region, installer) -> Optional.of(planner.apply(installer)));
    }

    /**
     * Plans some account-regions side by side: each account's role is assumed once first (so a missing role is one
     * clear failure per account), then each of its regions is planned on its own installer.
     *
     * @param kind what for
     * @param accounts the accounts to plan
     * @param regions an account's regions to plan, or why it cannot be planned
     * @param whereFailed the regions an account's failure is reported under
     * @param planner plans one account-region
     * @return the fleet plan
     */
    FleetPlan plan(
            Plan.Kind kind,
            Set<String> accounts,
            Function<String, Outcome<List<String>>> regions,
            Function<String, List<String>> whereFailed,
            Planner planner) {
        Map<String, CompletableFuture<Map<String, Outcome<Optional<Plan>>>>> running = new TreeMap<>();
        for (String account : new java.util.TreeSet<>(accounts)) {
            running.put(
                    account,
                    CompletableFuture.supplyAsync(() -> regions.apply(account), pool)
                            .thenCompose(found -> {
                                if (found.failure != null) {
                                    // Reported per region when the regions are known, else once for all.
                                    Map<String, Outcome<Optional<Plan>>> failed = new TreeMap<>();
                                    whereFailed
                                            .apply(account)
                                            .forEach(r -> failed.put(r, Outcome.failed(found.failure)));
                                    return CompletableFuture.completedFuture(failed);
                                }
                                Map<String, CompletableFuture<Outcome<Optional<Plan>>>> byRegion = new TreeMap<>();
                                for (String region : Objects.requireNonNull(found.value, "a success has a value")) {
                                    byRegion.put(
                                            region,
                                            CompletableFuture.supplyAsync(
                                                    () -> attempt(
                                                            account,
                                                            region,
                                                            installer -> planner.plan(account, region, installer)),
                                                    pool));
                                }
                                return all(byRegion);
                            }));
        }
        SortedMap<String, SortedMap<String, Plan>> plans = new TreeMap<>();
        SortedMap<String, SortedMap<String, String>> failures = new TreeMap<>();
        running.forEach((account, future) -> future.join().forEach((region, outcome) -> {
            if (outcome.failure != null) {
                failures.computeIfAbsent(account, a -> new TreeMap<>()).put(region, outcome.failure);
            } else {
                Objects.requireNonNull(outcome.value, "a success has a value")
                        .ifPresent(p -> plans.computeIfAbsent(account, a -> new TreeMap<>())
                                .put(region, p));
            }
        }));
        return FleetPlan.builder().kind(kind).plans(plans).failures(failures).build();
    }

    /**
     * Applies a fleet plan; see {@code FleetInstaller#apply}.
     *
     * @param plan the plan
     * @return the result
     */
    public FleetResult apply(FleetPlan plan) {
        plan.plans()
                .forEach((account, byRegion) ->
                        byRegion.keySet().forEach(region -> checkIncluded("The fleet plan", account, region)));
        SortedMap<String, SortedMap<String, FleetRun.Work>> work = new TreeMap<>();
        plan.plans()
                .forEach((account, byRegion) -> byRegion.forEach((region, p) -> work.computeIfAbsent(
                                account, a -> new TreeMap<>())
                        .put(region, new FleetRun.Work(installer -> installer.apply(p), installer -> p.mutations()))));
        return FleetRun.run(this, work, plan.failures());
    }

    /**
     * Resumes the latest journal of every account-region that has one in a store; see {@code FleetInstaller#resume}.
     *
     * @param store the fleet's store, with a part per account and region below it; null when it writes none
     * @return the result
     */
    public FleetResult resume(@Nullable JournalStore store) {
        return FleetRecovery.resume(this, store);
    }

    /**
     * Plans the rollback of the latest run in a store; see {@code FleetInstaller#planRollback()}.
     *
     * @param store the fleet's store; null when it writes none
     * @return the fleet rollback plan
     */
    public FleetPlan planRollback(@Nullable JournalStore store) {
        return FleetRecovery.planRollback(this, store);
    }

    /**
     * Plans the rollback of what a fleet apply did; see {@code FleetInstaller#planRollback(FleetResult)}.
     *
     * @param store the fleet's store; null when it writes none
     * @param applied the apply's result
     * @return the fleet rollback plan
     */
    public FleetPlan planRollback(@Nullable JournalStore store, FleetResult applied) {
        return FleetRecovery.planRollback(this, store, applied);
    }

    /**
     * Rolls back the latest run in a store; see {@code FleetInstaller#rollback()}.
     *
     * @param store the fleet's store; null when it writes none
     * @return the result
     */
    public FleetResult rollback(@Nullable JournalStore store) {
        return FleetRecovery.rollback(this, store);
    }

    /**
     * Rolls back what a fleet apply did; see {@code FleetInstaller#rollback(FleetResult)}.
     *
     * @param store the fleet's store; null when it writes none
     * @param applied the apply's result
     * @return the result
     */
    public FleetResult rollback(@Nullable JournalStore store, FleetResult applied) {
        return FleetRecovery.rollback(this, store, applied);
    }

    /**
     * @param what what names the account-region, for the message
     * @param account an account ID
     * @param region a region ID
     * @throws ConfigurationException when the fleet does not include it
     */
    void checkIncluded(String what, String account, String region) {
        boolean regionOk = settings.regions().isEmpty() || settings.regions().contains(Region.of(region));
        if (!accounts().contains(account) || !regionOk) {
            throw new ConfigurationException(what + " has " + account + "/" + region + ", which this fleet"
                    + " does not include (accounts " + new java.util.TreeSet<>(accounts()) + ", regions "
                    + (settings.regions().isEmpty() ? "all enabled" : settings.regions()) + "): build the fleet"
                    + " installer with its accounts and regions. Nothing was changed.");
        }
    }

    /** @return the fleet's regions, or {@link #ALL_REGIONS} when each account's enabled regions are used */
    List<String> knownRegions() {
        return settings.regions().isEmpty()
                ? List.of(ALL_REGIONS)
                : settings.regions().stream().map(Region::id).toList();
    }

    /**
     * @param account an account ID
     * @return its regions (the fleet's, or those enabled in it), or why the role or the regions failed
     */
    Outcome<List<String>> regionsOf(String account) {
        String refused = roleFailure(account);
        if (refused != null) {
            return Outcome.failed(refused);
        }
        if (!settings.regions().isEmpty()) {
            return Outcome.of(settings.regions().stream().map(Region::id).toList());
        }
        try {
            return Outcome.of(enabledRegions.computeIfAbsent(
                    account, a -> calls.enabledRegions(credentials(a), settings.home())));
        } catch (SdkException e) {
            return Outcome.failed("Could not list the regions enabled in account " + account + " ("
                    + AwsErrors.describe(e) + "): allow ec2:DescribeRegions to the role " + settings.roleName()
                    + ", or name the regions with .regions(...). Nothing was planned or changed in this account.");
        }
    }

    /**
     * @param account an account ID
     * @return why its role cannot be assumed, or null when it can
     */
    @Nullable
    String roleFailure(String account) {
        try {
            credentials(account).resolveCredentials();
        } catch (SdkException e) {
            if (AwsErrors.hasCode(e, "AccessDenied") || AwsErrors.hasCode(e, "AccessDeniedException")) {
                return "Could not assume " + roleArn(account) + " (" + AwsErrors.describe(e)
                        + "): create the role " + settings.roleName() + " in account " + account + " with a trust"
                        + " policy that lets this caller assume it (with the external ID, if one is set), or remove"
                        + " the account from the fleet. Nothing was planned or changed in this account.";
            }
            // Not a refusal of the role: STS's own words say what is wrong (a malformed request, throttling, the
            // network), not a missing role.
            return "Could not assume " + roleArn(account) + ": STS answered " + AwsErrors.describe(e)
                    + ". Nothing was planned or changed in this account.";
        }
        return null;
    }

    private <T> Outcome<T> attempt(String account, String region, Function<AgentInstaller, T> work) {
        try {
            return Outcome.of(work.apply(installer(account, region)));
        } catch (AgentException | SdkException e) {
            return Outcome.failed(AwsErrors.describe(e));
        } catch (RuntimeException e) {
            // Any other failure stays with its account-region; the others go on.
            return Outcome.failed(e.getClass().getName() + ": " + e.getMessage());
        }
    }

    AgentInstaller installer(String account, String region) {
        // One installer per account-region for the fleet's life: the installer that planned applies, and knows what
        // its plan read.
        return installers.computeIfAbsent(
                account + "/" + region,
                k -> factory.create(
                        account,
                        Region.of(region),
                        new FleetScope(accounts(), Set.copyOf(settings.regions())),
                        credentials(account),
                        // Each operation's own (FleetRun runs it on this thread): two at once keep theirs apart.
                        FleetRun::limitsOfThisThread,
                        callsEach()));
    }

    /**
     * @return an account-region's share of the fleet's calls in flight: {@code maxCallsInFlight} over the
     *     account-regions at work at once, which are {@code maxParallel} or, when the regions are named, fewer if the
     *     fleet has fewer account-regions (with every enabled region, an account's regions are known only once listed)
     */
    int callsEach() {
        long atOnce = settings.maxParallel();
        if (!settings.regions().isEmpty()) {
            atOnce = Math.min(
                    atOnce, (long) accounts().size() * settings.regions().size());
        }
        return (int) Math.max(1, settings.maxCallsInFlight() / Math.max(1, atOnce));
    }

    /**
     * @param account an account ID
     * @return its assumed-role credentials, refreshed before they expire
     */
    public StsAssumeRoleCredentialsProvider credentials(String account) {
        return credentials.computeIfAbsent(
                account,
                a -> StsAssumeRoleCredentialsProvider.builder()
                        .stsClient(sts)
                        .refreshRequest(r -> {
                            r.roleArn(roleArn(a)).roleSessionName(settings.sessionName());
                            String externalId = settings.externalId();
                            if (externalId != null) {
                                r.externalId(externalId);
                            }
                        })
                        // Fetched anew when less than 5 minutes are left (by one caller while others use the current
                        // ones), so a long apply never signs with expired credentials.
                        .prefetchTime(Duration.ofMinutes(5))
                        .staleTime(Duration.ofMinutes(1))
                        .build());
    }

    /**
     * @param account an account ID
     * @return the ARN of the role assumed there
     */
    public String roleArn(String account) {
        return "arn:" + PartitionMetadata.of(settings.home()).id() + ":iam::" + account + ":role/"
                + settings.roleName();
    }

    static <T> CompletableFuture<Map<String, Outcome<T>>> all(Map<String, CompletableFuture<Outcome<T>>> futures) {
        return CompletableFuture.allOf(futures.values().toArray(CompletableFuture[]::new))
                .thenApply(done -> {
                    Map<String, Outcome<T>> outcomes = new TreeMap<>();
                    futures.forEach((region, f) -> outcomes.put(region, f.join()));
                    return outcomes;
                });
    }

    /** Closes the installers, credential providers and threads. */
    @Override
    public void close() {
        pool.shutdownNow();
        installers.values().forEach(AgentInstaller::close);
        credentials.values().forEach(StsAssumeRoleCredentialsProvider::close);
    }

    /** A value, why there is none, or both (an apply that stopped after applying some changes). */
    static final class Outcome<T> {
        final @Nullable T value;
        final @Nullable String failure;

        Outcome(@Nullable T value, @Nullable String failure) {
            this.value = value;
            this.failure = failure;
        }

        static <T> Outcome<T> of(T value) {
            return new Outcome<>(value, null);
        }

        static <T> Outcome<T> failed(@Nullable String why) {
            return new Outcome<>(null, why == null ? "failed without a message" : why);
        }
    }
}
