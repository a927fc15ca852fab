package com.cloudaeye.agent.eks;

import java.util.Locale;

/** A type of EKS control-plane log; each is shipped to CloudWatch Logs when enabled. */
public enum LogType {
    /** The Kubernetes API server's logs. */
    API("api"),
    /**
     * The Kubernetes audit log: every request to the API server. By far the largest of the five, and so the costly
     * one in CloudWatch Logs ingestion and storage.
     */
    AUDIT("audit"),
    /** The AWS IAM authenticator's logs. */
    AUTHENTICATOR("authenticator"),
    /** The controller manager's logs. */
    CONTROLLER_MANAGER("controllerManager"),
    /** The scheduler's logs. */
    SCHEDULER("scheduler");

    private final String awsName;

    LogType(String awsName) {
        this.awsName = awsName;
    }

    /** @return the name EKS uses, e.g. {@code controllerManager} */
    public String awsName() {
        return awsName;
    }

    /**
     * @param awsName a name EKS uses, e.g. {@code controllerManager} (case-insensitive)
     * @return the log type
     * @throws IllegalArgumentException for a name EKS does not use
     */
    public static LogType fromAwsName(String awsName) {
        for (LogType t : values()) {
            if (t.awsName.toLowerCase(Locale.ROOT).equals(awsName.toLowerCase(Locale.ROOT))) {
                return t;
            }
        }
        throw new IllegalArgumentException("Not an EKS control-plane log type: " + awsName);
    }
}
