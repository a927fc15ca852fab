package com.cloudaeye.agent;

/**
 * An apply could not run to its end (for example: the journal could not be written, or the failure limit was
 * reached). {@link #result()} says what was applied, skipped, failed and not attempted; its journal can be rolled
 * back.
 */
public class ApplyException extends AgentException {
    private static final long serialVersionUID = 1L;

    private final transient ApplyResult result;

    /**
     * @param message what stopped the apply
     * @param result what was and was not applied
     * @param cause the underlying error, may be null
     */
    public ApplyException(String message, ApplyResult result, Throwable cause) {
        super(message, cause);
        this.result = result;
    }

    /** @return what was and was not applied before the apply stopped */
    public ApplyResult result() {
        return result;
    }
}
