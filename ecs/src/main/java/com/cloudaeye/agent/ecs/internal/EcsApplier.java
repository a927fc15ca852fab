package com.cloudaeye.agent.ecs.internal;

import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ecs.LogRouter;
import com.cloudaeye.agent.internal.Json;
import com.cloudaeye.agent.spi.ApplyContext;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.services.ecs.EcsClient;
import software.amazon.awssdk.services.ecs.model.Deployment;
import software.amazon.awssdk.services.ecs.model.DeploymentRolloutState;
import software.amazon.awssdk.services.ecs.model.DescribeTaskDefinitionResponse;
import software.amazon.awssdk.services.ecs.model.RegisterTaskDefinitionRequest;
import software.amazon.awssdk.services.ecs.model.Service;
import software.amazon.awssdk.services.ecs.model.TaskDefinition;

/**
 * Applies planned ECS changes: registers one revision per source revision, then moves each service to its revision
 * and, when asked, waits for the rollout without holding a thread (polls are scheduled with
 * {@code scheduler().after(...)}). Every change is reported exactly once; one failure does not stop the others.
 */
public final class EcsApplier {
    private static final Logger LOG = LoggerFactory.getLogger(EcsApplier.class);

    private final ApplyContext context;
    private final EcsClient ecs;

    /** @param context the apply context */
    public EcsApplier(ApplyContext context) {
        this.context = context;
        this.ecs = context.client(EcsClient.class, EcsClient::builder);
    }

    /** @param changes this target's mutating changes */
    public void apply(List<Change> changes) {
        Map<String, CompletableFuture<@Nullable String>> registered = new HashMap<>();
        List<CompletableFuture<?>> running = new ArrayList<>();
        for (Change c : changes) {
            if (EcsPlanner.TASK_DEFINITION_TYPE.equals(c.resourceType()) && !context.shouldStop()) {
                CompletableFuture<@Nullable String> f = register(c);
                registered.put(c.targetState().path("source").asText(), f);
                running.add(f);
            }
        }
        for (Change c : changes) {
            if (EcsPlanner.SERVICE_TYPE.equals(c.resourceType())) {
                running.add(update(c, registered));
            }
        }
        CompletableFuture.allOf(running.toArray(new CompletableFuture<?>[0])).join();
    }

    // ---- task definitions ----

    private CompletableFuture<@Nullable String> register(Change change) {
        JsonNode state = change.targetState();
        String source = state.path("source").asText();
        return EcsPlanner.describeTaskDefinition(context, source)
                .thenCompose(described -> {
                    RegisterTaskDefinitionRequest request = request(described, state);
                    // A killed apply may have registered this revision already (after its STARTING line, before
                    // its APPLIED line): resume reuses the family's newer revision rather than registering twice.
                    return earlierRevision(described.taskDefinition(), state).thenCompose(earlier -> {
                        if (earlier.isPresent()) {
                            return CompletableFuture.completedFuture(new Registered(earlier.get(), true));
                        }
                        context.starting(change);
                        return context.scheduler()
                                .submit(EcsQuotas.TASK_DEFINITION_MODIFY, () -> ecs.registerTaskDefinition(request))
                                .thenApply(
                                        r -> new Registered(r.taskDefinition().taskDefinitionArn(), false));
                    });
                })
                .handle((registered, error) -> {
                    if (error != null) {
                        Throwable cause = unwrap(error);
                        context.failed(
                                change,
                                "registering a new revision of " + shortName(source) + " failed: " + message(cause),
                                cause);
                        return null;
                    }
                    String arn = registered.arn();
                    ObjectNode applied = Json.object();
                    applied.put("taskDefinitionArn", arn);
                    context.applied(
                            change,
                            (registered.earlier() ? "already registered as " : "registered ") + shortName(arn),
                            applied);
                    return arn;
                });
    }

    private record Registered(String arn, boolean earlier) {}

