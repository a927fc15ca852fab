package com.cloudaeye.agent.spi;

import com.cloudaeye.agent.AgentException;

/**
 * Core refused to start a change because the apply stops (the failure limit is reached, or the journal failed).
 * Core has recorded the change as not attempted: the target MUST NOT mutate it and need not report it.
 */
public final class NotStartedException extends AgentException {
    private static final long serialVersionUID = 1L;

    /** @param message why the apply stops */
    public NotStartedException(String message) {
        super(message);
    }
}
