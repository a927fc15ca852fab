package com.cloudaeye.agent.eks.internal;

import com.cloudaeye.agent.AttributeChange;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.eks.EksTarget;
import com.cloudaeye.agent.eks.LogType;
import com.cloudaeye.agent.spi.ApplyContext;
import com.cloudaeye.agent.spi.CallScheduler;
import com.cloudaeye.agent.spi.JournaledChange;
import com.cloudaeye.agent.spi.TargetContext;
import com.cloudaeye.agent.spi.TargetPlan;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.services.eks.EksClient;
import software.amazon.awssdk.services.eks.model.Cluster;
import software.amazon.awssdk.services.eks.model.LogSetup;
import software.amazon.awssdk.services.eks.model.Logging;
import software.amazon.awssdk.services.eks.model.ResourceNotFoundException;
import software.amazon.awssdk.services.eks.model.UpdateStatus;

/**
 * EKS control-plane logging ({@link LoggingPlanner} plans it): applies a change's {@link LoggingState} by sending
 * {@code UpdateClusterConfig} with only the difference, waits on {@code DescribeUpdate} (retrying while another
 * cluster update runs) and confirms the log group {@code /aws/eks/<cluster>/cluster} ({@link LoggingUpdate}); restores
 * the journaled before-state on rollback.
 */
public final class ControlPlaneLogging implements EksComponent {
    /** The resource type of its changes: the cluster's logging configuration. */
    public static final String RESOURCE_TYPE = "AWS::EKS::Cluster.Logging";

    /**
     * The cluster tag that records which log types this installer enabled (comma-separated), so that an uninstall,
     * which has no journal, disables exactly those and leaves the ones that were enabled before.
     */
    public static final String TAG = "cloudaeye:logging-enabled-by-installer";

    private final LoggingUpdate update;

    /** @param waits polling interval and timeout of the cluster update */
    public ControlPlaneLogging(Waits waits) {
        this.update = new LoggingUpdate(waits);
    }

    @Override
    public Set<String> resourceTypes() {
        return Set.of(RESOURCE_TYPE);
    }

    /**
     * Restores each change's before-state, checked against the live cluster. A change journaled with {@code {"tag":
     * ...}} (UNKNOWN: it set the installer's tag first, then its update was refused or not confirmed, and the tag's
     * undo was not confirmed either) is planned from what the cluster shows: when its log types are not all on, the
     * update did not land (EKS applies an update whole), so only the tag, when it is still the one the change set, is
     * restored, whatever else changed the cluster's logging since; when they are, the update landed after all, and the
     * types are reverted with the tag as for an applied change.
     */
    @Override
    public TargetPlan planRollback(List<JournaledChange> journaled, TargetContext context) {
        List<Change> out = new ArrayList<>();
        List<Permission> reads = new ArrayList<>();
        for (JournaledChange j : journaled) {
            Change c = j.change();
            String tagSent = LoggingState.TagSent.tag(j.state()).orElse(null);
            LoggingState s = LoggingState.fromJson(c.targetState());
            String name = s.cluster();
            Cluster cluster = Clusters.describe(context, name);
            ClusterRef ref = ClusterRef.of(cluster);
            reads.add(Permission.of("eks:DescribeCluster", ref.arn()));
            Set<LogType> before = s.beforeTypes();
            Set<LogType> after = EnumSet.noneOf(LogType.class);
            after.addAll(before);
            after.addAll(s.enableTypes());
            after.removeAll(s.disableTypes());
            Set<LogType> now = enabledTypes(cluster.logging());
            String tagBefore = s.tagBefore();
            String tagInstalled = s.tagAfter();
            String tagNow = cluster.hasTags() ? cluster.tags().get(TAG) : null;
            Change.Builder change = base(ref);
            boolean ourTag = tagNow != null && tagNow.equals(tagInstalled) && !tagNow.equals(tagBefore);
            boolean notLanded = !now.containsAll(s.enableTypes()) || !Collections.disjoint(now, s.disableTypes());
            String running = LoggingState.updateId(j.state())
                    .filter(id -> inProgress(context, name, id))
                    .orElse(null);
            if (running != null) {
                reads.add(Permission.of("eks:DescribeUpdate", ref.arn()));
                // EKS refuses another update of the cluster until it ends, and its end decides what to undo.
                change.action(ChangeAction.SKIP)
                        .reason("The logging update " + running + " is still in progress; run rollback again when it"
                                + " ends (aws eks describe-update --name " + name + " --update-id " + running + ").");
            } else if (tagSent != null && notLanded && !now.equals(before)) {
                // Its update did not land, but the cluster's logging was changed since by someone else: left as it is.
                if (ourTag) {
                    restoreTag(change, ref, now, tagNow, tagBefore)
                            .reason("The install's logging update did not land (logging is now " + names(now)
                                    + ", changed since by someone else and left as it is), but the tag " + TAG
                                    + " it set first is still there: restores the tag.");
                } else {
                    change.action(ChangeAction.NO_OP)
                            .reason("The install's logging update did not land, and the tag " + TAG + " is not the"
                                    + " one it set (" + tagSent + "): nothing of it to undo (logging is now "
                                    + names(now) + ").");
                }
            } else if (now.equals(before) && ourTag) {
                // Interrupted after it recorded its types in the tag (first) and before the update, or its update was
                // refused and the tag's undo failed (journaled with the tag).
                restoreTag(change, ref, now, tagNow, tagBefore)
                        .reason("Logging is as before the install (" + names(now) + "), which stopped after"
                                + " recording its log types in the tag " + TAG + ": restores the tag.");
            } else if (now.equals(before)) {
                change.action(ChangeAction.NO_OP)
                        .reason("Logging is already as before the install: " + names(now) + ".");
            } else if (!now.equals(after)) {
                change.action(ChangeAction.SKIP)
                        .reason("Logging was changed since the install (now " + names(now) + ", the install left "
                                + names(after) + "): not overwriting it.");
            } else {
                Set<LogType> enable = EnumSet.noneOf(LogType.class);
                enable.addAll(before);
                enable.removeAll(now);
                Set<LogType> disable = EnumSet.noneOf(LogType.class);
                disable.addAll(now);
                disable.removeAll(before);
                change.action(ChangeAction.UPDATE)
                        .reason("Restores logging as before: " + names(before) + ".")
                        .addAllPermissions(updatePermissions(ref))
                        .addAllPermissions(tagPermissions(ref, tagNow, tagBefore))
                        .targetState(state(ref, now, enable, disable, tagNow, tagBefore));
                enable.forEach(
                        t -> change.addAttributes(AttributeChange.of("Logging." + t.awsName(), "disabled", "enabled")));
                disable.forEach(
                        t -> change.addAttributes(AttributeChange.of("Logging." + t.awsName(), "enabled", "disabled")));
            }
            out.add(change.build());
        }
        return new TargetPlan(out, reads);
    }

