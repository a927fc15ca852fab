package com.cloudaeye.agent.eks.internal;

import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import software.amazon.awssdk.awscore.exception.AwsServiceException;

/** Turns SDK errors into short messages (AWS's error code and message; AWS never puts a secret in them). */
public final class AwsErrors {
    private AwsErrors() {}

    /**
     * Words every failure whose change may nevertheless have landed (its answer was lost, and reading it back failed
     * too) starts its reason with, so that callers can tell it from a change that certainly did not happen.
     */
    public static final String OUTCOME_UNKNOWN = "the outcome is unknown";

    /**
     * @param e an error, possibly wrapped by a future
     * @return the underlying error
     */
    public static Throwable unwrap(Throwable e) {
        Throwable t = e;
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    /**
     * @param e an error
     * @return e.g. {@code ResourceInUseException: Cluster has an update in progress}
     */
    public static String describe(Throwable e) {
        Throwable t = unwrap(e);
        if (t instanceof AwsServiceException aws && aws.awsErrorDetails() != null) {
            return aws.awsErrorDetails().errorCode() + ": "
                    + aws.awsErrorDetails().errorMessage();
        }
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }

    /**
     * @param e an error
     * @param code an AWS error code, e.g. {@code NoSuchEntity}
     * @return true when e is an AWS error with that code
     */
    public static boolean hasCode(Throwable e, String code) {
        Throwable t = unwrap(e);
        return t instanceof AwsServiceException aws
                && aws.awsErrorDetails() != null
                && code.equals(aws.awsErrorDetails().errorCode());
    }
}
