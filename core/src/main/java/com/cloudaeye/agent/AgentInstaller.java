package com.cloudaeye.agent;

import com.cloudaeye.agent.internal.ApplyRunner;
import com.cloudaeye.agent.internal.AwsClients;
import com.cloudaeye.agent.internal.AwsErrors;
import com.cloudaeye.agent.internal.CallRecorder;
import com.cloudaeye.agent.internal.DefaultTargetContext;
import com.cloudaeye.agent.internal.FailureBudget;
import com.cloudaeye.agent.internal.FleetTable;
import com.cloudaeye.agent.internal.HeldJournalStore;
import com.cloudaeye.agent.internal.Preflight;
import com.cloudaeye.agent.internal.PreflightCheck;
import com.cloudaeye.agent.internal.RateLimitedScheduler;
import com.cloudaeye.agent.internal.Recovery;
import com.cloudaeye.agent.spi.Target;
import com.cloudaeye.agent.spi.TargetContext;
import com.cloudaeye.agent.spi.TargetPlan;
import com.cloudaeye.agent.spi.TargetService;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.BiFunction;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.regions.Region;

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
    private final boolean fleetMember;

    AgentInstaller(AgentInstallerBuilder b, Region region) {
        this.region = region;
        this.targets = List.copyOf(b.targets);
        this.recorder = new CallRecorder();
        // The caller's credentials stay open when the installer closes; the default chain made here is closed with it.
        this.clients = b.credentials != null
                ? new AwsClients(region, b.credentials, b.endpointOverride, recorder, b.clients)
                : AwsClients.owning(
                        region, DefaultCredentialsProvider.builder().build(), b.endpointOverride, recorder, b.clients);
        this.scheduler = new RateLimitedScheduler(b.rates, b.pacing, b.maxConcurrency, b.maxAttempts, b.baseBackoff);
        this.pacingDescription = describe(b.pacing, b.rates);
        this.context = new DefaultTargetContext(clients, scheduler, b.agent, b.sinks, b.account, b.fleet);
        this.listener = b.listener;
        this.journals = b.journaling ? b.journals : null;
        this.maxFailures = b.maxFailures;
        this.sharedFailureLimits = b.sharedFailureLimits;
        this.preflightOnApply = b.preflight;
        this.preflightCheck = new PreflightCheck(new Preflight(context));
        this.fleetMember = b.fleetMember;
    }

    /** @return a new builder */
    public static AgentInstallerBuilder builder() {
        return new AgentInstallerBuilder();
    }

    /**
     * Plans the install with read-only calls: one change per selected resource, with reasons for skips.
     *
     * @return the plan
     * @throws PlanningException when a named resource does not exist, a selection matches nothing ({@link
     *     NothingSelectedException}), or the credentials are missing, expired or rejected
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
        Plan.Builder plan = Recovery.rollback(journal, region.id(), this::service, context)
                .rollsBack(journal.location())
                .rollsBackLines(journal.lineCount());
        addPreflightPermissions(plan);
        return plan.build();
    }

    /**
     * Applies a plan: every mutating change, scheduled under AWS's rate limits, journaled before and after each
     * mutation. One resource's failure does not stop the others (see {@link AgentInstallerBuilder#maxFailures(int)}).
     *
     * <p>A rollback plan ({@link #planRollback(Journal)}) of a journal that this installer's {@link S3JournalStore}
     * holds is applied under that journal's lease, as {@link #rollback(Journal)} applies: refused while the lease of
     * the worker that wrote it is live (it may still be applying), and refused when the journal has grown since the
     * plan was made (the run went on, so the plan may miss what it sent since: plan the rollback again).
     *
     * @param plan a plan made by this installer or read with {@link Plan#fromJson(String)}
     * @return per resource: applied, skipped (why) or failed (why); and the journal
     * @throws JournalException when a rollback plan's journal is leased by another worker, or has grown since the
     *     plan was made; nothing was changed
     * @throws ApplyException when the apply could not go on (e.g. the journal is not writable), or when a target
     *     refused its changes before any target started (its cause names the resource and the fix; nothing was
     *     changed, every change is not attempted, no journal was written); it carries the result
     */
    public ApplyResult apply(Plan plan) {
        Optional<String> rolledBack = plan.rollsBack();
        if (journals instanceof S3JournalStore shared && rolledBack.isPresent() && !plan.isEmpty()) {
            String location = rolledBack.get();
            HeldJournalStore held = shared.hold(location); // refused while another worker's lease is live
            if (held != null) {
                try {
                    checkNotGrown(plan, Journal.read(shared, location));
                } catch (RuntimeException e) {
                    closeAfterFailure(held, e);
                    throw e;
                }
                return applyHolding(held, location, () -> apply(plan, null, held));
            }
        }
        return apply(plan, null, journals);
    }

    /** Refuses a rollback plan whose journal, read again under its lease, holds more than when it was planned. */
    private static void checkNotGrown(Plan plan, Journal now) {
        int planned = plan.rollsBackLines().orElse(now.lineCount());
        if (now.lineCount() != planned) {
            throw new JournalException(
                    "The run that this rollback plan undoes went on after the plan was made: its"
                            + " journal " + now.location() + " holds " + now.lineCount()
                            + " lines, the plan was made from "
                            + planned + ", so the plan may miss what the run sent since. Nothing was changed. Plan the"
                            + " rollback again (planRollback) and apply the new plan, or roll back with rollback(Journal).",
                    new IllegalStateException("journal grew"));
        }
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
                .run(paced, this::service, resumed);
    }

    /**
     * Checks, before anything changes, that the caller may make every call the plan needs: finds the caller with
     * {@code sts:GetCallerIdentity} (an assumed-role session is checked as its role) and evaluates the plan's
     * {@link Plan#requiredPolicy() policy}, action by action on exactly its resources, with IAM's policy simulator
     * ({@code iam:SimulatePrincipalPolicy}). It makes only read calls. {@link AgentInstallerBuilder#preflight(boolean)} makes
     * {@link #apply(Plan)} run it first.
     *
     * <p>It needs permissions of its own, which plans list only when {@link AgentInstallerBuilder#preflight(boolean)} is on:
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
     * and stopped before its next change should another worker take the run over meanwhile. Under the lease it reads
     * the journal again, so that what the run sent since the caller read it is rolled back too.
     *
     * @param journal the journal of the apply to undo
     * @return the result
     * @throws JournalException when another worker's lease on the journal is live; nothing was changed
     * @throws ApplyException when the rollback stopped part way, or when it ended but the lease on the rolled-back
     *     journal was lost before its release (another worker may act on that run now): its {@link
     *     ApplyException#result()} is the rollback's result either way
     */
    public ApplyResult rollback(Journal journal) {
        if (journals instanceof S3JournalStore shared) {
            HeldJournalStore held = shared.hold(journal.location()); // refused while another worker's lease is live
            if (held != null) {
                // Read again under the lease: the run may have gone on since the caller read its journal.
                return applyHolding(
                        held,
                        journal.location(),
                        () -> apply(planRollback(Journal.read(shared, journal.location())), null, held));
            }
        }
        return apply(planRollback(journal));
    }

    /** Applies while holding the lease of the journal at {@code location}, and releases it after. */
    private static ApplyResult applyHolding(HeldJournalStore held, String location, Supplier<ApplyResult> apply) {
        ApplyResult result;
        try {
            result = apply.get();
        } catch (RuntimeException e) {
            closeAfterFailure(held, e);
            throw e;
        }
        try {
            held.close();
        } catch (JournalException lost) {
            // The rollback ended; losing the lease only at its release must not lose its result.
            throw new ApplyException(
                    "The rollback ended (" + result.status() + "), but this worker lost the lease on the"
                            + " rolled-back journal " + location + " before it released it: "
                            + Objects.requireNonNullElse(lost.getMessage(), lost.toString())
                            + ". Another worker may be resuming or rolling back that run now: stop it or let"
                            + " it finish, then re-plan. What the rollback did is in this exception's"
                            + " result().",
                    result,
                    lost);
        }
        return result;
    }

    private static void closeAfterFailure(HeldJournalStore held, RuntimeException failure) {
        try {
            held.close();
        } catch (JournalException e) {
            failure.addSuppressed(e);
        }
    }

    /**
     * Finishes an interrupted apply without applying anything twice. Changes the journal shows as started but without
     * an outcome (the process died during their mutation), and changes whose outcome is {@link
     * ResourceResult.Outcome#UNKNOWN unknown}, are handed to their target as journaled: the target reads
     * the live resource and reports it applied when the mutation had landed, applies it when it had not, and skips it
     * when someone else changed the resource since. Changes that were never started, failed or were skipped are
     * planned again from their live state (for an install or uninstall) or taken from the journal (for a rollback,
     * whose before-states only the journal knows). The resume's journal holds the whole run (see {@link
     * JournalStore#resume}): a new file that begins with the interrupted journal's lines, or, with a shared store
     * ({@link S3JournalStore}), the interrupted journal itself, taken over once its writer's lease expired (refused
     * while the lease is live, and read again first, so that what the run did since the caller read it is not done
     * twice); {@link #rollback(Journal)} of it undoes what both applies sent. A rollback's resume also holds the lease of the journal it rolls back again, as {@link
     * #rollback(Journal)} does, until it ends.
     *
     * @param read the journal of the interrupted apply (read again from a shared store, which may hold more)
     * @return the result of the remaining work
     * @throws JournalException when another worker's lease on the journal (or, for a rollback, on the journal it rolls
     *     back) is live; nothing was changed
     * @throws ApplyException when a target refused its changes before any started (nothing was changed, and the
     *     journal is as it was: resume it again after the fix), when the apply stopped part way, or when a rollback's
     *     resume ended but the lease on the rolled-back journal was lost before its release: its {@link
     *     ApplyException#result()} is the result either way
     */
    public ApplyResult resume(Journal read) {
        Journal journal = read;
        if (journals instanceof S3JournalStore shared && shared.holds(read.location())) {
            // Read again: the run may have gone on since the caller read it. Taking it over checks that it has not
            // grown since this read either, so the resume is planned from all the run sent.
            journal = Journal.read(shared, read.location());
        }
        return resumeRead(journal);
    }

    private ApplyResult resumeRead(Journal journal) {
        Optional<String> rolledBack = journal.rollsBack();
        if (journals instanceof S3JournalStore shared && rolledBack.isPresent()) {
            HeldJournalStore held = shared.hold(rolledBack.get()); // refused while another worker's lease is live
            if (held != null) {
                return applyHolding(held, rolledBack.get(), () -> apply(resumed(journal), journal, held));
            }
        }
        return apply(resumed(journal), journal, journals);
    }

    private Plan resumed(Journal journal) {
        return Recovery.resume(journal, kind -> kind == Plan.Kind.UNINSTALL ? planUninstall() : plan());
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
            } catch (NothingSelectedException e) {
                if (!fleetMember) {
                    throw e;
                }
                // In a fleet, an account-region without the selected resources has nothing to change: say so.
                plan.addNotes(FleetTable.nothingSelected(t.name(), Objects.requireNonNullElse(e.getMessage(), "")));
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

    private TargetService service(String name) {
        return Recovery.service(targets, name);
    }

    /** Closes the clients and threads this installer made; caller-built clients stay open. */
    @Override
    public void close() {
        scheduler.close();
        clients.close();
    }
}
