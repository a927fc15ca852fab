package com.cloudaeye.agent;

import com.cloudaeye.agent.spi.support.ValueStyle;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import java.util.Optional;
import org.immutables.value.Value;
import org.jspecify.annotations.Nullable;

/** What happened to one planned change during an apply. */
@Value.Immutable
@ValueStyle
@JsonSerialize(as = ImmutableResourceResult.class)
@JsonDeserialize(as = ImmutableResourceResult.class)
public abstract class ResourceResult {
    /**
     * The outcome of one change. Only {@link #APPLIED} and {@link #UNKNOWN} may have changed the account; every other
     * outcome guarantees that this change changed nothing.
     */
    public enum Outcome {
        /** The change was made and confirmed (read back, or answered by AWS). */
        APPLIED,
        /** The change was not made on purpose (planned skip, or the resource changed since planning). */
        SKIPPED,
        /** The change did not land: nothing was changed. {@link #message()} says why; fix it and apply again. */
        FAILED,
        /**
         * A mutating call was sent and the change may have landed, wholly or partly, but that could not be confirmed
         * (its answer was lost and reading it back failed too, or it landed and then failed, e.g. a rollout). Read the
         * resource back (plan again, or {@link AgentInstaller#resume(Journal)}), or roll it back: {@link
         * AgentInstaller#rollback(Journal)} includes it.
         */
        UNKNOWN,
        /** The apply stopped before this change was tried: nothing was changed. {@link #message()} says why. */
        NOT_ATTEMPTED;

        /** @return true when the change may have changed the account ({@link #APPLIED} or {@link #UNKNOWN}) */
        public boolean mayHaveLanded() {
            return this == APPLIED || this == UNKNOWN;
        }
    }

    /** @return the change this result is for */
    public abstract Change change();

    /** @return the outcome */
    public abstract Outcome outcome();

    /** @return why it was skipped or failed, or a note (e.g. the version published) */
    public abstract Optional<String> message();

    /**
     * @param change the change
     * @param outcome its outcome
     * @param message why, may be null
     * @return the result
     */
    public static ResourceResult of(Change change, Outcome outcome, @Nullable String message) {
        return ImmutableResourceResult.builder()
                .change(change)
                .outcome(outcome)
                .message(message)
                .build();
    }

    @Override
    public String toString() {
        return outcome().name().toLowerCase(java.util.Locale.ROOT).replace('_', ' ') + " " + change().resourceId()
                + message().map(m -> ": " + m).orElse("");
    }
}
