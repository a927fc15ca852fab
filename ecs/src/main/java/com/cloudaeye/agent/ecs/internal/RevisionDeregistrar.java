package com.cloudaeye.agent.ecs.internal;

import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.spi.ApplyContext;
import com.cloudaeye.agent.spi.support.AwsFailures;
import com.cloudaeye.agent.spi.support.ReadBack;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.ecs.EcsClient;
import software.amazon.awssdk.services.ecs.model.TaskDefinitionStatus;

/**
 * Deregisters the revisions an apply registered, for its rollback, once the services moved back: a revision that a
 * service or a standalone task of any cluster of the region still runs stays registered. A lost answer is read back: the revision is inactive when the
 * call landed.
 */
final class RevisionDeregistrar {
    private static final Logger LOG = LoggerFactory.getLogger(RevisionDeregistrar.class);

    private final ApplyContext context;
    private final EcsClient ecs;

    /** @param context the apply context */
    RevisionDeregistrar(ApplyContext context) {
        this.context = context;
        this.ecs = context.client(EcsClient.class, EcsClient::builder);
    }

    /** What a deregistration found or did: applied with the message, or skipped with the reason. */
    private record Outcome(boolean skipped, String message) {}

    CompletableFuture<@Nullable Void> deregister(Change change) {
        DeregistrationState state = EcsStates.deregistrationState(change.targetState());
        String arn = state.revision();
        return status(arn)
                .thenCompose(status -> {
                    if (status != TaskDefinitionStatus.ACTIVE) {
                        return done(new Outcome(false, "already " + status));
                    }
                    return RevisionUsers.running(context, arn).thenCompose(users -> {
                        if (!users.isEmpty()) {
                            return done(new Outcome(true, inUse(arn, users)));
                        }
                        if (context.shouldStop()) {
                            return CompletableFuture.<@Nullable Outcome>completedFuture(null);
                        }
                        return context.start(change)
                                .thenCompose(admitted -> context.scheduler()
                                        .submit(
                                                EcsQuotas.TASK_DEFINITION_MODIFY,
                                                () -> ecs.deregisterTaskDefinition(d -> d.taskDefinition(arn)))
                                        .thenApply(r -> r.taskDefinition().status())
                                        .exceptionallyCompose(error -> confirmDeregistered(arn, error)))
                                .thenApply(now -> {
                                    LOG.info("Deregistered ECS task definition {}", shortName(arn));
                                    return new Outcome(false, "deregistered " + shortName(arn));
                                });
                    });
                })
                .handle((outcome, error) -> {
                    if (error != null) {
                        AwsFailures.report(
                                context,
                                change,
                                "deregistering " + shortName(arn) + " failed: " + AwsFailures.describe(error),
                                error);
                    } else if (outcome != null && outcome.skipped()) {
                        context.skipped(change, outcome.message());
                    } else if (outcome != null) {
                        context.applied(change, outcome.message(), null);
                    }
                    return null;
                });
    }

    /** The reason a revision stays: where it runs (services and standalone tasks, of any cluster of the region). */
    static String inUse(String arn, List<String> users) {
        return shortName(arn) + " stays registered: " + String.join(", ", RevisionUsers.describe(users))
                + (users.size() == 1 ? " runs" : " run") + " it (deployed since the apply); deregister it once nothing"
                + " runs it";
    }

    /**
     * After DeregisterTaskDefinition failed (any error: a retry of an attempt that landed may be refused), reads the
     * revision back: it landed when the revision is no longer active.
     */
    private CompletableFuture<TaskDefinitionStatus> confirmDeregistered(String arn, Throwable error) {
        return ReadBack.confirmAsync(
                context.scheduler(),
                "DeregisterTaskDefinition " + shortName(arn),
                AwsFailures.unwrap(error),
                () -> status(arn).thenApply(s -> s == TaskDefinitionStatus.ACTIVE ? Optional.empty() : Optional.of(s)));
    }

    private CompletableFuture<TaskDefinitionStatus> status(String arn) {
        return EcsPlanner.describeTaskDefinition(context, arn)
                .thenApply(r -> r.taskDefinition().status());
    }

    private static CompletableFuture<@Nullable Outcome> done(Outcome outcome) {
        return CompletableFuture.completedFuture(outcome);
    }

    private static String shortName(String arn) {
        return TaskDefinitions.shortName(arn);
    }
}
