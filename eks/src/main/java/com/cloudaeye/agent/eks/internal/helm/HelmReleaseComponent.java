package com.cloudaeye.agent.eks.internal.helm;

import com.cloudaeye.agent.AttributeChange;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.eks.internal.EksComponent;
import com.cloudaeye.agent.spi.ApplyContext;
import com.cloudaeye.agent.spi.JournaledChange;
import com.cloudaeye.agent.spi.TargetContext;
import com.cloudaeye.agent.spi.TargetPlan;
import com.cloudaeye.agent.spi.support.AwsFailures;
import com.cloudaeye.agent.spi.support.Json;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The agent DaemonSet as one Helm release of the chart shipped in this module, in its own namespace ({@link
 * ReleasePlanner} plans it): applies with an atomic {@code helm upgrade --install --wait} under a timeout ({@link
 * ReleaseApplier}), uninstalls with {@code helm uninstall}, and plans the rollback of applied changes. Reaches the
 * cluster with an EKS token made from the caller's AWS credentials, or through the caller's kubeconfig, as planned.
 *
 * <p>Everything apply and rollback need is in each change's {@link Change#targetState()} (cluster, namespace,
 * release, the non-secret chart values, the planned-from revision), so a saved plan applies in another JVM; the
 * agent token is read from the installer's agent settings at apply time and never journaled.
 */
public final class HelmReleaseComponent implements EksComponent {
    /** The resource type of the release's changes. */
    public static final String RESOURCE_TYPE = "Kubernetes::Helm::Release";

    /** Marks a namespace the install created, with the release it was created for, so uninstall deletes only it. */
    static final String NAMESPACE_CREATED_FOR = "agent.cloudaeye.com/created-for-release";

    /** The component: it applies and rolls back from the changes alone. */
    public HelmReleaseComponent() {}

    @Override
    public Set<String> resourceTypes() {
        return Set.of(RESOURCE_TYPE);
    }

    @Override
    public TargetPlan planRollback(List<JournaledChange> journaled, TargetContext context) {
        List<Change> changes = new ArrayList<>();
        for (JournaledChange done : journaled) {
            changes.add(planRestore(done, context));
        }
        return new TargetPlan(changes, List.of());
    }

