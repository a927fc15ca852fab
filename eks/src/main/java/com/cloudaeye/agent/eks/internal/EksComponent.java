package com.cloudaeye.agent.eks.internal;

import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.spi.ApplyContext;
import com.cloudaeye.agent.spi.JournaledChange;
import com.cloudaeye.agent.spi.TargetContext;
import com.cloudaeye.agent.spi.TargetPlan;
import java.util.List;
import java.util.Set;

/**
 * The applying half of one part of the EKS target (control-plane logging, CloudAEye's access, the agent DaemonSet):
 * it owns its resource types, applies their changes and plans their rollback from what the changes carry, the
 * context, and the settings of the {@link EksService} that holds it; never from the options a {@link
 * ComponentPlanner} was made with. The service holds one of each.
 */
public interface EksComponent {
    /** @return the {@link Change#resourceType()}s this component applies; disjoint between components */
    Set<String> resourceTypes();

    /**
     * Plans restoring the before-state of this component's journaled changes, as {@link
     * com.cloudaeye.agent.spi.TargetService#planRollback} does for the target: each change with what the journal holds
     * beside it, its last event and the {@code appliedState} the apply journaled with it (e.g. the id of a key it
     * created); a component that needs only the changes reads {@link JournaledChange#change()}.
     *
     * @param journaled journaled changes of this component's resource types whose mutating call may have been sent
     * @param context clients, scheduler, settings
     * @return the restoring changes and the read permissions used
     */
    TargetPlan planRollback(List<JournaledChange> journaled, TargetContext context);

    /**
     * Checks, before any target of the plan changes anything ({@link EksService#checkApply}), that this component can
     * apply its changes with what the installer holds (e.g. a sink for a new key's secret). Local, no mutating call.
     *
     * @param changes this component's changes about to be applied
     * @param context settings and sinks
     * @throws com.cloudaeye.agent.ConfigurationException naming the resource, the missing setting and the fix
     */
    default void check(List<Change> changes, TargetContext context) {}

    /**
     * Applies changes of this component's resource types; reports each through the context exactly once.
     *
     * @param changes the changes, in plan order
     * @param context the apply context
     */
    void apply(List<Change> changes, ApplyContext context);
}
