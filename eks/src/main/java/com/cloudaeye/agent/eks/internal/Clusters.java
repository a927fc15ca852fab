package com.cloudaeye.agent.eks.internal;

import com.cloudaeye.agent.PlanningException;
import com.cloudaeye.agent.spi.TargetContext;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
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
        return find(context, name).orElseThrow(() -> new PlanningException(noCluster(List.of(name), context)));
    }

    /**
     * @param context clients and scheduler
     * @param name the cluster's name
     * @return the cluster; empty when no cluster has that name in the installer's region
     */
    public static Optional<Cluster> find(TargetContext context, String name) {
        EksClient eks = context.client(EksClient.class, EksClient::builder);
        try {
            return Optional.of(context.scheduler()
                    .call(EksQuotas.EKS, () -> eks.describeCluster(r -> r.name(name)))
                    .cluster());
        } catch (ResourceNotFoundException e) {
            return Optional.empty();
        }
    }

    /**
     * @param names clusters that do not exist
     * @param context the installer's region
     * @return what is wrong and the fix
     */
    static String noCluster(List<String> names, TargetContext context) {
        return "No EKS cluster named "
                + names.stream().map(n -> "'" + n + "'").collect(Collectors.joining(", "))
                + " in " + context.region()
                + ": check the name (aws eks list-clusters) and the installer's region.";
    }
}
