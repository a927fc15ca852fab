package com.cloudaeye.agent.ecs.internal;

import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ecs.LogRouter;
import com.cloudaeye.agent.internal.Json;
import com.cloudaeye.agent.internal.RateLimitedScheduler;
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
import java.util.concurrent.atomic.AtomicBoolean;
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
 *
 * <p>A mutating call whose answer is lost (a reset connection, a 5xx, a timeout) may still have taken effect, so it is
 * never simply sent again or reported as failed: registrations of one family run one at a time, and a retried
 * {@code RegisterTaskDefinition} first looks for the revision the lost attempt registered; a failed
 * {@code UpdateService} is read back, and reported applied when the service does run the new revision. When even the
 * read-back fails, the failure says that the outcome is unknown.
 */
public final class EcsApplier {
    private static final Logger LOG = LoggerFactory.getLogger(EcsApplier.class);
    /** Words every failure whose change may nevertheless have landed says, so that callers and tests can tell. */
    public static final String OUTCOME_UNKNOWN = "the outcome is unknown";
    /** Read-backs of a service after an ambiguous UpdateService failure, each with the scheduler's retries. */
    private static final int CONFIRM_READS = 5;

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
        Map<String, CompletableFuture<?>> lastOfFamily = new HashMap<>();
        List<CompletableFuture<?>> running = new ArrayList<>();
        for (Change c : changes) {
            if (EcsPlanner.TASK_DEFINITION_TYPE.equals(c.resourceType()) && !context.shouldStop()) {
                // One registration per family at a time: the revision a lost answer registered is then the
                // family's latest, which is how a retry or a re-run finds it instead of registering a second one.
                String source = c.targetState().path("source").asText();
                CompletableFuture<?> previous = lastOfFamily.getOrDefault(
                        TaskDefinitions.family(source), CompletableFuture.completedFuture(null));
                CompletableFuture<@Nullable String> f =
                        previous.handle((ignored, error) -> null).thenCompose(ignored -> register(c));
                lastOfFamily.put(TaskDefinitions.family(source), f);
                registered.put(source, f);
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
                        return registerOnce(described.taskDefinition(), state, request)
                                .exceptionallyCompose(
                                        error -> confirmRegistered(described.taskDefinition(), state, unwrap(error)));
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
     * After the last attempt of RegisterTaskDefinition failed in a way that may have hidden its success, reads the
     * family's latest revision back: the revision when the lost attempt registered it, else the original error, or
     * an error saying that the outcome is unknown when it cannot be read.
     */
    private CompletableFuture<Registered> confirmRegistered(TaskDefinition source, JsonNode state, Throwable error) {
        if (!RateLimitedScheduler.isTransient(error)) {
            return CompletableFuture.failedFuture(error);
        }
        return earlierRevision(source, state, CONFIRM_READS).handle((landed, readError) -> {
            if (readError != null) {
                throw new CompletionException(new IllegalStateException(
                        OUTCOME_UNKNOWN + ": RegisterTaskDefinition got no answer (" + message(error)
                                + ") and reading the family back failed too (" + message(unwrap(readError))
                                + "); plan again: a revision it registered is reused, not registered twice",
                        error));
            }
            if (landed.isPresent()) {
                LOG.warn(
                        "RegisterTaskDefinition of {} got no answer ({}), but it registered {}",
                        shortName(source.taskDefinitionArn()),
                        message(error),
                        shortName(landed.get()));
                return new Registered(landed.get(), false);
            }
            throw new CompletionException(error);
        });
    }

    private CompletableFuture<Optional<String>> earlierRevision(TaskDefinition source, JsonNode state, int reads) {
        return earlierRevision(source, state).exceptionallyCompose(e -> {
            Throwable cause = unwrap(e);
            if (reads <= 1 || !RateLimitedScheduler.isTransient(cause) && !RateLimitedScheduler.isThrottling(cause)) {
                return CompletableFuture.failedFuture(cause);
            }
            return context.scheduler()
                    .after(Duration.ofMillis(100))
                    .thenCompose(ignored -> earlierRevision(source, state, reads - 1));
        });
    }

    /**
     * Registers the revision; a retry (after an attempt whose answer was lost) first reads the family's latest
     * revision and takes it when the lost attempt did register it. The read runs inside the retried call, under the
     * stricter modify quota, so that no other registration of the family can come between.
     */
    private CompletableFuture<Registered> registerOnce(
            TaskDefinition source, JsonNode state, RegisterTaskDefinitionRequest request) {
        AtomicBoolean sent = new AtomicBoolean();
        return context.scheduler().submit(EcsQuotas.TASK_DEFINITION_MODIFY, () -> {
            if (sent.getAndSet(true)) {
                TaskDefinition latest = ecs.describeTaskDefinition(d -> d.taskDefinition(source.family()))
                        .taskDefinition();
                if (isWhatWeRegister(latest, source, state)) {
                    LOG.info(
                            "Task definition {} was registered by an attempt whose answer was lost: not registering it"
                                    + " again",
                            shortName(latest.taskDefinitionArn()));
                    return new Registered(latest.taskDefinitionArn(), false);
                }
            }
            return new Registered(
                    ecs.registerTaskDefinition(request).taskDefinition().taskDefinitionArn(), false);
        });
    }

    /**
     * The family's latest revision when it is newer than the source and already is what this change registers (the
     * router installed with these settings, or removed): an interrupted earlier apply registered it.
     */
    private CompletableFuture<Optional<String>> earlierRevision(TaskDefinition source, JsonNode state) {
        return EcsPlanner.describeTaskDefinition(context, source.family()).thenApply(latest -> {
            TaskDefinition td = latest.taskDefinition();
            return isWhatWeRegister(td, source, state) ? Optional.of(td.taskDefinitionArn()) : Optional.empty();
        });
    }

    /**
     * @return true when {@code td} is newer than the source and is what this change registers from it: the router
     *     installed with these settings and made from this source (its source label), or removed
     */
    private boolean isWhatWeRegister(TaskDefinition td, TaskDefinition source, JsonNode state) {
        if (td.revision() <= source.revision()) {
            return false;
        }
        if ("uninstall".equals(state.path("operation").asText())) {
            return TaskDefinitions.ourRouter(td).isEmpty()
                    && TaskDefinitions.names(td.containerDefinitions())
                            .equals(TaskDefinitions.names(TaskDefinitions.uninstall(source)));
        }
        LogRouter router = Json.MAPPER.convertValue(state.get("router"), LogRouter.class);
        return TaskDefinitions.isInstalled(td, router, context.agent())
                && routerSource(td).equals(Optional.of(routerSource(source).orElse(source.taskDefinitionArn())));
    }

    private static Optional<String> routerSource(TaskDefinition td) {
        return TaskDefinitions.ourRouter(td).map(r -> r.dockerLabels().get(TaskDefinitions.SOURCE_LABEL));
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
                            && TaskDefinitions.ourRouter(td).isPresent() != uninstall
                            && (uninstall
                                    || !state.hasNonNull("routerSource")
                                    || routerSource(td)
                                            .equals(Optional.of(
                                                    state.get("routerSource").asText())));
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
                    .thenApply(response -> Optional.of(response.service()))
                    .exceptionallyCompose(error -> confirmUpdate(cluster, service, arn, unwrap(error)))
                    .thenCompose(updated -> {
                        LOG.info("Updated ECS service {} to {}", service, shortName(arn));
                        if (!state.has("waitMillis")) {
                            context.applied(change, "updated to " + shortName(arn), appliedState(arn, from));
                            return done();
                        }
                        String deployment = updated.flatMap(EcsApplier::primary)
                                .map(Deployment::id)
                                .orElse(null);
                        long deadline = System.nanoTime()
                                + Duration.ofMillis(state.get("waitMillis").asLong())
                                        .toNanos();
                        return awaitRollout(change, state, arn, from, deployment, deadline);
                    });
        });
    }

