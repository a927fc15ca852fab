package com.cloudaeye.agent.ecs.internal;

import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.spi.ApplyContext;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Applies planned ECS changes: registers one revision per source revision, then moves each service to its revision
 * and, when asked, waits for the rollout without holding a thread (polls are scheduled with
 * {@code scheduler().after(...)}); a rollback then deregisters the revisions its apply registered. Every change is reported exactly once; one failure does not stop the others.
 *
 * <p>A mutating call whose answer is lost (a reset connection, a 5xx, a timeout) may still have taken effect, so it is
 * never simply sent again or reported as failed: registrations of one family run one at a time, and a retried
 * {@code RegisterTaskDefinition} first looks for the revision the lost attempt registered; a failed
 * {@code UpdateService} is read back, and reported applied when the service does run the new revision. When even the
 * read-back fails, the failure says that the outcome is unknown.
 */
public final class EcsApplier {

    private final ApplyContext context;
    private final RevisionRegistrar registrar;
    private final ServiceUpdater services;
    private final RevisionDeregistrar deregistrar;

    /** @param context the apply context */
    public EcsApplier(ApplyContext context) {
        this.context = context;
        this.registrar = new RevisionRegistrar(context);
        this.services = new ServiceUpdater(context, registrar);
        this.deregistrar = new RevisionDeregistrar(context);
    }

    /** @param changes this target's mutating changes */
    public void apply(List<Change> changes) {
        Map<String, RevisionRegistrar.Pending> registered = new HashMap<>();
        Map<String, CompletableFuture<?>> lastOfFamily = new HashMap<>();
        List<CompletableFuture<?>> running = new ArrayList<>();
        for (Change c : changes) {
            if (isRegistration(c) && !context.shouldStop()) {
                // One registration per family at a time: the revision a lost answer registered is then the
                // family's latest, which is how a retry or a re-run finds it instead of registering a second one.
                String source = EcsStates.revisionState(c.targetState()).source();
                CompletableFuture<?> previous = lastOfFamily.getOrDefault(
                        TaskDefinitions.family(source), CompletableFuture.completedFuture(null));
                CompletableFuture<RevisionRegistrar.NewRevision> f =
                        previous.handle((ignored, error) -> null).thenCompose(ignored -> registrar.register(c));
                lastOfFamily.put(TaskDefinitions.family(source), f);
                registered.put(source, new RevisionRegistrar.Pending(c, f));
                running.add(f);
            }
        }
        for (Change c : changes) {
            if (EcsPlanner.SERVICE_TYPE.equals(c.resourceType())) {
                running.add(services.update(c, registered));
            }
        }
        CompletableFuture.allOf(running.toArray(new CompletableFuture<?>[0])).join();
        // A rollback deregisters the revisions the apply registered only now that every service moved back (or
        // failed to): each one looks again for a service that still runs its revision, and keeps it then.
        CompletableFuture.allOf(changes.stream()
                        .filter(EcsApplier::isDeregistration)
                        .map(deregistrar::deregister)
                        .toArray(CompletableFuture<?>[]::new))
                .join();
    }

    private static boolean isRegistration(Change c) {
        return EcsPlanner.TASK_DEFINITION_TYPE.equals(c.resourceType()) && c.action() != ChangeAction.DELETE;
    }

    private static boolean isDeregistration(Change c) {
        return EcsPlanner.TASK_DEFINITION_TYPE.equals(c.resourceType()) && c.action() == ChangeAction.DELETE;
    }
}
