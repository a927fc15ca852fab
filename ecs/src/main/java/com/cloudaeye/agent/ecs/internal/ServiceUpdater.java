package com.cloudaeye.agent.ecs.internal;

import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.spi.ApplyContext;
import com.cloudaeye.agent.spi.support.AwsFailures;
import com.cloudaeye.agent.spi.support.ReadBack;
import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.ecs.EcsClient;
import software.amazon.awssdk.services.ecs.model.Deployment;
import software.amazon.awssdk.services.ecs.model.DeploymentRolloutState;
import software.amazon.awssdk.services.ecs.model.Service;

/**
 * Moves services to their new revision and, when asked, waits for the rollout without holding a thread; a failed
 * {@code UpdateService} is read back, and reported applied when the service does run the new revision.
 */
final class ServiceUpdater {
    private static final Logger LOG = LoggerFactory.getLogger(ServiceUpdater.class);

    private final ApplyContext context;
    private final EcsClient ecs;
    private final RevisionRegistrar registrar;

    /**
     * @param context the apply context
     * @param registrar finds the revision an interrupted apply registered
     */
    ServiceUpdater(ApplyContext context, RevisionRegistrar registrar) {
        this.context = context;
        this.ecs = context.client(EcsClient.class, EcsClient::builder);
        this.registrar = registrar;
    }

    CompletableFuture<?> update(Change change, Map<String, RevisionRegistrar.Pending> registered) {
        ServiceState state = EcsStates.serviceState(change.targetState());
        String to = state.to();
        RevisionRegistrar.@Nullable Pending registration = null;
        CompletableFuture<RevisionRegistrar.NewRevision> target;
        if (to != null) {
            target = CompletableFuture.completedFuture(RevisionRegistrar.NewRevision.of(to));
        } else {
            String source = String.valueOf(state.source());
            registration = registered.get(source);
            if (registration == null) {
                // Resuming: the revision was registered by the interrupted apply, so only this service is left.
                return previouslyRegistered(state)
                        .thenCompose(arn -> {
                            if (arn.isEmpty()) {
                                context.skipped(
                                        change,
                                        "no revision of " + TaskDefinitions.family(source) + " newer than "
                                                + shortName(source) + " is the one this plan registers (someone"
                                                + " registered or deployed another revision since): plan again");
                                return CompletableFuture.completedFuture(null);
                            }
                            return context.shouldStop()
                                    ? CompletableFuture.completedFuture(null)
                                    : updateService(change, state, arn.get());
                        })
                        .exceptionally(error -> {
                            AwsFailures.report(
                                    context,
                                    change,
                                    "updating the service failed: " + AwsFailures.describe(error),
                                    error);
                            return null;
                        });
            }
            target = registration.revision();
        }
        RevisionRegistrar.@Nullable Pending needed = registration;
        return target.thenCompose(revision -> {
                    String arn = revision.arn();
                    if (arn == null) {
                        // Never sent: its registration is the one root cause, reported (and counted) there.
                        context.notAttempted(
                                change,
                                Objects.requireNonNull(needed, "only a registration of this apply has no revision")
                                        .change(),
                                "not updated: registering its new revision from "
                                        + shortName(String.valueOf(state.source())) + " " + revision.whyNone());
                        return CompletableFuture.completedFuture(null);
                    }
                    if (context.shouldStop()) {
                        return CompletableFuture.completedFuture(null);
                    }
                    return updateService(change, state, arn);
                })
                .exceptionally(error -> {
                    AwsFailures.report(
                            context, change, "updating the service failed: " + AwsFailures.describe(error), error);
                    return null;
                });
    }

    /**
     * The revision an interrupted apply registered for this service's source, found without its journal line: one of
     * the family's revisions newer than the source that is exactly what this change registers. A user's own newer
     * revision is never taken for ours.
     */
    private CompletableFuture<Optional<String>> previouslyRegistered(ServiceState state) {
        if (!state.removesRouter() && state.router() == null) {
            // A plan saved before services carried their router settings: nothing to compare a revision with.
            return CompletableFuture.completedFuture(Optional.empty());
        }
        return EcsPlanner.describeTaskDefinition(context, String.valueOf(state.source()))
                .thenCompose(described ->
                        registrar.earlierRevision(described.taskDefinition(), registrar.request(described, state)));
    }

