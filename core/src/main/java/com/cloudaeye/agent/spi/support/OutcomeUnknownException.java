package com.cloudaeye.agent.spi.support;

import com.cloudaeye.agent.AgentException;

/**
 * A mutating call was sent and whether it landed could not be confirmed (its answer was lost and the read-back
 * failed too, or it landed and then failed). A target reports a change that ends with it through {@link
 * AwsFailures#report}, as {@link com.cloudaeye.agent.ResourceResult.Outcome#UNKNOWN}.
 */
public final class OutcomeUnknownException extends AgentException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message what was sent, what is not known, and what to do; starts with {@link AwsFailures#OUTCOME_UNKNOWN}
     * @param cause the error of the call or the read-back
     */
    public OutcomeUnknownException(String message, Throwable cause) {
        super(message, cause);
    }
}
