package com.cloudaeye.agent;

import com.cloudaeye.agent.internal.FleetSpec;
import com.cloudaeye.agent.spi.Target;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.regions.Region;
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
    private final FleetSpec.Assembled fleet;

    private FleetInstaller(FleetSpec.Assembled fleet) {
        this.fleet = fleet;
    }

    /** @return a new builder */
    public static Builder builder() {
        return new Builder();
    }

    /** @return the role session name every account's session carries, which identifies this run in CloudTrail */
    public String sessionName() {
        return fleet.sessionName();
    }

    /**
     * @return the fleet's account IDs, sorted: those given and, with {@link Builder#organization()}, those found in
     *     AWS Organizations (listed once, on first use), less those excluded
     * @throws PlanningException when Organizations cannot be read
     */
    public SortedSet<String> accounts() {
        return new TreeSet<>(fleet.engine().accounts());
    }

    /**
     * Plans the install in every account and region with read-only calls, side by side.
     *
     * @return the fleet plan; account-regions that could not be planned are in its {@link FleetPlan#failures()}
     * @throws PlanningException when the organization's accounts cannot be listed
     */
    public FleetPlan plan() {
        return fleet.engine().plan(Plan.Kind.INSTALL, AgentInstaller::plan);
    }

    /**
     * Plans removing what the installer added, in every account and region, with read-only calls.
     *
     * @return the fleet uninstall plan; apply it with {@link #apply(FleetPlan)}
     */
    public FleetPlan planUninstall() {
        return fleet.engine().plan(Plan.Kind.UNINSTALL, AgentInstaller::planUninstall);
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
        return fleet.engine().apply(plan);
    }

    /**
     * Plans and applies the uninstall over the fleet.
     *
     * @return the result
     */
    public FleetResult uninstall() {
        return apply(planUninstall());
    }

    /**
     * Resumes the run that another worker (another JVM, another machine) started with the same journal store: in
     * every account-region of this fleet whose store holds a journal, the latest one is resumed ({@link
     * AgentInstaller#resume(Journal)}): nothing that landed is applied twice. With an {@link S3JournalStore}, a journal
     * whose writer still holds its lease is refused (reported as that account-region's failure) until the lease
     * expires; the others go on.
     *
     * @return per account-region with a journal: the result of the remaining work, or why it could not be resumed
     * @throws ConfigurationException when journaling is turned off
     */
    public FleetResult resume() {
        return fleet.engine().resume(fleet.journals());
    }

    /** Closes the installers, credential providers and threads this fleet made; a caller's STS client stays open. */
    @Override
    public void close() {
        fleet.close();
    }

    /**
     * Builds a {@link FleetInstaller}; validation happens in {@link #build()}. The settings it shares with {@link
     * AgentInstaller.Builder} (agent, endpoint, journal) are handed to each account-region's installer builder.
     */
    public static final class Builder {
        private final FleetSpec spec = new FleetSpec();

        private Builder() {}

        /**
         * @param accountIds the 12-digit IDs of the accounts to install into (added to those given before)
         * @return this
         */
        public Builder accounts(String... accountIds) {
            spec.accounts.addAll(List.of(accountIds));
            return this;
        }

        /**
         * Adds every ACTIVE account of the caller's AWS Organization ({@code organizations:ListAccounts}), listed
         * once, when the fleet first plans. Call from the management account or a delegated administrator.
         *
         * @return this
         */
        public Builder organization() {
            spec.organization = true;
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
            spec.organization = true;
            spec.organizationalUnits.addAll(List.of(unitIds));
            return this;
        }

        /**
         * @param accountIds accounts left out of the fleet even when given or found in the organization (for
         *     example the management account)
         * @return this
         */
        public Builder excludeAccounts(String... accountIds) {
            spec.excluded.addAll(List.of(accountIds));
            return this;
        }

        /**
         * @param regions the regions to install into in every account (added to those given before); without any,
         *     {@link #allEnabledRegions()}
         * @return this
         */
        public Builder regions(Region... regions) {
            spec.regions.addAll(List.of(regions));
            return this;
        }

        /**
         * Installs into every region enabled in each account ({@code ec2:DescribeRegions} with the account's role:
         * the regions that need no opt-in, and those opted in). Regions given with {@link #regions(Region...)} win.
         *
         * @return this
         */
        public Builder allEnabledRegions() {
            spec.allEnabledRegions = true;
            return this;
        }

        /**
         * @param region where STS, Organizations and the region lists are called, and whose partition the role ARNs
         *     name; default: the first of {@link #regions(Region...)}, else the SDK's region chain, else us-east-1
         * @return this
         */
        public Builder homeRegion(Region region) {
            spec.homeRegion = region;
            return this;
        }

        /**
         * @param roleName the role assumed in every account, e.g. {@code CloudAEyeInstaller} (a path may precede it)
         * @return this
         */
        public Builder roleName(String roleName) {
            spec.roleName = roleName;
            return this;
        }

        /**
         * @param externalId the external ID the roles' trust policies require (optional)
         * @return this
         */
        public Builder externalId(String externalId) {
            spec.externalId = externalId;
            return this;
        }

        /**
         * @param sessionName the role session name, shown in every account's CloudTrail: name the run (default
         *     {@code cloudaeye-fleet-<epoch seconds>})
         * @return this
         */
        public Builder sessionName(String sessionName) {
            spec.sessionName = sessionName;
            return this;
        }

        /**
         * @param credentials the credentials that call {@code sts:AssumeRole} and Organizations; defaults to the
         *     SDK's default chain
         * @return this
         */
        public Builder credentialsProvider(AwsCredentialsProvider credentials) {
            spec.credentials = credentials;
            return this;
        }

        /**
         * @param sts an STS client that the caller built (and will close), to assume the roles with
         * @return this
         */
        public Builder stsClient(StsClient sts) {
            spec.sts = sts;
            return this;
        }

        /**
         * Sends every AWS call, STS's included, to one endpoint: a local emulator (moto) in tests and demos.
         *
         * @param endpoint e.g. {@code http://127.0.0.1:5000}
         * @return this
         */
        public Builder endpointOverride(URI endpoint) {
            spec.endpointOverride = endpoint;
            spec.steps.add(b -> b.endpointOverride(endpoint));
            return this;
        }

        /**
         * @param agent where the agent sends logs and its token
         * @return this
         */
        public Builder agent(AgentSettings agent) {
            spec.steps.add(b -> b.agent(agent));
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
         * @param target a target used in every account and region, e.g. {@code EcsTarget.builder()...build()}
         * @return this
         */
        public Builder target(Target target) {
            spec.targets.add((account, region) -> target);
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
            spec.targets.add(target);
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
            spec.steps.add(customizer);
            return this;
        }

        /**
         * @param directory where journals are written, one directory per account and region below it ({@code
         *     <directory>/<account>/<region>}); default {@code ~/.cloudaeye/journals}
         * @return this
         */
        public Builder journalDirectory(Path directory) {
            return journalStore(JournalStore.directory(directory));
        }

        /**
         * @param store where journals are written, one part per account and region below it ({@code
         *     store.below(account).below(region)}): an {@link S3JournalStore} lets another machine {@link
         *     FleetInstaller#resume()} the run; default: the directory {@code ~/.cloudaeye/journals}
         * @return this
         */
        public Builder journalStore(JournalStore store) {
            spec.journals = store;
            spec.journaling = true;
            return this;
        }

        /** @return this, with journaling turned off in every account-region */
        public Builder withoutJournal() {
            spec.journaling = false;
            return this;
        }

        /**
         * @param maxParallel how many account-regions are planned or applied at once (default 8); each has its own
         *     rate limits, so more run faster until the machine is the limit
         * @return this
         */
        public Builder maxParallel(int maxParallel) {
            spec.maxParallel = FleetSpec.atLeastOne("maxParallel", maxParallel);
            return this;
        }

        /**
         * @param maxFailures failed or unknown changes over the whole fleet after which no new change starts
         *     anywhere (default: no limit); see {@link FleetInstaller#apply(FleetPlan)}
         * @return this
         */
        public Builder maxFailures(int maxFailures) {
            spec.maxFailures = FleetSpec.atLeastOne("maxFailures", maxFailures);
            return this;
        }

        /**
         * @param maxFailures failed or unknown changes in one account (over its regions) after which no new change
         *     starts in that account (default: no limit); the other accounts go on
         * @return this
         */
        public Builder maxFailuresPerAccount(int maxFailures) {
            spec.maxFailuresPerAccount = FleetSpec.atLeastOne("maxFailuresPerAccount", maxFailures);
            return this;
        }

        /**
         * @return the fleet installer
         * @throws ConfigurationException when accounts, regions, the role or the session name are missing or invalid
         */
        public FleetInstaller build() {
            spec.validate();
            return new FleetInstaller(spec.assemble(AgentInstaller.Builder::sharedFailureLimits));
        }
    }
}
