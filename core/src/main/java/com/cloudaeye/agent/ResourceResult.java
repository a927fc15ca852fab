package com.cloudaeye.agent;

import com.cloudaeye.agent.internal.ValueStyle;
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
    /** The outcome of one change. */
    public enum Outcome {
        /** The change was made and confirmed. */
        APPLIED,
        /** The change was not made on purpose (planned skip, or the resource changed since planning). */
        SKIPPED,
        /** The change was tried and failed; {@link #message()} says why. */
        FAILED,
        /** The apply stopped before this change was tried. */
        NOT_ATTEMPTED
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
        return outcome().name().toLowerCase(java.util.Locale.ROOT) + " " + change().resourceId()
                + message().map(m -> ": " + m).orElse("");
    }
}
