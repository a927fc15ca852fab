package com.cloudaeye.agent;

import com.cloudaeye.agent.internal.AwsErrors;
import com.cloudaeye.agent.spi.Target;
import java.net.URI;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.regions.PartitionMetadata;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sts.StsClient;
import software.amazon.awssdk.services.sts.auth.StsAssumeRoleCredentialsProvider;

/**
 * Installs the agent into many AWS accounts and regions at once. Each account is reached by {@code sts:AssumeRole}
 * into a named role (the SDK's {@link StsAssumeRoleCredentialsProvider}, which refreshes the credentials before they
 * expire); each account-region gets its own {@link AgentInstaller}, so its own rate limits, scheduler and journal.
 * Account-regions run side by side, at most {@link Builder#maxParallel(int)} at once; one that fails (a missing role,
 * access denied) is reported in the plan or result and never stops the others.
 *
 * <pre>{@code
 * try (FleetInstaller fleet = FleetInstaller.builder()
 *         .accounts("111111111111", "222222222222")
 *         .roleName("CloudAEyeInstaller").externalId(externalId)
 *         .regions(Region.US_EAST_1, Region.EU_WEST_1)
 *         .agent(a -> a.logsEndpoint("https://logs.example.cloudaeye.com").apiToken(Secret.of(token)))
 *         .target((account, region) -> LambdaTarget.builder().functions("*").layer(Architecture.X86_64, layerArn(region)).build())
 *         .build()) {
 *     FleetPlan plan = fleet.plan();
 *     System.out.println(plan);                                  // per account-region counts, failures, totals
 *     System.out.println(plan.requiredPolicy("111111111111").toJson());
 *     FleetResult result = fleet.apply(plan);
 * }
 * }</pre>
 *
 * <p>Thread-safe. Closing it closes the installers, credential providers and threads it made.
 */
public final class FleetInstaller implements AutoCloseable {
    private static final Pattern ACCOUNT = Pattern.compile("\\d{12}");
    private static final Pattern ROLE_NAME = Pattern.compile("[\\w+=,.@/-]{1,64}");
    private static final Pattern SESSION_NAME = Pattern.compile("[\\w+=,.@-]{2,64}");

    private final List<String> accounts;
    private final List<Region> regions;
    private final String roleName;
    private final String sessionName;
    private final @Nullable URI endpointOverride;
    private final @Nullable AgentSettings agent;
    private final List<BiFunction<String, Region, Target>> targets;
    private final Consumer<AgentInstaller.Builder> customizer;
    private final @Nullable Path journalDirectory;
    private final StsClient sts;
    private final boolean ownsSts;
    private final Map<String, StsAssumeRoleCredentialsProvider> credentials = new LinkedHashMap<>();
    private final Map<String, AgentInstaller> installers = new ConcurrentHashMap<>();
    private final ExecutorService pool;