    /** @return whether the cluster update {@code updateId} still runs (false when EKS no longer knows it) */
    private static boolean inProgress(TargetContext context, String cluster, String updateId) {
        EksClient eks = context.client(EksClient.class, EksClient::builder);
        try {
            UpdateStatus status = context.scheduler()
                    .call(
                            EksQuotas.EKS,
                            () -> eks.describeUpdate(r -> r.name(cluster).updateId(updateId)))
                    .update()
                    .status();
            return status == UpdateStatus.IN_PROGRESS;
        } catch (ResourceNotFoundException gone) {
            return false;
        }
    }

    @Override
    public void apply(List<Change> changes, ApplyContext context) {
        // One cluster update at a time: EKS rejects a second one with ResourceInUseException anyway.
        for (Change change : changes) {
            if (context.shouldStop()) {
                return;
            }
            // applyOne reports the outcome itself; a journal failure in starting() ends it, and core handles that.
            CallScheduler.join(update.applyOne(change, context));
        }
    }

    /** Makes {@code change} an update that only sets the installer's tag from {@code tagNow} back to {@code tagBefore}. */
    private static Change.Builder restoreTag(
            Change.Builder change,
            ClusterRef ref,
            Set<LogType> now,
            @Nullable String tagNow,
            @Nullable String tagBefore) {
        return change.action(ChangeAction.UPDATE)
                .addPermissions(Permission.of("eks:DescribeCluster", ref.arn()), describeLogGroups(ref))
                .addAllPermissions(tagPermissions(ref, tagNow, tagBefore))
                .addAttributes(AttributeChange.of("Tags." + TAG, tagNow, tagBefore))
                .targetState(state(
                        ref, now, EnumSet.noneOf(LogType.class), EnumSet.noneOf(LogType.class), tagNow, tagBefore));
    }

    static Change.Builder base(ClusterRef ref) {
        return Change.builder()
                .target(EksTarget.NAME)
                .resourceType(RESOURCE_TYPE)
                .resourceId(ref.arn());
    }

    static List<Permission> updatePermissions(ClusterRef ref) {
        return List.of(
                Permission.of("eks:DescribeCluster", ref.arn()),
                Permission.of("eks:UpdateClusterConfig", ref.arn()),
                // DescribeUpdate is authorized on the cluster the update belongs to.
                Permission.of("eks:DescribeUpdate", ref.arn()),
                describeLogGroups(ref));
    }

    static Permission describeLogGroups(ClusterRef ref) {
        return Permission.of("logs:DescribeLogGroups", ref.describeLogGroupsResource());
    }

    static JsonNode state(
            ClusterRef ref,
            Set<LogType> before,
            Set<LogType> enable,
            Set<LogType> disable,
            @Nullable String tagBefore,
            @Nullable String tagAfter) {
        return LoggingState.of(ref.name(), before, enable, disable, tagBefore, tagAfter)
                .toJson();
    }

    private static List<Permission> tagPermissions(ClusterRef ref, @Nullable String now, @Nullable String after) {
        if (after != null) {
            return List.of(Permission.of("eks:TagResource", ref.arn()));
        }
        return now == null ? List.of() : List.of(Permission.of("eks:UntagResource", ref.arn()));
    }

    /**
     * @param logging the cluster's logging, may be null
     * @return the enabled types (a type listed in several setups counts as enabled if any enables it last)
     */
    static Set<LogType> enabledTypes(@Nullable Logging logging) {
        Set<LogType> out = EnumSet.noneOf(LogType.class);
        if (logging == null || !logging.hasClusterLogging()) {
            return out;
        }
        for (LogSetup setup : logging.clusterLogging()) {
            for (String type : setup.typesAsStrings()) {
                LogType t;
                try {
                    t = LogType.fromAwsName(type);
                } catch (IllegalArgumentException e) {
                    continue; // a type newer than this library: not ours to manage
                }
                if (Boolean.TRUE.equals(setup.enabled())) {
                    out.add(t);
                } else {
                    out.remove(t);
                }
            }
        }
        return out;
    }

    static List<String> awsNames(Set<LogType> types) {
        return types.stream().map(LogType::awsName).collect(Collectors.toList());
    }

    static String names(Set<LogType> types) {
        return types.isEmpty() ? "no types" : String.join(", ", awsNames(types));
    }
}
