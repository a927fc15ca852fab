package com.cloudaeye.agent.ecs.internal;

import com.cloudaeye.agent.ecs.LogRouter;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * What a planned task definition change does, kept in {@code Change.targetState()} ({@link EcsStates} writes and reads it): register a new revision from
 * {@code source}, with the router ({@code install}) or without it ({@code uninstall}). The JSON keeps the shape plans
 * had before this type (the same keys in the same order), so saved plans and journals still read.
 *
 * @param kind always {@link StateKind#TASK_DEFINITION}
 * @param operation {@link Operation#INSTALL} or {@link Operation#UNINSTALL}
 * @param source the source revision's ARN
 * @param router the router settings an install registers; null for an uninstall
 * @param previousLogConfigurations each container's log configuration before the change, options redacted
 * @param cpu the raised task cpu, or null to keep the source's
 * @param memory the raised task memory, or null to keep the source's
 * @param cluster the cluster whose services run the source (a rollback looks there for services that run the new
 *     revision before it deregisters it); null in plans made before it was kept
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"kind", "operation", "source", "router", "previousLogConfigurations", "cpu", "memory", "cluster"})
record RevisionState(
        StateKind kind,
        Operation operation,
        String source,
        @Nullable LogRouter router,
        @Nullable Map<String, @Nullable RedactedLogConfiguration> previousLogConfigurations,
        @Nullable String cpu,
        @Nullable String memory,
        @Nullable String cluster)
        implements RevisionSpec {
    /**
     * @param source the source revision's ARN
     * @param router the router settings to register
     * @param previousLogConfigurations the containers' log configurations before the change
     * @param cpu the raised task cpu, or null to keep the source's
     * @param memory the raised task memory, or null to keep the source's
     * @param cluster the cluster whose services run the source
     * @return the state of an install
     */
    static RevisionState install(
            String source,
            LogRouter router,
            Map<String, @Nullable RedactedLogConfiguration> previousLogConfigurations,
            @Nullable String cpu,
            @Nullable String memory,
            String cluster) {
        return new RevisionState(
                StateKind.TASK_DEFINITION,
                Operation.INSTALL,
                source,
                router,
                previousLogConfigurations,
                cpu,
                memory,
                cluster);
    }

    /**
     * @param source the source revision's ARN
     * @param previousLogConfigurations the containers' log configurations before the change
     * @param cluster the cluster whose services run the source
     * @return the state of an uninstall: no router
     */
    static RevisionState uninstall(
            String source, Map<String, @Nullable RedactedLogConfiguration> previousLogConfigurations, String cluster) {
        return new RevisionState(
                StateKind.TASK_DEFINITION,
                Operation.UNINSTALL,
                source,
                null,
                previousLogConfigurations,
                null,
                null,
                cluster);
    }
}
