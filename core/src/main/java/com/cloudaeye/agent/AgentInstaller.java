package com.cloudaeye.agent;

import com.cloudaeye.agent.internal.ApplyRunner;
import com.cloudaeye.agent.internal.AwsClients;
import com.cloudaeye.agent.internal.AwsErrors;
import com.cloudaeye.agent.internal.CallRecorder;
import com.cloudaeye.agent.internal.DefaultTargetContext;
import com.cloudaeye.agent.internal.FailureBudget;
import com.cloudaeye.agent.internal.HeldJournalStore;
import com.cloudaeye.agent.internal.Preflight;
import com.cloudaeye.agent.internal.PreflightCheck;
import com.cloudaeye.agent.internal.RateLimitedScheduler;
import com.cloudaeye.agent.internal.Recovery;
import com.cloudaeye.agent.spi.Target;
import com.cloudaeye.agent.spi.TargetContext;
import com.cloudaeye.agent.spi.TargetPlan;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.core.SdkClient;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.regions.providers.DefaultAwsRegionProviderChain;

/**
 * Installs the CloudAEye logs agent into AWS workloads: plan first (read-only), review the plan and its IAM policy,
 * then apply; uninstall, roll back or resume later.
 *
 * <pre>{@code
 * try (AgentInstaller installer = AgentInstaller.builder()
 *         .region(Region.US_EAST_1)
 *         .agent(a -> a.logsEndpoint("https://logs.example.cloudaeye.com").apiToken(Secret.of(token)))
 *         .target(LambdaTarget.builder().functions("*").layer(Architecture.X86_64, layerArn).build())
 *         .build()) {
 *     Plan plan = installer.plan();
 *     System.out.println(plan);
 *     System.out.println(plan.requiredPolicy().toJson());
 *     ApplyResult result = installer.apply(plan);
 * }
 * }</pre>
 *
 * <p>Thread-safe. Closing it closes only the clients it made, never clients the caller passed in.
 */
public final class AgentInstaller implements AutoCloseable {
    /** IAM's size limit for a managed policy, in characters without white space. */
    private static final int MANAGED_POLICY_LIMIT = 6144;

    private final Region region;
    private final List<Target> targets;
    private final CallRecorder recorder;
    private final AwsClients clients;
    private final RateLimitedScheduler scheduler;
    private final DefaultTargetContext context;
    private final ProgressListener listener;
    private final @Nullable JournalStore journals;
    private final int maxFailures;
    private final Supplier<List<FailureBudget>> sharedFailureLimits;
    private final boolean preflightOnApply;
    private final PreflightCheck preflightCheck;
    private final String pacingDescription;

    private AgentInstaller(Builder b, Region region) {
        this.region = region;
        this.targets = List.copyOf(b.targets);
        this.recorder = new CallRecorder();
        this.clients = new AwsClients(
                region,
                b.credentials != null
                        ? b.credentials
                        : DefaultCredentialsProvider.builder().build(),
                b.endpointOverride,
                recorder,
                b.clients);
        this.scheduler = new RateLimitedScheduler(b.rates, b.pacing, b.maxConcurrency, b.maxAttempts, b.baseBackoff);
        this.pacingDescription = describe(b.pacing, b.rates);
        this.context = new DefaultTargetContext(clients, scheduler, b.agent);
        this.listener = b.listener;
        this.journals = b.journaling ? b.journals : null;
        this.maxFailures = b.maxFailures;
        this.sharedFailureLimits = b.sharedFailureLimits;
        this.preflightOnApply = b.preflight;
        this.preflightCheck = new PreflightCheck(new Preflight(context));
    }

    /** @return a new builder */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Plans the install with read-only calls: one change per selected resource, with reasons for skips.
     *
     * @return the plan
     * @throws PlanningException when a named resource does not exist, a selection matches nothing, or the
     *     credentials are missing, expired or rejected
     * @throws InsufficientPermissionsException when AWS denies a read, with a policy granting it
     */
    public Plan plan() {
        return plan(Plan.Kind.INSTALL, Target::plan);
    }

    /**
     * Plans removing what the installer added (our layers, variables, sidecars, releases), with read-only calls.
     *
     * @return the uninstall plan; apply it with {@link #apply(Plan)}
     */
    public Plan planUninstall() {
        return plan(Plan.Kind.UNINSTALL, Target::planUninstall);
    }

