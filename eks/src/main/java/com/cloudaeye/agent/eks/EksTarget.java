package com.cloudaeye.agent.eks;

import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ConfigurationException;
import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.eks.internal.Clusters;
import com.cloudaeye.agent.eks.internal.ControlPlaneLogging;
import com.cloudaeye.agent.eks.internal.EksComponent;
import com.cloudaeye.agent.eks.internal.EksComponents;
import com.cloudaeye.agent.eks.internal.Waits;
import com.cloudaeye.agent.eks.internal.access.CrossAccountRoleAccess;
import com.cloudaeye.agent.eks.internal.access.IamUserStackAccess;
import com.cloudaeye.agent.eks.internal.helm.HelmReleaseComponent;
import com.cloudaeye.agent.spi.ApplyContext;
import com.cloudaeye.agent.spi.Target;
import com.cloudaeye.agent.spi.TargetContext;
import com.cloudaeye.agent.spi.TargetPlan;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.eks.model.Cluster;

/**
 * The Amazon EKS target: enables the cluster's control-plane logging and gives CloudAEye read access to those logs.
 *
 * <pre>{@code
 * EksTarget.builder()
 *         .cluster("prod-eks")
 *         .controlPlaneLogging(true)                      // or .logTypes(LogType.API, LogType.AUDIT)
 *         .cloudAEyeAccess(a -> a.crossAccountRole("111122223333", externalId))
 *         .build()
 * }</pre>
 *
 * <p>It reads the cluster once ({@code DescribeCluster}) and lets each enabled part plan its own resources. The public
 * no-argument constructor selects nothing: {@link java.util.ServiceLoader} uses it to apply saved plans and roll back
 * journals (creating a new access key then needs a configured target, since the key's secret needs a sink).
 */
public final class EksTarget implements Target {
    /** The target's name, written into every change it plans. */
    public static final String NAME = "eks";

    private static final Logger LOG = LoggerFactory.getLogger(EksTarget.class);

    private final @Nullable String cluster;
    private final List<EksComponent> components;
    private final List<EksComponent> dispatch;

    /** Selects nothing: for {@link java.util.ServiceLoader}, to apply saved plans and roll back journals. */
    public EksTarget() {
        this.cluster = null;
        this.components = List.of();
        this.dispatch = withDefaults(List.of(), Waits.DEFAULT);
    }

    private EksTarget(Builder b) {
        this.cluster = b.cluster;
        this.components = List.copyOf(b.components());
        this.dispatch = withDefaults(components, b.waits());
    }

    /** Every component that can apply a saved plan's changes, the configured ones first. */
    private static List<EksComponent> withDefaults(List<EksComponent> configured, Waits waits) {
        List<EksComponent> all = new ArrayList<>(configured);
        all.addAll(EksComponents.unconfigured(waits));
        return List.copyOf(all);
    }

    /** @return a new builder */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public TargetPlan plan(TargetContext context) {
        return planAll(context, EksComponent::plan);
    }

    @Override
    public TargetPlan planUninstall(TargetContext context) {
        return planAll(context, EksComponent::planUninstall);
    }

    private TargetPlan planAll(TargetContext context, PlanStep step) {
        String name = cluster;
        if (name == null) {
            throw new ConfigurationException(
                    "This EksTarget selects no cluster (it only applies saved plans): build one"
                            + " with EksTarget.builder().cluster(\"name\")... to plan.");
        }
        Cluster described = describe(context, name);
        List<Change> changes = new ArrayList<>();
        List<Permission> reads = new ArrayList<>();
        reads.add(Permission.of("eks:DescribeCluster", described.arn()));
        List<String> notes = new ArrayList<>();
        for (EksComponent component : components) {
            TargetPlan part = step.plan(component, described, context);
            changes.addAll(part.changes());
            reads.addAll(part.readPermissions());
            notes.addAll(part.notes());
        }
        return new TargetPlan(changes, reads, notes);
    }

    @FunctionalInterface
    private interface PlanStep {
        TargetPlan plan(EksComponent component, Cluster cluster, TargetContext context);
    }

    private static Cluster describe(TargetContext context, String name) {
        LOG.debug("Describing EKS cluster {}", name);
        return Clusters.describe(context, name);
    }