    private CompletableFuture<@Nullable Void> updateService(Change change, ServiceState state, String arn) {
        String cluster = state.cluster();
        String service = state.service();
        String from = state.fromRevision();
        Long waitMillis = state.waitMillis();
        return describeService(cluster, service).thenCompose(current -> {
            if (current.isEmpty() || !"ACTIVE".equals(current.get().status())) {
                context.skipped(change, "the service no longer exists");
                return done();
            }
            String now = current.get().taskDefinition();
            if (now.equals(arn)) {
                context.applied(change, "already runs " + shortName(arn), appliedState(arn, from));
                return done();
            }
            if (!now.equals(from)) {
                context.skipped(
                        change,
                        "it now runs " + shortName(now) + ", not " + shortName(from)
                                + " as planned: someone changed it since; plan again");
                return done();
            }
            return context.start(change)
                    .thenCompose(admitted -> context.scheduler()
                            .submit(
                                    EcsQuotas.SERVICE_MODIFY,
                                    () -> ecs.updateService(u ->
                                            u.cluster(cluster).service(service).taskDefinition(arn)))
                            .thenApply(response -> Optional.of(response.service()))
                            .exceptionallyCompose(
                                    error -> confirmUpdate(cluster, service, arn, AwsFailures.unwrap(error))))
                    .thenCompose(updated -> {
                        LOG.info("Updated ECS service {} to {}", service, shortName(arn));
                        if (waitMillis == null) {
                            context.applied(change, "updated to " + shortName(arn), appliedState(arn, from));
                            return done();
                        }
                        String deployment = updated.flatMap(ServiceUpdater::primary)
                                .map(Deployment::id)
                                .orElse(null);
                        long deadline = System.nanoTime()
                                + Duration.ofMillis(waitMillis).toNanos();
                        return awaitRollout(change, state, arn, from, deployment, deadline);
                    });
        });
    }

    /**
     * After UpdateService failed (any error: an earlier attempt whose answer was lost may have landed before a retry
     * was refused), reads the service back ({@link ReadBack}): the service when it does run {@code arn} (the update
     * landed), the original error when it does not, and an error saying that the outcome is unknown when it cannot be
     * read.
     */
    private CompletableFuture<Optional<Service>> confirmUpdate(
            String cluster, String service, String arn, Throwable error) {
        return ReadBack.confirmAsync(
                        context.scheduler(),
                        "UpdateService of " + service + " to " + shortName(arn),
                        error,
                        () -> describeService(cluster, service)
                                .thenApply(current -> current.filter(s -> arn.equals(s.taskDefinition()))))
                .thenApply(current -> {
                    LOG.warn(
                            "UpdateService of {} failed ({}), but the service does run {}",
                            service,
                            AwsFailures.describe(error),
                            shortName(arn));
                    return Optional.of(current);
                });
    }

