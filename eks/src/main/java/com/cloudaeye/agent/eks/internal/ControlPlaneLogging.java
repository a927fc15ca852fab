package com.cloudaeye.agent.eks.internal;

import com.cloudaeye.agent.AgentException;
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
import com.cloudaeye.agent.spi.support.AwsFailures;
import com.cloudaeye.agent.spi.support.Json;
import com.cloudaeye.agent.spi.support.OutcomeUnknownException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.cloudwatchlogs.CloudWatchLogsClient;
import software.amazon.awssdk.services.cloudwatchlogs.model.LogGroup;
import software.amazon.awssdk.services.eks.EksClient;
import software.amazon.awssdk.services.eks.model.Cluster;
import software.amazon.awssdk.services.eks.model.ClusterStatus;
import software.amazon.awssdk.services.eks.model.LogSetup;
import software.amazon.awssdk.services.eks.model.Logging;
import software.amazon.awssdk.services.eks.model.ResourceInUseException;
import software.amazon.awssdk.services.eks.model.Update;
import software.amazon.awssdk.services.eks.model.UpdateStatus;

/**
 * EKS control-plane logging: enables the wanted log types by sending {@code UpdateClusterConfig} with only the
 * difference, waits on {@code DescribeUpdate} (retrying while another cluster update runs), confirms the log group
 * {@code /aws/eks/<cluster>/cluster}, and restores the journaled before-state on rollback.
 */
public final class ControlPlaneLogging implements EksComponent {
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

