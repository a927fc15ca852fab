package com.cloudaeye.agent;

import com.cloudaeye.agent.internal.FailureBudget;
import com.cloudaeye.agent.internal.Preflight;
import com.cloudaeye.agent.internal.RegionNames;
import com.cloudaeye.agent.spi.FleetScope;
import com.cloudaeye.agent.spi.Target;
import com.cloudaeye.agent.spi.TargetService;
import com.cloudaeye.agent.spi.support.AwsQuotas;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.core.SdkClient;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.regions.providers.DefaultAwsRegionProviderChain;

/** Builds an {@link AgentInstaller}; validation happens in {@link #build()}. */
public final class AgentInstallerBuilder {
    // Package-private: AgentInstaller's constructor reads the settings.
    @Nullable
    Region region;

    @Nullable
    AwsCredentialsProvider credentials;

    @Nullable
    URI endpointOverride;

    final Map<Class<?>, SdkClient> clients = new HashMap<>();

    @Nullable
    AgentSettings agent;

    final List<Target> targets = new ArrayList<>();
    ProgressListener listener = ProgressListener.NONE;
    final Map<String, Double> rates = new HashMap<>();
    Pacing pacing = Pacing.adaptive();
    int maxConcurrency = 32;
    int maxAttempts = 8;
    Duration baseBackoff = Duration.ofMillis(250);
    JournalStore journals = JournalStore.directory(Path.of(System.getProperty("user.home"), ".cloudaeye", "journals"));
    boolean journaling = true;
    int maxFailures = Integer.MAX_VALUE;
    boolean preflight;
    Supplier<List<FailureBudget>> sharedFailureLimits = List::of;
    boolean fleetMember;

    @Nullable
    FleetScope fleet;

    @Nullable
    String account;

    final Map<SinkKey<?>, Consumer<?>> sinks = new HashMap<>();

    AgentInstallerBuilder() {}

    /**
     * @param region the AWS region; defaults to the SDK's region chain ({@code AWS_REGION}, profile)
     * @return this
     */
    public AgentInstallerBuilder region(Region region) {
        this.region = region;
        return this;
    }

    /**
     * @param credentials the credentials; defaults to the SDK's default chain
     * @return this
     */
    public AgentInstallerBuilder credentialsProvider(AwsCredentialsProvider credentials) {
        this.credentials = credentials;
        return this;
    }

    /**
     * Sends every AWS call to one endpoint: a local emulator (moto, LocalStack) in tests and demos.
     *
     * @param endpoint e.g. {@code http://127.0.0.1:5000}
     * @return this
     */
    public AgentInstallerBuilder endpointOverride(URI endpoint) {
        this.endpointOverride = endpoint;
        return this;
    }

    /**
     * Uses a client that the caller built (and will close) instead of making one. Its retry and interceptors are
     * the caller's: the installer's call recorder does not see its calls, and its pacing sees each call once however
     * many attempts the client's own retries make, so a {@link Pacing#share(double) share} counts only first attempts
     * and throttles the client absorbs do not slow adaptive pacing. To leave retries to the installer, build it with
     * {@code .overrideConfiguration(o -> o.retryStrategy(AwsRetryStrategy.doNotRetry()))}.
     *
     * @param type the client interface, e.g. {@code LambdaClient.class}
     * @param client the client
     * @param <C> the client type
     * @return this
     */
    public <C extends SdkClient> AgentInstallerBuilder client(Class<C> type, C client) {
        clients.put(type, client);
        return this;
    }

    /**
     * @param agent where the agent sends logs and its token
     * @return this
     */
    public AgentInstallerBuilder agent(AgentSettings agent) {
        this.agent = agent;
        return this;
    }

    /**
     * @param agent configures the agent settings
     * @return this
     */
    public AgentInstallerBuilder agent(Consumer<AgentSettings.Builder> agent) {
        AgentSettings.Builder b = AgentSettings.builder();
        agent.accept(b);
        try {
            this.agent = b.build();
        } catch (IllegalStateException e) {
            throw new ConfigurationException(
                    "Incomplete agent settings: " + e.getMessage()
                            + ". Set both logsEndpoint(...) and apiToken(Secret.of(...)).",
                    e);
        }
        return this;
    }

    /**
     * Gives the targets a sink for what an apply hands over and never writes down, e.g. {@code
     * .sink(EksTarget.ACCESS_KEY_SINK, key -> vault.store(key))} for the secret of the access key an EKS apply creates.
     * An installer that applies a saved plan or rolls back a journal has no configured target, so it needs the sink
     * here; a target's own setting, where it has one, comes first.
     *
     * @param key the sink's key, a constant of the platform module
     * @param sink receives each value; an exception it throws ends that change UNKNOWN, since the value it received
     *     was made (e.g. an access key: roll back or resume); its message is not passed on
     * @param <T> what the sink receives
     * @return this
     */
    public <T> AgentInstallerBuilder sink(SinkKey<T> key, Consumer<? super T> sink) {
        sinks.put(key, sink);
        return this;
    }

