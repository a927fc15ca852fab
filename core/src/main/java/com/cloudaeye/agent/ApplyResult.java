package com.cloudaeye.agent;

import com.cloudaeye.agent.spi.support.Json;
import com.cloudaeye.agent.spi.support.ValueStyle;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.immutables.value.Value;

/**
 * The outcome of an apply: one {@link ResourceResult} per mutating change, the overall {@link #status()}, the journal
 * that can roll it back, and the AWS calls that were made.
 */
@Value.Immutable
@ValueStyle
@JsonSerialize(as = ImmutableApplyResult.class)
@JsonDeserialize(as = ImmutableApplyResult.class)
public abstract class ApplyResult {
    /** The overall outcome, something a caller can act on. */
    public enum Status {
        /** Every planned mutation was applied. */
        SUCCEEDED,
        /** Nothing needed to change. */
        NOTHING_TO_DO,
        /**
         * Not everything was applied (some changes failed, were skipped because the resource changed since planning,
         * were not attempted, or have an {@link ResourceResult.Outcome#UNKNOWN unknown} outcome): re-plan and apply
         * again, resume, or roll back.
         */
        PARTIAL,
        /** Nothing was changed: no change was applied or may have landed, and at least one failed. */
        FAILED
    }

    /** @return one result per mutating change of the plan, in plan order */
    public abstract List<ResourceResult> results();

    /**
     * @return the journal file of this apply, absent when journaling was turned off or the journal is not a file
     *     (see {@link #journalLocation()})
     */
    public abstract Optional<Path> journal();

    /**
     * @return where the journal of this apply is, in whichever {@link JournalStore} it went to: a file's path, an
     *     {@code s3://} URI; read it back with {@link Journal#read(JournalStore, String)}. Absent when journaling was
     *     turned off.
     */
    public abstract Optional<String> journalLocation();

    /** @return how many calls were made per IAM action during the apply, sorted by action */
    public abstract Map<String, Long> calls();

    /** @return how long the apply took */
    public abstract Duration duration();

    /** @return how many calls AWS throttled (and the installer retried) */
    @Value.Default
    public long throttled() {
        return 0;
    }

    /** @return the overall status */
    @Value.Derived
    public Status status() {
        if (results().isEmpty()) {
            return Status.NOTHING_TO_DO;
        }
        long applied = count(ResourceResult.Outcome.APPLIED);
        if (applied == results().size()) {
            return Status.SUCCEEDED;
        }
        // An UNKNOWN change may have landed, so a run with one is never FAILED ("nothing was changed").
        boolean nothingChanged = applied == 0 && count(ResourceResult.Outcome.UNKNOWN) == 0;
        return nothingChanged && count(ResourceResult.Outcome.FAILED) > 0 ? Status.FAILED : Status.PARTIAL;
    }

    /** @return true when every planned mutation was applied (or none was needed) */
    @JsonIgnore
    public boolean isSuccess() {
        return status() == Status.SUCCEEDED || status() == Status.NOTHING_TO_DO;
    }

    /**
     * @param outcome an outcome
     * @return the results with that outcome
     */
    public List<ResourceResult> withOutcome(ResourceResult.Outcome outcome) {
        return results().stream().filter(r -> r.outcome() == outcome).collect(Collectors.toList());
    }

    private long count(ResourceResult.Outcome outcome) {
        return results().stream().filter(r -> r.outcome() == outcome).count();
    }

    /** @return the result as deterministic JSON (no secrets) */
    public String toJson() {
        return Json.write(this);
    }

    /** @return a builder */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder("Apply ")
                .append(status().name().toLowerCase(java.util.Locale.ROOT).replace('_', ' '));
        s.append(String.format(
                " in %.1f s: %d applied, %d skipped, %d failed, %d unknown, %d not attempted%n",
                duration().toMillis() / 1000.0,
                count(ResourceResult.Outcome.APPLIED),
                count(ResourceResult.Outcome.SKIPPED),
                count(ResourceResult.Outcome.FAILED),
                count(ResourceResult.Outcome.UNKNOWN),
                count(ResourceResult.Outcome.NOT_ATTEMPTED)));
        results().stream()
                .filter(r -> r.outcome() != ResourceResult.Outcome.APPLIED)
                .forEach(r -> s.append("  ").append(r).append(System.lineSeparator()));
        if (count(ResourceResult.Outcome.UNKNOWN) > 0) {
            s.append("An unknown outcome may have changed its resource: resume or roll back with the journal.")
                    .append(System.lineSeparator());
        }
        journalLocation().ifPresent(j -> s.append("Journal: ").append(j).append(System.lineSeparator()));
        return s.toString();
    }

    /** Builds an {@link ApplyResult}. */
    public static final class Builder extends ImmutableApplyResult.Builder {
        Builder() {}
    }
}
