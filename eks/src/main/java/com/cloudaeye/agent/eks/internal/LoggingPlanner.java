package com.cloudaeye.agent.eks.internal;

import static com.cloudaeye.agent.eks.internal.ControlPlaneLogging.TAG;
import static com.cloudaeye.agent.eks.internal.ControlPlaneLogging.awsNames;
import static com.cloudaeye.agent.eks.internal.ControlPlaneLogging.base;
import static com.cloudaeye.agent.eks.internal.ControlPlaneLogging.describeLogGroups;
import static com.cloudaeye.agent.eks.internal.ControlPlaneLogging.enabledTypes;
import static com.cloudaeye.agent.eks.internal.ControlPlaneLogging.names;
import static com.cloudaeye.agent.eks.internal.ControlPlaneLogging.state;
import static com.cloudaeye.agent.eks.internal.ControlPlaneLogging.updatePermissions;

import com.cloudaeye.agent.AttributeChange;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.eks.LogType;
import com.cloudaeye.agent.spi.TargetContext;
import com.cloudaeye.agent.spi.TargetPlan;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.cloudwatchlogs.CloudWatchLogsClient;
import software.amazon.awssdk.services.cloudwatchlogs.model.LogGroup;
import software.amazon.awssdk.services.eks.model.Cluster;
import software.amazon.awssdk.services.eks.model.ClusterStatus;

/**
 * Plans EKS control-plane logging from the log types the target wants: an install enables those not yet enabled and
 * records them in the cluster tag {@link ControlPlaneLogging#TAG}; an uninstall disables exactly the recorded ones.
 * Each change carries its {@link LoggingState}, from which {@link ControlPlaneLogging} applies and rolls it back.
 */
public final class LoggingPlanner implements ComponentPlanner {
    private static final Logger LOG = LoggerFactory.getLogger(LoggingPlanner.class);

    private final Set<LogType> wanted;
    private final Waits waits;

    /**
     * @param wanted the log types to enable, at least one
     * @param waits polling interval and timeout of the cluster update, for the plan's warnings
     */
    public LoggingPlanner(Set<LogType> wanted, Waits waits) {
        this.wanted = EnumSet.copyOf(wanted);
        this.waits = waits;
    }

    @Override
    public java.util.Set<String> resourceTypes() {
        return java.util.Set.of(ControlPlaneLogging.RESOURCE_TYPE);
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
                    .addPermissions(
                            Permission.of("eks:TagResource", ref.arn()),
                            // Only to restore the tag when the update is refused (it did not land).
                            Permission.of("eks:UntagResource", ref.arn()));
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
}