    /**
     * Plans restoring the before-state of everything a journaled apply may have changed, with read-only calls: every
     * change whose mutating call was sent (applied, unknown, interrupted, or failed after it started), each checked by
     * its target against the live state. Resources that someone changed since are skipped with that reason.
     *
     * @param journal the journal of an earlier apply
     * @return the rollback plan; apply it with {@link #apply(Plan)}
     */
    public Plan planRollback(Journal journal) {
        Plan.Builder plan = Recovery.rollback(journal, region.id(), this::target, context);
        addPreflightPermissions(plan);
        return plan.build();
    }

    /**
     * Applies a plan: every mutating change, scheduled under AWS's rate limits, journaled before and after each
     * mutation. One resource's failure does not stop the others (see {@link Builder#maxFailures(int)}).
     *
     * @param plan a plan made by this installer or read with {@link Plan#fromJson(String)}
     * @return per resource: applied, skipped (why) or failed (why); and the journal
     * @throws ApplyException when the apply could not go on (e.g. the journal is not writable); it carries the result
     */
    public ApplyResult apply(Plan plan) {
        return apply(plan, null, journals);
    }

    private ApplyResult apply(Plan plan, @Nullable Journal resumed, @Nullable JournalStore store) {
        if (!plan.region().equals(region.id())) {
            throw new ConfigurationException("The plan is for region " + plan.region() + " but this installer is for "
                    + region.id() + ": build the installer with .region(Region.of(\"" + plan.region() + "\")).");
        }
        if (preflightOnApply && !plan.isEmpty()) {
            preflight(plan);
        }
        Plan paced = Plan.builder().from(plan).pacing(pacingDescription).build();
        return new ApplyRunner(context, recorder, listener, store, maxFailures, sharedFailureLimits.get())
                .run(paced, this::target, resumed);
    }

    /**
     * Checks, before anything changes, that the caller may make every call the plan needs: finds the caller with
     * {@code sts:GetCallerIdentity} (an assumed-role session is checked as its role) and evaluates the plan's
     * {@link Plan#requiredPolicy() policy}, action by action on exactly its resources, with IAM's policy simulator
     * ({@code iam:SimulatePrincipalPolicy}). It makes only read calls. {@link Builder#preflight(boolean)} makes
     * {@link #apply(Plan)} run it first.
     *
     * <p>It needs permissions of its own, which plans list only when {@link Builder#preflight(boolean)} is on:
     * {@code iam:SimulatePrincipalPolicy} on the caller's user or role ARN and, for a role with a path (which the
     * session ARN leaves out), {@code iam:GetRole} on that role. {@code sts:GetCallerIdentity} needs no permission.
     * The simulator evaluates the principal's identity-based policies and permissions boundary, not resource-based
     * policies (such as a layer's), so a passed preflight is necessary, not sufficient. The account's root user cannot
     * be simulated: for it the check passes with a warning in the log.
     *
     * @param plan the plan to check
     * @throws InsufficientPermissionsException when the caller lacks permissions; {@link
     *     InsufficientPermissionsException#missing()} grants exactly those
     * @throws AgentException when the caller cannot be found or simulated (e.g. a federated user)
     */
    public void preflight(Plan plan) {
        preflightCheck.check(plan);
    }

    private void addPreflightPermissions(Plan.Builder plan) {
        if (preflightOnApply) {
            preflightCheck.addPermissions(plan);
        }
    }

    /**
     * Plans and applies the uninstall.
     *
     * @return the result
     */
    public ApplyResult uninstall() {
        return apply(planUninstall());
    }

    /**
     * Plans and applies a rollback of a journaled apply. With a shared store ({@link S3JournalStore}) whose bucket
     * holds the journal, it first takes the journal's lease, like {@link #resume(Journal)}, and holds it until the
     * rollback ends: refused while the lease of the worker that wrote it is live (that worker may still be applying),
     * and stopped before its next change should another worker take the run over meanwhile.
     *
     * @param journal the journal of the apply to undo
     * @return the result
     * @throws JournalException when another worker's lease on the journal is live; nothing was changed
     */
    public ApplyResult rollback(Journal journal) {
        if (journals instanceof S3JournalStore shared) {
            HeldJournalStore held = shared.hold(journal); // refused while another worker's lease is live
            if (held != null) {
                try (held) {
                    return apply(planRollback(journal), null, held);
                }
            }
        }
        return apply(planRollback(journal));
    }