    /**
     * The family's latest revision when it is newer than the source and already is what this change registers (the
     * router installed with these settings, or removed): an interrupted earlier apply registered it.
     */
    private CompletableFuture<Optional<String>> earlierRevision(TaskDefinition source, JsonNode state) {
        boolean uninstall = "uninstall".equals(state.path("operation").asText());
        return EcsPlanner.describeTaskDefinition(context, source.family()).thenApply(latest -> {
            TaskDefinition td = latest.taskDefinition();
            if (td.revision() <= source.revision()) {
                return Optional.empty();
            }
            boolean same;
            if (uninstall) {
                same = TaskDefinitions.ourRouter(td).isEmpty()
                        && TaskDefinitions.names(td.containerDefinitions())
                                .equals(TaskDefinitions.names(TaskDefinitions.uninstall(source)));
            } else {
                LogRouter router = Json.MAPPER.convertValue(state.get("router"), LogRouter.class);
                same = TaskDefinitions.isInstalled(td, router, context.agent());
            }
            return same ? Optional.of(td.taskDefinitionArn()) : Optional.empty();
        });
    }

    private RegisterTaskDefinitionRequest request(DescribeTaskDefinitionResponse described, JsonNode state) {
        TaskDefinition source = described.taskDefinition();
        RegisterTaskDefinitionRequest.Builder request = TaskDefinitions.copy(source, described.tags());
        if ("uninstall".equals(state.path("operation").asText())) {
            return request.containerDefinitions(TaskDefinitions.uninstall(source))
                    .build();
        }
        LogRouter router = Json.MAPPER.convertValue(state.get("router"), LogRouter.class);
        request.containerDefinitions(
                TaskDefinitions.install(source, router, context.agent()).containers());
        if (state.has("cpu")) {
            request.cpu(state.get("cpu").asText()).memory(state.get("memory").asText());
        }
        return request.build();
    }

    // ---- services ----

    private CompletableFuture<?> update(Change change, Map<String, CompletableFuture<@Nullable String>> registered) {
        JsonNode state = change.targetState();
        CompletableFuture<@Nullable String> target;
        if (state.hasNonNull("to")) {
            target = CompletableFuture.completedFuture(state.get("to").asText());
        } else {
            target = registered.get(state.path("source").asText());
            if (target == null) {
                // Resuming: the revision was registered by the interrupted apply, so only this service is left.
                return previouslyRegistered(state)
                        .thenCompose(arn -> {
                            if (arn.isEmpty()) {
                                context.skipped(
                                        change,
                                        "its new task definition revision was not registered in this apply:"
                                                + " plan again to pick up the revision");
                                return CompletableFuture.completedFuture(null);
                            }
                            return context.shouldStop()
                                    ? CompletableFuture.completedFuture(null)
                                    : updateService(change, state, arn.get());
                        })
                        .exceptionally(error -> {
                            Throwable cause = unwrap(error);
                            context.failed(change, "updating the service failed: " + message(cause), cause);
                            return null;
                        });
            }
        }
        return target.thenCompose(arn -> {
                    if (arn == null) {
                        context.failed(
                                change,
                                "not updated: registering the new revision of "
                                        + shortName(state.path("source").asText()) + " failed",
                                null);
                        return CompletableFuture.completedFuture(null);
                    }
                    if (context.shouldStop()) {
                        return CompletableFuture.completedFuture(null);
                    }
                    return updateService(change, state, arn);
                })
                .exceptionally(error -> {
                    Throwable cause = unwrap(error);
                    context.failed(change, "updating the service failed: " + message(cause), cause);
                    return null;
                });
    }

    /**
     * The family's latest revision when it is newer than the service's source and has (install) or lacks (uninstall)
     * the CloudAEye router: the revision an interrupted apply registered for this service.
     */
    private CompletableFuture<Optional<String>> previouslyRegistered(JsonNode state) {
        String source = state.path("source").asText();
        boolean uninstall = "uninstall".equals(state.path("operation").asText());
        return EcsPlanner.describeTaskDefinition(context, TaskDefinitions.family(source))
                .thenApply(latest -> {
                    TaskDefinition td = latest.taskDefinition();
                    boolean newer = !td.taskDefinitionArn().equals(source)
                            && td.revision() > revision(source)
                            && TaskDefinitions.ourRouter(td).isPresent() != uninstall;
                    return newer ? Optional.of(td.taskDefinitionArn()) : Optional.empty();
                });
    }

