package com.cloudaeye.agent.testing;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.AgentInstallerBuilder;
import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.Journal;
import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.PolicyDocument;
import com.cloudaeye.agent.ResourceResult;
import com.cloudaeye.agent.spi.Target;
import com.cloudaeye.agent.spi.TargetContext;
import com.cloudaeye.agent.spi.TargetPlan;
import com.cloudaeye.agent.spi.TargetService;
import com.cloudaeye.agent.spi.support.AwsActions;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.ServiceLoader;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The behaviour every target must show, run by each platform module's integration test against moto: extend it,
 * create the fixture resources in a {@code @BeforeEach}, and return the configured target ({@link #target()}) and a
 * builder pointed at moto without a target ({@link #environment()}). The fixture MUST give the target at least one
 * change to make. The rules it checks, each a test:
 *
 * <ul>
 *   <li>{@code plan()} makes no mutating call;
 *   <li>{@link com.cloudaeye.agent.spi.TargetService#checkApply checkApply} lets the target's own fresh plan's
 *       changes through with the context the installer planned with: no exception and no mutating call, twice in a
 *       row; planning again finds the same changes and applying the plan afterwards succeeds;
 *   <li>{@code apply(plan)} then {@code plan()} is empty, and the same for uninstall;
 *   <li>a saved plan (its JSON) is applied by a fresh installer that has no target configured: core finds the
 *       target's {@link com.cloudaeye.agent.spi.TargetService} through {@link java.util.ServiceLoader} (a {@code
 *       provides} in the module descriptor, a {@code META-INF/services} entry, and a public no-argument constructor
 *       of the service), and the change lands as if the planning installer had applied it;
 *   <li>the target's {@link Target#service() service} and the one {@link java.util.ServiceLoader} finds carry the
 *       target's name;
 *   <li>a rollback of the journal, by a fresh installer, restores what the apply changed: planning again finds the
 *       same changes to make;
 *   <li>resume after a crash during a change: when the change had landed, resume makes no mutating call (but those
 *       the target lists as idempotent) and reports it applied; when it had not, resume applies it; either way planning again is empty;
 *   <li>{@code FAILED} means the change did not land: when every mutating call is lost before it reaches AWS (the
 *       target reads back and finds nothing changed), every change is failed (or not attempted), the apply's status
 *       is {@code FAILED}, and planning again finds every change still to do;
 *   <li>a mutating call whose answer is lost and whose read-back fails too (every call after the lost one is denied,
 *       an error no retry cures) is {@code UNKNOWN}, never {@code FAILED}: a change that landed is reported {@code
 *       APPLIED} or {@code UNKNOWN}, a {@code FAILED} one did not land, and resume then finishes the job;
 *   <li>the policy proof, per (action, resource) pair seen on the wire: every call that plan, apply, rollback and the
 *       failure runs (read-backs included) made is allowed by its plan's policy; every (action, resource) the install
 *       policy grants is used by plan or apply, unless it is authorization-only or the target lists it as used only
 *       on a failure or read-back path.
 * </ul>
 *
 * <p>Fault runs put a {@link ThrottlingProxy} in front of {@link #endpoint()} and use {@link
 * AgentInstallerBuilder#retries(int, java.time.Duration) two attempts} per call, so each takes seconds, not minutes.
 */
public abstract class TargetContract {
    /** A fresh directory for journals. */
    @TempDir
    protected Path journals;

    /** @return the target under test, configured to select the fixture's resources; a new instance per call */
    protected abstract Target target();

    /**
     * @return a builder pointed at moto ({@link #endpoint()}), with region, credentials, agent settings and the
     *     installer-level sinks the target needs ({@code AgentInstallerBuilder.sink}, e.g. for the secret of a key
     *     the apply creates, which a fresh installer without a target has nowhere else to hand over) but no target:
     *     the contract adds the target (or leaves it out, to apply through ServiceLoader) and the journal directory
     */
    protected abstract AgentInstallerBuilder environment();

    /**
     * @return where {@link #environment()} sends calls, for the contract's proxy to forward to (default: moto itself;
     *     override when the fixture puts its own proxy in front of moto)
     */
    protected URI endpoint() {
        return Moto.endpoint();
    }

    /** @return actions AWS authorizes without a call of that name (e.g. {@code iam:PassRole}) */
    protected Set<String> authorizationOnlyActions() {
        return Set.of();
    }

    /**
     * @param granted one (action, resource) the policy grants
     * @return true when AWS authorizes it inside another call, so no call of its own uses it (by default: an action of
     *     {@link #authorizationOnlyActions()})
     */
    protected boolean authorizationOnly(Permission granted) {
        return authorizationOnlyActions().contains(granted.action());
    }

    /**
     * @return actions that plan and apply make only on a failure or read-back path the contract's happy run does not
     *     take (e.g. a read after a lost answer), each named here on purpose; their grants are not required to be used
     */
    protected Set<String> failureAndReadBackOnlyActions() {
        return Set.of();
    }

    /**
     * @return actions a resumed change that had already landed may call again because AWS makes them idempotent (e.g.
     *     {@code lambda:PublishVersion}, which returns the existing version when nothing changed since it), each named
     *     here on purpose; any other mutating call during that resume fails the contract
     */
    protected Set<String> idempotentOnResumeActions() {
        return Set.of();
    }

    /**
     * @param change a change of the install plan
     * @return true when rollback keeps what it created on purpose, so that planning after a rollback no longer plans
     *     it (e.g. something other resources may have come to depend on)
     */
    protected boolean keptByRollback(com.cloudaeye.agent.Change change) {
        return false;
    }

    /**
     * A rule of this contract the target is known to break, named with its issue, so the suite stays green while it is
     * open. The contract then asserts that the gap is still there, and fails once it is fixed: remove the name then.
     *
     * @return rule names, e.g. {@link #LOST_ANSWER_IS_UNKNOWN}
     */
    protected Set<String> knownGaps() {
        return Set.of();
    }

    /** The rule that a fresh installer applies a saved plan through ServiceLoader, for {@link #knownGaps()}. */
    protected static final String SAVED_PLAN_APPLIES = "saved-plan-applies";

    /** The rule that the rollback plan's policy allows every call of the rollback, for {@link #knownGaps()}. */
    protected static final String ROLLBACK_POLICY_COVERS_CALLS = "rollback-policy-covers-calls";

    /** The rule that a lost answer whose read-back fails is {@code UNKNOWN}, for {@link #knownGaps()}. */
    protected static final String LOST_ANSWER_IS_UNKNOWN = "lost-answer-is-unknown";

    /** @return an installer with the configured target, journaling into {@link #journals} */
    protected AgentInstaller configured() {
        return environment().target(target()).journalDirectory(journals).build();
    }

    private AgentInstaller configured(ThrottlingProxy proxy) {
        return ContractRuns.quick(environment().target(target()), proxy)
                .journalDirectory(journals)
                .build();
    }

    private AgentInstaller fresh(ThrottlingProxy proxy) {
        return ContractRuns.quick(environment(), proxy)
                .journalDirectory(journals)
                .build();
    }

    @Test
    void plan_makesNoMutatingCall() {
        try (AgentInstaller installer = configured()) {
            Plan plan = installer.plan();
            assertThat(plan.mutations())
                    .as("the fixture must give the target something to do")
                    .isNotEmpty();
            assertThat(installer.calls().keySet())
                    .as("calls made by plan()")
                    .isNotEmpty()
                    .allMatch(AwsActions::isReadOnly);
        }
    }

    /**
     * {@link TargetService#checkApply} lets the target's own fresh plan through, as a pure check: with the context the
     * installer planned with, it throws nothing and makes no mutating call, twice in a row; planning again finds the
     * same changes, and applying the plan afterwards still succeeds.
     */
    @Test
    void checkApply_acceptsTheTargetsOwnFreshPlan_makesNoMutatingCall_andChangesNothing() {
        Target real = target();
        TargetContext[] seen = new TargetContext[1];
        Target capturing = new Target() {
            @Override
            public String name() {
                return real.name();
            }

            @Override
            public TargetPlan plan(TargetContext context) {
                seen[0] = context;
                return real.plan(context);
            }

            @Override
            public TargetPlan planUninstall(TargetContext context) {
                seen[0] = context;
                return real.planUninstall(context);
            }

            @Override
            public TargetService service() {
                return real.service();
            }
        };
        try (AgentInstaller installer =
                environment().target(capturing).journalDirectory(journals).build()) {
            Plan plan = installer.plan();
            List<Change> own = plan.mutations().stream()
                    .filter(c -> c.target().equals(real.name()))
                    .toList();
            assertThat(own)
                    .as("the fixture must give the target something to do")
                    .isNotEmpty();
            assertThat(seen[0]).as("the context the installer planned with").isNotNull();
            Map<String, Long> before = installer.calls();
            for (int i = 0; i < 2; i++) {
                real.service().checkApply(own, seen[0]);
            }
            Map<String, Long> after = installer.calls();
            assertThat(after.keySet().stream()
                            .filter(action -> !Objects.equals(after.get(action), before.get(action)))
                            .toList())
                    .as("calls made by checkApply()")
                    .allMatch(AwsActions::isReadOnly);
            assertThat(ContractRuns.keys(installer.plan()))
                    .as("the changes planned again after checkApply()")
                    .isEqualTo(ContractRuns.keys(plan));
            ApplyResult applied = installer.apply(plan);
            assertThat(applied.isSuccess()).as(applied.toString()).isTrue();
        }
    }

    @Test
    void apply_thenPlan_isEmpty_andUninstall_thenPlanUninstall_isEmpty() {
        try (AgentInstaller installer = configured()) {
            ApplyResult applied = installer.apply(installer.plan());
            assertThat(applied.isSuccess()).as(applied.toString()).isTrue();
            Plan again = installer.plan();
            assertThat(again.mutations()).as(again.toString()).isEmpty();

            ApplyResult removed = installer.uninstall();
            assertThat(removed.isSuccess()).as(removed.toString()).isTrue();
            Plan uninstallAgain = installer.planUninstall();
            assertThat(uninstallAgain.mutations()).as(uninstallAgain.toString()).isEmpty();
        }
    }

    @Test
    void service_ofTheTargetAndOfServiceLoader_carryTheTargetsName() {
        Target target = target();
        assertThat(target.service().name()).as("the name of target().service()").isEqualTo(target.name());
        assertThat(ServiceLoader.load(TargetService.class).stream()
                        .map(p -> p.get().name())
                        .toList())
                .as("the names of the services ServiceLoader finds")
                .contains(target.name());
    }

    @Test
    void savedPlan_isAppliedByAFreshInstaller_thatFindsTheServiceThroughServiceLoader() {
        String saved;
        try (AgentInstaller planner = configured()) {
            saved = planner.plan().toJson();
        }
        try (ThrottlingProxy proxy = ContractRuns.recording(endpoint());
                AgentInstaller fresh = fresh(proxy)) {
            Plan plan = Plan.fromJson(saved);
            ApplyResult applied = fresh.apply(plan);
            if (knownGaps().contains(SAVED_PLAN_APPLIES)) {
                assertThat(applied.isSuccess())
                        .as("a known gap that is fixed now: remove it from knownGaps()\n" + applied)
                        .isFalse();
                return;
            }
            assertThat(applied.isSuccess()).as(applied.toString()).isTrue();
            ContractRuns.assertAllowed(plan.requiredPolicy(), proxy, "applying the saved plan");
        }
        try (AgentInstaller installer = configured()) {
            Plan again = installer.plan();
            assertThat(again.mutations()).as(again.toString()).isEmpty();
        }
    }

    @Test
    void rollback_byAFreshInstaller_restoresWhatTheApplyChanged() {
        Plan before;
        Path journal;
        try (AgentInstaller installer = configured()) {
            before = installer.plan();
            ApplyResult applied = installer.apply(before);
            assertThat(applied.isSuccess()).as(applied.toString()).isTrue();
            journal = applied.journal().orElseThrow();
        }
        try (ThrottlingProxy proxy = ContractRuns.recording(endpoint());
                AgentInstaller fresh = fresh(proxy)) {
            Plan rollback = fresh.planRollback(Journal.read(journal));
            assertThat(rollback.mutations()).as(rollback.toString()).isNotEmpty();
            ApplyResult undone = fresh.apply(rollback);
            assertThat(undone.isSuccess()).as(undone.toString()).isTrue();
            if (knownGaps().contains(ROLLBACK_POLICY_COVERS_CALLS)) {
                assertThat(ContractRuns.notAllowed(rollback.requiredPolicy(), proxy))
                        .as("a known gap that is fixed now: remove it from knownGaps()")
                        .isNotEmpty();
            } else {
                ContractRuns.assertAllowed(rollback.requiredPolicy(), proxy, "planning and applying the rollback");
            }
        }
        try (AgentInstaller installer = configured()) {
            assertThat(ContractRuns.keys(installer.plan()))
                    .as("after the rollback, the same changes are to be made again")
                    .isEqualTo(ContractRuns.keys(before.mutations().stream()
                            .filter(c -> !keptByRollback(c))
                            .toList()));
        }
    }

    @Test
    void resume_afterACrashDuringAChangeThatLanded_makesNoMutatingCall_andPlanIsEmpty() {
        Path journal;
        try (AgentInstaller installer = configured()) {
            ApplyResult applied = installer.apply(installer.plan());
            assertThat(applied.isSuccess()).as(applied.toString()).isTrue();
            journal = applied.journal().orElseThrow();
        }
        // What a crash during the first change leaves: its STARTING line, nothing after it.
        Journal crashed = ContractRuns.cutAfterFirstStart(journal, journals.resolve("crashed-after-landing.jsonl"));
        assertThat(crashed.interrupted()).hasSize(1);
        try (ThrottlingProxy proxy = ContractRuns.recording(endpoint());
                AgentInstaller installer = configured(proxy)) {
            ApplyResult resumed = installer.resume(crashed);
            assertThat(resumed.isSuccess()).as(resumed.toString()).isTrue();
            assertThat(resumed.withOutcome(ResourceResult.Outcome.APPLIED))
                    .as("the interrupted change, found landed")
                    .extracting(r -> r.change().resourceId())
                    .contains(crashed.interrupted().get(0).resourceId());
            assertThat(ContractRuns.mutatingCalls(proxy))
                    .as("resume must read the landed change back, not apply it twice")
                    .allMatch(r -> idempotentOnResumeActions().contains(r.action()));
        }
        assertPlanEmpty();
    }

    @Test
    void failed_meansNothingLanded_andResumeAfterACrashBeforeTheCall_appliesIt() {
        Plan plan;
        ApplyResult result;
        try (ThrottlingProxy proxy = ContractRuns.droppingMutations(endpoint());
                AgentInstaller installer = configured(proxy)) {
            plan = installer.plan();
            result = installer.apply(plan);
            assertThat(ContractRuns.mutatingCalls(proxy))
                    .as("mutating calls sent")
                    .isNotEmpty();
            assertThat(proxy.landedRequests())
                    .as("no mutating call reached AWS")
                    .allMatch(r -> AwsActions.isReadOnly(r.action()));
            ContractRuns.assertAllowed(plan.requiredPolicy(), proxy, "applying while every mutation was lost");
        }
        assertThat(result.results())
                .as("FAILED (or not attempted) after the read-back found nothing changed:\n" + result)
                .isNotEmpty()
                .allMatch(r -> r.outcome() == ResourceResult.Outcome.FAILED
                        || r.outcome() == ResourceResult.Outcome.NOT_ATTEMPTED);
        assertThat(result.status()).as(result.toString()).isEqualTo(ApplyResult.Status.FAILED);
        try (AgentInstaller installer = configured()) {
            assertThat(ContractRuns.keys(installer.plan()))
                    .as("nothing landed: every change is still to do")
                    .isEqualTo(ContractRuns.keys(plan));
            // A crash after the first change was journaled as starting, before its call was sent.
            Journal crashed = ContractRuns.cutAfterFirstStart(
                    result.journal().orElseThrow(), journals.resolve("crashed-before-call.jsonl"));
            ApplyResult resumed = installer.resume(crashed);
            assertThat(resumed.isSuccess()).as(resumed.toString()).isTrue();
        }
        assertPlanEmpty();
    }

    @Test
    void lostAnswer_whoseReadBackFails_isUnknownNeverFailed_andResumeFinishes() {
        Plan plan;
        ApplyResult result;
        try (ThrottlingProxy proxy = ContractRuns.losingFirstMutationThenDenyingAll(endpoint());
                AgentInstaller installer = configured(proxy)) {
            plan = installer.plan();
            result = installer.apply(plan);
            assertThat(proxy.faults().get(ThrottlingProxy.Fault.LOST_RESPONSE))
                    .as("one mutating call landed and its answer was lost")
                    .isEqualTo(1L);
            ContractRuns.assertAllowed(plan.requiredPolicy(), proxy, "applying with a lost answer");
        }
        if (knownGaps().contains(LOST_ANSWER_IS_UNKNOWN)) {
            assertThat(result.withOutcome(ResourceResult.Outcome.UNKNOWN))
                    .as("a known gap that is fixed now: remove it from knownGaps()\n" + result)
                    .isEmpty();
            return;
        }
        assertThat(result.withOutcome(ResourceResult.Outcome.UNKNOWN))
                .as("the change whose answer was lost and could not be read back:\n" + result)
                .isNotEmpty();
        assertThat(result.status()).as(result.toString()).isNotEqualTo(ApplyResult.Status.FAILED);
        try (AgentInstaller installer = configured()) {
            List<String> stillToDo = ContractRuns.resourceKeys(installer.plan());
            assertThat(result.withOutcome(ResourceResult.Outcome.FAILED))
                    .as("a FAILED change did not land: it is still to do")
                    .allMatch(r -> stillToDo.contains(ContractRuns.key(r.change())));
            assertThat(result.results())
                    .as("a change that landed is APPLIED or UNKNOWN")
                    .filteredOn(r -> !stillToDo.contains(ContractRuns.key(r.change())))
                    .allMatch(r -> r.outcome().mayHaveLanded());
            ApplyResult resumed = installer.resume(Journal.read(result.journal().orElseThrow()));
            assertThat(resumed.isSuccess()).as(resumed.toString()).isTrue();
        }
        assertPlanEmpty();
    }

    private void assertPlanEmpty() {
        try (AgentInstaller installer = configured()) {
            Plan again = installer.plan();
            assertThat(again.mutations()).as(again.toString()).isEmpty();
        }
    }

    /**
     * Every call plan and apply made, seen on the wire as (action, resource), is allowed by the plan's policy; and
     * every (action, resource) the policy grants was used by some call, or is on a listed failure or read-back path,
     * or is authorization-only.
     */
    @Test
    void policy_allowsEveryCallOnItsResource_andGrantsOnlyWhatPlanAndApplyUse() {
        try (ThrottlingProxy proxy = ContractRuns.recording(endpoint());
                AgentInstaller installer = configured(proxy)) {
            Plan plan = installer.plan();
            ApplyResult result = installer.apply(plan);
            assertThat(result.isSuccess()).as(result.toString()).isTrue();
            PolicyDocument policy = plan.requiredPolicy();
            Set<Permission> used = ContractRuns.assertAllowed(policy, proxy, "plan and apply");
            Set<String> unused = ContractRuns.unused(
                    policy, used, p -> failureAndReadBackOnlyActions().contains(p.action()) || authorizationOnly(p));
            assertThat(unused)
                    .as("granted but used by no call (list a failure or read-back path on purpose):\n"
                            + policy.toJson())
                    .isEmpty();
            assertThat(PolicyDocument.fromJson(policy.toJson())).isEqualTo(policy);
        }
    }
}