    /**
     * Restores the before-state of one applied change: an install is uninstalled, an upgrade is upgraded back to the
     * values of the revision before it, an uninstall is installed again with its former values (and the token of
     * the current agent settings). A release changed since the apply is left alone.
     */
    private Change planRestore(JournaledChange journaled, TargetContext context) {
        Change done = journaled.change();
        ReleaseState state = ReleaseState.fromJson(done.targetState());
        String namespace = state.namespace();
        String release = state.release();
        String label = state.label();
        int beforeRevision = state.beforeRevision();
        Change.Builder restore = Change.builder()
                .target(done.target())
                .resourceType(RESOURCE_TYPE)
                .resourceId(done.resourceId())
                .action(ChangeAction.SKIP);
        ClusterConnection connection = ReleaseConnections.forRollback(state, context);
        Optional<InstalledRelease> now = connection.installedRelease(namespace, release);
        int current = now.map(InstalledRelease::revision).orElse(0);
        // What the apply left: a first install is revision 1, an upgrade one more than before (or the revision it
        // journaled: one more again when it first marked a revision its interrupted attempt left pending failed),
        // an uninstall nothing.
        int expected = done.action() == ChangeAction.DELETE
                ? 0
                : journaled
                        .state()
                        .map(applied -> Json.convert(applied, ReleaseState.Applied.class)
                                .revision())
                        .filter(revision -> revision.matches("[0-9]{1,9}"))
                        .map(Integer::valueOf)
                        .orElse(beforeRevision + 1);
        // An upgrade interrupted before its journal said how it ended, killed inside Helm one or more times (each
        // resume of it made a revision too): every revision above the one it planned from is its own.
        boolean onlyOwnAbove = done.action() == ChangeAction.UPDATE
                && !journaled.confirmed()
                && now.isPresent()
                && current > beforeRevision
                && ReleaseApplier.onlyOwnRevisionsAbovePlanned(done, connection, context);
        Integer ownPending = null;
        if (now.isPresent() && now.get().isPending() && !(done.action() == ChangeAction.CREATE && current == 1)) {
            InstalledRelease left = now.get();
            if (!onlyOwnAbove || !"pending-upgrade".equals(left.status())) {
                return restore.reason(PendingReleases.reason(connection, namespace, release, left))
                        .build();
            }
            ownPending = current; // the interrupted upgrade's newest revision: the restore marks it failed first
        }
        if (onlyOwnAbove) {
            expected = current; // what the interrupted upgrade's last attempt left
        }
        if (current != expected) {
            return planWhereTheApplyDidNotLand(done, state, now, current, expected, connection, restore);
        }
        List<Permission> permissions = applyPermissions(state.clusterArn(), state.throughKubeconfig());
        if (done.action() == ChangeAction.CREATE) {
            return restore.action(ChangeAction.DELETE)
                    .reason("Uninstalls the release this apply installed.")
                    .targetState(state.next(current, state.values(), state.beforeValues(), ChartFiles.ID)
                            .toJson())
                    .addAttributes(AttributeChange.of("Release", label, null))
                    .addAllPermissions(permissions)
                    .build();
        }
        // Our chart with another chart's values would be a workload the release never ran.
        Optional<String> foreignChart = state.beforeChartNotRestorable();
        if (beforeRevision > 0 && foreignChart.isPresent()) {
            return restore.reason(
                            done.action() == ChangeAction.DELETE
                                    ? "Release " + label + " ran " + describeChart(state.beforeChart())
                                            + " before the uninstall, not the " + ChartFiles.ID + " this installer"
                                            + " ships, and the uninstall removed its history: install that chart"
                                            + " again yourself."
                                    : "Release " + label + " is not restored: " + foreignChart.get() + ".")
                    .build();
        }
        JsonNode beforeValues = state.beforeValues();
        if (beforeValues == null) {
            return restore.reason("The values of release " + label + " before the apply could not be read through "
                            + connection.describe() + ": install it again with the earlier options.")
                    .build();
        }
        ReleaseState restored =
                state.next(current, beforeValues, null, done.action() == ChangeAction.DELETE ? null : ChartFiles.ID);
        return restore.action(done.action() == ChangeAction.DELETE ? ChangeAction.CREATE : ChangeAction.UPDATE)
                .reason("Restores the values of release " + label + " before the apply (revision " + beforeRevision
                        + "), with the token of the current agent settings"
                        + (ownPending == null
                                ? ""
                                : ", after marking revision " + ownPending
                                        + " failed, which the interrupted apply left pending-upgrade")
                        + ".")
                .targetState((ownPending == null ? restored : restored.failingPending(ownPending)).toJson())
                .addAttributes(AttributeChange.of(
                        "Values",
                        done.action() == ChangeAction.DELETE
                                ? null
                                : state.values().toString(),
                        beforeValues.toString()))
                .addAllPermissions(permissions)
                .build();
    }