    private static int revision(String arn) {
        return Integer.parseInt(arn.substring(arn.lastIndexOf(':') + 1));
    }

    private CompletableFuture<@Nullable Void> updateService(Change change, JsonNode state, String arn) {
        String cluster = state.path("cluster").asText();
        String service = state.path("service").asText();
        String from = state.path("from").asText();
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
            context.starting(change);
            return context.scheduler()
                    .submit(
                            EcsQuotas.SERVICE_MODIFY,
                            () -> ecs.updateService(
                                    u -> u.cluster(cluster).service(service).taskDefinition(arn)))
                    .thenCompose(response -> {
                        LOG.info("Updated ECS service {} to {}", service, shortName(arn));
                        if (!state.has("waitMillis")) {
                            context.applied(change, "updated to " + shortName(arn), appliedState(arn, from));
                            return done();
                        }
                        String deployment =
                                primary(response.service()).map(Deployment::id).orElse(null);
                        long deadline = System.nanoTime()
                                + Duration.ofMillis(state.get("waitMillis").asLong())
                                        .toNanos();
                        return awaitRollout(change, state, arn, from, deployment, deadline);
                    });
        });
    }

    private CompletableFuture<@Nullable Void> awaitRollout(
            Change change, JsonNode state, String arn, String from, @Nullable String deployment, long deadline) {
        String cluster = state.path("cluster").asText();
        String service = state.path("service").asText();
        Duration poll = Duration.ofMillis(state.path("pollMillis").asLong(15_000));
        return context.scheduler()
                .after(poll)
                .thenCompose(ignored -> describeService(cluster, service))
                .thenCompose(current -> {
                    if (current.isEmpty()) {
                        context.failed(change, "the service disappeared during its rollout to " + shortName(arn), null);
                        return done();
                    }
                    Service s = current.get();
                    Optional<Deployment> ours = s.deployments().stream()
                            .filter(d ->
                                    deployment == null ? arn.equals(d.taskDefinition()) : deployment.equals(d.id()))
                            .findFirst();
                    if (ours.isEmpty()) {
                        context.failed(
                                change,
                                "its deployment to " + shortName(arn) + " was replaced by another before it"
                                        + " completed; the service now deploys "
                                        + primary(s)
                                                .map(d -> shortName(d.taskDefinition()))
                                                .orElse("nothing"),
                                null);
                        return done();
                    }
                    Deployment d = ours.get();
                    DeploymentRolloutState rollout = d.rolloutState();
                    if (rollout == DeploymentRolloutState.FAILED) {
                        context.failed(
                                change,
                                "the rollout to " + shortName(arn) + " failed: "
                                        + Optional.ofNullable(d.rolloutStateReason())
                                                .orElse("no reason given"),
                                null);
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
                        context.failed(
                                change,
                                "updated to " + shortName(arn) + " but not stable within "
                                        + Duration.ofMillis(
                                                state.get("waitMillis").asLong())
                                        + " (rollout " + (rollout == null ? "in progress" : rollout.toString())
                                        + ", " + d.runningCount() + "/" + d.desiredCount() + " tasks running); ECS"
                                        + " keeps deploying: check the service's events",
                                null);
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

    private static ObjectNode appliedState(String arn, String from) {
        ObjectNode state = Json.object();
        state.put("taskDefinitionArn", arn);
        state.put("previousTaskDefinitionArn", from);
        return state;
    }

    private static CompletableFuture<@Nullable Void> done() {
        return CompletableFuture.completedFuture(null);
    }

    private static Throwable unwrap(Throwable e) {
        Throwable t = e;
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    private static String message(Throwable e) {
        if (e instanceof AwsServiceException aws && aws.awsErrorDetails() != null) {
            return aws.awsErrorDetails().errorCode() + ": "
                    + aws.awsErrorDetails().errorMessage();
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    private static String shortName(String arn) {
        return TaskDefinitions.shortName(arn);
    }
}
