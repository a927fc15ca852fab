package com.cloudaeye.agent.eks.internal.helm;

import com.cloudaeye.agent.ConfigurationException;
import com.cloudaeye.agent.PlanningException;
import com.cloudaeye.agent.eks.AgentDaemonSet;
import com.cloudaeye.agent.eks.internal.Clusters;
import com.cloudaeye.agent.spi.TargetContext;
import java.nio.file.Path;
import java.time.Clock;
import software.amazon.awssdk.services.eks.EksClient;
import software.amazon.awssdk.services.eks.model.Cluster;

/**
 * How the release's changes reach the cluster: the caller's kubeconfig, the default one, or an EKS token. Planning
 * chooses from the target's options; applying and rolling back follow the choice the change recorded.
 */
final class ReleaseConnections {
    private ReleaseConnections() {}

    /**
     * @param options the target's options
     * @param cluster the cluster as {@code DescribeCluster} returned it
     * @param context clients
     * @return the connection planning reads the release through
     */
    static ClusterConnection forPlan(AgentDaemonSet options, Cluster cluster, TargetContext context) {
        if (options.kubeconfig().isPresent()) {
            return ClusterConnection.kubeconfig(
                    Kubeconfig.load(options.kubeconfig().get()));
        }
        if (options.defaultKubeconfig()) {
            return ClusterConnection.kubeconfig(defaultKubeconfig());
        }
        return eksConnection(cluster, context);
    }

    /**
     * @param state the planned change
     * @param context clients
     * @return the connection the change was planned through (an EKS token reads the cluster again)
     */
    static ClusterConnection forApply(ReleaseState state, TargetContext context) {
        if (state.throughKubeconfig()) {
            return ClusterConnection.kubeconfig(plannedKubeconfig(state, ""));
        }
        return eksConnection(Clusters.describe(context, state.cluster()), context);
    }

    /**
     * @param state a journaled change whose rollback is being planned
     * @param context clients
     * @return the connection the change was applied through, as {@link #forApply}; a kubeconfig that cannot be used
     *     now refuses the rollback, saying that nothing was changed (planning changes nothing)
     */
    static ClusterConnection forRollback(ReleaseState state, TargetContext context) {
        if (state.throughKubeconfig()) {
            return ClusterConnection.kubeconfig(plannedKubeconfig(state, " Nothing was changed."));
        }
        return eksConnection(Clusters.describe(context, state.cluster()), context);
    }

    /**
     * Checks, before the apply changes anything, that the kubeconfig a change was planned through can still be used:
     * the file (or, for the default kubeconfig, the files {@code KUBECONFIG} or {@code ~/.kube/config} resolve to)
     * exists, is readable, parses, and has a current context with its cluster and user. A change through an EKS token
     * needs no file and is not checked here.
     *
     * @param state the planned change
     * @throws ConfigurationException naming the file, the cluster and release, and the fix (core adds that nothing was
     *     changed)
     */
    static void checkUsable(ReleaseState state) {
        if (state.throughKubeconfig()) {
            plannedKubeconfig(state, "");
        }
    }

    /**
     * Reads the kubeconfig the change was planned through (its own file, or the default kubeconfig): what apply and
     * rollback planning use too, so each names the release and the fix when the file is gone.
     *
     * @param outcome what the refusal adds about what changed (empty where the caller cannot tell)
     */
    private static Kubeconfig plannedKubeconfig(ReleaseState state, String outcome) {
        String kubeconfig = state.kubeconfig();
        try {
            return kubeconfig != null ? Kubeconfig.load(Path.of(kubeconfig)) : defaultKubeconfig();
        } catch (ConfigurationException e) {
            String which = kubeconfig != null
                    ? "the kubeconfig " + kubeconfig
                    : "the default kubeconfig (KUBECONFIG, else ~/.kube/config)";
            String fix = kubeconfig != null
                    ? "restore " + kubeconfig + ", or plan again with AgentDaemonSet.kubeconfig(...) pointing at the"
                            + " file where it is now"
                    : "restore the default kubeconfig, or plan again with AgentDaemonSet.kubeconfig(...) pointing at"
                            + " a kubeconfig of the cluster";
            throw new ConfigurationException(
                    "The plan changes the Helm release " + state.label() + " on EKS cluster "
                            + state.cluster() + " through " + which + ", which cannot be used now: " + e.getMessage()
                            + " "
                            + "Fix: " + fix + "." + outcome,
                    e);
        }
    }

    private static Kubeconfig defaultKubeconfig() {
        return Kubeconfig.fromEnvironment(System.getenv("KUBECONFIG"), Path.of(System.getProperty("user.home")));
    }

    private static ClusterConnection eksConnection(Cluster cluster, TargetContext context) {
        if (cluster.endpoint() == null
                || cluster.certificateAuthority() == null
                || cluster.certificateAuthority().data() == null) {
            throw new PlanningException("Cluster " + cluster.name() + " has no API server endpoint or certificate"
                    + " authority yet: wait until it is ACTIVE.");
        }
        EksClient eks = context.client(EksClient.class, EksClient::builder);
        EksToken tokens = new EksToken(
                cluster.name(),
                context.region(),
                eks.serviceClientConfiguration().credentialsProvider(),
                Clock.systemUTC());
        return ClusterConnection.eks(
                cluster.endpoint(), cluster.certificateAuthority().data(), tokens);
    }
}
