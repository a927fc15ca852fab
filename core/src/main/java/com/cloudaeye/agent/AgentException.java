package com.cloudaeye.agent;

/**
 * The root of every exception the installer throws. Unchecked: callers catch it where they can act on it.
 * Messages say what failed, on which resource, and how to fix it; they never contain a secret.
 */
public class AgentException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message what failed, on which resource, and the fix
     */
    public AgentException(String message) {
        super(message);
    }

    /**
     * @param message what failed, on which resource, and the fix
     * @param cause the underlying error
     */
    public AgentException(String message, Throwable cause) {
        super(message, cause);
    }
}