    /** Failure limits shared with other installers: {@link FleetInstaller}'s, per fleet and per account. */
    AgentInstallerBuilder sharedFailureLimits(Supplier<List<FailureBudget>> limits) {
        this.sharedFailureLimits = limits;
        return this;
    }

    /**
     * Makes this one account-region of a {@link FleetInstaller}: a target whose selection matches nothing here plans no
     * changes, with a note, instead of failing the plan; its targets leave a resource named by the ARN of another
     * account-region of the fleet to that member.
     */
    AgentInstallerBuilder fleetMember(FleetScope fleet) {
        this.fleetMember = true;
        this.fleet = fleet;
        return this;
    }

    /**
     * The account the credentials act in, when known without a call: a fleet member's assumed role is in its account.
     * Targets compare it with the accounts of the ARNs they are given.
     */
    AgentInstallerBuilder callerAccount(String accountId) {
        this.account = accountId;
        return this;
    }

    /**
     * Lowers {@link #maxConcurrency(int)} to a fleet member's share of the fleet's calls in flight; a lower value set
     * with {@link FleetInstallerBuilder#installer} stays.
     */
    AgentInstallerBuilder concurrencyAtMost(int share) {
        this.maxConcurrency = Math.min(maxConcurrency, share);
        return this;
    }

    /** The agent settings given so far, for {@link FleetInstallerBuilder}'s same-named setter. */
    @Nullable
    AgentSettings agentSettings() {
        return agent;
    }

    /**
     * Adds a target. Targets are planned in the order added.
     *
     * @param target a target, e.g. {@code LambdaTarget.builder()...build()}
     * @return this
     */
    public AgentInstallerBuilder target(Target target) {
        for (Target t : targets) {
            if (t.name().equals(target.name())) {
                throw new ConfigurationException(
                        "Two " + target.name() + " targets were added: an installer takes one target of each kind."
                                + " Combine their selections into one target, or, where a target covers one place"
                                + " (an ECS target covers one cluster), build one installer per target.");
            }
        }
        targets.add(target);
        return this;
    }

    /**
     * @param listener hears each change's outcome during apply; {@link ProgressListener#console()} for jshell
     * @return this
     */
    public AgentInstallerBuilder listener(ProgressListener listener) {
        this.listener = listener;
        return this;
    }

    /**
     * Overrides the rate of one quota (e.g. when an account has a raised limit, or to leave room for others).
     * {@link #build()} rejects a name that no configured target's quotas have (nor core's, {@code iam} and {@code
     * sts}), and lists the valid ones: {@code lambda.control-plane}, {@code lambda.get-function}, {@code
     * cloudfront.control-plane} (Lambda); {@code ecs.service-read}, {@code ecs.service-modify}, {@code
     * ecs.task-definition-read}, {@code ecs.task-definition-modify} (ECS); {@code eks.control-plane}, {@code
     * cloudformation}, {@code logs.describe-log-groups}, {@code iam} (EKS).
     *
     * @param quotaName e.g. {@code lambda.control-plane}
     * @param requestsPerSecond the rate
     * @return this
     */
    public AgentInstallerBuilder rateLimit(String quotaName, double requestsPerSecond) {
        if (!(requestsPerSecond > 0)) {
            throw new ConfigurationException("rateLimit(" + quotaName + ") must be positive, got " + requestsPerSecond);
        }
        rates.put(quotaName, requestsPerSecond);
        return this;
    }

    /**
     * Chooses how fast the installer calls AWS around the quotas' documented rates; the plan and the console
     * progress output name it.
     *
     * @param pacing {@link Pacing#adaptive()} (the default), {@link Pacing#documentedQuotas()} or {@link
     *     Pacing#share(double)}, e.g. {@code Pacing.share(0.6)} to leave 40 % of every quota to the account's
     *     other users
     * @return this
     */
    public AgentInstallerBuilder pacing(Pacing pacing) {
        this.pacing = java.util.Objects.requireNonNull(pacing, "pacing");
        return this;
    }

    /**
     * @param maxConcurrency how many AWS calls may be in flight at once (default 32)
     * @return this
     */
    public AgentInstallerBuilder maxConcurrency(int maxConcurrency) {
        if (maxConcurrency < 1) {
            throw new ConfigurationException("maxConcurrency must be at least 1, got " + maxConcurrency);
        }
        this.maxConcurrency = maxConcurrency;
        return this;
    }