    private CompletableFuture<@Nullable Void> awaitRollout(
            Change change, ServiceState state, String arn, String from, @Nullable String deployment, long deadline) {
        String cluster = state.cluster();
        String service = state.service();
        Duration poll = state.pollInterval();
        return context.scheduler()
                .after(poll)
                .thenCompose(ignored -> describeService(cluster, service)
                        .<@Nullable Optional<Service>>thenApply(s -> s)
                        .exceptionally(error -> {
                            // The update landed; a failed poll is no reason to report it failed: poll again.
                            LOG.debug(
                                    "Polling ECS service {} failed: {}",
                                    service,
                                    AwsFailures.describe(AwsFailures.unwrap(error)));
                            return null;
                        }))
                .thenCompose(current -> {
                    if (current == null) {
                        if (System.nanoTime() >= deadline) {
                            landedUnconfirmed(
                                    change,
                                    "updated to " + shortName(arn) + ", but its rollout could not be read before the"
                                            + " deadline: check the service's events",
                                    arn,
                                    from);
                            return done();
                        }
                        return awaitRollout(change, state, arn, from, deployment, deadline);
                    }
                    if (current.isEmpty()) {
                        landedUnconfirmed(
                                change, "the service disappeared during its rollout to " + shortName(arn), arn, from);
                        return done();
                    }
                    Service s = current.get();
                    Optional<Deployment> ours = s.deployments().stream()
                            .filter(d ->
                                    deployment == null ? arn.equals(d.taskDefinition()) : deployment.equals(d.id()))
                            .findFirst();
                    if (ours.isEmpty()) {
                        landedUnconfirmed(
                                change,
                                "its deployment to " + shortName(arn) + " was replaced by another before it"
                                        + " completed; the service now deploys "
                                        + primary(s)
                                                .map(d -> shortName(d.taskDefinition()))
                                                .orElse("nothing"),
                                arn,
                                from);
                        return done();
                    }
                    Deployment d = ours.get();
                    DeploymentRolloutState rollout = d.rolloutState();
                    if (rollout == DeploymentRolloutState.FAILED) {
                        landedUnconfirmed(
                                change,
                                "the rollout to " + shortName(arn) + " failed: "
                                        + Optional.ofNullable(d.rolloutStateReason())
                                                .orElse("no reason given"),
                                arn,
                                from);
                        return done();
                    }
                    boolean stable = rollout == DeploymentRolloutState.COMPLETED
                            || (rollout == null
                                    && s.deployments().size() == 1
                                    && d.runningCount() != null
                                    && d.runningCount().equals(d.desiredCount()));
                    if (stable) {
                        context.applied(
                                change,
                                "updated to " + shortName(arn) + ", rollout completed",
                                appliedState(arn, from));
                        return done();
                    }
                    if (System.nanoTime() >= deadline) {
                        landedUnconfirmed(
                                change,
                                "updated to " + shortName(arn) + " but not stable within "
                                        + state.waitTimeout().orElse(Duration.ZERO)
                                        + " (rollout " + (rollout == null ? "in progress" : rollout.toString())
                                        + ", " + d.runningCount() + "/" + d.desiredCount() + " tasks running); ECS"
                                        + " keeps deploying: check the service's events",
                                arn,
                                from);
                        return done();
                    }
                    LOG.debug(
                            "ECS service {} rollout {}: {}/{} running",
                            service,
                            rollout,
                            d.runningCount(),
                            d.desiredCount());
                    return awaitRollout(change, state, arn, from, deployment, deadline);
                });
    }

    /**
     * UpdateService landed but its rollout did not complete (failed, timed out, replaced, unreadable): the service may
     * run the new revision or, after a circuit-breaker rollback, the old one. Never FAILED, which would say nothing
     * changed: unknown, with the revisions rollback needs.
     */
    private void landedUnconfirmed(Change change, String reason, String arn, String from) {
        context.unknown(
                change,
                reason + ". The service was moved to " + shortName(arn) + ": roll back to return it to "
                        + shortName(from) + ", or plan again to see where it stands",
                null,
                appliedState(arn, from));
    }

    private CompletableFuture<Optional<Service>> describeService(String cluster, String service) {
        return context.scheduler()
                .submit(
                        EcsQuotas.SERVICE_READ,
                        () -> ecs.describeServices(d -> d.cluster(cluster).services(service)))
                .thenApply(r -> r.services().stream().findFirst());
    }

    private static Optional<Deployment> primary(Service s) {
        return s.deployments().stream()
                .filter(d -> "PRIMARY".equals(d.status()))
                .findFirst();
    }

    private static JsonNode appliedState(String arn, String from) {
        return EcsStates.toJson(new ServiceApplied(arn, from));
    }

    private static CompletableFuture<@Nullable Void> done() {
        return CompletableFuture.completedFuture(null);
    }

    private static String shortName(String arn) {
        return TaskDefinitions.shortName(arn);
    }
}
