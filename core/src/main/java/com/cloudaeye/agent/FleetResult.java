package com.cloudaeye.agent;

import com.cloudaeye.agent.internal.FleetTable;
import com.cloudaeye.agent.spi.support.Json;
import com.cloudaeye.agent.spi.support.ValueStyle;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import java.util.SortedMap;
import org.immutables.value.Value;

/**
 * The outcome of {@link FleetInstaller#apply(FleetPlan)}: one {@link ApplyResult} (with its own journal) per account
 * and region that was applied, and per account and region that was not, why.
 */
@Value.Immutable
@ValueStyle
@JsonSerialize(as = ImmutableFleetResult.class)
@JsonDeserialize(as = ImmutableFleetResult.class)
public abstract class FleetResult {
    /** @return account ID to region to that account-region's result, both sorted */
    @Value.NaturalOrder
    public abstract SortedMap<String, SortedMap<String, ApplyResult>> results();

    /**
     * The account-regions where nothing was applied, with the reason: those the fleet plan could not plan, and those
     * whose apply could not run (for example the role could no longer be assumed).
     *
     * @return account ID to region to the reason, both sorted
     */
    @Value.NaturalOrder
    public abstract SortedMap<String, SortedMap<String, String>> failures();

    /** @return true when every account-region was applied and each apply succeeded (or had nothing to do) */
    @JsonIgnore
    public boolean isSuccess() {
        return failures().isEmpty()
                && results().values().stream().flatMap(m -> m.values().stream()).allMatch(ApplyResult::isSuccess);
    }

    /** @return the result as deterministic JSON (no secrets) */
    public String toJson() {
        return Json.write(this);
    }

    /** @return a new builder */
    public static Builder builder() {
        return new Builder();
    }

    /** @return a table: one row per account and region with its status and counts, or its failure */
    @Override
    public String toString() {
        return FleetTable.result(this);
    }

    /** Builds a {@link FleetResult}. */
    public static final class Builder extends ImmutableFleetResult.Builder {
        Builder() {}
    }
}
