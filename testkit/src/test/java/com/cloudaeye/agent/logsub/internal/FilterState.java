package com.cloudaeye.agent.logsub.internal;

import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.spi.support.Json;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A change's typed state: which log group, and our filter before and after (null: absent). Everything apply, resume
 * and rollback need, and no secret.
 *
 * @param logGroup the log group's name
 * @param before the filter when planned, null when there was none
 * @param after the filter the change makes, null to delete it
 */
public record FilterState(
        String logGroup, @Nullable Filter before, @Nullable Filter after) {
    /** @return the state as a change's {@code targetState} */
    JsonNode toTree() {
        return Json.tree(this);
    }

    /** @return the state a change carries */
    static FilterState of(Change change) {
        return Json.convert(change.targetState(), FilterState.class);
    }

    /** @return true when the live filter is what this change makes */
    boolean landed(@Nullable Filter live) {
        return Objects.equals(live, after);
    }

    /** @return true when the live filter is what this change found when planned */
    boolean untouched(@Nullable Filter live) {
        return Objects.equals(live, before);
    }
}
