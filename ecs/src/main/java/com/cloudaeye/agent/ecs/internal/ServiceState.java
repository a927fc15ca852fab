package com.cloudaeye.agent.ecs.internal;

import com.cloudaeye.agent.ecs.LogRouter;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * What a planned service change does, kept in {@code Change.targetState()} ({@link EcsStates} writes and reads it): move the service from one revision to
 * another (known, or the one its source's task definition change registers), and maybe wait for the rollout. The
 * JSON keeps the shape plans had before this type (the same keys in the same order), so saved plans and journals
 * still read.
 *
 * @param kind always {@code service}
 * @param operation {@link RevisionSpec#INSTALL}, {@link RevisionSpec#UNINSTALL} or {@link RevisionSpec#ROLLBACK}
 * @param cluster the service's cluster ARN
 * @param service the service's ARN
 * @param from the revision the service runs when planned
 * @param source the source revision whose task definition change registers the new one; null for a rollback
 * @param to the revision to move to when it is known at planning (reused, or a rollback's); else null
 * @param routerSource the revision our router was first added to (its label); null for a rollback
 * @param router what the new revision registers (with {@code cpu} and {@code memory}), when {@code to} is null
 * @param cpu the raised task cpu the new revision registers, or null
 * @param memory the raised task memory the new revision registers, or null
 * @param waitMillis how long to wait for the rollout; null to not wait
 * @param pollMillis how often to look at the rollout while waiting; null when not waiting
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({
    "kind",
    "operation",
    "cluster",
    "service",
    "from",
    "source",
    "to",
    "routerSource",
    "router",
    "cpu",
    "memory",
    "waitMillis",
    "pollMillis"
})
record ServiceState(
        String kind,
        String operation,
        String cluster,
        String service,
        String from,
        @Nullable String source,
        @Nullable String to,
        @Nullable String routerSource,
        @Nullable LogRouter router,
        @Nullable String cpu,
        @Nullable String memory,
        @Nullable Long waitMillis,
        @Nullable Long pollMillis)
        implements RevisionSpec {
    /** The kind of every service change. */
    static final String KIND = "service";

    /** The poll interval of a plan that waits but recorded none. */
    private static final long DEFAULT_POLL_MILLIS = 15_000;

    /** @return how long to wait for the rollout, empty to not wait */
    java.util.Optional<Duration> waitTimeout() {
        return java.util.Optional.ofNullable(waitMillis).map(Duration::ofMillis);
    }

    /** @return how often to look at the rollout */
    Duration pollInterval() {
        return Duration.ofMillis(pollMillis == null ? DEFAULT_POLL_MILLIS : pollMillis);
    }
}
