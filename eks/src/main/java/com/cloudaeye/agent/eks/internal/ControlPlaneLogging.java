package com.cloudaeye.agent.eks.internal;

import com.cloudaeye.agent.AttributeChange;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.eks.EksTarget;
import com.cloudaeye.agent.eks.LogType;
import com.cloudaeye.agent.spi.ApplyContext;
import com.cloudaeye.agent.spi.CallScheduler;
import com.cloudaeye.agent.spi.TargetContext;
import com.cloudaeye.agent.spi.TargetPlan;
import com.cloudaeye.agent.spi.support.Json;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.cloudwatchlogs.CloudWatchLogsClient;
import software.amazon.awssdk.services.cloudwatchlogs.model.LogGroup;
import software.amazon.awssdk.services.eks.model.Cluster;
import software.amazon.awssdk.services.eks.model.ClusterStatus;
import software.amazon.awssdk.services.eks.model.LogSetup;
import software.amazon.awssdk.services.eks.model.Logging;

/**
 * EKS control-plane logging: enables the wanted log types by sending {@code UpdateClusterConfig} with only the
 * difference, waits on {@code DescribeUpdate} (retrying while another cluster update runs), confirms the log group
 * {@code /aws/eks/<cluster>/cluster}, and restores the journaled before-state on rollback.
 */
public final class ControlPlaneLogging implements EksComponent, ComponentPlanner {
    /** The resource type of its changes: the cluster's logging configuration. */
    public static final String RESOURCE_TYPE = "AWS::EKS::Cluster.Logging";

    /**
     * The cluster tag that records which log types this installer enabled (comma-separated), so that an uninstall,
     * which has no journal, disables exactly those and leaves the ones that were enabled before.
     */
    public static final String TAG = "cloudaeye:logging-enabled-by-installer";

    private static final Logger LOG = LoggerFactory.getLogger(ControlPlaneLogging.class);

    private final Set<LogType> wanted;
    private final Waits waits;
    private final LoggingUpdate update;

    /**
     * @param wanted the log types to enable
     * @param waits polling interval and timeout of the cluster update
     */
    public ControlPlaneLogging(Set<LogType> wanted, Waits waits) {
        this.wanted = wanted.isEmpty() ? EnumSet.noneOf(LogType.class) : EnumSet.copyOf(wanted);
        this.waits = waits;
        this.update = new LoggingUpdate(waits);
    }

    @Override
    public Set<String> resourceTypes() {
        return Set.of(RESOURCE_TYPE);
    }

    @Override
    public TargetPlan plan(Cluster cluster, TargetContext context) {
        ClusterRef ref = ClusterRef.of(cluster);
        Set<LogType> enabled = enabledTypes(cluster.logging());
        Set<LogType> enable = EnumSet.noneOf(LogType.class);
        enable.addAll(wanted);
        enable.removeAll(enabled);
        boolean logGroupExists = logGroupExists(ref, context);
        Change.Builder change = base(ref);
        if (enable.isEmpty()) {
            change.action(ChangeAction.NO_OP)
                    .reason("Control-plane logging of " + names(wanted) + " is already enabled; logs go to "
                            + ref.logGroupName()
                            + (logGroupExists ? "" : " (not created yet: EKS creates it with the first log events)")
                            + ".");
        } else {
            change.action(ChangeAction.UPDATE)
                    .reason("Enables " + names(enable) + "; logs go to " + ref.logGroupName() + ". The cluster tag "
                            + TAG + " records them, so that an uninstall disables only these.")
                    .addAllPermissions(updatePermissions(ref))
                    .addPermissions(Permission.of("eks:TagResource", ref.arn()));
            enable.forEach(
                    t -> change.addAttributes(AttributeChange.of("Logging." + t.awsName(), "disabled", "enabled")));
            if (cluster.status() != ClusterStatus.ACTIVE) {
                change.addWarnings("The cluster is " + cluster.statusAsString() + ", not ACTIVE: EKS accepts the"
                        + " logging update only once it is ACTIVE; the apply retries while another update runs, for"
                        + " at most " + waits.timeout() + ".");
            }
            if (enable.contains(LogType.AUDIT)) {
                change.addWarnings("The audit log records every Kubernetes API request: it is by far the largest of the"
                        + " five and so the costly one in CloudWatch Logs ingestion and storage. Leave it out with"
                        + " .logTypes(...) if you do not need it, and set a retention on " + ref.logGroupName() + ".");
            }
        }
        Set<LogType> recorded = tagged(cluster);
        Set<LogType> record = EnumSet.noneOf(LogType.class);
        record.addAll(recorded);
        record.addAll(enable);
        if (!enable.isEmpty()) {
            change.addAttributes(AttributeChange.of("Tags." + TAG, tagValue(recorded), tagValue(record)));
        }
        change.targetState(
                state(ref, enabled, enable, EnumSet.noneOf(LogType.class), tagValue(recorded), tagValue(record)));
        return new TargetPlan(List.of(change.build()), List.of(describeLogGroups(ref)));
    }

