package com.cloudaeye.agent.spi;

import com.cloudaeye.agent.Change;
import java.util.List;

/**
 * A platform the installer can put the agent into (Lambda, ECS, EKS). Each platform module implements it, lists it
 * in {@code META-INF/services/com.cloudaeye.agent.spi.Target}, and gives it a public no-argument constructor that
 * selects nothing: {@link java.util.ServiceLoader} uses that instance to apply, resume or roll back changes that a
 * configured instance planned (for example from a saved plan or a journal in another JVM).
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
     * @return the changes and the permissions the reads used
     * @throws com.cloudaeye.agent.PlanningException when a named resource does not exist or nothing matches
     */
    TargetPlan plan(TargetContext context);

    /**
     * Plans the removal of what {@link #plan} adds, with read-only calls.
     *
     * @param context clients, scheduler and settings
     * @return the changes and the permissions the reads used
     */
    TargetPlan planUninstall(TargetContext context);

    /**
     * Plans restoring the before-state of changes that an apply made, with read-only calls. A resource that someone
     * changed since it was applied is a skip with that reason, never overwritten.
     *
     * @param applied changes of this target that the journal records as applied
     * @param context clients, scheduler and settings
     * @return the restoring changes and the permissions the reads used
     */
    TargetPlan planRollback(List<Change> applied, TargetContext context);

    /**
     * Applies this target's mutating changes and reports every one of them to the context exactly once, calling
     * {@link ApplyContext#starting} before its first mutating call. Returns when all are reported. One change's
     * failure must not stop the others; stop early only when {@link ApplyContext#shouldStop()} says so.
     *
     * @param changes the mutating changes of this target, in plan order
     * @param context clients, scheduler, settings, and the outcome sink
     */
    void apply(List<Change> changes, ApplyContext context);
}
