package com.cloudaeye.agent.eks;

import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ConfigurationException;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.SinkKey;
import com.cloudaeye.agent.eks.internal.ComponentPlanner;
import com.cloudaeye.agent.eks.internal.EksParts;
import com.cloudaeye.agent.eks.internal.EksParts.Selection;
import com.cloudaeye.agent.eks.internal.EksService;
import com.cloudaeye.agent.eks.internal.LoggingPlanner;
import com.cloudaeye.agent.eks.internal.Waits;
import com.cloudaeye.agent.eks.internal.access.CrossAccountRolePlanner;
import com.cloudaeye.agent.eks.internal.access.IamUserStackPlanner;
import com.cloudaeye.agent.eks.internal.helm.HelmReleaseComponent;
import com.cloudaeye.agent.eks.internal.helm.InstallerRbac;
import com.cloudaeye.agent.eks.internal.helm.ReleasePlanner;
import com.cloudaeye.agent.eks.internal.helm.ReleaseState;
import com.cloudaeye.agent.spi.Target;
import com.cloudaeye.agent.spi.TargetContext;
import com.cloudaeye.agent.spi.TargetPlan;
import com.cloudaeye.agent.spi.TargetService;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * The Amazon EKS target: enables the cluster's control-plane logging and gives CloudAEye read access to those logs.
 *
 * <pre>{@code
 * EksTarget.builder()
 *         .cluster("prod-eks")
 *         .controlPlaneLogging(true)                      // or .logTypes(LogType.API, LogType.AUDIT)
 *         .cloudAEyeAccess(a -> a.crossAccountRole("111122223333", externalId))
 *         .addCluster("dev-eks", c -> c.controlPlaneLogging(true))   // more clusters, each with its own parts
 *         .build()
 * }</pre>
 *
 * <p>It reads each cluster once ({@code DescribeCluster}) and lets each enabled part plan its own resources. Saved plans
 * and journals are applied and rolled back by the module's {@link com.cloudaeye.agent.spi.TargetService}, which
 * {@link java.util.ServiceLoader} finds; creating a new access key then needs the installer's {@link
 * #ACCESS_KEY_SINK}, since the key's secret goes nowhere else.
 */
public final class EksTarget implements Target {
    /** The target's name, written into every change it plans. */
    public static final String NAME = "eks";

    /**
     * The installer-level sink for the access key an apply creates for CloudAEye's IAM user ({@code
     * AgentInstaller.builder().sink(EksTarget.ACCESS_KEY_SINK, key -> vault.store(key))}): what an installer that
     * applies a saved plan or resumes a journal, and so has no configured target, hands the key to. A target built
     * with {@code accessKeySink(...)} uses its own. Without either, an apply that would create a key stops before the
     * EKS target changes anything.
     */
    public static final SinkKey<AccessKey> ACCESS_KEY_SINK = SinkKey.of("eks.accessKeySink");

    private final EksParts parts;

    private EksTarget(List<Selection> selections, EksService service) {
        this.parts = new EksParts(selections, service);
    }