    @Override
    public TargetPlan planUninstall(Cluster cluster, TargetContext context) {
        ClusterRef ref = ClusterRef.of(cluster);
        Set<LogType> enabled = enabledTypes(cluster.logging());
        Set<LogType> recorded = tagged(cluster);
        Change.Builder change = base(ref);
        if (recorded.isEmpty() && !cluster.tags().containsKey(TAG)) {
            change.action(ChangeAction.NO_OP)
                    .reason("This installer enabled no control-plane log type here (no " + TAG + " tag): logging"
                            + " stays as it is (" + names(enabled) + ").");
            return new TargetPlan(List.of(change.build()), List.of());
        }
        Set<LogType> disable = EnumSet.noneOf(LogType.class);
        disable.addAll(recorded);
        disable.retainAll(enabled);
        change.action(ChangeAction.UPDATE)
                .reason("Disables the log types this installer enabled and that are still on (" + names(disable)
                        + "); the ones enabled before the install stay on.")
                .addAllPermissions(updatePermissions(ref))
                .addPermissions(Permission.of("eks:UntagResource", ref.arn()))
                .addAttributes(AttributeChange.of("Tags." + TAG, cluster.tags().get(TAG), null))
                .targetState(state(ref, enabled, EnumSet.noneOf(LogType.class), disable, tagValue(recorded), null));
        disable.forEach(t -> change.addAttributes(AttributeChange.of("Logging." + t.awsName(), "enabled", "disabled")));
        return new TargetPlan(List.of(change.build()), List.of(describeLogGroups(ref)));
    }

    @Override
    public TargetPlan planRollback(List<Change> applied, TargetContext context) {
        List<Change> out = new ArrayList<>();
        List<Permission> reads = new ArrayList<>();
        for (Change c : applied) {
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
            if (now.equals(before) && tagNow != null && tagNow.equals(tagInstalled) && !tagNow.equals(tagBefore)) {
                // The apply was interrupted after it recorded its types in the tag (first) and before the update.
                change.action(ChangeAction.UPDATE)
                        .reason("Logging is as before the install (" + names(now) + "), which was interrupted after"
                                + " recording its log types in the tag " + TAG + ": restores the tag.")
                        .addPermissions(Permission.of("eks:DescribeCluster", ref.arn()), describeLogGroups(ref))
                        .addAllPermissions(tagPermissions(ref, tagNow, tagBefore))
                        .addAttributes(AttributeChange.of("Tags." + TAG, tagNow, tagBefore))
                        .targetState(state(
                                ref,
                                now,
                                EnumSet.noneOf(LogType.class),
                                EnumSet.noneOf(LogType.class),
                                tagNow,
                                tagBefore));
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

    private static boolean logGroupExists(ClusterRef ref, TargetContext context) {
        CloudWatchLogsClient logs = context.client(CloudWatchLogsClient.class, CloudWatchLogsClient::builder);
        return context
                .scheduler()
                .call(
                        EksQuotas.LOGS_DESCRIBE_LOG_GROUPS,
                        () -> logs.describeLogGroups(r -> r.logGroupNamePrefix(ref.logGroupName())))
                .logGroups()
                .stream()
                .map(LogGroup::logGroupName)
                .anyMatch(ref.logGroupName()::equals);
    }

    private static Change.Builder base(ClusterRef ref) {
        return Change.builder()
                .target(EksTarget.NAME)
                .resourceType(RESOURCE_TYPE)
                .resourceId(ref.arn());
    }

    private static List<Permission> updatePermissions(ClusterRef ref) {
        return List.of(
                Permission.of("eks:DescribeCluster", ref.arn()),
                Permission.of("eks:UpdateClusterConfig", ref.arn()),
                // DescribeUpdate is authorized on the cluster the update belongs to.
                Permission.of("eks:DescribeUpdate", ref.arn()),
                describeLogGroups(ref));
    }

    private static Permission describeLogGroups(ClusterRef ref) {
        return Permission.of("logs:DescribeLogGroups", ref.describeLogGroupsResource());
    }

    private static JsonNode state(
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

    private static Set<LogType> tagged(Cluster cluster) {
        String value = cluster.hasTags() ? cluster.tags().get(TAG) : null;
        Set<LogType> out = EnumSet.noneOf(LogType.class);
        if (value == null || value.isBlank()) {
            return out;
        }
        for (String name : value.split(",", -1)) {
            if (name.isBlank()) {
                continue;
            }
            try {
                out.add(LogType.fromAwsName(name.trim()));
            } catch (IllegalArgumentException e) {
                LOG.warn("Ignoring '{}' in the {} tag of {}: not a log type", name, TAG, cluster.name());
            }
        }
        return out;
    }

    private static @Nullable String tagValue(Set<LogType> types) {
        return types.isEmpty() ? null : String.join(",", awsNames(types));
    }

    static ArrayNode array(Set<LogType> types) {
        ArrayNode a = Json.array();
        awsNames(types).forEach(a::add);
        return a;
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
