package com.cloudaeye.agent;

import com.cloudaeye.agent.internal.FleetAccounts;
import com.cloudaeye.agent.internal.FleetEngine;
import com.cloudaeye.agent.internal.SignedCalls;
import com.cloudaeye.agent.spi.Target;
import java.net.URI;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.regions.providers.DefaultAwsRegionProviderChain;
import software.amazon.awssdk.services.sts.StsClient;
import software.amazon.awssdk.services.sts.auth.StsAssumeRoleCredentialsProvider;

/**
 * Installs the agent into many AWS accounts and regions at once. The accounts are given, or found in AWS
 * Organizations ({@link Builder#organization()}, {@link Builder#organizationalUnits(String...)}); the regions are
 * given, or those enabled in each account ({@link Builder#allEnabledRegions()}). Each account is reached by {@code
 * sts:AssumeRole} into a named role (the SDK's {@link StsAssumeRoleCredentialsProvider}, fetching new credentials from
 * 5 minutes before they expire), with a session name that identifies the run; each account-region gets its own
 * {@link AgentInstaller}, so its own rate limits, scheduler and journal. Account-regions run side by side, at most
 * {@link Builder#maxParallel(int)} at once; one that fails (a missing role, access denied, throttled past its
 * retries) is reported in the plan or result and never stops the others, up to {@link Builder#maxFailures(int)}
 * over the fleet and {@link Builder#maxFailuresPerAccount(int)} per account.
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

    private final String sessionName;
    private final StsClient sts;
    private final boolean ownsSts;
    private final SignedCalls calls;
    private final FleetEngine engine;

    private FleetInstaller(Builder b, StsClient sts, boolean ownsSts, Region home) {
        this.sessionName = b.sessionName != null
                ? b.sessionName
                : "cloudaeye-fleet-" + Instant.now().getEpochSecond();
        this.sts = sts;
        this.ownsSts = ownsSts;
        this.calls = new SignedCalls(b.endpointOverride);
        Set<String> given = Set.copyOf(b.accounts);
        Set<String> excluded = Set.copyOf(b.excluded);
        List<String> units = List.copyOf(b.organizationalUnits);
        boolean organization = b.organization;
        AwsCredentialsProvider caller = b.credentials != null
                ? b.credentials
                : DefaultCredentialsProvider.builder().build();
        Supplier<Set<String>> accounts = () -> {
            Set<String> all = new TreeSet<>(given);
            if (organization) {
                all.addAll(FleetAccounts.discover(calls, caller, home, units));
            }
            all.removeAll(excluded);
            return all;
        };
        List<Consumer<AgentInstaller.Builder>> steps = List.copyOf(b.steps);
        @Nullable Path journals = b.journaling ? b.journalDirectory : null;
        this.engine = new FleetEngine(
                new FleetEngine.Settings(
                        accounts,
                        List.copyOf(b.regions),
                        home,
                        Objects.requireNonNull(b.roleName, "checked in build()"),
                        b.externalId,
                        sessionName,
                        b.maxParallel,
                        b.maxFailures,
                        b.maxFailuresPerAccount),
                sts,
                calls,
                (account, region, credentials, limits) -> {
                    AgentInstaller.Builder installer = AgentInstaller.builder();
                    steps.forEach(step -> step.accept(installer));
                    List<BiFunction<String, Region, Target>> targets = b.targets;
                    targets.forEach(t -> installer.target(t.apply(account, region)));
                    installer.region(region).credentialsProvider(credentials).sharedFailureLimits(limits);
                    if (journals != null) {
                        installer.journalDirectory(journals.resolve(account).resolve(region.id()));
                    } else {
                        installer.withoutJournal();
                    }
                    return installer.build();
                });
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
     * @return the fleet's account IDs, sorted: those given and, with {@link Builder#organization()}, those found in
     *     AWS Organizations (listed once, on first use), less those excluded
     * @throws PlanningException when Organizations cannot be read
     */
    public SortedSet<String> accounts() {
        return new TreeSet<>(engine.accounts());
    }

    /**
     * Plans the install in every account and region with read-only calls, side by side.
     *
     * @return the fleet plan; account-regions that could not be planned are in its {@link FleetPlan#failures()}
     * @throws PlanningException when the organization's accounts cannot be listed
     */
    public FleetPlan plan() {
        return engine.plan(Plan.Kind.INSTALL, AgentInstaller::plan);
    }

    /**
     * Plans removing what the installer added, in every account and region, with read-only calls.
     *
     * @return the fleet uninstall plan; apply it with {@link #apply(FleetPlan)}
     */
    public FleetPlan planUninstall() {
        return engine.plan(Plan.Kind.UNINSTALL, AgentInstaller::planUninstall);
    }

    /**
     * Applies a fleet plan: each account-region's plan by its own installer, side by side. An account-region that
     * fails is reported and the others go on; the account-regions the plan could not plan are reported as failed.
     * Once {@link Builder#maxFailures(int)} changes failed over the fleet (or {@link
     * Builder#maxFailuresPerAccount(int)} in one account), no new change starts there: the account-regions not yet
     * started report their changes {@code NOT_ATTEMPTED} with the reason, and changes already in flight finish.
     *
     * @param plan a plan made by {@link #plan()} or {@link #planUninstall()}, or read with {@link
     *     FleetPlan#fromJson(String)}
     * @return per account-region: the apply result (with its journal), or why nothing was applied, or both when an
     *     apply stopped part way
     * @throws ConfigurationException when the plan names an account or region that this fleet does not have
     */
    public FleetResult apply(FleetPlan plan) {
        return engine.apply(plan);
    }

    /**
     * Plans and applies the uninstall over the fleet.
     *
     * @return the result
     */
    public FleetResult uninstall() {
        return apply(planUninstall());
    }

    /** Closes the installers, credential providers and threads this fleet made; a caller's STS client stays open. */
    @Override
    public void close() {
        engine.close();
        calls.close();
        if (ownsSts) {
            sts.close();
        }
    }

    /**
     * Builds a {@link FleetInstaller}; validation happens in {@link #build()}. The settings it shares with {@link
     * AgentInstaller.Builder} (agent, endpoint, journal) are handed to each account-region's installer builder.
     */
    public static final class Builder {
        private final Set<String> accounts = new LinkedHashSet<>();
        private final Set<String> excluded = new LinkedHashSet<>();
        private final List<String> organizationalUnits = new ArrayList<>();
        private boolean organization;
        private boolean allEnabledRegions;
        private final Set<Region> regions = new LinkedHashSet<>();
        private @Nullable Region homeRegion;
        private @Nullable String roleName;
        private @Nullable String externalId;
        private @Nullable String sessionName;
        private @Nullable AwsCredentialsProvider credentials;
        private @Nullable StsClient sts;
        private @Nullable URI endpointOverride;
        private final List<BiFunction<String, Region, Target>> targets = new ArrayList<>();
        /** Settings passed on to every account-region's installer builder, in the order given. */
        private final List<Consumer<AgentInstaller.Builder>> steps = new ArrayList<>();

        private Path journalDirectory = Path.of(System.getProperty("user.home"), ".cloudaeye", "journals");
        private boolean journaling = true;
        private int maxParallel = 8;
        private int maxFailures = Integer.MAX_VALUE;
        private int maxFailuresPerAccount = Integer.MAX_VALUE;

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
         * Adds every ACTIVE account of the caller's AWS Organization ({@code organizations:ListAccounts}), listed
         * once, when the fleet first plans. Call from the management account or a delegated administrator.
         *
         * @return this
         */
        public Builder organization() {
            this.organization = true;
            return this;
        }

        /**
         * Adds the ACTIVE accounts below organizational units, at any depth ({@code
         * organizations:ListAccountsForParent} and {@code ListChildren}), instead of the whole organization.
         *
         * @param unitIds organizational unit IDs ({@code ou-ab12-cdef3456}) or the root's ({@code r-ab12})
         * @return this
         */
        public Builder organizationalUnits(String... unitIds) {
            this.organization = true;
            organizationalUnits.addAll(List.of(unitIds));
            return this;
        }

        /**
         * @param accountIds accounts left out of the fleet even when given or found in the organization (for
         *     example the management account)
         * @return this
         */
        public Builder excludeAccounts(String... accountIds) {
            excluded.addAll(List.of(accountIds));
            return this;
        }

        /**
         * @param regions the regions to install into in every account (added to those given before); without any,
         *     {@link #allEnabledRegions()}
         * @return this
         */
        public Builder regions(Region... regions) {
            this.regions.addAll(List.of(regions));
            return this;
        }

        /**
         * Installs into every region enabled in each account ({@code ec2:DescribeRegions} with the account's role:
         * the regions that need no opt-in, and those opted in). Regions given with {@link #regions(Region...)} win.
         *
         * @return this
         */
        public Builder allEnabledRegions() {
            this.allEnabledRegions = true;
            return this;
        }

        /**
         * @param region where STS, Organizations and the region lists are called, and whose partition the role ARNs
         *     name; default: the first of {@link #regions(Region...)}, else the SDK's region chain, else us-east-1
         * @return this
         */
        public Builder homeRegion(Region region) {
            this.homeRegion = region;
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
         * @param credentials the credentials that call {@code sts:AssumeRole} and Organizations; defaults to the
         *     SDK's default chain
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
            steps.add(b -> b.endpointOverride(endpoint));
            return this;
        }

        /**
         * @param agent where the agent sends logs and its token
         * @return this
         */
        public Builder agent(AgentSettings agent) {
            steps.add(b -> b.agent(agent));
            return this;
        }

        /**
         * @param agent configures the agent settings
         * @return this
         */
        public Builder agent(Consumer<AgentSettings.Builder> agent) {
            // Built here, so incomplete settings fail now, not in the first account.
            return agent(
                    Objects.requireNonNull(AgentInstaller.builder().agent(agent).agentSettings(), "built"));
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
         * Sets every other installer setting (pacing, rates, retries, listener, {@code maxFailures} per
         * account-region, preflight) on each account-region's installer. Region, credentials, targets and journal
         * directory are the fleet's and override what this sets.
         *
         * @param customizer called with each new installer's builder
         * @return this
         */
        public Builder installer(Consumer<AgentInstaller.Builder> customizer) {
            steps.add(customizer);
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
            this.maxParallel = atLeastOne("maxParallel", maxParallel);
            return this;
        }

        /**
         * @param maxFailures failed or unknown changes over the whole fleet after which no new change starts
         *     anywhere (default: no limit); see {@link FleetInstaller#apply(FleetPlan)}
         * @return this
         */
        public Builder maxFailures(int maxFailures) {
            this.maxFailures = atLeastOne("maxFailures", maxFailures);
            return this;
        }

        /**
         * @param maxFailures failed or unknown changes in one account (over its regions) after which no new change
         *     starts in that account (default: no limit); the other accounts go on
         * @return this
         */
        public Builder maxFailuresPerAccount(int maxFailures) {
            this.maxFailuresPerAccount = atLeastOne("maxFailuresPerAccount", maxFailures);
            return this;
        }

        private static int atLeastOne(String name, int value) {
            if (value < 1) {
                throw new ConfigurationException(name + " must be at least 1, got " + value);
            }
            return value;
        }

        /**
         * @return the fleet installer
         * @throws ConfigurationException when accounts, regions, the role or the session name are missing or invalid
         */
        public FleetInstaller build() {
            if (accounts.isEmpty() && !organization) {
                throw new ConfigurationException("No account: add the accounts to install into with"
                        + " .accounts(\"111111111111\", ...), or find them with .organization().");
            }
            for (String account : union(accounts, excluded)) {
                if (!ACCOUNT.matcher(account).matches()) {
                    throw new ConfigurationException("'" + account + "' is not an AWS account ID: pass the 12 digits,"
                            + " e.g. .accounts(\"111111111111\").");
                }
            }
            if (regions.isEmpty() && !allEnabledRegions) {
                throw new ConfigurationException("No region: add the regions to install into with"
                        + " .regions(Region.US_EAST_1, ...), or take each account's with .allEnabledRegions().");
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
            Region home = home();
            StsClient given = sts;
            if (given != null) {
                return new FleetInstaller(this, given, false, home);
            }
            var client = StsClient.builder()
                    .region(home)
                    .credentialsProvider(
                            credentials != null
                                    ? credentials
                                    : DefaultCredentialsProvider.builder().build());
            if (endpointOverride != null) {
                client.endpointOverride(endpointOverride);
            }
            return new FleetInstaller(this, client.build(), true, home);
        }

        private Region home() {
            if (homeRegion != null) {
                return homeRegion;
            }
            if (!regions.isEmpty()) {
                return regions.iterator().next();
            }
            try {
                return DefaultAwsRegionProviderChain.builder().build().getRegion();
            } catch (SdkException e) {
                return Region.US_EAST_1; // only STS, Organizations and the region lists are called here
            }
        }

        private static Set<String> union(Set<String> a, Set<String> b) {
            Set<String> all = new LinkedHashSet<>(a);
            all.addAll(b);
            return all;
        }
    }
}