    /**
     * @param wanted the log types to enable
     * @param waits polling interval and timeout of the cluster update
     */
    public ControlPlaneLogging(Set<LogType> wanted, Waits waits) {
        this.wanted = wanted.isEmpty() ? EnumSet.noneOf(LogType.class) : EnumSet.copyOf(wanted);
        this.waits = waits;
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
            JsonNode s = c.targetState();
            String name = s.path("cluster").asText();
            Cluster cluster = Clusters.describe(context, name);
            ClusterRef ref = ClusterRef.of(cluster);
            reads.add(Permission.of("eks:DescribeCluster", ref.arn()));
            Set<LogType> before = types(s.path("before"));
            Set<LogType> after = EnumSet.noneOf(LogType.class);
            after.addAll(before);
            after.addAll(types(s.path("enable")));
            after.removeAll(types(s.path("disable")));
            Set<LogType> now = enabledTypes(cluster.logging());
            String tagBefore = s.hasNonNull("tagBefore") ? s.get("tagBefore").asText() : null;
            String tagInstalled = s.hasNonNull("tagAfter") ? s.get("tagAfter").asText() : null;
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
            CallScheduler.join(applyOne(change, context));
        }
    }

    private CompletableFuture<Void> applyOne(Change change, ApplyContext context) {
        JsonNode s = change.targetState();
        String name = s.path("cluster").asText();
        Set<LogType> enable = types(s.path("enable"));
        Set<LogType> disable = types(s.path("disable"));
        String tagBefore = s.hasNonNull("tagBefore") ? s.get("tagBefore").asText() : null;
        String tagAfter = s.hasNonNull("tagAfter") ? s.get("tagAfter").asText() : null;
        boolean untag = tagAfter == null && tagBefore != null;
        EksClient eks = context.client(EksClient.class, EksClient::builder);
        CallScheduler scheduler = context.scheduler();
        long deadline = waits.deadline();
        return scheduler
                .submit(
                        EksQuotas.EKS,
                        () -> eks.describeCluster(r -> r.name(name)).cluster())
                .thenCompose(cluster -> {
                    // Re-read: send only what is still different now, since a no-change update is an error.
                    Set<LogType> now = enabledTypes(cluster.logging());
                    Set<LogType> toEnable = EnumSet.noneOf(LogType.class);
                    toEnable.addAll(enable);
                    toEnable.removeAll(now);
                    Set<LogType> toDisable = EnumSet.noneOf(LogType.class);
                    toDisable.addAll(disable);
                    toDisable.retainAll(now);
                    Set<LogType> expected = EnumSet.noneOf(LogType.class);
                    expected.addAll(now);
                    expected.addAll(toEnable);
                    expected.removeAll(toDisable);
                    // A change that only restores the tag (a rollback of an interrupted install) sets it if needed.
                    String tagNow = cluster.hasTags() ? cluster.tags().get(TAG) : null;
                    boolean restoreTag =
                            enable.isEmpty() && disable.isEmpty() && tagAfter != null && !tagAfter.equals(tagNow);
                    if (toEnable.isEmpty() && toDisable.isEmpty() && !untag && !restoreTag) {
                        LOG.debug("Logging of {} is already as planned", name);
                        return confirmLogGroup(ClusterRef.of(cluster), context)
                                .thenApply(group -> new Outcome(
                                        "already as planned (" + names(expected) + "); " + group, expected));
                    }
                    context.starting(change);
                    LOG.info(
                            "Updating control-plane logging of {}: enable {}, disable {}",
                            name,
                            names(toEnable),
                            names(toDisable));
                    boolean send = !toEnable.isEmpty() || !toDisable.isEmpty();
                    // Record before enabling: a crash between the two then still leaves the record.
                    CompletableFuture<?> recorded = (send || restoreTag) && tagAfter != null
                            ? scheduler.submit(
                                    EksQuotas.EKS,
                                    () -> eks.tagResource(r ->
                                            r.resourceArn(change.resourceId()).tags(Map.of(TAG, tagAfter))))
                            : CompletableFuture.completedFuture(null);
                    return recorded.thenCompose(v -> send
                                    ? update(eks, scheduler, name, toEnable, toDisable, deadline)
                                            .exceptionallyCompose(error ->
                                                    landed(eks, scheduler, name, expected, AwsFailures.unwrap(error)))
                                            .thenCompose(update -> (update == null
                                                            ? confirmByDescribe(eks, scheduler, name, expected)
                                                            : waitFor(eks, scheduler, name, update, deadline))
                                                    .exceptionallyCompose(error -> CompletableFuture.failedFuture(
                                                            afterSending(AwsFailures.unwrap(error)))))
                                    : CompletableFuture.<Void>completedFuture(null))
                            .thenCompose(v -> untag
                                    ? scheduler
                                            .submit(
                                                    EksQuotas.EKS,
                                                    () -> eks.untagResource(r -> r.resourceArn(change.resourceId())
                                                            .tagKeys(TAG)))
                                            .<Void>thenApply(r -> null)
                                    : CompletableFuture.<Void>completedFuture(null))
                            .thenCompose(v -> confirmLogGroup(ClusterRef.of(cluster), context))
                            .thenApply(group -> new Outcome("logging now " + names(expected) + "; " + group, expected));
                })
                .handle((outcome, error) -> {
                    if (error == null) {
                        ObjectNode applied = Json.object();
                        applied.set("enabled", array(outcome.enabled()));
                        context.applied(change, outcome.message(), applied);
                    } else {
                        AwsFailures.report(
                                context,
                                change,
                                "Control-plane logging of " + name
                                        + (AwsFailures.isOutcomeUnknown(error)
                                                ? " may have been updated: "
                                                : " was not updated: ")
                                        + AwsFailures.describe(error),
                                error);
                    }
                    return null;
                });
    }

    private record Outcome(String message, Set<LogType> enabled) {}

    /** Reads of a cluster when an answer was lost, each with the scheduler's retries. */
    private static final int CONFIRM_READS = 5;

    /**
     * UpdateClusterConfig failed in a way that may hide its success (its answer lost, a 5xx): reads the cluster back.
     * A null update id (then confirmed by describing the cluster) when its logging is now as expected, else the
     * original error, or an error saying that the outcome is unknown when the cluster cannot be read.
     */
    private static CompletableFuture<@Nullable String> landed(
            EksClient eks, CallScheduler scheduler, String name, Set<LogType> expected, Throwable error) {
        if (!AwsFailures.isTransient(error)) {
            return CompletableFuture.failedFuture(error);
        }
        return describe(eks, scheduler, name, CONFIRM_READS).handle((cluster, readError) -> {
            if (readError != null) {
                throw new CompletionException(new OutcomeUnknownException(
                        AwsFailures.OUTCOME_UNKNOWN + ": UpdateClusterConfig got no answer ("
                                + AwsFailures.describe(error)
                                + ") and reading the cluster back failed too (" + AwsFailures.describe(readError)
                                + "); plan again to see where it stands",
                        error));
            }
            if (enabledTypes(cluster.logging()).equals(expected)) {
                LOG.warn(
                        "UpdateClusterConfig of {} got no answer ({}), but its logging is now as planned",
                        name,
                        AwsFailures.describe(error));
                return null;
            }
            throw new CompletionException(error);
        });
    }

    /**
     * The update was sent and accepted; what failed afterwards is the wait for it. A definite answer (the update
     * failed, or the cluster shows other log types) stays as it is; an error reading it means the outcome is unknown.
     */
    private static Throwable afterSending(Throwable error) {
        if (error instanceof AgentException) {
            return error;
        }
        return new OutcomeUnknownException(
                AwsFailures.OUTCOME_UNKNOWN + ": the update was accepted, but reading its progress failed ("
                        + AwsFailures.describe(error) + "); plan again to see where it stands",
                error);
    }

    /** Describes a cluster, trying again (up to {@code reads} times) on throttling, 5xx and I/O errors. */
    private static CompletableFuture<Cluster> describe(EksClient eks, CallScheduler scheduler, String name, int reads) {
        return scheduler
                .submit(
                        EksQuotas.EKS,
                        () -> eks.describeCluster(r -> r.name(name)).cluster())
                .exceptionallyCompose(e -> {
                    Throwable cause = AwsFailures.unwrap(e);
                    if (reads <= 1 || !AwsFailures.isRetryable(cause)) {
                        return CompletableFuture.failedFuture(cause);
                    }
                    return scheduler
                            .after(Duration.ofMillis(100))
                            .thenCompose(v -> describe(eks, scheduler, name, reads - 1));
                });
    }

    /** Sends the update; while another update runs (ResourceInUseException), waits and tries again. */
    private CompletableFuture<@Nullable String> update(
            EksClient eks,
            CallScheduler scheduler,
            String name,
            Set<LogType> enable,
            Set<LogType> disable,
            long deadline) {
        List<LogSetup> setups = new ArrayList<>();
        if (!enable.isEmpty()) {
            setups.add(LogSetup.builder()
                    .enabled(true)
                    .typesWithStrings(awsNames(enable))
                    .build());
        }
        if (!disable.isEmpty()) {
            setups.add(LogSetup.builder()
                    .enabled(false)
                    .typesWithStrings(awsNames(disable))
                    .build());
        }
        // One token per request: the scheduler's retries after a lost response are then idempotent in EKS.
        String token = UUID.randomUUID().toString();
        return scheduler
                .submit(
                        EksQuotas.EKS,
                        () -> eks.updateClusterConfig(
                                r -> r.name(name).clientRequestToken(token).logging(l -> l.clusterLogging(setups))))
                .<@Nullable String>thenApply(
                        r -> r.update() == null ? null : r.update().id())
                .exceptionallyCompose(e -> {
                    Throwable cause = AwsFailures.unwrap(e);
                    if (cause instanceof ResourceInUseException && !Waits.passed(deadline)) {
                        LOG.debug(
                                "Another update of cluster {} is in progress; trying again in {}",
                                name,
                                waits.pollInterval());
                        return scheduler
                                .after(waits.pollInterval())
                                .thenCompose(v -> update(eks, scheduler, name, enable, disable, deadline));
                    }
                    if (cause instanceof ResourceInUseException) {
                        return CompletableFuture.failedFuture(new AgentException(
                                "another update of the cluster was"
                                        + " still in progress after " + waits.timeout() + " ("
                                        + AwsFailures.describe(cause)
                                        + "); apply again when it has finished",
                                cause));
                    }
                    return CompletableFuture.failedFuture(cause);
                });
    }

    /** Polls DescribeUpdate until Successful, Failed or Cancelled, or the deadline. */
    private CompletableFuture<Void> waitFor(
            EksClient eks, CallScheduler scheduler, String name, String updateId, long deadline) {
        return scheduler
                .submit(
                        EksQuotas.EKS,
                        () -> eks.describeUpdate(r -> r.name(name).updateId(updateId))
                                .update())
                .<@Nullable Update>thenApply(u -> u)
                .exceptionallyCompose(e -> {
                    Throwable cause = AwsFailures.unwrap(e);
                    // A failed poll says nothing about the update: poll again until the deadline.
                    return Waits.passed(deadline) || !AwsFailures.isRetryable(cause)
                            ? CompletableFuture.failedFuture(cause)
                            : CompletableFuture.completedFuture(null);
                })
                .thenCompose(update -> {
                    if (update == null) {
                        return scheduler
                                .after(waits.pollInterval())
                                .thenCompose(v -> waitFor(eks, scheduler, name, updateId, deadline));
                    }
                    UpdateStatus status = update.status();
                    if (status == UpdateStatus.SUCCESSFUL) {
                        LOG.debug("Update {} of cluster {} succeeded", updateId, name);
                        return CompletableFuture.completedFuture(null);
                    }
                    if (status == UpdateStatus.FAILED || status == UpdateStatus.CANCELLED) {
                        return CompletableFuture.failedFuture(new AgentException(
                                "update " + updateId + " " + update.statusAsString() + ": " + errors(update)));
                    }
                    if (Waits.passed(deadline)) {
                        // It may still land: unknown, not failed (failed says nothing changed).
                        return CompletableFuture.failedFuture(new OutcomeUnknownException(
                                AwsFailures.OUTCOME_UNKNOWN + ": update " + updateId + " was still "
                                        + update.statusAsString() + " after " + waits.timeout()
                                        + "; it may still finish: check it with aws eks describe-update, then plan"
                                        + " again",
                                new IllegalStateException(update.statusAsString())));
                    }
                    return scheduler
                            .after(waits.pollInterval())
                            .thenCompose(v -> waitFor(eks, scheduler, name, updateId, deadline));
                });
    }

    private static String errors(Update update) {
        if (!update.hasErrors() || update.errors().isEmpty()) {
            return "AWS gave no error details";
        }
        return update.errors().stream()
                .map(e -> e.errorCodeAsString() + ": " + e.errorMessage())
                .collect(Collectors.joining("; "));
    }

    /** For endpoints that return no update object (moto): confirm the result by reading the cluster. */
    private static CompletableFuture<Void> confirmByDescribe(
            EksClient eks, CallScheduler scheduler, String name, Set<LogType> expected) {
        return describe(eks, scheduler, name, CONFIRM_READS).thenCompose(cluster -> {
            Set<LogType> now = enabledTypes(cluster.logging());
            if (now.equals(expected)) {
                return CompletableFuture.completedFuture(null);
            }
            // Something else than planned is enabled now: the update may have landed in part.
            return CompletableFuture.failedFuture(new OutcomeUnknownException(
                    AwsFailures.OUTCOME_UNKNOWN + ": UpdateClusterConfig returned no update to wait on, and the cluster"
                            + " now has " + names(now) + " enabled instead of " + names(expected)
                            + "; plan again to see where it stands",
                    new IllegalStateException(names(now))));
        });
    }

    private static CompletableFuture<String> confirmLogGroup(ClusterRef ref, TargetContext context) {
        CloudWatchLogsClient logs = context.client(CloudWatchLogsClient.class, CloudWatchLogsClient::builder);
        return context.scheduler()
                .submit(
                        EksQuotas.LOGS_DESCRIBE_LOG_GROUPS,
                        () -> logs.describeLogGroups(r -> r.logGroupNamePrefix(ref.logGroupName())))
                .thenApply(
                        r -> r.logGroups().stream().map(LogGroup::logGroupName).anyMatch(ref.logGroupName()::equals)
                                ? "log group " + ref.logGroupName() + " exists"
                                : "log group " + ref.logGroupName()
                                        + " not created yet: EKS creates it with the first log"
                                        + " events, usually within minutes")
                // A note only: failing to read it says nothing about the logging change.
                .exceptionally(e -> "log group " + ref.logGroupName() + " not checked ("
                        + AwsFailures.describe(AwsFailures.unwrap(e)) + ")");
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

    private static ObjectNode state(
            ClusterRef ref,
            Set<LogType> before,
            Set<LogType> enable,
            Set<LogType> disable,
            @Nullable String tagBefore,
            @Nullable String tagAfter) {
        ObjectNode s = Json.object().put("cluster", ref.name());
        s.set("before", array(before));
        s.set("enable", array(enable));
        s.set("disable", array(disable));
        s.put("tagBefore", tagBefore);
        s.put("tagAfter", tagAfter);
        return s;
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

    private static ArrayNode array(Set<LogType> types) {
        ArrayNode a = Json.array();
        awsNames(types).forEach(a::add);
        return a;
    }

    private static Set<LogType> types(JsonNode array) {
        Set<LogType> out = EnumSet.noneOf(LogType.class);
        array.forEach(n -> out.add(LogType.fromAwsName(n.asText())));
        return out;
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

    private static List<String> awsNames(Set<LogType> types) {
        return types.stream().map(LogType::awsName).collect(Collectors.toList());
    }

    private static String names(Set<LogType> types) {
        return types.isEmpty() ? "no types" : String.join(", ", awsNames(types));
    }
}
