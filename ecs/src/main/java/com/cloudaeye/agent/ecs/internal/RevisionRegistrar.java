package com.cloudaeye.agent.ecs.internal;

import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.JournalException;
import com.cloudaeye.agent.ecs.LogRouter;
import com.cloudaeye.agent.spi.ApplyContext;
import com.cloudaeye.agent.spi.NotStartedException;
import com.cloudaeye.agent.spi.support.AwsFailures;
import com.cloudaeye.agent.spi.support.ReadBack;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.ecs.EcsClient;
import software.amazon.awssdk.services.ecs.model.DescribeTaskDefinitionResponse;
import software.amazon.awssdk.services.ecs.model.RegisterTaskDefinitionRequest;
import software.amazon.awssdk.services.ecs.model.TaskDefinition;

/**
 * Registers the new task definition revisions of an apply, and finds the revision an earlier attempt (whose answer
 * was lost, or whose JVM was killed) registered, so a retry or a resume never registers a second one.
 */
final class RevisionRegistrar {
    private static final Logger LOG = LoggerFactory.getLogger(RevisionRegistrar.class);

    private final ApplyContext context;
    private final EcsClient ecs;

    /** @param context the apply context */
    RevisionRegistrar(ApplyContext context) {
        this.context = context;
        this.ecs = context.client(EcsClient.class, EcsClient::builder);
    }

    /**
     * A registration of this apply and what became of it, for the services that need its revision.
     *
     * @param change the task definition change
     * @param revision completes with the new revision, or with why there is none
     */
    record Pending(Change change, CompletableFuture<NewRevision> revision) {}

    /**
     * The end of a registration: the revision's ARN, or, when it did not land or could not be confirmed, what became of
     * the registration, as its services are told (e.g. {@code failed (see that task definition change)}).
     */
    record NewRevision(@Nullable String arn, String whyNone) {
        static NewRevision of(String arn) {
            return new NewRevision(arn, "");
        }

        static NewRevision none(Throwable error) {
            Throwable cause = AwsFailures.unwrap(error);
            if (cause instanceof NotStartedException || cause instanceof JournalException) {
                return new NewRevision(null, "was not started: " + cause.getMessage());
            }
            if (AwsFailures.isOutcomeUnknown(cause)) {
                return new NewRevision(
                        null, "has an unknown outcome (see that task definition change): resume or plan again");
            }
            return new NewRevision(null, "failed (see that task definition change)");
        }
    }

    CompletableFuture<NewRevision> register(Change change) {
        RevisionState state = EcsStates.revisionState(change.targetState());
        String source = state.source();
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
                        return NewRevision.none(error);
                    }
                    String arn = registered.arn();
                    if (!registered.earlier()) {
                        LOG.info("Registered ECS task definition {} from {}", shortName(arn), shortName(source));
                    }
                    context.applied(
                            change,
                            (registered.earlier() ? "already registered as " : "registered ") + shortName(arn),
                            EcsStates.toJson(new RevisionApplied(arn)));
                    return NewRevision.of(arn);
                });
    }

    private record Registered(String arn, boolean earlier) {}

    /**
     * After the last attempt of RegisterTaskDefinition failed (any error: an earlier attempt whose answer was lost may
     * have landed before a retry was refused), looks for the revision it registered among the family's newer revisions:
     * the revision when an attempt registered it, else the original error, or an error saying that the outcome is
     * unknown when it cannot be read ({@link ReadBack}).
     */
    private CompletableFuture<Registered> confirmRegistered(
            TaskDefinition source, RegisterTaskDefinitionRequest request, Throwable error) {
        return ReadBack.confirmAsync(
                        context.scheduler(),
                        "RegisterTaskDefinition from " + shortName(source.taskDefinitionArn()),
                        error,
                        () -> earlierRevision(source, request))
                .thenApply(landed -> {
                    LOG.warn(
                            "RegisterTaskDefinition of {} failed ({}), but it registered {}",
                            shortName(source.taskDefinitionArn()),
                            AwsFailures.describe(error),
                            shortName(landed));
                    return new Registered(landed, false);
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
                Optional<String> landed = EarlierRevisions.findNow(ecs, context.agent(), source, request);
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
     * A revision an earlier apply (killed, or whose answer was lost) registered for exactly this request, found as
     * planning finds it ({@link EarlierRevisions}).
     */
    CompletableFuture<Optional<String>> earlierRevision(TaskDefinition source, RegisterTaskDefinitionRequest request) {
        return EarlierRevisions.find(context, source, request);
    }

    /** What a change (a task definition's, or a service's on resume) registers from its source revision. */
    RegisterTaskDefinitionRequest request(DescribeTaskDefinitionResponse described, RevisionSpec state) {
        if (state.removesRouter()) {
            return RevisionRequests.uninstallRequest(described);
        }
        LogRouter router = Objects.requireNonNull(state.router(), "the router settings of an install");
        return RevisionRequests.installRequest(described, router, context.agent(), state.cpu(), state.memory());
    }

    private static String shortName(String arn) {
        return TaskDefinitions.shortName(arn);
    }
}