    @Override
    public TargetPlan planRollback(List<Change> applied, TargetContext context) {
        List<Change> changes = new ArrayList<>();
        List<Permission> reads = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        byComponent(applied).forEach((component, own) -> {
            TargetPlan part = component.planRollback(own, context);
            changes.addAll(part.changes());
            reads.addAll(part.readPermissions());
            notes.addAll(part.notes());
        });
        return new TargetPlan(changes, reads, notes);
    }

    @Override
    public void apply(List<Change> changes, ApplyContext context) {
        for (Map.Entry<EksComponent, List<Change>> e : byComponent(changes).entrySet()) {
            if (context.shouldStop()) {
                return;
            }
            e.getKey().apply(e.getValue(), context);
        }
    }

    /** Groups changes by the component owning their resource type, in component order. */
    private Map<EksComponent, List<Change>> byComponent(List<Change> changes) {
        Map<EksComponent, List<Change>> out = new LinkedHashMap<>();
        for (EksComponent component : dispatch) {
            Set<String> types = component.resourceTypes();
            for (Change c : changes) {
                if (types.contains(c.resourceType()) && out.values().stream().noneMatch(l -> l.contains(c))) {
                    out.computeIfAbsent(component, k -> new ArrayList<>()).add(c);
                }
            }
        }
        for (Change c : changes) {
            if (out.values().stream().noneMatch(l -> l.contains(c))) {
                throw new ConfigurationException("The EKS target has no part that applies " + c.resourceType() + " ("
                        + c.resourceId() + "): apply the plan with the installer version that made it.");
            }
        }
        return out;
    }

    @Override
    public String toString() {
        return "EksTarget[" + (cluster == null ? "no cluster" : cluster) + ", " + components.size() + " part(s)]";
    }

    /** Builds an {@link EksTarget}; validation happens in {@link #build()}. */
    public static final class Builder {
        private @Nullable String cluster;
        /** One factory per enabled part, by the option that enabled it: a new part is one more option. */
        private final Map<String, Function<Waits, EksComponent>> parts = new LinkedHashMap<>();

        private Duration pollInterval = Waits.DEFAULT.pollInterval();
        private Duration timeout = Waits.DEFAULT.timeout();

        private Builder() {}

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
                parts.put("logging", waits -> new ControlPlaneLogging(all, waits));
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
            parts.put("logging", waits -> new ControlPlaneLogging(chosen, waits));
            return this;
        }

        /**
         * Gives CloudAEye read access to the control-plane logs.
         *
         * @param access the access mode and its settings
         * @return this
         */
        public Builder cloudAEyeAccess(CloudAEyeAccess access) {
            parts.put(
                    "access",
                    waits -> access.mode() == CloudAEyeAccess.Mode.IAM_USER_STACK
                            ? new IamUserStackAccess(
                                    access.accessKeySink().orElse(null),
                                    access.reuseAccessKey().orElse(null),
                                    waits)
                            : new CrossAccountRoleAccess(
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
            parts.put("daemonSet", waits -> new HelmReleaseComponent(daemonSet));
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
            if (pollInterval.isNegative() || pollInterval.isZero() || timeout.compareTo(pollInterval) < 0) {
                throw new ConfigurationException("waits(" + pollInterval + ", " + timeout + "): the poll interval"
                        + " must be positive and no longer than the timeout.");
            }
            this.pollInterval = pollInterval;
            this.timeout = timeout;
            return this;
        }

        private Waits waits() {
            return new Waits(pollInterval, timeout);
        }

        private List<EksComponent> components() {
            Waits waits = waits();
            List<EksComponent> out = new ArrayList<>();
            parts.values().forEach(p -> out.add(p.apply(waits)));
            return out;
        }

        /**
         * @return the target
         * @throws ConfigurationException when no cluster or nothing to do is configured
         */
        public EksTarget build() {
            String c = cluster;
            if (c == null || !c.matches("[0-9A-Za-z][A-Za-z0-9_-]{0,99}")) {
                throw new ConfigurationException("EksTarget: cluster('" + c + "') is not an EKS cluster name: pass"
                        + " the name shown by aws eks list-clusters.");
            }
            if (parts.isEmpty()) {
                throw new ConfigurationException("EksTarget for cluster " + c + " has nothing to do: add"
                        + " .daemonSet(...), .controlPlaneLogging(true) and/or .cloudAEyeAccess(...).");
            }
            return new EksTarget(this);
        }
    }
}
