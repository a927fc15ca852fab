package com.cloudaeye.agent.spi.support;

import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.internal.AwsErrors;
import com.cloudaeye.agent.internal.RateLimitedScheduler;
import com.cloudaeye.agent.spi.ApplyContext;

/**
 * How a platform classifies and reports the failure of an AWS call: which errors a retry may cure, which say a
 * mutation may have landed unconfirmed, and the short, secret-free reason that goes into outcomes and messages. The
 * one way targets turn an error into an outcome, so that the three platforms (and a fourth) report alike.
 */
public final class AwsFailures {
    /**
     * Words every failure whose change may nevertheless have landed (its answer was lost, and reading it back failed
     * too) starts its reason with, so that callers can tell it from a change that certainly did not happen.
     */
    public static final String OUTCOME_UNKNOWN = AwsErrors.OUTCOME_UNKNOWN;

    private AwsFailures() {}

    /**
     * @param e an error, possibly wrapped by a future
     * @return the underlying error
     */
    public static Throwable unwrap(Throwable e) {
        return AwsErrors.unwrap(e);
    }

    /**
     * A short reason for a failure: AWS's error code and message, never the request (which may hold a secret).
     *
     * @param e an error, possibly wrapped by a future
     * @return e.g. {@code ResourceInUseException: Cluster has an update in progress}
     */
    public static String describe(Throwable e) {
        return AwsErrors.describe(e);
    }

    /**
     * @param e an error, possibly wrapped by a future
     * @param code an AWS error code, e.g. {@code NoSuchEntity}
     * @return true when e is an AWS error with that code
     */
    public static boolean hasCode(Throwable e, String code) {
        return AwsErrors.hasCode(e, code);
    }

    /**
     * The failure of a change whose mutating call ended with an error (so it may have landed: the error may be the
     * answer to a retry of an attempt that did) and whose read-back failed too. The message says which: the call got
     * no answer, was refused, or failed with a server error; then the read-back's error and what to do.
     *
     * @param call what was sent, naming the resource, e.g. {@code RegisterTaskDefinition of app:3}
     * @param error the call's error
     * @param readBack the read-back's error
     * @param fix what the user should do, e.g. {@code resume (or plan again) to see where it stands, or roll back}
     * @return an exception whose message starts with {@link #OUTCOME_UNKNOWN}; the call's error is its cause
     */
    public static OutcomeUnknownException outcomeUnknown(String call, Throwable error, Throwable readBack, String fix) {
        return AwsErrors.outcomeUnknown(call, error, readBack, fix);
    }

    /**
     * @param e an error, possibly wrapped by a future or in another error's causes
     * @return true when it says a mutation may have landed unconfirmed ({@link OutcomeUnknownException})
     */
    public static boolean isOutcomeUnknown(Throwable e) {
        return AwsErrors.isOutcomeUnknown(e);
    }

    /**
     * Reports a change that ended with an error: {@link ApplyContext#unknown} when the error says the mutation may
     * have landed ({@link #isOutcomeUnknown}), else {@link ApplyContext#failed}.
     *
     * @param context the apply context
     * @param change the change
     * @param reason what failed, without secrets
     * @param error the error, possibly wrapped by a future
     */
    public static void report(ApplyContext context, Change change, String reason, Throwable error) {
        AwsErrors.report(context, change, reason, error);
    }

    /**
     * @param e an SDK error
     * @return true when AWS said to slow down (a throttling error or HTTP 429)
     */
    public static boolean isThrottling(Throwable e) {
        return RateLimitedScheduler.isThrottling(e);
    }

    /**
     * @param e an SDK error
     * @return true for errors a retry may cure: 5xx answers and network failures
     */
    public static boolean isTransient(Throwable e) {
        return RateLimitedScheduler.isTransient(e);
    }

    /**
     * @param e an SDK error
     * @return true when a retry may succeed: {@link #isThrottling} or {@link #isTransient}
     */
    public static boolean isRetryable(Throwable e) {
        return RateLimitedScheduler.isRetryable(e);
    }
}
