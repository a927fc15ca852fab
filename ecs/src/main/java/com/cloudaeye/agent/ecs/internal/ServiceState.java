package com.cloudaeye.agent.ecs.internal;

import com.cloudaeye.agent.ecs.LogRouter;
import com.cloudaeye.agent.spi.support.ValueStyle;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import java.time.Duration;
import org.immutables.value.Value;
import org.jspecify.annotations.Nullable;

/**
 * What a planned service change does, kept in {@code Change.targetState()} ({@link EcsStates} writes and reads it): move the service from one revision to
 * another (known, or the one its source's task definition change registers), and maybe wait for the rollout. The
 * JSON keeps the shape plans had before this type (the same keys in the same order), so saved plans and journals
 * still read.
 *
 * <p>Built with {@link #builder()}: {@code kind} is always {@link StateKind#SERVICE}, the nullable fields start null.
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
@Value.Immutable
@ValueStyle
@JsonSerialize(as = ImmutableServiceState.class)
@JsonDeserialize(as = ImmutableServiceState.class)
abstract class ServiceState implements RevisionSpec {
    /** @return always {@link StateKind#SERVICE} */
    @Value.Default
    StateKind kind() {
        return StateKind.SERVICE;
    }

    /** @return {@link Operation#INSTALL}, {@link Operation#UNINSTALL} or {@link Operation#ROLLBACK} */
    @Override
    public abstract Operation operation();

    /** @return the service's cluster ARN */
    abstract String cluster();

    /** @return the service's ARN */
    abstract String service();

    /** @return the revision the service runs when planned (the JSON's {@code from}) */
    @JsonProperty("from")
    abstract String fromRevision();

    /** @return the source revision whose task definition change registers the new one; null for a rollback */
    abstract @Nullable String source();

    /** @return the revision to move to when it is known at planning (reused, or a rollback's); else null */
    abstract @Nullable String to();

    /** @return the revision our router was first added to (its label); null for a rollback */
    abstract @Nullable String routerSource();

    /** @return what the new revision registers (with {@code cpu} and {@code memory}), when {@code to} is null */
    @Override
    public abstract @Nullable LogRouter router();

    /** @return the raised task cpu the new revision registers, or null */
    @Override
    public abstract @Nullable String cpu();

    /** @return the raised task memory the new revision registers, or null */
    @Override
    public abstract @Nullable String memory();

    /** @return how long to wait for the rollout; null to not wait */
    abstract @Nullable Long waitMillis();

    /** @return how often to look at the rollout while waiting; null when not waiting */
    abstract @Nullable Long pollMillis();

    /** @return a new builder */
    static Builder builder() {
        return new Builder();
    }

    /** Builds a {@link ServiceState}. */
    static final class Builder extends ImmutableServiceState.Builder {}

    /** The poll interval of a plan that waits but recorded none. */
    private static final long DEFAULT_POLL_MILLIS = 15_000;

    /** @return how long to wait for the rollout, empty to not wait */
    java.util.Optional<Duration> waitTimeout() {
        return java.util.Optional.ofNullable(waitMillis()).map(Duration::ofMillis);
    }

    /** @return how often to look at the rollout */
    Duration pollInterval() {
        Long poll = pollMillis();
        return Duration.ofMillis(poll == null ? DEFAULT_POLL_MILLIS : poll);
    }
}
