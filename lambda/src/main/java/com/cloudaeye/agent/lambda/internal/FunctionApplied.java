package com.cloudaeye.agent.lambda.internal;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * What an applied Lambda change did, kept in the journal's {@code appliedState} ({@link LambdaStates} writes and reads
 * it): the JSON has the keys journals had before this type, so rollback reads journals written before it.
 *
 * @param revisionId the function's RevisionId after the update (null only from emulators that do not track them)
 * @param version the version the change published; null when it published none
 * @param aliases each alias the change moved, by name, with its target right before; null when it was to move none
 */
@JsonPropertyOrder({"revisionId", "version", "aliases"})
record FunctionApplied(
        @Nullable String revisionId,
        @JsonInclude(JsonInclude.Include.NON_NULL) @Nullable String version,
        @JsonInclude(JsonInclude.Include.NON_NULL) @Nullable Map<String, AliasBefore> aliases) {

    /**
     * An alias's target right before the change moved it.
     *
     * @param version the version it served
     * @param weights its routing weights (extra version to share of traffic), empty when none
     */
    @JsonPropertyOrder({"version", "weights"})
    record AliasBefore(String version, Map<String, Double> weights) {
        AliasBefore {
            weights = weights == null ? Map.of() : weights; // a journal line without weights: none
        }
    }

    /**
     * @param aliases the aliases the change moved, with their targets before
     * @return this with them
     */
    FunctionApplied withAliases(Map<String, AliasBefore> aliases) {
        return new FunctionApplied(revisionId, version, aliases);
    }
}
