package com.cloudaeye.agent.spi;

import com.cloudaeye.agent.Change;

/**
 * A configured platform target (Lambda, ECS, EKS): what to select and how, built by its builder and given to the
 * installer. It plans; applying, resuming and rolling back are its {@link TargetService}'s, which core takes from
 * {@link #service()} or, in an installer without this target (a saved plan, a journal, another JVM), finds through
 * {@link java.util.ServiceLoader}. A target therefore needs no constructor that selects nothing, and MUST NOT have
 * one: every instance can plan.
 *
 * <h2>The contract every target keeps</h2>
 *
 * <ul>
 *   <li>Planning ({@link #plan}, {@link #planUninstall}) MUST NOT change anything: read calls only.
 *   <li>A plan MUST hold at most one change per {@link Change#resourceId() resourceId}; core rejects a plan that does
 *       not (a bug in the target) before anything is applied.
 *   <li>A change MUST carry everything its apply needs in {@link Change#targetState()}, and MUST NOT carry a secret
 *       there: it is applied from a saved plan or a journal, possibly by another JVM, by the service that {@link
 *       java.util.ServiceLoader} makes.
 *   <li>{@link #service()} MUST return a service of the same {@link #name()} that applies and rolls back every change
 *       this target plans (see {@link TargetService} for its contract).
 * </ul>
 *
 * <p>The SPI only grows by {@code default} methods, so targets written against an older version keep working.
 */
public interface Target {
    /** @return the target's unique, stable name, written into every change it plans: its service's name */
    default String name() {
        return service().name();
    }

    /**
     * Plans the install with read-only calls. MUST NOT change anything in the account.
     *
     * @param context clients, scheduler and settings
     * @return the changes (at most one per resource) and the permissions the reads used
     * @throws com.cloudaeye.agent.PlanningException when a named resource does not exist or nothing matches
     */
    TargetPlan plan(TargetContext context);

    /**
     * Plans the removal of what {@link #plan} adds, with read-only calls. MUST NOT change anything in the account.
     *
     * @param context clients, scheduler and settings
     * @return the changes (at most one per resource) and the permissions the reads used
     */
    TargetPlan planUninstall(TargetContext context);

    /**
     * @return the service that applies, resumes and rolls back this target's changes; it MAY hold what this target's
     *     plans read and settings a plan cannot carry (see {@link TargetService})
     */
    TargetService service();
}
