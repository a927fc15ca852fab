package com.cloudaeye.agent.ecs.internal;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.List;

/**
 * What a rollback's deregistration does, kept in {@code Change.targetState()} ({@link EcsStates} writes and reads it):
 * deregister the revision an apply registered from {@code source}, once no service or standalone task of any cluster of
 * the region runs it.
 *
 * @param kind always {@link StateKind#TASK_DEFINITION}
 * @param operation always {@link Operation#ROLLBACK}
 * @param revision the revision to deregister
 * @param source the revision it was registered from
 * @param clusters the clusters of the apply's services (informational since the check covers every cluster of the
 *     region; kept so saved plans and journals read the same)
 */
@JsonPropertyOrder({"kind", "operation", "revision", "source", "clusters"})
record DeregistrationState(StateKind kind, Operation operation, String revision, String source, List<String> clusters) {
    /**
     * @param revision the revision to deregister
     * @param source the revision it was registered from
     * @param clusters the clusters of the apply's services
     * @return the state of a rollback's deregistration
     */
    static DeregistrationState of(String revision, String source, List<String> clusters) {
        return new DeregistrationState(
                StateKind.TASK_DEFINITION, Operation.ROLLBACK, revision, source, List.copyOf(clusters));
    }
}
