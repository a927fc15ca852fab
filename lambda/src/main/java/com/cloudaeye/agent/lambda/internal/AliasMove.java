package com.cloudaeye.agent.lambda.internal;

import java.util.Map;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * One alias a change moves after its function update, kept in {@link FunctionState#aliases()}.
 *
 * @param name the alias name, e.g. {@code live}
 * @param fromVersion the version it pointed at when planned
 * @param fromWeights its routing weights when planned (extra version to share of traffic), empty when none
 * @param toVersion the version to move it to; null for the version the change publishes
 * @param toWeights the routing weights to set (empty: all traffic to {@code toVersion})
 * @param revisionId the alias's RevisionId when planned, sent as UpdateAlias's precondition; null when unknown
 * @param provisioned whether the alias has provisioned concurrency, whose allocation on the new version the apply
 *     waits for
 */
public record AliasMove(
        String name,
        String fromVersion,
        Map<String, Double> fromWeights,
        @Nullable String toVersion,
        Map<String, Double> toWeights,
        @Nullable String revisionId,
        boolean provisioned) {

    /**
     * @param arn a function's unqualified ARN
     * @return its name: alias calls name the function by it (emulators do not all resolve an ARN there)
     */
    static String functionName(String arn) {
        return arn.substring(arn.lastIndexOf(':') + 1);
    }

    /**
     * @param version a version
     * @param weights routing weights
     * @return e.g. {@code 3} or {@code 3 (+ version 4 at 10%)}
     */
    static String describe(String version, Map<String, Double> weights) {
        StringBuilder s = new StringBuilder(version);
        new TreeMap<>(weights)
                .forEach((v, w) -> s.append(" (+ version ")
                        .append(v)
                        .append(" at ")
                        .append(Math.round(w * 1000) / 10.0)
                        .append("%)"));
        return s.toString();
    }
}
