package com.cloudaeye.agent.eks.internal;

import com.cloudaeye.agent.spi.TargetContext;
import com.cloudaeye.agent.spi.TargetPlan;
import software.amazon.awssdk.services.eks.model.Cluster;

/**
 * The planning half of one EKS part (control-plane logging, CloudAEye's access, the agent DaemonSet), made from the
 * options of {@code EksTarget.Builder}: the configured target reads each cluster once with {@code DescribeCluster}
 * and asks each of its planners to plan. Every planned change carries in its target state what its {@link
 * EksComponent} needs to apply it and roll it back, so applying needs no planner.
 */
public interface ComponentPlanner {
    /**
     * @return the {@link com.cloudaeye.agent.Change#resourceType()}s of the changes it plans: the configured target's
     *     service applies them in the order of its planners
     */
    java.util.Set<String> resourceTypes();

    /**
     * @param cluster the cluster as {@code DescribeCluster} returned it
     * @param context clients, scheduler, settings
     * @return this part's install changes and the read permissions it used (DescribeCluster excluded)
     */
    TargetPlan plan(Cluster cluster, TargetContext context);

    /**
     * @param cluster the cluster as {@code DescribeCluster} returned it
     * @param context clients, scheduler, settings
     * @return this part's uninstall changes and the read permissions it used
     */
    TargetPlan planUninstall(Cluster cluster, TargetContext context);
}
