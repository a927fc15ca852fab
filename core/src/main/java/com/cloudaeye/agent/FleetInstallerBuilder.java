package com.cloudaeye.agent;

import com.cloudaeye.agent.internal.FleetSpec;
import com.cloudaeye.agent.spi.Target;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sts.StsClient;

/**
 * Builds a {@link FleetInstaller}; validation happens in {@link #build()}. The settings it shares with {@link
 * AgentInstallerBuilder} (agent, endpoint, journal) are handed to each account-region's installer builder.
 */
public final class FleetInstallerBuilder {
    private final FleetSpec spec = new FleetSpec();

    FleetInstallerBuilder() {}

    /**
     * @param accountIds the 12-digit IDs of the accounts to install into (added to those given before)
     * @return this
     */
    public FleetInstallerBuilder accounts(String... accountIds) {
        spec.accounts.addAll(List.of(accountIds));
        return this;
    }

    /**
     * Adds every ACTIVE account of the caller's AWS Organization ({@code organizations:ListAccounts}), listed
     * once, when the fleet first plans. Call from the management account or a delegated administrator.
     *
     * @return this
     */
    public FleetInstallerBuilder organization() {
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
    public FleetInstallerBuilder organizationalUnits(String... unitIds) {
        spec.organization = true;
        spec.organizationalUnits.addAll(List.of(unitIds));
        return this;
    }

    /**
     * @param accountIds accounts left out of the fleet even when given or found in the organization (for
     *     example the management account)
     * @return this
     */
    public FleetInstallerBuilder excludeAccounts(String... accountIds) {
        spec.excluded.addAll(List.of(accountIds));
        return this;
    }

    /**
     * @param regions the regions to install into in every account (added to those given before); without any,
     *     {@link #allEnabledRegions()}
     * @return this
     */
    public FleetInstallerBuilder regions(Region... regions) {
        spec.regions.addAll(List.of(regions));
        return this;
    }

    /**
     * Installs into every region enabled in each account ({@code ec2:DescribeRegions} with the account's role:
     * the regions that need no opt-in, and those opted in). Regions given with {@link #regions(Region...)} win.
     *
     * @return this
     */
    public FleetInstallerBuilder allEnabledRegions() {
        spec.allEnabledRegions = true;
        return this;
    }

    /**
     * @param region where STS, Organizations and the region lists are called, and whose partition the role ARNs
     *     name; default: the first of {@link #regions(Region...)}, else the SDK's region chain, else us-east-1
     * @return this
     */
    public FleetInstallerBuilder homeRegion(Region region) {
        spec.homeRegion = region;
        return this;
    }

    /**
     * @param roleName the role assumed in every account, e.g. {@code CloudAEyeInstaller} (a path may precede it)
     * @return this
     */
    public FleetInstallerBuilder roleName(String roleName) {
        spec.roleName = roleName;
        return this;
    }

    /**
     * @param externalId the external ID the roles' trust policies require (optional): 2 to 1224 letters, digits or
     *     {@code _+=,.@:/-}, as STS takes it (checked in {@link #build()})
     * @return this
     */
    public FleetInstallerBuilder externalId(String externalId) {
        spec.externalId = externalId;
        return this;
    }

    /**
     * @param sessionName the role session name, shown in every account's CloudTrail: name the run (default
     *     {@code cloudaeye-fleet-<epoch seconds>})
     * @return this
     */
    public FleetInstallerBuilder sessionName(String sessionName) {
        spec.sessionName = sessionName;
        return this;
    }

    /**
     * @param credentials the credentials that call {@code sts:AssumeRole} and Organizations (the caller's: closing the
     *     fleet leaves them open); defaults to the SDK's default chain, a provider the fleet makes and closes
     * @return this
     */
    public FleetInstallerBuilder credentialsProvider(AwsCredentialsProvider credentials) {
        spec.credentials = credentials;
        return this;
    }

    /**
     * @param sts an STS client that the caller built (and will close), to assume the roles with
     * @return this
     */
    public FleetInstallerBuilder stsClient(StsClient sts) {
        spec.sts = sts;
        return this;
    }

    /**
     * Sends every AWS call, STS's included, to one endpoint: a local emulator (moto) in tests and demos.
     *
     * @param endpoint e.g. {@code http://127.0.0.1:5000}
     * @return this
     */
    public FleetInstallerBuilder endpointOverride(URI endpoint) {
        spec.endpointOverride = endpoint;
        spec.steps.add(b -> b.endpointOverride(endpoint));
        return this;
    }

    /**
     * @param agent where the agent sends logs and its token
     * @return this
     */
    public FleetInstallerBuilder agent(AgentSettings agent) {
        spec.steps.add(b -> b.agent(agent));
        return this;
    }

    /**
     * @param agent configures the agent settings
     * @return this
     */
    public FleetInstallerBuilder agent(Consumer<AgentSettings.Builder> agent) {
        // Built here, so incomplete settings fail now, not in the first account.
        return agent(
                Objects.requireNonNull(AgentInstaller.builder().agent(agent).agentSettings(), "built"));
    }

    /**
     * @param target a target used in every account and region, e.g. {@code EcsTarget.builder()...build()}
     * @return this
     */
    public FleetInstallerBuilder target(Target target) {
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
    public FleetInstallerBuilder target(BiFunction<String, Region, Target> target) {
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
    public FleetInstallerBuilder installer(Consumer<AgentInstallerBuilder> customizer) {
        spec.steps.add(customizer);
        return this;
    }

    /**
     * Gives every account-region's installer a sink ({@link AgentInstallerBuilder#sink(SinkKey, Consumer)}) for what
     * an apply hands over and never writes down, e.g. {@code .sink(EksTarget.ACCESS_KEY_SINK, key ->
     * vault.store(key))}. It is called from the fleet's threads, for several account-regions at once: it must be
     * thread-safe. To know which account and region a value comes from, use
     * {@link #sinkPerAccountRegion(SinkKey, BiFunction)}.
     *
     * @param key the sink's key, a constant of the platform module
     * @param sink receives each value; an exception it throws ends that change UNKNOWN, since the value it received
     *     was made (e.g. an access key: roll back or resume); its message is not passed on
     * @param <T> what the sink receives
     * @return this
     */
    public <T> FleetInstallerBuilder sink(SinkKey<T> key, Consumer<? super T> sink) {
        return sinkPerAccountRegion(key, (account, region) -> sink);
    }

    /**
     * Gives each account-region's installer its own sink, e.g. {@code
     * .sinkPerAccountRegion(EksTarget.ACCESS_KEY_SINK, (account, region) -> key -> vault.store(account, region, key))}:
     * the same user name may get a key in every account. The sinks are called from the fleet's threads, for several
     * account-regions at once.
     *
     * @param key the sink's key, a constant of the platform module
     * @param sink makes the sink of an account (its 12-digit ID) and region, once per account-region
     * @param <T> what the sink receives
     * @return this
     */
    public <T> FleetInstallerBuilder sinkPerAccountRegion(
            SinkKey<T> key, BiFunction<String, Region, Consumer<? super T>> sink) {
        spec.perAccountRegion.add((installer, account, region) -> installer.sink(key, sink.apply(account, region)));
        return this;
    }

    /**
     * @param directory where journals are written, one directory per account and region below it ({@code
     *     <directory>/<account>/<region>}); default {@code ~/.cloudaeye/journals}
     * @return this
     */
    public FleetInstallerBuilder journalDirectory(Path directory) {
        return journalStore(JournalStore.directory(directory));
    }

    /**
     * @param store where journals are written, one part per account and region below it ({@code
     *     store.below(account).below(region)}): an {@link S3JournalStore} lets another machine {@link
     *     FleetInstaller#resume()} the run; default: the directory {@code ~/.cloudaeye/journals}
     * @return this
     */
    public FleetInstallerBuilder journalStore(JournalStore store) {
        spec.journals = store;
        spec.journaling = true;
        return this;
    }

    /** @return this, with journaling turned off in every account-region */
    public FleetInstallerBuilder withoutJournal() {
        spec.journaling = false;
        return this;
    }

    /**
     * @param maxParallel how many account-regions are planned or applied at once (default 8); each has its own
     *     rate limits, so more run faster until the machine is the limit
     * @return this
     */
    public FleetInstallerBuilder maxParallel(int maxParallel) {
        spec.maxParallel = FleetSpec.atLeastOne("maxParallel", maxParallel);
        return this;
    }

    /**
     * Bounds the AWS calls the fleet has in flight at once. Each account-region at work gets an equal share (at least
     * one): {@code maxCallsInFlight} over {@link #maxParallel(int)}, or over the fleet's account-regions when the
     * regions are named and they are fewer. Its installer keeps at most that many calls in flight (its own {@link
     * AgentInstallerBuilder#maxConcurrency(int)}, 32 by default, when lower). Each call in flight holds a thread while
     * it waits for AWS: 60 account-regions of 32 calls each are 1,920 threads, and on a small machine they cost more
     * CPU than they gain (docs/BENCHMARKS.md, "The fleet's calls in flight": 20 accounts x 3 regions on 2 cores ran as
     * fast or faster with 8 calls per account-region than with 32, on a fifth to a quarter less CPU and a third of the
     * threads). The default, 512, leaves the default 8 account-regions their 32 calls each and gives 60 at once 8 each.
     *
     * @param maxCallsInFlight AWS calls in flight at once over the whole fleet (default 512)
     * @return this
     */
    public FleetInstallerBuilder maxCallsInFlight(int maxCallsInFlight) {
        spec.maxCallsInFlight = FleetSpec.atLeastOne("maxCallsInFlight", maxCallsInFlight);
        return this;
    }

    /**
     * @param maxFailures failed or unknown changes over the whole fleet after which no new change starts
     *     anywhere (default: no limit); see {@link FleetInstaller#apply(FleetPlan)}
     * @return this
     */
    public FleetInstallerBuilder maxFailures(int maxFailures) {
        spec.maxFailures = FleetSpec.atLeastOne("maxFailures", maxFailures);
        return this;
    }

    /**
     * @param maxFailures failed or unknown changes in one account (over its regions) after which no new change
     *     starts in that account (default: no limit); the other accounts go on
     * @return this
     */
    public FleetInstallerBuilder maxFailuresPerAccount(int maxFailures) {
        spec.maxFailuresPerAccount = FleetSpec.atLeastOne("maxFailuresPerAccount", maxFailures);
        return this;
    }

    /**
     * @return the fleet installer
     * @throws ConfigurationException when accounts, regions, the role, the external ID or the session name are
     *     missing or invalid, or every account given is excluded
     */
    public FleetInstaller build() {
        spec.validate();
        return new FleetInstaller(spec.assemble((installer, account, fleet, limits, callsInFlight) -> installer
                .sharedFailureLimits(limits)
                .fleetMember(fleet)
                .callerAccount(account)
                .concurrencyAtMost(callsInFlight)));
    }
}
