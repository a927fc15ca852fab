package com.cloudaeye.agent.eks.internal;

import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.spi.ApplyContext;
import com.cloudaeye.agent.spi.JournaledChange;
import com.cloudaeye.agent.spi.TargetContext;
import com.cloudaeye.agent.spi.TargetPlan;
import java.util.List;
import java.util.Set;
import software.amazon.awssdk.services.eks.model.Cluster;

/**
 * One part of the EKS target (control-plane logging, CloudAEye's access, the agent DaemonSet). The public
 * {@code EksTarget} reads the cluster once with {@code DescribeCluster}, asks each enabled component to plan, and
 * hands each component back the changes of its own resource types to apply, uninstall or roll back.
 */
public interface EksComponent {
    /** @return the {@link Change#resourceType()}s this component plans and applies; disjoint between components */
    Set<String> resourceTypes();

    /**
     * @param cluster the cluster as {@code DescribeCluster} returned it
     * @param context clients, scheduler, settings
     * @return this component's install changes and the read permissions it used (DescribeCluster excluded)
     */
    TargetPlan plan(Cluster cluster, TargetContext context);

    /**
     * @param cluster the cluster as {@code DescribeCluster} returned it
     * @param context clients, scheduler, settings
     * @return this component's uninstall changes and the read permissions it used
     */
    TargetPlan planUninstall(Cluster cluster, TargetContext context);

    /**
     * @param applied journaled changes of this component's resource types
     * @param context clients, scheduler, settings
     * @return the restoring changes and the read permissions used
     */
    TargetPlan planRollback(List<Change> applied, TargetContext context);

    /**
     * As {@link #planRollback(List, TargetContext)}, with what the journal holds beside each change: its last event and
     * the {@code appliedState} the apply journaled with it (e.g. the id of a key it created). By default the changes
     * alone.
     *
     * @param journaled journaled changes of this component's resource types whose mutating call may have been sent
     * @param context clients, scheduler, settings
     * @return the restoring changes and the read permissions used
     */
    default TargetPlan planJournaledRollback(List<JournaledChange> journaled, TargetContext context) {
        return planRollback(journaled.stream().map(JournaledChange::change).toList(), context);
    }

    /**
     * Checks, before the EKS target changes anything, that this component can apply its changes with what the
     * installer holds (e.g. a sink for a new key's secret).
     *
     * @param changes this component's changes about to be applied
     * @param context the apply context
     * @throws com.cloudaeye.agent.ConfigurationException naming the missing setting
     */
    default void check(List<Change> changes, ApplyContext context) {}

    /**
     * Applies changes of this component's resource types; reports each through the context exactly once.
     *
     * @param changes the changes, in plan order
     * @param context the apply context
     */
    void apply(List<Change> changes, ApplyContext context);
}
