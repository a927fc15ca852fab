package com.cloudaeye.agent;

/**
 * Planning found nothing to plan: the target's selection (its names, globs, excludes and tags) matches no resource in
 * the installer's region. Nothing was changed.
 *
 * <p>An {@link AgentInstaller} throws it, as any {@link PlanningException}. A {@link FleetInstaller} does not: an
 * account-region where a target selects nothing is planned with no changes from that target and a note saying so,
 * since across an organization many account-regions hold none of the selected resources.
 *
 * <p>Targets throw it (rather than a plain {@link PlanningException}) only when the whole selection matches nothing;
 * a resource named explicitly that does not exist is a {@link PlanningException}. A cluster that does not exist in the
 * region (ECS's, or every one of an EKS target's) is where the selection would be, not a selected resource: nothing
 * of the target can be there, so it is this exception, even when services are named; a named service missing from a
 * cluster that exists, or one EKS cluster missing beside others, is a {@link PlanningException}.
 */
public class NothingSelectedException extends PlanningException {
    private static final long serialVersionUID = 1L;

    /** @param message what the selection was, where nothing matched it, and the fix */
    public NothingSelectedException(String message) {
        super(message);
    }
}
