package com.cloudaeye.agent.internal;

import com.cloudaeye.agent.AgentException;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.InsufficientPermissionsException;
import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.PlanningException;
import com.cloudaeye.agent.PolicyDocument;
import com.cloudaeye.agent.spi.ApplyContext;
import com.cloudaeye.agent.spi.support.OutcomeUnknownException;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.exception.SdkServiceException;

/**
 * Turns an AWS SDK error that stopped planning into an {@link AgentException} that says what is wrong and how to
 * fix it: expired, rejected or missing credentials, and a denied action (as an {@link
 * InsufficientPermissionsException} granting exactly that action when AWS names it). Messages hold AWS's error code
 * and message, which name the caller and the action but never a secret.
 */
public final class AwsErrors {
    private static final Set<String> EXPIRED = Set.of("ExpiredToken", "ExpiredTokenException", "RequestExpired");
    private static final Set<String> REJECTED = Set.of(
            "UnrecognizedClientException",
            "InvalidClientTokenId",
            "InvalidSignatureException",
            "SignatureDoesNotMatch",
            "IncompleteSignature",
            "InvalidAccessKeyId");
    /** AWS's wording of an authorization failure, e.g. in Lambda's and IAM's AccessDenied messages. */
    private static final Pattern NOT_AUTHORIZED =
            Pattern.compile("(?:User: (\\S+) )?is not authorized to perform: (\\S+?) on resource: (\\S+)");

    /**
     * Words every failure whose change may nevertheless have landed (its answer was lost, and reading it back failed
     * too) starts its reason with, so that callers can tell it from a change that certainly did not happen.
     */
    public static final String OUTCOME_UNKNOWN = "the outcome is unknown";

    private AwsErrors() {}

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
     * A short reason for a failure: AWS's error code and message, never the request (which may hold a secret).
     *
     * @param e an error, possibly wrapped by a future
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
     * The failure of a change whose mutating call ended with an error (so it may have landed: the error may be the
     * answer to a retry of an attempt that did) and whose read-back failed too. The message says which: the call got
     * no answer, was refused, or failed with a server error; then the read-back's error and what to do.
     *
     * @param call what was sent, naming the resource, e.g. {@code RegisterTaskDefinition of app:3}
     * @param error the call's error
     * @param readBack the read-back's error
     * @param fix what the user should do, e.g. {@code plan again to see where it stands}
     * @return an exception whose message starts with {@link #OUTCOME_UNKNOWN}; the call's error is its cause
     */
    public static OutcomeUnknownException outcomeUnknown(String call, Throwable error, Throwable readBack, String fix) {
        Throwable cause = unwrap(error);
        String what;
        if (cause instanceof SdkServiceException service) {
            what = (service.statusCode() >= 500 ? " failed with a server error (" : " was refused (") + describe(cause)
                    + "), which may be the answer to a retry after an earlier attempt landed,";
        } else if (cause instanceof SdkClientException) {
            what = " got no answer (" + describe(cause) + "),";
        } else {
            what = " failed (" + describe(cause) + "),";
        }
        OutcomeUnknownException unknown = new OutcomeUnknownException(
                OUTCOME_UNKNOWN + ": " + call + what + " and reading it back failed too (" + describe(readBack)
                        + "), so whether it landed is not known; " + fix,
                cause);
        unknown.addSuppressed(unwrap(readBack));
        return unknown;
    }

    /**
     * @param e an error, possibly wrapped by a future or in another error's causes
     * @return true when it says a mutation may have landed unconfirmed ({@link OutcomeUnknownException})
     */
    public static boolean isOutcomeUnknown(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof OutcomeUnknownException) {
                return true;
            }
        }
        return false;
    }

    /**
     * Reports a change that ended with an error: {@link ApplyContext#unknown} when the error says the mutation may
     * have landed ({@link #isOutcomeUnknown}), else {@link ApplyContext#failed}. The one way targets turn an error into
     * an outcome, so that no target reports an unconfirmed mutation as failed.
     *
     * @param context the apply context
     * @param change the change
     * @param reason what failed, without secrets
     * @param error the error, possibly wrapped by a future
     */
    public static void report(ApplyContext context, Change change, String reason, Throwable error) {
        Throwable cause = unwrap(error);
        if (isOutcomeUnknown(cause)) {
            context.unknown(change, reason, cause, null);
        } else {
            context.failed(change, reason, cause);
        }
    }

    /**
     * @param e an error, possibly wrapped by a future
     * @param code an AWS error code, e.g. {@code NoSuchEntity}
     * @return true when e is an AWS error with that code
     */
    public static boolean hasCode(Throwable e, String code) {
        Throwable t = unwrap(e);
        return t instanceof AwsServiceException aws
                && aws.awsErrorDetails() != null
                && code.equals(aws.awsErrorDetails().errorCode());
    }

    /**
     * @param target the target that was planning, e.g. {@code lambda}
     * @param region the region
     * @param e the SDK error
     * @return the exception to throw
     */
    public static AgentException whilePlanning(String target, String region, SdkException e) {
        if (e instanceof AwsServiceException aws && aws.awsErrorDetails() != null) {
            String code = String.valueOf(aws.awsErrorDetails().errorCode());
            String message = String.valueOf(aws.awsErrorDetails().errorMessage());
            if (EXPIRED.contains(code)) {
                return new PlanningException(
                        "The AWS credentials have expired (" + code + ") while planning the " + target + " target:"
                                + " refresh them (for example `aws sso login`, or a new role session) and plan again.",
                        e);
            }
            if (REJECTED.contains(code)) {
                return new PlanningException(
                        "AWS rejected the credentials (" + code + ": " + message + ") while planning the " + target
                                + " target: the access key does not exist or does not match its secret. Check which"
                                + " credentials the installer uses (AWS_PROFILE, AWS_ACCESS_KEY_ID, or"
                                + " credentialsProvider(...)).",
                        e);
            }
            if (aws.statusCode() == 403 || code.startsWith("AccessDenied")) {
                Matcher m = NOT_AUTHORIZED.matcher(message);
                if (m.find()) {
                    Permission denied = Permission.of(m.group(2), m.group(3));
                    return new InsufficientPermissionsException(
                            (m.group(1) == null ? "The caller" : m.group(1)) + " may not " + denied.action() + " on "
                                    + denied.resource() + ", which planning the " + target + " target reads. Nothing"
                                    + " was changed.",
                            PolicyDocument.allowing(List.of(denied)));
                }
                return new PlanningException(
                        "AWS denied a read while planning the " + target + " target (" + code + ": " + message
                                + "): grant the caller the read permissions in the README, then plan again.",
                        e);
            }
        }
        if (e instanceof SdkClientException
                && e.getMessage() != null
                && e.getMessage().toLowerCase(Locale.ROOT).contains("credentials")) {
            return new PlanningException(
                    "No AWS credentials were found for planning the " + target + " target: set AWS_PROFILE (and run"
                            + " `aws sso login` for an SSO profile), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY,"
                            + " or pass .credentialsProvider(...) to the installer. (" + e.getMessage() + ")",
                    e);
        }
        return new PlanningException(
                "Planning the " + target + " target failed while reading from AWS in " + region + ": " + e.getMessage()
                        + ". Check the credentials, the region and the caller's read permissions.",
                e);
    }
}
