package com.cloudaeye.agent.logsub.internal;

import java.util.List;

/**
 * What a configured target selects.
 *
 * @param logGroups log group names or globs
 * @param destination the destination ARN
 * @param filterPattern the filter pattern
 */
public record Selection(List<String> logGroups, String destination, String filterPattern) {
    /** Copies the list. */
    public Selection {
        logGroups = List.copyOf(logGroups);
    }

    /** @return the filter this selection wants in every selected group */
    Filter wanted() {
        return new Filter(destination, filterPattern);
    }
}
