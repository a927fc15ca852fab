package com.cloudaeye.agent;

/** Bad input: the installer, a target or the agent settings were configured wrongly. Nothing was changed. */
public class ConfigurationException extends AgentException {
    private static final long serialVersionUID = 1L;

    /** @param message the setting, what is wrong with it, and the fix */
    public ConfigurationException(String message) {
        super(message);
    }

    /**
     * @param message the setting, what is wrong with it, and the fix
     * @param cause the underlying error
     */
    public ConfigurationException(String message, Throwable cause) {
        super(message, cause);
    }
}
