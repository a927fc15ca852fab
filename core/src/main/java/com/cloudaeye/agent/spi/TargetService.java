package com.cloudaeye.agent.spi;

import com.cloudaeye.agent.Change;
import java.util.List;

/**
 * The half of a platform that applies changes, resumes them and plans their rollback: it needs no selection, only
 * what the changes carry. A configured {@link Target} plans and hands core its service ({@link Target#service()});
 * in a fresh installer (a saved plan, a journal, another JVM) core finds the service of a change's
 * {@link Change#target() target} through {@link java.util.ServiceLoader}.
 *
 * <p>A platform module provides one: {@code provides com.cloudaeye.agent.spi.TargetService with ...} in its module
 * descriptor and {@code META-INF/services/com.cloudaeye.agent.spi.TargetService} for the class path. The provider
 * class may live in the module's {@code internal} package (it need not be exported) and MUST have a public no-argument
 * constructor.
 *
 * <h2>The contract every service keeps</h2>
 *
 * <ul>
 *   <li>The service {@link java.util.ServiceLoader} makes MUST apply, resume and roll back every change its target
 *       plans, from the change alone: a change carries everything its apply needs in {@link Change#targetState()}.
 *       The service a configured target hands core MAY also hold what its plans read (to skip reading it again) and
 *       settings a plan cannot carry (a callback that receives a secret the apply creates); a change that needs such
 *       a setting, applied by a service without it, MUST be refused by {@link #checkApply} (before any target
 *       changes anything), with a message that names the setting.
 *   <li>A service MUST NOT keep state between applies that changes their outcome: two applies of the same change
 *       against the same live resource report the same.
 *   <li>Planning a rollback ({@link #planRollback}) MUST NOT change anything: read calls only.
 *   <li>A change MAY be delivered to {@link #apply} again after a crash (resume), whether or not its mutation landed;
 *       applying it again MUST be safe: the service reads the live resource and reports the change applied when it
 *       already is, never mutating it twice.
 *   <li>Every outcome MUST be true: see {@link ApplyContext} for what each one promises. A service MUST NOT report a
 *       change failed after its mutating call was sent without reading the resource back first.
 *   <li>A service MUST NOT handle a journal failure itself: {@link ApplyContext#starting} throws a {@link
 *       com.cloudaeye.agent.JournalException} and the service lets it end that change (it MUST NOT mutate it); every
 *       other journal failure core handles alone.
 * </ul>
 *
 * <p>The SPI only grows by {@code default} methods, so services written against an older version keep working.
 */
public interface TargetService {
    /**
     * @return the target's unique, stable name, written into every change it plans (e.g. {@code lambda}); the same as
     *     its {@link Target#name()}
     */
    String name();

    /**
     * Plans restoring the before-state of every change of this target whose mutating call may have been sent: applied,
     * unknown, interrupted, or failed after it was started. Each MUST be checked against the live resource: a change
     * that did not land plans nothing (or a no-op), one that landed plans its restore, and a resource that someone
     * changed since is a skip with that reason, never overwritten. MUST NOT change anything.
     *
     * @param journaled the changes with their last journaled event and {@code appliedState}
     * @param context clients, scheduler and settings
     * @return the restoring changes (at most one per resource) and the permissions the reads used
     */
    TargetPlan planRollback(List<JournaledChange> journaled, TargetContext context);

    /**
     * Applies this target's mutating changes and reports every one of them to the context exactly once, calling
     * {@link ApplyContext#starting} before its first mutating call. Returns when all are reported. One change's
     * failure MUST NOT stop the others; it MUST NOT start a change once {@link ApplyContext#shouldStop()} is true
     * (core reports every change it did not start as not attempted).
     *
     * @param changes the mutating changes of this target, in plan order; some may have been applied already
     * @param context clients, scheduler, settings, and the outcome sink
     */
    void apply(List<Change> changes, ApplyContext context);

    /**
     * Refuses, before anything changes, changes this service cannot apply with what it and the installer hold now
     * (e.g. a sink for a secret the apply creates; a local file a change was planned through that was moved since).
     * Core calls it for every target of a plan, with that target's changes, before any target's {@link #apply}
     * starts, for a new apply and for a resume alike. When one target refuses, no target applies anything: every
     * change of the plan is not attempted, nothing is journaled (a resumed journal is left as it was, to be resumed
     * again after the fix), and the apply ends with an {@link com.cloudaeye.agent.ApplyException} whose cause is the
     * refusal. Without it, a plan that mixes targets would land the changes of the targets applied before the one
     * that cannot apply its own.
     *
     * <p>It MUST NOT change anything: no mutating call, and nothing reported (there is no outcome sink yet). It
     * SHOULD be quick and local (what the changes carry, the context's settings and sinks, local files): every target
     * waits for it. A change it lets through may still fail in {@link #apply}, which reports it as usual. The
     * default, for a service written before this method, refuses nothing.
     *
     * @param changes the mutating changes of this target, in plan order, as {@link #apply} will get them
     * @param context clients, scheduler, settings and sinks
     * @throws com.cloudaeye.agent.ConfigurationException (or another {@link com.cloudaeye.agent.AgentException})
     *     when this service cannot apply these changes: naming the resource, what is missing and the fix, without
     *     claiming what changed (core says that nothing was)
     */
    default void checkApply(List<Change> changes, TargetContext context) {}

    /**
     * The quotas this target's calls go through, when it plans and when its service applies: the names a user may
     * pass to {@code AgentInstallerBuilder.rateLimit(name, perSecond)}, which {@code build()} checks and lists.
     *
     * @return every {@link Quota} of this target; empty (the default, for a service written before this method)
     *     turns that check off in an installer with this target
     */
    default List<Quota> quotas() {
        return List.of();
    }
}