    /**
     * Plans the rollback of a change whose release is not at the revision the apply would have left: the apply was
     * interrupted before its change landed, or it failed and Helm or the installer put the release back, or someone
     * changed the release since. Only the last is left alone.
     *
     * @param current the release's revision now, 0 when it is not installed
     * @param expected the revision the apply would have left
     */
    private static Change planWhereTheApplyDidNotLand(
            Change done,
            ReleaseState state,
            Optional<InstalledRelease> now,
            int current,
            int expected,
            ClusterConnection connection,
            Change.Builder restore) {
        String label = state.label();
        if (done.action() == ChangeAction.CREATE && now.isEmpty()) {
            if (ReleaseNamespaces.ownNamespaceExists(connection, state.namespace(), state.release())) {
                return restore.action(ChangeAction.DELETE)
                        .reason("Release " + label + " was never installed; deletes namespace " + state.namespace()
                                + ", which the interrupted install created.")
                        .targetState(state.next(0, state.values(), state.beforeValues(), state.beforeChart())
                                .toJson())
                        .addAttributes(AttributeChange.of("Namespace", state.namespace(), null))
                        .addAllPermissions(applyPermissions(state.clusterArn(), state.throughKubeconfig()))
                        .build();
            }
            return restore.action(ChangeAction.NO_OP)
                    .reason("Release " + label + " is not installed: the install did not land, nothing to undo.")
                    .build();
        }
        if (done.action() == ChangeAction.DELETE && current == state.beforeRevision()) {
            return restore.action(ChangeAction.NO_OP)
                    .reason("Release " + label + " is still at revision " + current
                            + ": the uninstall did not land, nothing to undo.")
                    .build();
        }
        if (done.action() == ChangeAction.UPDATE
                && now.isPresent()
                && (current == state.beforeRevision()
                        || isAsBefore(now.get(), state.beforeValues(), state.beforeChart()))) {
            return restore.action(ChangeAction.NO_OP)
                    .reason("Release " + label + " has the values it had before the apply (revision " + current
                            + " now): the upgrade did not land or was rolled back, nothing to undo.")
                    .build();
        }
        return restore.reason("Release " + label + " changed since it was applied (revision " + current + ", expected "
                        + expected + "): restore it yourself if you mean to.")
                .build();
    }

    /** @return true when the release is deployed with the chart and values (token removed) it had before the apply */
    private static boolean isAsBefore(
            InstalledRelease now, @Nullable JsonNode beforeValues, @Nullable String beforeChart) {
        return beforeValues != null
                && now.isDeployed()
                && now.chart().equals(beforeChart)
                && now.values().filter(beforeValues::equals).isPresent();
    }

    private static String describeChart(@Nullable String chart) {
        return chart == null ? "a chart the plan did not record" : "chart " + chart;
    }

    /**
     * Refuses the apply before any target changes anything when a release change's kubeconfig cannot be used any
     * more (moved, deleted, unreadable, or without the current context it had): otherwise the plan's other changes
     * (the access stack, control-plane logging, other platforms' changes) would land and the release fail, a partial
     * apply.
     */
    @Override
    public void check(List<Change> changes, TargetContext context) {
        for (Change change : changes) {
            ReleaseConnections.checkUsable(ReleaseState.fromJson(change.targetState()));
        }
    }

    @Override
    public void apply(List<Change> changes, ApplyContext context) {
        PrivateDir.sweep();
        for (Change change : changes) {
            if (context.shouldStop()) {
                return;
            }
            try {
                ReleaseApplier.applyOne(change, context);
            } catch (RuntimeException e) {
                AwsFailures.report(context, change, String.valueOf(e.getMessage()), e);
            }
        }
    }

    /**
     * @param clusterArn the cluster's ARN
     * @param throughKubeconfig whether the change reaches the cluster through a kubeconfig
     * @return what applying a release change needs of AWS: apply re-reads the endpoint and CA; through a caller's
     *     kubeconfig it makes no AWS call at all
     */
    static List<Permission> applyPermissions(String clusterArn, boolean throughKubeconfig) {
        return throughKubeconfig ? List.of() : List.of(Permission.of("eks:DescribeCluster", clusterArn));
    }

    /**
     * @param clusterArn the cluster's ARN
     * @param namespace the release namespace
     * @param release the release name
     * @return the release's unique id: the cluster ARN, then {@code /helm/<namespace>/<release>}
     */
    static String resourceId(String clusterArn, String namespace, String release) {
        return clusterArn + "/helm/" + namespace + "/" + release;
    }
}