    /**
     * After UpdateService failed in a way that may have hidden its success (a lost answer, a 5xx), reads the service
     * back: the service when it does run {@code arn} (the update landed), the original error when it does not, and an
     * error saying that the outcome is unknown when it cannot be read.
     */
    private CompletableFuture<Optional<Service>> confirmUpdate(
            String cluster, String service, String arn, Throwable error) {
        if (!RateLimitedScheduler.isTransient(error)) {
            return CompletableFuture.failedFuture(error);
        }
        return describeService(cluster, service, CONFIRM_READS).handle((current, readError) -> {
            if (readError != null) {
                throw new CompletionException(new IllegalStateException(
                        OUTCOME_UNKNOWN + ": UpdateService to " + shortName(arn) + " got no answer ("
                                + message(error) + ") and reading the service back failed too ("
                                + message(unwrap(readError)) + "); plan again to see where it stands",
                        error));
            }
            if (current.isPresent() && arn.equals(current.get().taskDefinition())) {
                LOG.warn(
                        "UpdateService of {} got no answer ({}), but the service does run {}",
                        service,
                        message(error),
                        shortName(arn));
                return current;
            }
            throw new CompletionException(error);
        });
    }

    /** Reads a service, trying again (up to {@code reads} times, each with the scheduler's retries) on 5xx or I/O. */
    private CompletableFuture<Optional<Service>> describeService(String cluster, String service, int reads) {
        return describeService(cluster, service).exceptionallyCompose(error -> {
            if (reads <= 1
                    || !RateLimitedScheduler.isTransient(unwrap(error))
                            && !RateLimitedScheduler.isThrottling(unwrap(error))) {
                return CompletableFuture.failedFuture(unwrap(error));
            }
            return context.scheduler()
                    .after(Duration.ofMillis(100))
                    .thenCompose(ignored -> describeService(cluster, service, reads - 1));
        });
    }

    private CompletableFuture<@Nullable Void> awaitRollout(
            Change change, JsonNode state, String arn, String from, @Nullable String deployment, long deadline) {
        String cluster = state.path("cluster").asText();
        String service = state.path("service").asText();
        Duration poll = Duration.ofMillis(state.path("pollMillis").asLong(15_000));
        return context.scheduler()
                .after(poll)
                .thenCompose(ignored -> describeService(cluster, service)
                        .<@Nullable Optional<Service>>thenApply(s -> s)
                        .exceptionally(error -> {
                            // The update landed; a failed poll is no reason to report it failed: poll again.
                            LOG.debug("Polling ECS service {} failed: {}", service, message(unwrap(error)));
                            return null;
                        }))
                .thenCompose(current -> {
                    if (current == null) {
                        if (System.nanoTime() >= deadline) {
                            context.failed(
                                    change,
                                    "updated to " + shortName(arn) + ", but its rollout could not be read before the"
                                            + " deadline: check the service's events",
                                    null);
                            return done();
                        }
                        return awaitRollout(change, state, arn, from, deployment, deadline);
                    }
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