    /**
     * @param maxAttempts attempts per AWS call on throttling, 5xx and network errors (default 8)
     * @param baseBackoff the first retry's delay, doubled per attempt with jitter (default 250 ms)
     * @return this
     */
    public AgentInstallerBuilder retries(int maxAttempts, Duration baseBackoff) {
        if (maxAttempts < 1) {
            throw new ConfigurationException("maxAttempts must be at least 1, got " + maxAttempts);
        }
        if (baseBackoff.isNegative()) {
            throw new ConfigurationException("retries(..., baseBackoff) must not be negative, got " + baseBackoff
                    + ": pass e.g. Duration.ofMillis(250).");
        }
        this.maxAttempts = maxAttempts;
        this.baseBackoff = baseBackoff;
        return this;
    }

    /**
     * @param directory where apply journals are written (default {@code ~/.cloudaeye/journals})
     * @return this
     */
    public AgentInstallerBuilder journalDirectory(Path directory) {
        return journalStore(JournalStore.directory(directory));
    }

    /**
     * @param store where apply journals are written, e.g. an {@link S3JournalStore} so that another machine can
     *     resume or roll back; default: the local directory {@code ~/.cloudaeye/journals}
     * @return this
     */
    public AgentInstallerBuilder journalStore(JournalStore store) {
        this.journals = store;
        this.journaling = true;
        return this;
    }

    /**
     * Turns journaling off: a failure half-way can then not be rolled back from a journal.
     *
     * @return this
     */
    public AgentInstallerBuilder withoutJournal() {
        this.journaling = false;
        return this;
    }

    /**
     * Stops the apply once this many changes failed or have an unknown outcome: no change starts after that (the rest
     * are not attempted, and say so), and a change starts only while the failures so far plus the changes in flight
     * stay below the limit, so an apply never makes more failures than this, however concurrent its targets are.
     *
     * @param maxFailures the most failures an apply may make (default: no limit)
     * @return this
     */
    public AgentInstallerBuilder maxFailures(int maxFailures) {
        if (maxFailures < 1) {
            throw new ConfigurationException("maxFailures must be at least 1, got " + maxFailures);
        }
        this.maxFailures = maxFailures;
        return this;
    }

    /**
     * Makes {@link AgentInstaller#apply(Plan)} check the caller's permissions with IAM's policy simulator before
     * it changes anything (see {@link AgentInstaller#preflight(Plan)}), and adds the permissions that check needs
     * to every plan's policy.
     *
     * @param preflight true to check first (default false)
     * @return this
     */
    public AgentInstallerBuilder preflight(boolean preflight) {
        this.preflight = preflight;
        return this;
    }

    /**
     * Rejects a {@link #rateLimit} name that no quota of the configured targets has (of every target on the class
     * path when none is configured, as for applying a saved plan), unless a target does not list its quotas.
     */
    private void checkRateNames() {
        if (rates.isEmpty()) {
            return;
        }
        List<TargetService> services = new ArrayList<>();
        targets.forEach(t -> services.add(t.service()));
        if (services.isEmpty()) {
            ServiceLoader.load(TargetService.class, AgentInstallerBuilder.class.getClassLoader())
                    .forEach(services::add);
        }
        SortedSet<String> names = new TreeSet<>(List.of(AwsQuotas.IAM.name(), Preflight.STS.name()));
        for (TargetService service : services) {
            if (service.quotas().isEmpty()) {
                return; // a target that does not list its quotas: its names are not known
            }
            service.quotas().forEach(q -> names.add(q.name()));
        }
        for (String name : new TreeSet<>(rates.keySet())) {
            if (!names.contains(name)) {
                throw new ConfigurationException("rateLimit(\"" + name + "\", ...) names no quota of "
                        + (targets.isEmpty() ? "the targets on the class path" : "the configured targets")
                        + ": the quota names are " + String.join(", ", names) + ". Pass one of them.");
            }
        }
    }

    /**
     * @return the installer
     * @throws ConfigurationException when no region is given or found, or its name is not an AWS region's, or a
     *     {@link #rateLimit} name is no quota of the configured targets
     */
    public AgentInstaller build() {
        Region r = region;
        if (r == null) {
            try {
                r = DefaultAwsRegionProviderChain.builder().build().getRegion();
            } catch (SdkException e) {
                throw new ConfigurationException(
                        "No AWS region: call .region(Region.US_EAST_1) or set the"
                                + " AWS_REGION environment variable.",
                        e);
            }
            RegionNames.check(r, "the region the SDK found (the AWS_REGION environment variable or the profile)");
        } else {
            RegionNames.check(r, ".region(...)");
        }
        checkRateNames();
        return new AgentInstaller(this, r);
    }
}