    /**
     * Finishes an interrupted apply without applying anything twice. Changes the journal shows as started but without
     * an outcome (the process died during their mutation), and changes whose outcome is {@link
     * ResourceResult.Outcome#UNKNOWN unknown}, are handed to their target as journaled: the target reads
     * the live resource and reports it applied when the mutation had landed, applies it when it had not, and skips it
     * when someone else changed the resource since. Changes that were never started, failed or were skipped are
     * planned again from their live state (for an install or uninstall) or taken from the journal (for a rollback,
     * whose before-states only the journal knows). The new apply writes its own journal, in which every resource of
     * the interrupted one that is now done appears as applied; with a shared store ({@link S3JournalStore}) it takes
     * the interrupted journal over once its writer's lease expired and appends to it, and is refused while the lease
     * is live.
     *
     * @param journal the journal of the interrupted apply
     * @return the result of the remaining work
     */
    public ApplyResult resume(Journal journal) {
        return apply(
                Recovery.resume(journal, kind -> kind == Plan.Kind.UNINSTALL ? planUninstall() : plan()),
                journal,
                journals);
    }

    /** @return the AWS calls this installer made so far, per IAM action */
    public Map<String, Long> calls() {
        return recorder.snapshot();
    }

    /** @return the region */
    public Region region() {
        return region;
    }

    private Plan plan(Plan.Kind kind, BiFunction<Target, TargetContext, TargetPlan> planner) {
        if (targets.isEmpty()) {
            throw new ConfigurationException("No target configured: add one with .target(LambdaTarget.builder()...)"
                    + " (or EcsTarget, EksTarget) before planning.");
        }
        Plan.Builder plan = Plan.builder().kind(kind).region(region.id());
        for (Target t : targets) {
            try {
                Recovery.add(plan, planner.apply(t, context));
            } catch (SdkException e) {
                throw AwsErrors.whilePlanning(t.name(), region.id(), e);
            }
        }
        addPreflightPermissions(plan);
        plan.pacing(pacingDescription);
        Plan built = plan.build();
        int policySize = built.requiredPolicy().toJson().replaceAll("\\s+", "").length();
        if (policySize > MANAGED_POLICY_LIMIT) {
            built = Plan.builder()
                    .from(built)
                    .addNotes("The required policy has " + policySize + " characters, over IAM's "
                            + MANAGED_POLICY_LIMIT + " for one managed policy: split the plan (for example by"
                            + " function name prefix) or attach it as several policies.")
                    .build();
        }
        return built;
    }

    /** The pacing line of plans and progress output: the pacing, and the rates the caller set. */
    private static String describe(Pacing pacing, Map<String, Double> rates) {
        if (rates.isEmpty()) {
            return pacing.toString();
        }
        StringBuilder s = new StringBuilder(pacing.toString()).append("; rates set:");
        new java.util.TreeMap<>(rates)
                .forEach((name, rate) ->
                        s.append(' ').append(name).append(' ').append(rate).append("/s"));
        return s.toString();
    }

    private Target target(String name) {
        return Recovery.target(targets, name);
    }

    /** Closes the clients and threads this installer made; caller-built clients stay open. */
    @Override
    public void close() {
        scheduler.close();
        clients.close();
    }

    /** Builds an {@link AgentInstaller}; validation happens in {@link #build()}. */
    public static final class Builder {
        private @Nullable Region region;
        private @Nullable AwsCredentialsProvider credentials;
        private @Nullable URI endpointOverride;
        private final Map<Class<?>, SdkClient> clients = new HashMap<>();
        private @Nullable AgentSettings agent;
        private final List<Target> targets = new ArrayList<>();
        private ProgressListener listener = ProgressListener.NONE;
        private final Map<String, Double> rates = new HashMap<>();
        private Pacing pacing = Pacing.adaptive();
        private int maxConcurrency = 32;
        private int maxAttempts = 8;
        private Duration baseBackoff = Duration.ofMillis(250);
        private JournalStore journals =
                JournalStore.directory(Path.of(System.getProperty("user.home"), ".cloudaeye", "journals"));
        private boolean journaling = true;
        private int maxFailures = Integer.MAX_VALUE;
        private boolean preflight;
        private Supplier<List<FailureBudget>> sharedFailureLimits = List::of;

