package com.cloudaeye.agent.spi;

import com.cloudaeye.agent.Change;
import java.util.List;

/**
 * A platform the installer can put the agent into (Lambda, ECS, EKS). Each platform module implements it, lists it
 * in {@code META-INF/services/com.cloudaeye.agent.spi.Target}, and gives it a public no-argument constructor that
 * selects nothing: {@link java.util.ServiceLoader} uses that instance to apply, resume or roll back changes that a
 * configured instance planned (for example from a saved plan or a journal in another JVM).
 *
 * <h2>The contract every target keeps</h2>
 *
 * <ul>
 *   <li>Planning ({@link #plan}, {@link #planUninstall}, {@link #planRollback}) MUST NOT change anything: read calls
 *       only.
 *   <li>A plan MUST hold at most one change per {@link Change#resourceId() resourceId}; core rejects a plan that does
 *       not (a bug in the target) before anything is applied.
 *   <li>A change MUST carry everything its apply needs in {@link Change#targetState()}, and MUST NOT carry a secret
 *       there: it is applied from a saved plan or a journal, possibly by another JVM.
 *   <li>A change MAY be delivered to {@link #apply} again after a crash (resume), whether or not its mutation landed;
 *       applying it again MUST be safe: the target reads the live resource and reports the change applied when it
 *       already is, never mutating it twice.
 *   <li>Every outcome MUST be true: see {@link ApplyContext} for what each one promises. A target MUST NOT report a
 *       change failed after its mutating call was sent without reading the resource back first.
 *   <li>A target MUST NOT handle a journal failure itself: {@link ApplyContext#starting} throws a {@link
 *       com.cloudaeye.agent.JournalException} and the target lets it end that change (it MUST NOT mutate it); every
 *       other journal failure core handles alone.
 * </ul>
 *
 * <p>The SPI only grows by {@code default} methods, so targets written against an older version keep working.
 */
public interface Target {
    /** @return the target's unique, stable name, written into every change it plans (e.g. {@code lambda}) */
    String name();

    /**
     * Plans the install with read-only calls. Must not change anything in the account.
     *
     * @param context clients, scheduler and settings
     * @return the changes (at most one per resource) and the permissions the reads used
     * @throws com.cloudaeye.agent.PlanningException when a named resource does not exist or nothing matches
     */
    TargetPlan plan(TargetContext context);

    /**
     * Plans the removal of what {@link #plan} adds, with read-only calls.
     *
     * @param context clients, scheduler and settings
     * @return the changes (at most one per resource) and the permissions the reads used
     */
    TargetPlan planUninstall(TargetContext context);

    /**
     * Plans restoring the before-state of changes, with read-only calls. Older targets implement only this; core
     * calls {@link #planRollback(List, TargetContext, List)}, whose default hands the changes here.
     *
     * @param applied changes of this target whose mutation may have landed
     * @param context clients, scheduler and settings
     * @return the restoring changes and the permissions the reads used
     */
    TargetPlan planRollback(List<Change> applied, TargetContext context);

    /**
     * Plans restoring the before-state of every change of this target whose mutating call may have been sent: applied,
     * unknown, interrupted, or failed after it was started. Each MUST be checked against the live resource: a change
     * that did not land plans nothing (or a no-op), one that landed plans its restore, and a resource that someone
     * changed since is a skip with that reason, never overwritten. MUST NOT change anything.
     *
     * @param applied the same changes, as plain changes (for targets that ignore the journal)
     * @param context clients, scheduler and settings
     * @param journaled the changes with their last journaled event and {@code appliedState}
     * @return the restoring changes (at most one per resource) and the permissions the reads used
     */
    default TargetPlan planRollback(List<Change> applied, TargetContext context, List<JournaledChange> journaled) {
        return planRollback(applied, context);
    }

    /**
     * Applies this target's mutating changes and reports every one of them to the context exactly once, calling
     * {@link ApplyContext#starting} before its first mutating call. Returns when all are reported. One change's
     * failure must not stop the others; it MUST NOT start a change once {@link ApplyContext#shouldStop()} is true
     * (core reports every change it did not start as not attempted).
     *
     * @param changes the mutating changes of this target, in plan order; some may have been applied already
     * @param context clients, scheduler, settings, and the outcome sink
     */
    void apply(List<Change> changes, ApplyContext context);
}
