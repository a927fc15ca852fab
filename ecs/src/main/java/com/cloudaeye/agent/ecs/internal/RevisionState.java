package com.cloudaeye.agent.ecs.internal;

import com.cloudaeye.agent.ecs.LogRouter;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.JsonNode;
import org.jspecify.annotations.Nullable;

/**
 * What a planned task definition change does, kept in {@code Change.targetState()} ({@link EcsStates} writes and reads it): register a new revision from
 * {@code source}, with the router ({@code install}) or without it ({@code uninstall}). The JSON keeps the shape plans
 * had before this type (the same keys in the same order), so saved plans and journals still read.
 *
 * @param kind always {@code taskDefinition}
 * @param operation {@link RevisionSpec#INSTALL} or {@link RevisionSpec#UNINSTALL}
 * @param source the source revision's ARN
 * @param router the router settings an install registers; null for an uninstall
 * @param previousLogConfigurations each container's log configuration before the change, options redacted
 * @param cpu the raised task cpu, or null to keep the source's
 * @param memory the raised task memory, or null to keep the source's
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"kind", "operation", "source", "router", "previousLogConfigurations", "cpu", "memory"})
record RevisionState(
        String kind,
        String operation,
        String source,
        @Nullable LogRouter router,
        @Nullable JsonNode previousLogConfigurations,
        @Nullable String cpu,
        @Nullable String memory)
        implements RevisionSpec {
    /** The kind of every task definition change. */
    static final String KIND = "taskDefinition";

    /**
     * @param operation install or uninstall
     * @param source the source revision's ARN
     * @param router the router settings of an install, else null
     * @param previousLogConfigurations the containers' log configurations before the change
     * @param cpu the raised task cpu, or null
     * @param memory the raised task memory, or null
     * @return the state
     */
    static RevisionState of(
            String operation,
            String source,
            @Nullable LogRouter router,
            JsonNode previousLogConfigurations,
            @Nullable String cpu,
            @Nullable String memory) {
        return new RevisionState(KIND, operation, source, router, previousLogConfigurations, cpu, memory);
    }
}
