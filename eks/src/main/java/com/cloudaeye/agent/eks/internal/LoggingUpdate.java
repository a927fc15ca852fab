package com.cloudaeye.agent.eks.internal;

import com.cloudaeye.agent.AgentException;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.eks.LogType;
import com.cloudaeye.agent.spi.ApplyContext;
import com.cloudaeye.agent.spi.CallScheduler;
import com.cloudaeye.agent.spi.TargetContext;
import com.cloudaeye.agent.spi.support.AwsFailures;
import com.cloudaeye.agent.spi.support.OutcomeUnknownException;
import com.cloudaeye.agent.spi.support.ReadBack;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.cloudwatchlogs.CloudWatchLogsClient;
import software.amazon.awssdk.services.cloudwatchlogs.model.LogGroup;
import software.amazon.awssdk.services.eks.EksClient;
import software.amazon.awssdk.services.eks.model.Cluster;
import software.amazon.awssdk.services.eks.model.LogSetup;
import software.amazon.awssdk.services.eks.model.ResourceInUseException;
import software.amazon.awssdk.services.eks.model.Update;
import software.amazon.awssdk.services.eks.model.UpdateStatus;

/**
 * Applies one logging change: sends {@code UpdateClusterConfig} with only what is still different, retries while
 * another cluster update runs, waits on {@code DescribeUpdate}, reads the cluster back when an answer was lost, records
 * or removes the installer's tag, and confirms the log group.
 */
final class LoggingUpdate {
    private static final Logger LOG = LoggerFactory.getLogger(LoggingUpdate.class);

    private final Waits waits;

    LoggingUpdate(Waits waits) {
        this.waits = waits;
    }

