package com.cloudaeye.agent;

/**
 * Planning could not finish: a named resource does not exist, a selection matched nothing, or AWS refused a read.
 * Nothing was changed.
 */
public class PlanningException extends AgentException {
    private static final long serialVersionUID = 1L;

    /** @param message the resource, what is wrong, and the fix */
    public PlanningException(String message) {
        super(message);
    }

    /**
     * @param message the resource, what is wrong, and the fix
     * @param cause the underlying error
     */
    public PlanningException(String message, Throwable cause) {
        super(message, cause);
    }
}
