package com.cloudaeye.agent.ecs.internal;

import com.cloudaeye.agent.spi.JournaledChange;
import com.cloudaeye.agent.spi.support.Json;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.Optional;

/**
 * The one codec of the ECS target's states: what a planned change does ({@link RevisionState}, {@link ServiceState}, {@link DeregistrationState}:
 * {@code Change.targetState()}) and what its apply did ({@link RevisionApplied}, {@link ServiceApplied}: the
 * journal's {@code appliedState}), to and from the JSON that plans and journals hold, through core's mapper
 * ({@link Json}). The rest of the module handles the typed records only; the JSON keeps the keys plans and journals
 * had before these types, so earlier ones still apply, resume and roll back.
 */
final class EcsStates {
    private EcsStates() {}

    /**
     * @param state a planned task definition change
     * @return it as JSON for {@code Change.targetState()}
     */
    static JsonNode toJson(RevisionState state) {
        return Json.tree(state);
    }

    /**
     * @param state a planned service change
     * @return it as JSON for {@code Change.targetState()}
     */
    static JsonNode toJson(ServiceState state) {
        return Json.tree(state);
    }

    /**
     * @param applied what a task definition change did
     * @return it as JSON for the journal's {@code appliedState}
     */
    static JsonNode toJson(RevisionApplied applied) {
        return Json.tree(applied);
    }

    /**
     * @param applied what a service change did
     * @return it as JSON for the journal's {@code appliedState}
     */
    static JsonNode toJson(ServiceApplied applied) {
        return Json.tree(applied);
    }

    /**
     * @param state a rollback's deregistration
     * @return it as JSON for {@code Change.targetState()}
     */
    static JsonNode toJson(DeregistrationState state) {
        return Json.tree(state);
    }

    /**
     * @param targetState a deregistration's {@code targetState}
     * @return the state
     */
    static DeregistrationState deregistrationState(JsonNode targetState) {
        return Json.convert(targetState, DeregistrationState.class);
    }

    /**
     * @param journaled a journaled task definition change
     * @return the revision it registered, when the journal recorded it
     */
    static Optional<String> revisionApplied(JournaledChange journaled) {
        return journaled
                .state()
                .filter(s -> s.hasNonNull("taskDefinitionArn"))
                .map(s -> Json.convert(s, RevisionApplied.class).taskDefinitionArn());
    }

    /**
     * @param targetState a task definition change's {@code targetState}
     * @return the state
     */
    static RevisionState revisionState(JsonNode targetState) {
        return Json.convert(targetState, RevisionState.class);
    }

    /**
     * @param targetState a service change's {@code targetState}
     * @return the state
     */
    static ServiceState serviceState(JsonNode targetState) {
        return Json.convert(targetState, ServiceState.class);
    }

    /**
     * @param journaled a journaled service change
     * @return what its apply did, when the journal recorded it
     */
    static Optional<ServiceApplied> serviceApplied(JournaledChange journaled) {
        return journaled
                .state()
                .filter(s -> s.hasNonNull("taskDefinitionArn"))
                .map(s -> Json.convert(s, ServiceApplied.class));
    }
}
