package com.cloudaeye.agent;

/** The caller lacks IAM permissions the plan needs. {@link #missing()} is a policy that grants exactly those. */
public class InsufficientPermissionsException extends AgentException {
    private static final long serialVersionUID = 1L;

    private final transient PolicyDocument missing;

    /**
     * @param message which principal lacks what
     * @param missing a policy document granting exactly the missing permissions
     */
    public InsufficientPermissionsException(String message, PolicyDocument missing) {
        super(message + "\nAttach this policy to the caller:\n" + missing.toJson());
        this.missing = missing;
    }

    /** @return a policy document that grants exactly the missing permissions */
    public PolicyDocument missing() {
        return missing;
    }
}
