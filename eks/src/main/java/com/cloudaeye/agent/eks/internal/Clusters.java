package com.cloudaeye.agent.eks.internal;

import com.cloudaeye.agent.PlanningException;
import com.cloudaeye.agent.spi.TargetContext;
import software.amazon.awssdk.services.eks.EksClient;
import software.amazon.awssdk.services.eks.model.Cluster;
import software.amazon.awssdk.services.eks.model.ResourceNotFoundException;

/** The one way the EKS target's parts read a cluster: {@code DescribeCluster} under the EKS quota. */
public final class Clusters {
    private Clusters() {}

    /**
     * @param context clients and scheduler
     * @param name the cluster's name
     * @return the cluster
     * @throws PlanningException when no cluster has that name in the installer's region
     */
    public static Cluster describe(TargetContext context, String name) {
        EksClient eks = context.client(EksClient.class, EksClient::builder);
        try {
            return context.scheduler()
                    .call(EksQuotas.EKS, () -> eks.describeCluster(r -> r.name(name)))
                    .cluster();
        } catch (ResourceNotFoundException e) {
            throw new PlanningException(
                    "No EKS cluster named '" + name + "' in " + context.region()
                            + ": check the name (aws eks list-clusters) and the installer's region.",
                    e);
        }
    }
}