    /** @return a new builder */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The Kubernetes RBAC that the agent DaemonSet's changes in a plan need, as YAML to review and apply to each
     * cluster ({@code kubectl apply -f}), next to the plan's IAM policy: a Role in the release namespace and a
     * ClusterRole (no cluster-admin), both bound to {@code group}. Map your IAM identity to that group, e.g. with an
     * EKS access entry whose {@code kubernetesGroups} names it.
     *
     * @param plan a plan, uninstall plan or rollback plan of an installer with this target
     * @param group the Kubernetes group to bind the rights to
     * @return the YAML by cluster name, sorted; empty when the plan changes no DaemonSet
     */
    public static Map<String, String> kubernetesRbac(Plan plan, String group) {
        if (group.isBlank()) {
            throw new ConfigurationException("kubernetesRbac needs the name of the Kubernetes group your IAM identity"
                    + " is mapped to, e.g. cloudaeye-agent-installers.");
        }
        Map<String, String> byCluster = new java.util.TreeMap<>();
        for (Change change : plan.mutations()) {
            if (!HelmReleaseComponent.RESOURCE_TYPE.equals(change.resourceType())) {
                continue;
            }
            ReleaseState state = ReleaseState.fromJson(change.targetState());
            String cluster = state.cluster();
            String yaml = InstallerRbac.yaml(cluster, state.namespace(), state.release(), group);
            byCluster.merge(cluster, yaml, (a, b) -> a.equals(b) ? a : a + "---\n" + b);
        }
        return byCluster;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public TargetPlan plan(TargetContext context) {
        return parts.plan(context);
    }

    @Override
    public TargetPlan planUninstall(TargetContext context) {
        return parts.planUninstall(context);
    }

    /** @return the service that applies and rolls back EKS changes, with this target's key sink and waits */
    @Override
    public TargetService service() {
        return parts.service();
    }

    @Override
    public String toString() {
        return parts.toString();
    }

    /**
     * Builds an {@link EksTarget}; validation happens in {@link #build()}. An installer takes one target per platform,
     * so one target covers several clusters: {@link #cluster(String)} and the part options configure the first, and
     * {@link #addCluster(String, Consumer)} adds more, each with its own parts.
     */
    public static final class Builder {
        private @Nullable String cluster;
        /** One planner factory per enabled part, by the option that enabled it: a new part is one more option. */
        private final Map<String, Function<Waits, ComponentPlanner>> parts = new LinkedHashMap<>();

        private @Nullable CloudAEyeAccess access;
        private final List<Builder> more = new ArrayList<>();
        private final boolean nested;

        private Duration pollInterval = Waits.DEFAULT.pollInterval();
        private Duration timeout = Waits.DEFAULT.timeout();

        private Builder() {
            this(false);
        }

        private Builder(boolean nested) {
            this.nested = nested;
        }

        /**
         * @param cluster the EKS cluster's name
         * @return this
         */
        public Builder cluster(String cluster) {
            this.cluster = cluster;
            return this;
        }

        /**
         * Enables (true) all five control-plane log types, or leaves logging alone (false, the default).
         *
         * @param enabled whether to enable control-plane logging
         * @return this
         */
        public Builder controlPlaneLogging(boolean enabled) {
            if (enabled) {
                Set<LogType> all = EnumSet.allOf(LogType.class);
                parts.put("logging", waits -> new LoggingPlanner(all, waits));
            } else {
                parts.remove("logging");
            }
            return this;
        }

        /**
         * Enables exactly these control-plane log types (others stay as they are).
         *
         * @param types the types; {@link LogType#AUDIT} is the costly one
         * @return this
         */
        public Builder logTypes(LogType... types) {
            if (types.length == 0) {
                throw new ConfigurationException("logTypes() needs at least one LogType; use"
                        + " controlPlaneLogging(false) to leave logging alone.");
            }
            Set<LogType> chosen = EnumSet.copyOf(Arrays.asList(types));
            parts.put("logging", waits -> new LoggingPlanner(chosen, waits));
            return this;
        }

        /**
         * Gives CloudAEye read access to the control-plane logs.
         *
         * @param access the access mode and its settings
         * @return this
         */
        public Builder cloudAEyeAccess(CloudAEyeAccess access) {
            this.access = access;
            parts.put(
                    "access",
                    waits -> access.mode() == CloudAEyeAccess.Mode.IAM_USER_STACK
                            ? new IamUserStackPlanner(access.reuseAccessKey())
                            : new CrossAccountRolePlanner(
                                    access.cloudAEyeAccountId().orElseThrow(),
                                    access.externalId().orElseThrow()));
            return this;
        }

        /**
         * Gives CloudAEye read access to the control-plane logs, e.g. {@code a -> a.iamUserStack().accessKeySink(k ->
         * ...)} or {@code a -> a.crossAccountRole("111122223333", externalId)}.
         *
         * @param access configures the access
         * @return this
         */
        public Builder cloudAEyeAccess(Consumer<CloudAEyeAccess.Builder> access) {
            CloudAEyeAccess.Builder b = CloudAEyeAccess.builder();
            access.accept(b);
            try {
                cloudAEyeAccess(b.build());
            } catch (IllegalStateException e) {
                throw new ConfigurationException(
                        "cloudAEyeAccess: choose a mode with a.iamUserStack() or"
                                + " a.crossAccountRole(accountId, externalId) (" + e.getMessage() + ").",
                        e);
            }
            return this;
        }

        /**
         * Installs the agent as a DaemonSet from the chart this module ships, through in-process Helm (no helm,
         * kubectl or AWS CLI binaries), authenticating with an EKS token made from the installer's credentials.
         *
         * @param daemonSet the release's options (namespace, image, resources, tolerations, values)
         * @return this
         */
        public Builder daemonSet(AgentDaemonSet daemonSet) {
            parts.put("daemonSet", waits -> new ReleasePlanner(daemonSet));
            return this;
        }

        /**
         * Installs the agent DaemonSet, e.g. {@code d -> d.namespace("cloudaeye").tag("1.0.0")}.
         *
         * @param daemonSet configures the release's options
         * @return this
         */
        public Builder daemonSet(Consumer<AgentDaemonSet.Builder> daemonSet) {
            AgentDaemonSet.Builder b = AgentDaemonSet.builder();
            daemonSet.accept(b);
            return daemonSet(b.build());
        }

        /**
         * How long to wait for a cluster update or a stack, and how often to check it.
         *
         * @param pollInterval between two status reads (default 10 s)
         * @param timeout the longest wait per resource (default 30 min)
         * @return this
         */
        public Builder waits(Duration pollInterval, Duration timeout) {
            if (nested) {
                throw new ConfigurationException("waits(...) is the whole target's: call it on the outer"
                        + " EksTarget.builder(), not inside addCluster(name, c -> ...).");
            }
            if (pollInterval.isNegative() || pollInterval.isZero() || timeout.compareTo(pollInterval) < 0) {
                throw new ConfigurationException("waits(" + pollInterval + ", " + timeout + "): the poll interval"
                        + " must be positive and no longer than the timeout.");
            }
            this.pollInterval = pollInterval;
            this.timeout = timeout;
            return this;
        }

        /**
         * Adds another cluster with its own parts, e.g. {@code .addCluster("dev-eks", c ->
         * c.controlPlaneLogging(true))}. CloudAEye's access uses names fixed per account (one role, one stack), so at
         * most one cluster of a target may have each access mode.
         *
         * @param cluster the other cluster's name
         * @param parts enables its parts (the same options as on this builder, except {@code waits} and clusters)
         * @return this
         */
        public Builder addCluster(String cluster, Consumer<Builder> parts) {
            if (nested) {
                throw new ConfigurationException("addCluster(\"" + cluster + "\", ...) inside addCluster(...): add"
                        + " every cluster on the outer EksTarget.builder().");
            }
            Builder b = new Builder(true);
            b.cluster(cluster);
            parts.accept(b);
            more.add(b);
            return this;
        }

        private Waits waits() {
            return new Waits(pollInterval, timeout);
        }

        private Selection selection(Waits waits) {
            List<ComponentPlanner> out = new ArrayList<>();
            parts.values().forEach(p -> out.add(p.apply(waits)));
            return new Selection(validCluster(), out);
        }

        private String validCluster() {
            String c = cluster;
            if (c == null || !c.matches("[0-9A-Za-z][A-Za-z0-9_-]{0,99}")) {
                throw new ConfigurationException("EksTarget: cluster('" + c + "') is not an EKS cluster name: pass"
                        + " the name shown by aws eks list-clusters.");
            }
            if (parts.isEmpty()) {
                throw new ConfigurationException("EksTarget for cluster " + c + " has nothing to do: add"
                        + " .daemonSet(...), .controlPlaneLogging(true) and/or .cloudAEyeAccess(...).");
            }
            return c;
        }

        /**
         * @return the target
         * @throws ConfigurationException when no cluster or nothing to do is configured, a cluster is added twice, or
         *     two clusters ask for the same access mode
         */
        public EksTarget build() {
            Waits waits = waits();
            List<Builder> all = new ArrayList<>();
            all.add(this);
            all.addAll(more);
            List<Selection> selections = new ArrayList<>();
            Map<CloudAEyeAccess.Mode, String> access = new LinkedHashMap<>();
            Optional<CloudAEyeAccess> userStack = Optional.empty();
            for (Builder b : all) {
                Selection selection = b.selection(waits);
                if (selections.stream().anyMatch(s -> s.cluster().equals(selection.cluster()))) {
                    throw new ConfigurationException("EksTarget: the cluster " + selection.cluster() + " is added"
                            + " twice: configure all its parts in one cluster(...) or addCluster(...).");
                }
                CloudAEyeAccess.Mode mode = b.access == null ? null : b.access.mode();
                if (mode != null && access.containsKey(mode)) {
                    throw new ConfigurationException("EksTarget: the clusters " + access.get(mode) + " and "
                            + selection.cluster() + " both ask for cloudAEyeAccess in the mode " + mode + ", whose"
                            + " IAM names are fixed per account, so one account holds one: give it to one cluster"
                            + " (use the other mode for a second one).");
                }
                if (mode != null) {
                    access.put(mode, selection.cluster());
                }
                if (mode == CloudAEyeAccess.Mode.IAM_USER_STACK) {
                    userStack = Optional.ofNullable(b.access);
                }
                selections.add(selection);
            }
            // The IAM-user access's key sink is what a plan cannot carry; at most one cluster has that access.
            // The service applies the parts in the order they were configured, as the target plans them.
            List<String> order = new ArrayList<>();
            selections.forEach(sel -> sel.planners()
                    .forEach(p -> p.resourceTypes().stream()
                            .filter(t -> !order.contains(t))
                            .forEach(order::add)));
            EksService service = new EksService(waits, userStack.flatMap(CloudAEyeAccess::accessKeySink), order);
            return new EksTarget(selections, service);
        }
    }
}