        private Builder() {}

        /**
         * @param region the AWS region; defaults to the SDK's region chain ({@code AWS_REGION}, profile)
         * @return this
         */
        public Builder region(Region region) {
            this.region = region;
            return this;
        }

        /**
         * @param credentials the credentials; defaults to the SDK's default chain
         * @return this
         */
        public Builder credentialsProvider(AwsCredentialsProvider credentials) {
            this.credentials = credentials;
            return this;
        }

        /**
         * Sends every AWS call to one endpoint: a local emulator (moto, LocalStack) in tests and demos.
         *
         * @param endpoint e.g. {@code http://127.0.0.1:5000}
         * @return this
         */
        public Builder endpointOverride(URI endpoint) {
            this.endpointOverride = endpoint;
            return this;
        }

        /**
         * Uses a client that the caller built (and will close) instead of making one. Its retry and interceptors are
         * the caller's: the installer's call recorder does not see its calls.
         *
         * @param type the client interface, e.g. {@code LambdaClient.class}
         * @param client the client
         * @param <C> the client type
         * @return this
         */
        public <C extends SdkClient> Builder client(Class<C> type, C client) {
            clients.put(type, client);
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

        /** Failure limits shared with other installers: {@link FleetInstaller}'s, per fleet and per account. */
        Builder sharedFailureLimits(Supplier<List<FailureBudget>> limits) {
            this.sharedFailureLimits = limits;
            return this;
        }

        /** The agent settings given so far, for {@link FleetInstaller.Builder}'s same-named setter. */
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
        public Builder target(Target target) {
            for (Target t : targets) {
                if (t.name().equals(target.name())) {
                    throw new ConfigurationException("Two " + target.name() + " targets were added: combine their"
                            + " selections into one target.");
                }
            }
            targets.add(target);
            return this;
        }

        /**
         * @param listener hears each change's outcome during apply; {@link ProgressListener#console()} for jshell
         * @return this
         */
        public Builder listener(ProgressListener listener) {
            this.listener = listener;
            return this;
        }

        /**
         * Overrides the rate of one quota (e.g. when an account has a raised limit, or to leave room for others).
         *
         * @param quotaName e.g. {@code lambda.control-plane}
         * @param requestsPerSecond the rate
         * @return this
         */
        public Builder rateLimit(String quotaName, double requestsPerSecond) {
            if (!(requestsPerSecond > 0)) {
                throw new ConfigurationException(
                        "rateLimit(" + quotaName + ") must be positive, got " + requestsPerSecond);
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
        public Builder pacing(Pacing pacing) {
            this.pacing = java.util.Objects.requireNonNull(pacing, "pacing");
            return this;
        }

        /**
         * @param maxConcurrency how many AWS calls may be in flight at once (default 32)
         * @return this
         */
        public Builder maxConcurrency(int maxConcurrency) {
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
        public Builder retries(int maxAttempts, Duration baseBackoff) {
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
        public Builder journalDirectory(Path directory) {
            return journalStore(JournalStore.directory(directory));
        }

        /**
         * @param store where apply journals are written, e.g. an {@link S3JournalStore} so that another machine can
         *     resume or roll back; default: the local directory {@code ~/.cloudaeye/journals}
         * @return this
         */
        public Builder journalStore(JournalStore store) {
            this.journals = store;
            this.journaling = true;
            return this;
        }

        /**
         * Turns journaling off: a failure half-way can then not be rolled back from a journal.
         *
         * @return this
         */
        public Builder withoutJournal() {
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
        public Builder maxFailures(int maxFailures) {
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
        public Builder preflight(boolean preflight) {
            this.preflight = preflight;
            return this;
        }

        /**
         * @return the installer
         * @throws ConfigurationException when no region is given or found
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
            }
            return new AgentInstaller(this, r);
        }
    }
}
