package com.cloudaeye.agent.spi;

import com.cloudaeye.agent.AgentException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Supplier;

/**
 * Runs AWS calls under their {@link Quota}: never faster than the quota's rate, with bounded concurrency, slowing
 * down when AWS throttles anyway and retrying throttling, 5xx and network errors with backoff. Waiting is done with
 * {@link #after(Duration)}, which holds no thread.
 */
public interface CallScheduler {
    /**
     * Schedules a call.
     *
     * @param quota the rate-limit bucket the call counts against
     * @param call the SDK call, run on a worker thread once a token is available
     * @param <T> the response type
     * @return the response, or the last error after retries
     */
    <T> CompletableFuture<T> submit(Quota quota, Supplier<T> call);

    /**
     * @param delay how long to wait
     * @return a future that completes after the delay, without blocking a thread
     */
    CompletableFuture<Void> after(Duration delay);

    /**
     * Makes a call and waits for it: for sequential reads while planning.
     *
     * @param quota the rate-limit bucket
     * @param call the SDK call
     * @param <T> the response type
     * @return the response
     */
    default <T> T call(Quota quota, Supplier<T> call) {
        return join(submit(quota, call));
    }

    /** @return how many responses AWS throttled so far (each was retried) */
    long throttledCount();

    /**
     * Whether a quota's rate is what holds its calls back: then every extra call of it lengthens the run by one
     * interval, so a target should not spend calls of it to save calls of another quota (e.g. one listing in the
     * shared bucket for many reads that have a bucket of their own). True under a pacing that never goes above the
     * documented rate (documented quotas, a share) and once the endpoint throttled the quota; false while an
     * adaptive pacing may still raise it (an emulator, a raised quota).
     *
     * @param quota the quota
     * @return true when the quota's rate limits its calls; this default says so always
     */
    default boolean rateLimits(Quota quota) {
        return true;
    }

    /**
     * Waits for a future and unwraps its error, so callers see the SDK's own exception.
     *
     * @param future the future
     * @param <T> its type
     * @return its value
     */
    static <T> T join(CompletableFuture<T> future) {
        try {
            return future.join();
        } catch (CompletionException e) {
            Throwable cause = e.getCause();
            if (cause == null) {
                throw e;
            }
            if (cause instanceof RuntimeException runtime) {
                throw runtime;
            }
            if (cause instanceof Error error) {
                throw error;
            }
            throw new AgentException("Unexpected checked error in an AWS call", cause);
        }
    }
}