    private FleetInstaller(Builder b, StsClient sts, boolean ownsSts) {
        this.accounts = List.copyOf(b.accounts);
        this.regions = List.copyOf(b.regions);
        this.roleName = Objects.requireNonNull(b.roleName, "checked in build()");
        this.sessionName = b.sessionName != null
                ? b.sessionName
                : "cloudaeye-fleet-" + Instant.now().getEpochSecond();
        this.endpointOverride = b.endpointOverride;
        this.agent = b.agent;
        this.targets = List.copyOf(b.targets);
        this.customizer = b.customizer;
        this.journalDirectory = b.journaling ? b.journalDirectory : null;
        this.sts = sts;
        this.ownsSts = ownsSts;
        for (String account : accounts) {
            // Lazy: nothing is called until an account is first planned; refreshed before expiry after that.
            credentials.put(
                    account,
                    StsAssumeRoleCredentialsProvider.builder()
                            .stsClient(sts)
                            .refreshRequest(r -> {
                                r.roleArn(roleArn(account)).roleSessionName(sessionName);
                                if (b.externalId != null) {
                                    r.externalId(b.externalId);
                                }
                            })
                            .build());
        }
        AtomicInteger threads = new AtomicInteger();
        ThreadFactory factory = r -> {
            Thread t = new Thread(r, "cloudaeye-fleet-" + threads.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
        this.pool = Executors.newFixedThreadPool(b.maxParallel, factory);
    }

    /** @return a new builder */
    public static Builder builder() {
        return new Builder();
    }

    /** @return the role session name every account's session carries, which identifies this run in CloudTrail */
    public String sessionName() {
        return sessionName;
    }

    /**
     * Plans the install in every account and region with read-only calls, side by side.
     *
     * @return the fleet plan; account-regions that could not be planned are in its {@link FleetPlan#failures()}
     */
    public FleetPlan plan() {
        return plan(Plan.Kind.INSTALL, AgentInstaller::plan);
    }

    /**
     * Plans removing what the installer added, in every account and region, with read-only calls.
     *
     * @return the fleet uninstall plan; apply it with {@link #apply(FleetPlan)}
     */
    public FleetPlan planUninstall() {
        return plan(Plan.Kind.UNINSTALL, AgentInstaller::planUninstall);
    }

    /**
     * Applies a fleet plan: each account-region's plan by its own installer, side by side. An account-region that
     * fails is reported and the others go on; the account-regions the plan could not plan are reported as failed.
     *
     * @param plan a plan made by {@link #plan()} or {@link #planUninstall()}, or read with {@link
     *     FleetPlan#fromJson(String)}
     * @return per account-region: the apply result (with its journal) or why nothing was applied
     * @throws ConfigurationException when the plan names an account or region that this fleet does not have
     */
    public FleetResult apply(FleetPlan plan) {
        plan.plans()
                .forEach((account, byRegion) -> byRegion.keySet().forEach(region -> {
                    if (!credentials.containsKey(account) || !regions.contains(Region.of(region))) {
                        throw new ConfigurationException(
                                "The fleet plan has " + account + "/" + region + ", which this fleet"
                                        + " does not include (accounts " + accounts + ", regions " + regions
                                        + "): build the fleet"
                                        + " installer with the plan's accounts and regions. Nothing was changed.");
                    }
                }));
        Map<String, Map<String, CompletableFuture<Outcome<ApplyResult>>>> running = new TreeMap<>();
        plan.plans()
                .forEach((account, byRegion) -> byRegion.forEach((region, p) -> running.computeIfAbsent(
                                account, a -> new TreeMap<>())
                        .put(
                                region,
                                CompletableFuture.supplyAsync(() -> attempt(account, region, i -> i.apply(p)), pool))));
        FleetResult.Builder result = FleetResult.builder();
        SortedMap<String, SortedMap<String, String>> failures = copy(plan.failures());
        SortedMap<String, SortedMap<String, ApplyResult>> results = new TreeMap<>();
        collect(running, results, failures);
        return result.results(results).failures(failures).build();
    }

    /**
     * Plans and applies the uninstall over the fleet.
     *
     * @return the result
     */
    public FleetResult uninstall() {
        return apply(planUninstall());
    }

    private FleetPlan plan(Plan.Kind kind, Function<AgentInstaller, Plan> planner) {
        Map<String, Map<String, CompletableFuture<Outcome<Plan>>>> running = new TreeMap<>();
        for (String account : accounts) {
            // The role is assumed once per account first, so a missing role is one clear failure per account.
            CompletableFuture<Outcome<Void>> assumed = CompletableFuture.supplyAsync(() -> assume(account), pool);
            for (Region region : regions) {
                running.computeIfAbsent(account, a -> new TreeMap<>())
                        .put(
                                region.id(),
                                assumed.thenApplyAsync(
                                        a -> a.failure != null
                                                ? Outcome.<Plan>failed(a.failure)
                                                : attempt(account, region.id(), planner),
                                        pool));
            }
        }
        SortedMap<String, SortedMap<String, Plan>> plans = new TreeMap<>();
        SortedMap<String, SortedMap<String, String>> failures = new TreeMap<>();
        collect(running, plans, failures);
        return FleetPlan.builder().kind(kind).plans(plans).failures(failures).build();
    }

    private Outcome<Void> assume(String account) {
        try {
            Objects.requireNonNull(credentials.get(account), account).resolveCredentials();
            return Outcome.of(null);
        } catch (SdkException e) {
            return Outcome.failed("Could not assume " + roleArn(account) + " (" + AwsErrors.describe(e) + "): create"
                    + " the role " + roleName + " in account " + account + " with a trust policy that lets this"
                    + " caller assume it (with the external ID, if one is set), or remove the account from the"
                    + " fleet. Nothing was planned or changed in this account.");
        }
    }

    private <T> Outcome<T> attempt(String account, String region, Function<AgentInstaller, T> work) {
        try {
            return Outcome.of(work.apply(installer(account, Region.of(region))));
        } catch (AgentException e) {
            return Outcome.failed(e.getMessage());
        } catch (SdkException e) {
            return Outcome.failed(AwsErrors.describe(e));
        } catch (RuntimeException e) {
            // Any other failure stays with its account-region; the others go on.
            return Outcome.failed(e.getClass().getName() + ": " + e.getMessage());
        }
    }

    private static <T> void collect(
            Map<String, Map<String, CompletableFuture<Outcome<T>>>> running,
            SortedMap<String, SortedMap<String, T>> values,
            SortedMap<String, SortedMap<String, String>> failures) {
        running.forEach((account, byRegion) -> byRegion.forEach((region, future) -> {
            Outcome<T> outcome = future.join();
            if (outcome.failure != null) {
                failures.computeIfAbsent(account, a -> new TreeMap<>()).put(region, outcome.failure);
            } else {
                values.computeIfAbsent(account, a -> new TreeMap<>())
                        .put(region, Objects.requireNonNull(outcome.value, "a success has a value"));
            }
        }));
    }

    private static SortedMap<String, SortedMap<String, String>> copy(SortedMap<String, SortedMap<String, String>> m) {
        SortedMap<String, SortedMap<String, String>> copy = new TreeMap<>();
        m.forEach((k, v) -> copy.put(k, new TreeMap<>(v)));
        return copy;
    }

    private AgentInstaller installer(String account, Region region) {
        return installers.computeIfAbsent(account + "/" + region.id(), key -> {
            AgentInstaller.Builder b = AgentInstaller.builder();
            customizer.accept(b);
            b.region(region).credentialsProvider(Objects.requireNonNull(credentials.get(account), account));
            if (endpointOverride != null) {
                b.endpointOverride(endpointOverride);
            }
            if (agent != null) {
                b.agent(agent);
            }
            targets.forEach(t -> b.target(t.apply(account, region)));
            if (journalDirectory != null) {
                b.journalDirectory(journalDirectory.resolve(account).resolve(region.id()));
            } else {
                b.withoutJournal();
            }
            return b.build();
        });
    }

    private String roleArn(String account) {
        String partition =
                regions.isEmpty() ? "aws" : PartitionMetadata.of(regions.get(0)).id();
        return "arn:" + partition + ":iam::" + account + ":role/" + roleName;
    }

    /** Closes the installers, credential providers and threads this fleet made; a caller's STS client stays open. */
    @Override
    public void close() {
        pool.shutdownNow();
        installers.values().forEach(AgentInstaller::close);
        credentials.values().forEach(StsAssumeRoleCredentialsProvider::close);
        if (ownsSts) {
            sts.close();
        }
    }

    /** A value or why there is none. */
    private static final class Outcome<T> {
        final @Nullable T value;
        final @Nullable String failure;

        private Outcome(@Nullable T value, @Nullable String failure) {
            this.value = value;
            this.failure = failure;
        }

        static <T> Outcome<T> of(@Nullable T value) {
            return new Outcome<>(value, null);
        }

        static <T> Outcome<T> failed(@Nullable String why) {
            return new Outcome<>(null, why == null ? "failed without a message" : why);
        }
    }

    /** Builds a {@link FleetInstaller}; validation happens in {@link #build()}. */
    public static final class Builder {
        private final Set<String> accounts = new LinkedHashSet<>();
        private final Set<Region> regions = new LinkedHashSet<>();
        private @Nullable String roleName;
        private @Nullable String externalId;
        private @Nullable String sessionName;
        private @Nullable AwsCredentialsProvider credentials;
        private @Nullable StsClient sts;
        private @Nullable URI endpointOverride;
        private @Nullable AgentSettings agent;
        private final List<BiFunction<String, Region, Target>> targets = new ArrayList<>();
        private Consumer<AgentInstaller.Builder> customizer = b -> {};
        private Path journalDirectory = Path.of(System.getProperty("user.home"), ".cloudaeye", "journals");
        private boolean journaling = true;
        private int maxParallel = 8;

        private Builder() {}

        /**
         * @param accountIds the 12-digit IDs of the accounts to install into (added to those given before)
         * @return this
         */
        public Builder accounts(String... accountIds) {
            accounts.addAll(List.of(accountIds));
            return this;
        }

        /**
         * @param regions the regions to install into in every account (added to those given before)
         * @return this
         */
        public Builder regions(Region... regions) {
            this.regions.addAll(List.of(regions));
            return this;
        }

        /**
         * @param roleName the role assumed in every account, e.g. {@code CloudAEyeInstaller} (a path may precede it)
         * @return this
         */
        public Builder roleName(String roleName) {
            this.roleName = roleName;
            return this;
        }

        /**
         * @param externalId the external ID the roles' trust policies require (optional)
         * @return this
         */
        public Builder externalId(String externalId) {
            this.externalId = externalId;
            return this;
        }

        /**
         * @param sessionName the role session name, shown in every account's CloudTrail: name the run (default
         *     {@code cloudaeye-fleet-<epoch seconds>})
         * @return this
         */
        public Builder sessionName(String sessionName) {
            this.sessionName = sessionName;
            return this;
        }

        /**
         * @param credentials the credentials that call {@code sts:AssumeRole}; defaults to the SDK's default chain
         * @return this
         */
        public Builder credentialsProvider(AwsCredentialsProvider credentials) {
            this.credentials = credentials;
            return this;
        }

        /**
         * Uses an STS client that the caller built (and will close) to assume the roles.
         *
         * @param sts the client
         * @return this
         */
        public Builder stsClient(StsClient sts) {
            this.sts = sts;
            return this;
        }

        /**
         * Sends every AWS call, STS's included, to one endpoint: a local emulator (moto) in tests and demos.
         *
         * @param endpoint e.g. {@code http://127.0.0.1:5000}
         * @return this
         */
        public Builder endpointOverride(URI endpoint) {
            this.endpointOverride = endpoint;
            return this;
        }

        /**
         * @param agent where the agent sends logs and its token
         * @return this
         */
        public Builder agent(AgentSettings agent) {
            this.agent = agent;
            return this;
        }

        /**
         * @param agent configures the agent settings
         * @return this
         */
        public Builder agent(Consumer<AgentSettings.Builder> agent) {
            this.agent = AgentInstaller.builder().agent(agent).agentSettings();
            return this;
        }

        /**
         * Adds a target used in every account and region.
         *
         * @param target a target, e.g. {@code EcsTarget.builder()...build()}
         * @return this
         */
        public Builder target(Target target) {
            targets.add((account, region) -> target);
            return this;
        }

        /**
         * Adds a target made per account and region, for settings that differ there (a Lambda layer lives in one
         * region; an account may need its own exclusions).
         *
         * @param target makes the target of an account (its 12-digit ID) and region
         * @return this
         */
        public Builder target(BiFunction<String, Region, Target> target) {
            targets.add(target);
            return this;
        }

        /**
         * Sets every other installer setting (pacing, rates, retries, listener, {@code maxFailures}, preflight) on
         * each account-region's installer. Region, credentials, endpoint, agent, targets and journal directory are
         * the fleet's and override what this sets.
         *
         * @param customizer called with each new installer's builder
         * @return this
         */
        public Builder installer(Consumer<AgentInstaller.Builder> customizer) {
            this.customizer = customizer;
            return this;
        }

        /**
         * @param directory where journals are written, one directory per account and region below it ({@code
         *     <directory>/<account>/<region>}); default {@code ~/.cloudaeye/journals}
         * @return this
         */
        public Builder journalDirectory(Path directory) {
            this.journalDirectory = directory;
            this.journaling = true;
            return this;
        }

        /**
         * Turns journaling off in every account-region.
         *
         * @return this
         */
        public Builder withoutJournal() {
            this.journaling = false;
            return this;
        }

        /**
         * @param maxParallel how many account-regions are planned or applied at once (default 8); each has its own
         *     rate limits, so more run faster until the machine is the limit
         * @return this
         */
        public Builder maxParallel(int maxParallel) {
            if (maxParallel < 1) {
                throw new ConfigurationException("maxParallel must be at least 1, got " + maxParallel);
            }
            this.maxParallel = maxParallel;
            return this;
        }

        /**
         * @return the fleet installer
         * @throws ConfigurationException when accounts, regions, the role or the session name are missing or invalid
         */
        public FleetInstaller build() {
            if (accounts.isEmpty()) {
                throw new ConfigurationException(
                        "No account: add the accounts to install into with" + " .accounts(\"111111111111\", ...).");
            }
            for (String account : accounts) {
                if (!ACCOUNT.matcher(account).matches()) {
                    throw new ConfigurationException("'" + account + "' is not an AWS account ID: pass the 12 digits,"
                            + " e.g. .accounts(\"111111111111\").");
                }
            }
            if (regions.isEmpty()) {
                throw new ConfigurationException(
                        "No region: add the regions to install into with" + " .regions(Region.US_EAST_1, ...).");
            }
            if (roleName == null || !ROLE_NAME.matcher(roleName).matches()) {
                throw new ConfigurationException("The role to assume in every account is "
                        + (roleName == null ? "missing" : "not a valid role name: '" + roleName + "'")
                        + ": set .roleName(\"CloudAEyeInstaller\") (letters, digits and +=,.@_-).");
            }
            if (sessionName != null && !SESSION_NAME.matcher(sessionName).matches()) {
                throw new ConfigurationException("'" + sessionName + "' is not a valid role session name: use 2 to 64"
                        + " letters, digits or +=,.@_- (e.g. .sessionName(\"cloudaeye-run-42\")).");
            }
            if (targets.isEmpty()) {
                throw new ConfigurationException("No target configured: add one with .target(...) before build().");
            }
            StsClient given = sts;
            if (given != null) {
                return new FleetInstaller(this, given, false);
            }
            var client = StsClient.builder()
                    .region(regions.iterator().next())
                    .credentialsProvider(
                            credentials != null
                                    ? credentials
                                    : DefaultCredentialsProvider.builder().build());
            if (endpointOverride != null) {
                client.endpointOverride(endpointOverride);
            }
            return new FleetInstaller(this, client.build(), true);
        }
    }
}
