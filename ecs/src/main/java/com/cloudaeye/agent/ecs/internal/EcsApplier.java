package com.cloudaeye.agent.ecs.internal;

import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ecs.LogRouter;
import com.cloudaeye.agent.spi.ApplyContext;
import com.cloudaeye.agent.spi.support.AwsFailures;
import com.cloudaeye.agent.spi.support.Json;
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
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.ecs.EcsClient;
import software.amazon.awssdk.services.ecs.model.Deployment;
import software.amazon.awssdk.services.ecs.model.DeploymentRolloutState;
import software.amazon.awssdk.services.ecs.model.DescribeTaskDefinitionResponse;
import software.amazon.awssdk.services.ecs.model.RegisterTaskDefinitionRequest;
import software.amazon.awssdk.services.ecs.model.Service;
import software.amazon.awssdk.services.ecs.model.SortOrder;
import software.amazon.awssdk.services.ecs.model.TaskDefinition;
import software.amazon.awssdk.services.ecs.model.TaskDefinitionField;
import software.amazon.awssdk.services.ecs.model.TaskDefinitionStatus;

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
    /** Read-backs after an ambiguous RegisterTaskDefinition or UpdateService failure, each with the scheduler's retries. */
    private static final int CONFIRM_READS = 5;
    /** How many of a family's newest revisions are searched for one an earlier attempt registered. */
    private static final int SEARCHED_REVISIONS = 20;

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
                    TaskDefinition from = described.taskDefinition();
                    RegisterTaskDefinitionRequest request = request(described, state);
                    // A killed apply may have registered this revision already (after its STARTING line, before
                    // its APPLIED line): resume reuses the family's newer revision rather than registering twice.
                    return earlierRevision(from, request).thenCompose(earlier -> {
                        if (earlier.isPresent()) {
                            return CompletableFuture.completedFuture(new Registered(earlier.get(), true));
                        }
                        // Admitted by core (failure limit, journal) before the call; a refusal is recorded there.
                        return context.start(change)
                                .thenCompose(admitted -> registerOnce(from, request)
                                        .exceptionallyCompose(
                                                error -> confirmRegistered(from, request, AwsFailures.unwrap(error))));
                    });
                })
                .handle((registered, error) -> {
                    if (error != null) {
                        AwsFailures.report(
                                context,
                                change,
                                "registering a new revision of " + shortName(source) + " failed: "
                                        + AwsFailures.describe(error),
                                error);
                        return null;
                    }
                    String arn = registered.arn();
                    if (!registered.earlier()) {
                        LOG.info("Registered ECS task definition {} from {}", shortName(arn), shortName(source));
                    }
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
     * After the last attempt of RegisterTaskDefinition failed in a way that may have hidden its success, looks for the
     * revision it registered among the family's newer revisions: the revision when the lost attempt registered it, else the original error, or
     * an error saying that the outcome is unknown when it cannot be read.
     */
    private CompletableFuture<Registered> confirmRegistered(
            TaskDefinition source, RegisterTaskDefinitionRequest request, Throwable error) {
        if (!AwsFailures.isTransient(error)) {
            return CompletableFuture.failedFuture(error);
        }
        return readPatiently(() -> earlierRevision(source, request), CONFIRM_READS)
                .handle((landed, readError) -> {
                    if (readError != null) {
                        throw new CompletionException(AwsFailures.outcomeUnknown(
                                "RegisterTaskDefinition",
                                error,
                                readError,
                                "plan again: a revision it registered is reused, not registered twice"));
                    }
                    if (landed.isPresent()) {
                        LOG.warn(
                                "RegisterTaskDefinition of {} got no answer ({}), but it registered {}",
                                shortName(source.taskDefinitionArn()),
                                AwsFailures.describe(error),
                                shortName(landed.get()));
                        return new Registered(landed.get(), false);
                    }
                    throw new CompletionException(error);
                });
    }

    /**
     * Runs a read that confirms an ambiguous failure again, up to {@code reads} times in all (each with the
     * scheduler's own retries), while it fails with throttling, 5xx or I/O.
     */
    private <T> CompletableFuture<T> readPatiently(Supplier<CompletableFuture<T>> read, int reads) {
        return read.get().exceptionallyCompose(error -> {
            Throwable cause = AwsFailures.unwrap(error);
            if (reads <= 1 || !AwsFailures.isRetryable(cause)) {
                return CompletableFuture.failedFuture(cause);
            }
            return context.scheduler()
                    .after(Duration.ofMillis(100))
                    .thenCompose(ignored -> readPatiently(read, reads - 1));
        });
    }

    /**
     * Registers the revision. RegisterTaskDefinition takes no idempotency token, so a 5xx or a network failure may
     * hide a revision AWS did register: a retry first looks for it among the family's revisions newer than the source
     * and takes it when the lost attempt registered it. The search runs inside the retried call, under the stricter
     * modify quota, so that no other registration of the family can come between.
     */
    private CompletableFuture<Registered> registerOnce(TaskDefinition source, RegisterTaskDefinitionRequest request) {
        AtomicBoolean sent = new AtomicBoolean();
        return context.scheduler().submit(EcsQuotas.TASK_DEFINITION_MODIFY, () -> {
            if (sent.getAndSet(true)) {
                Optional<String> landed = findRegistered(source, request);
                if (landed.isPresent()) {
                    LOG.info(
                            "Task definition {} was registered by an attempt whose answer was lost: not registering it"
                                    + " again",
                            shortName(landed.get()));
                    return new Registered(landed.get(), false);
                }
            }
            return new Registered(
                    ecs.registerTaskDefinition(request).taskDefinition().taskDefinitionArn(), false);
        });
    }

    /**
     * A revision an earlier apply (killed, or whose answer was lost) registered for exactly this request: one of the
     * family's revisions newer than the source whose content, with our router's source label, settings hash and
     * token, is what {@code request} registers. Its provenance is proven by that content, never by its position: the
     * family's latest revision may come from another source revision of the family registered since.
     */
    private CompletableFuture<Optional<String>> earlierRevision(
            TaskDefinition source, RegisterTaskDefinitionRequest request) {
        return context.scheduler()
                .submit(EcsQuotas.TASK_DEFINITION_READ, () -> newerRevisions(source))
                .thenCompose(arns -> firstRegistering(arns, 0, source, request));
    }

    private CompletableFuture<Optional<String>> firstRegistering(
            List<String> arns, int index, TaskDefinition source, RegisterTaskDefinitionRequest request) {
        if (index >= arns.size()) {
            return CompletableFuture.completedFuture(Optional.empty());
        }
        return EcsPlanner.describeTaskDefinition(context, arns.get(index)).thenCompose(revision -> {
            if (isWhatWeRegister(revision, source, request)) {
                return CompletableFuture.completedFuture(
                        Optional.of(revision.taskDefinition().taskDefinitionArn()));
            }
            return firstRegistering(arns, index + 1, source, request);
        });
    }

    /** {@link #earlierRevision}, in the calling thread (inside a scheduled call). */
    private Optional<String> findRegistered(TaskDefinition source, RegisterTaskDefinitionRequest request) {
        for (String arn : newerRevisions(source)) {
            DescribeTaskDefinitionResponse revision =
                    ecs.describeTaskDefinition(d -> d.taskDefinition(arn).include(TaskDefinitionField.TAGS));
            if (isWhatWeRegister(revision, source, request)) {
                return Optional.of(arn);
            }
        }
        return Optional.empty();
    }

    /**
     * The family's active revisions newer than the source, newest first, at most {@link #SEARCHED_REVISIONS} of them
     * (an earlier apply's revision is among the newest unless the family had that many registrations since).
     */
    private List<String> newerRevisions(TaskDefinition source) {
        String family = source.family();
        // Sorted here, not trusted to the request's sort order: emulators ignore it.
        return ecs
                .listTaskDefinitionsPaginator(l -> l.familyPrefix(family)
                        .status(TaskDefinitionStatus.ACTIVE)
                        .sort(SortOrder.DESC))
                .taskDefinitionArns()
                .stream()
                .filter(arn -> TaskDefinitions.family(arn).equals(family)) // the prefix matches longer names too
                .filter(arn -> revision(arn) > source.revision())
                .sorted(java.util.Comparator.comparingInt(EcsApplier::revision).reversed())
                .limit(SEARCHED_REVISIONS)
                .toList();
    }

    private static int revision(String arn) {
        return Integer.parseInt(arn.substring(arn.lastIndexOf(':') + 1));
    }

    /** @return true when {@code revision} is newer than the source and exactly what {@code request} registers */
    private boolean isWhatWeRegister(
            DescribeTaskDefinitionResponse revision, TaskDefinition source, RegisterTaskDefinitionRequest request) {
        return revision.taskDefinition().revision() > source.revision()
                && TaskDefinitions.registers(revision, request, context.agent());
    }

    /** What a change (a task definition's, or a service's on resume) registers from its source revision. */
    private RegisterTaskDefinitionRequest request(DescribeTaskDefinitionResponse described, JsonNode state) {
        if (isUninstall(state)) {
            return TaskDefinitions.uninstallRequest(described);
        }
        LogRouter router = Json.convert(state.get("router"), LogRouter.class);
        return TaskDefinitions.installRequest(
                described,
                router,
                context.agent(),
                state.hasNonNull("cpu") ? state.get("cpu").asText() : null,
                state.hasNonNull("memory") ? state.get("memory").asText() : null);
    }

    private static boolean isUninstall(JsonNode state) {
        return "uninstall".equals(state.path("operation").asText());
    }

    // ---- services ----

    private CompletableFuture<?> update(Change change, Map<String, CompletableFuture<@Nullable String>> registered) {
        JsonNode state = change.targetState();
        CompletableFuture<@Nullable String> target;
        if (state.hasNonNull("to")) {
            target = CompletableFuture.completedFuture(state.get("to").asText());
        } else {
            String source = state.path("source").asText();
            target = registered.get(source);
            if (target == null) {
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
    private CompletableFuture<Optional<String>> previouslyRegistered(JsonNode state) {
        if (!isUninstall(state) && !state.has("router")) {
            // A plan saved before services carried their router settings: nothing to compare a revision with.
            return CompletableFuture.completedFuture(Optional.empty());
        }
        return EcsPlanner.describeTaskDefinition(context, state.path("source").asText())
                .thenCompose(described -> earlierRevision(described.taskDefinition(), request(described, state)));
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
        if (!AwsFailures.isTransient(error)) {
            return CompletableFuture.failedFuture(error);
        }
        return readPatiently(() -> describeService(cluster, service), CONFIRM_READS)
                .handle((current, readError) -> {
                    if (readError != null) {
                        throw new CompletionException(AwsFailures.outcomeUnknown(
                                "UpdateService to " + shortName(arn),
                                error,
                                readError,
                                "plan again to see where it stands"));
                    }
                    if (current.isPresent() && arn.equals(current.get().taskDefinition())) {
                        LOG.warn(
                                "UpdateService of {} got no answer ({}), but the service does run {}",
                                service,
                                AwsFailures.describe(error),
                                shortName(arn));
                        return current;
                    }
                    throw new CompletionException(error);
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
                                        + Duration.ofMillis(
                                                state.get("waitMillis").asLong())
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

    private static ObjectNode appliedState(String arn, String from) {
        ObjectNode state = Json.object();
        state.put("taskDefinitionArn", arn);
        state.put("previousTaskDefinitionArn", from);
        return state;
    }

    private static CompletableFuture<@Nullable Void> done() {
        return CompletableFuture.completedFuture(null);
    }

    private static String shortName(String arn) {
        return TaskDefinitions.shortName(arn);
    }
}
