package com.cloudaeye.agent.spi;

import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.Journal;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * A change of a journaled apply whose mutating call may have been sent, as {@link TargetService#planRollback
 * planRollback} and resume receive it: the change as planned, the last event the journal holds for it,
 * and the target's {@code appliedState} from its {@link Journal.Event#APPLIED} line.
 *
 * @param change the change as planned
 * @param event its last journaled event: {@link Journal.Event#APPLIED}, {@link Journal.Event#UNKNOWN}, {@link
 *     Journal.Event#FAILED} (after it was started) or {@link Journal.Event#STARTING} (interrupted: the process died
 *     during its mutation)
 * @param appliedState what the target journaled with the outcome, null when it journaled nothing
 */
public record JournaledChange(
        Change change, Journal.Event event, @Nullable JsonNode appliedState) {
    /** @return true when the journal confirms the change landed; otherwise only the live state can tell */
    public boolean confirmed() {
        return event == Journal.Event.APPLIED;
    }

    /** @return the applied state, when the target journaled one */
    public Optional<JsonNode> state() {
        return Optional.ofNullable(appliedState);
    }
}
