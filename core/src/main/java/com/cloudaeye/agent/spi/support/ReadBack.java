package com.cloudaeye.agent.spi.support;

import com.cloudaeye.agent.spi.CallScheduler;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * The one way a target decides what a mutating call that ended with an error did: it reads the resource back. The
 * scheduler retries a call whose answer was lost, so any error (a definite refusal such as {@code AccessDenied}
 * included) can be the answer to a retry of an attempt that landed. Hence, after any error of a sent mutation:
 *
 * <ul>
 *   <li>the read-back shows the change: it landed, and the call's result is what the read-back found;
 *   <li>the read-back shows the change absent: it did not land, and the call's own error stands ({@code FAILED});
 *   <li>the read-back fails too: an {@link OutcomeUnknownException} (reported {@code UNKNOWN} through {@link
 *       AwsFailures#report}) whose message says to resume or plan again, or to roll back.
 * </ul>
 *
 * <p>Use it only once the call was sent (after {@code ApplyContext.start}/{@code starting}); a read-back of a call
 * that never left costs a read and changes nothing.
 */
public final class ReadBack {
    /** What a user does about a change whose outcome is unknown; the end of every such message made here. */
    public static final String FIX = "resume (or plan again) to see where it stands, or roll back";

    /** How many times a failing read-back is tried in all while it fails with a retryable error. */
    static final int READS = 5;

    private static final Duration PAUSE = Duration.ofMillis(100);

    private ReadBack() {}

    /**
     * Confirms a mutating call that failed, waiting for the read-back.
     *
     * @param call what was sent, e.g. {@code CreateRole CloudAEyeServiceAccountRole}
     * @param error the call's error
     * @param read reads the live resource: a value when the change is there, empty when it is absent
     * @param <T> what the read-back finds
     * @return the value the read-back found
     * @throws RuntimeException {@code error} itself when the read-back shows the change absent, or an {@link
     *     OutcomeUnknownException} when the read-back failed
     */
    public static <T> T confirm(String call, RuntimeException error, Supplier<Optional<T>> read) {
        Optional<T> found;
        try {
            found = read.get();
        } catch (RuntimeException readError) {
            throw AwsFailures.outcomeUnknown(call, error, readError, FIX);
        }
        return found.orElseThrow(() -> error);
    }

    /**
     * Confirms a mutating call that failed, without holding a thread: the read is tried up to five times in all while
     * it fails with a retryable error (each with the scheduler's own retries).
     *
     * @param scheduler paces the reads
     * @param call what was sent, e.g. {@code UpdateService to app:3}
     * @param error the call's error, possibly wrapped by a future
     * @param read reads the live resource: a value when the change is there, empty when it is absent
     * @param <T> what the read-back finds
     * @return the value the read-back found; else failed with the call's own (unwrapped) error when the read-back
     *     shows the change absent, or with an {@link OutcomeUnknownException} when the read-back failed
     */
    public static <T> CompletableFuture<T> confirmAsync(
            CallScheduler scheduler,
            String call,
            Throwable error,
            Supplier<? extends CompletionStage<? extends Optional<? extends T>>> read) {
        Throwable cause = AwsFailures.unwrap(error);
        Supplier<CompletableFuture<Optional<T>>> typed =
                () -> read.get().toCompletableFuture().thenApply(found -> found.map(t -> (T) t));
        return patiently(scheduler, typed, READS).handle((found, readError) -> {
            if (readError != null) {
                throw AwsFailures.outcomeUnknown(call, cause, readError, FIX);
            }
            return found.orElseThrow(() -> new CompletionException(cause));
        });
    }

    /**
     * Runs a read again, up to {@code reads} times in all, while it fails with throttling, 5xx or I/O errors.
     *
     * @param scheduler paces the reads
     * @param read the read
     * @param reads how many tries in all, at least one
     * @param <T> what it reads
     * @return the read's value, or its last error (unwrapped)
     */
    public static <T> CompletableFuture<T> patiently(
            CallScheduler scheduler, Supplier<CompletableFuture<T>> read, int reads) {
        return read.get().exceptionallyCompose(error -> {
            Throwable cause = AwsFailures.unwrap(error);
            if (reads <= 1 || !AwsFailures.isRetryable(cause)) {
                return CompletableFuture.failedFuture(cause);
            }
            return scheduler.after(PAUSE).thenCompose(ignored -> patiently(scheduler, read, reads - 1));
        });
    }
}