    CompletableFuture<Void> applyOne(Change change, ApplyContext context) {
        LoggingState s = LoggingState.fromJson(change.targetState());
        String name = s.cluster();
        Set<LogType> enable = s.enableTypes();
        Set<LogType> disable = s.disableTypes();
        String tagBefore = s.tagBefore();
        String tagAfter = s.tagAfter();
        boolean untag = tagAfter == null && tagBefore != null;
        EksClient eks = context.client(EksClient.class, EksClient::builder);
        CallScheduler scheduler = context.scheduler();
        long deadline = waits.deadline();
        // Whether this apply changed the installer's tag (set before the update): undone when the update fails.
        AtomicBoolean tagSent = new AtomicBoolean();
        // The id of the update EKS accepted, journaled when its outcome is unknown: a rollback waits for it.
        AtomicReference<@Nullable String> updateId = new AtomicReference<>();
        return scheduler
                .submit(
                        EksQuotas.EKS,
                        () -> eks.describeCluster(r -> r.name(name)).cluster())
                .thenCompose(cluster -> {
                    // Re-read: send only what is still different now, since a no-change update is an error.
                    Set<LogType> now = ControlPlaneLogging.enabledTypes(cluster.logging());
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
                    String tagNow = cluster.hasTags() ? cluster.tags().get(ControlPlaneLogging.TAG) : null;
                    boolean restoreTag =
                            enable.isEmpty() && disable.isEmpty() && tagAfter != null && !tagAfter.equals(tagNow);
                    if (toEnable.isEmpty() && toDisable.isEmpty() && !untag && !restoreTag) {
                        LOG.debug("Logging of {} is already as planned", name);
                        return confirmLogGroup(ClusterRef.of(cluster), context)
                                .thenApply(group -> new Outcome(
                                        "already as planned (" + ControlPlaneLogging.names(expected) + "); " + group,
                                        expected));
                    }
                    context.starting(change);
                    LOG.info(
                            "Updating control-plane logging of {}: enable {}, disable {}",
                            name,
                            ControlPlaneLogging.names(toEnable),
                            ControlPlaneLogging.names(toDisable));
                    boolean send = !toEnable.isEmpty() || !toDisable.isEmpty();
                    LoggingTag tag = new LoggingTag(eks, scheduler, name, change.resourceId());
                    // Record before enabling: a crash between the two then still leaves the record.
                    boolean record = (send || restoreTag) && tagAfter != null;
                    tagSent.set(record && !Objects.equals(tagAfter, tagNow));
                    CompletableFuture<Void> recorded =
                            record ? tag.set(tagAfter) : CompletableFuture.<Void>completedFuture(null);
                    return recorded.thenCompose(v -> send
                                    ? update(eks, scheduler, name, toEnable, toDisable, deadline)
                                            .exceptionallyCompose(error ->
                                                    landed(eks, scheduler, name, expected, AwsFailures.unwrap(error)))
                                            .thenCompose(update -> {
                                                updateId.set(update);
                                                return (update == null
                                                                ? confirmByDescribe(eks, scheduler, name, expected)
                                                                : waitFor(eks, scheduler, name, update, deadline))
                                                        .exceptionallyCompose(error -> CompletableFuture.failedFuture(
                                                                afterSending(AwsFailures.unwrap(error))));
                                            })
                                            .exceptionallyCompose(error -> tagSent.get()
                                                    ? undoTag(tag, tagNow, error)
                                                    : CompletableFuture.failedFuture(error))
                                    : CompletableFuture.<Void>completedFuture(null))
                            .thenCompose(v -> untag
                                    ? tag.set(null)
                                            .exceptionallyCompose(e ->
                                                    CompletableFuture.failedFuture(afterSending(AwsFailures.unwrap(e))))
                                    : CompletableFuture.<Void>completedFuture(null))
                            .thenCompose(v -> confirmLogGroup(ClusterRef.of(cluster), context))
                            .thenApply(group -> new Outcome(
                                    "logging now " + ControlPlaneLogging.names(expected) + "; " + group, expected));
                })
                .handle((outcome, error) -> {
                    if (error == null) {
                        context.applied(
                                change,
                                outcome.message(),
                                new LoggingState.Applied(ControlPlaneLogging.awsNames(outcome.enabled())).toJson());
                    } else if (AwsFailures.isOutcomeUnknown(error) && (tagSent.get() || updateId.get() != null)) {
                        // Journaled, so that a rollback knows the tag this change set may be on the cluster, and
                        // the update it must let end first.
                        context.unknown(
                                change,
                                "Control-plane logging of " + name + " may have been updated: "
                                        + AwsFailures.describe(error),
                                AwsFailures.unwrap(error),
                                LoggingState.unknownState(tagSent.get(), tagAfter, updateId.get()));
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

    /**
     * UpdateClusterConfig failed (any error: an earlier attempt whose answer was lost may have landed before a retry
     * was refused): reads the cluster back ({@link ReadBack}). A null update id (then confirmed by describing the
     * cluster) when its logging is now as expected, else the original error, or an error saying that the outcome is
     * unknown when the cluster cannot be read.
     */
    private static CompletableFuture<@Nullable String> landed(
            EksClient eks, CallScheduler scheduler, String name, Set<LogType> expected, Throwable error) {
        return ReadBack.confirmAsync(
                        scheduler,
                        "UpdateClusterConfig of " + name,
                        error,
                        () -> describe(eks, scheduler, name)
                                .thenApply(cluster -> Optional.of(cluster)
                                        .filter(c -> ControlPlaneLogging.enabledTypes(c.logging())
                                                .equals(expected))))
                .<@Nullable String>thenApply(cluster -> {
                    LOG.warn(
                            "UpdateClusterConfig of {} failed ({}), but its logging is now as planned",
                            name,
                            AwsFailures.describe(error));
                    return null;
                });
    }

    /**
     * The update did not land (a definite answer: refused, or it failed), but the tag recorded before it did: restores
     * the tag as it was, so that {@code FAILED} (nothing changed) holds. When the restore is not confirmed, the change
     * landed in part: {@code UNKNOWN}, journaled with the tag so a rollback removes it.
     */
    private static CompletableFuture<Void> undoTag(LoggingTag tag, @Nullable String was, Throwable error) {
        Throwable cause = AwsFailures.unwrap(error);
        if (AwsFailures.isOutcomeUnknown(cause)) {
            return CompletableFuture.failedFuture(cause);
        }
        return tag.set(was).handle((v, undoError) -> {
            if (undoError == null) {
                LOG.info("Restored the tag {} after the logging update failed", ControlPlaneLogging.TAG);
                throw new CompletionException(cause);
            }
            throw new CompletionException(new OutcomeUnknownException(
                    AwsFailures.OUTCOME_UNKNOWN + ": the logging update was not made (" + AwsFailures.describe(cause)
                            + "), but the cluster tag " + ControlPlaneLogging.TAG + " it had set before may remain:"
                            + " restoring it failed (" + AwsFailures.describe(undoError) + "); roll back (it removes"
                            + " the tag) or resume",
                    cause));
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

    /** Describes a cluster, trying again (up to five times in all) on throttling, 5xx and I/O errors. */
    private static CompletableFuture<Cluster> describe(EksClient eks, CallScheduler scheduler, String name) {
        return ReadBack.patiently(
                scheduler,
                () -> scheduler.submit(
                        EksQuotas.EKS,
                        () -> eks.describeCluster(r -> r.name(name)).cluster()),
                5);
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
                    .typesWithStrings(ControlPlaneLogging.awsNames(enable))
                    .build());
        }
        if (!disable.isEmpty()) {
            setups.add(LogSetup.builder()
                    .enabled(false)
                    .typesWithStrings(ControlPlaneLogging.awsNames(disable))
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
        return describe(eks, scheduler, name).thenCompose(cluster -> {
            Set<LogType> now = ControlPlaneLogging.enabledTypes(cluster.logging());
            if (now.equals(expected)) {
                return CompletableFuture.completedFuture(null);
            }
            // Something else than planned is enabled now: the update may have landed in part.
            return CompletableFuture.failedFuture(new OutcomeUnknownException(
                    AwsFailures.OUTCOME_UNKNOWN + ": UpdateClusterConfig returned no update to wait on, and the cluster"
                            + " now has " + ControlPlaneLogging.names(now) + " enabled instead of "
                            + ControlPlaneLogging.names(expected)
                            + "; plan again to see where it stands",
                    new IllegalStateException(ControlPlaneLogging.names(now))));
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
}
