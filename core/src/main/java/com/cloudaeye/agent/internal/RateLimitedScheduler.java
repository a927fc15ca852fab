package com.cloudaeye.agent.internal;

import com.cloudaeye.agent.spi.CallScheduler;
import com.cloudaeye.agent.spi.Quota;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkServiceException;

/**
 * The {@link CallScheduler}: one token bucket per {@link Quota} (burst of one, so calls are evenly spaced at the
 * quota's rate), a bounded pool of worker threads for the blocking SDK calls, a single timer thread for waits, and
 * AIMD rate adaptation: a throttled response cuts the bucket's rate by 30 % and pauses it for 250 ms; each success
 * wins back 2 % of the configured rate.
 */
public final class RateLimitedScheduler implements CallScheduler, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RateLimitedScheduler.class);

    private final ScheduledExecutorService timer;
    private final ExecutorService workers;
    private final Map<String, Bucket> buckets = new ConcurrentHashMap<>();
    private final Map<String, Double> rateOverrides;
    private final int maxAttempts;
    private final Duration baseBackoff;
    private final LongAdder throttled = new LongAdder();

    /**
     * @param rateOverrides requests per second by quota name, replacing AWS's defaults
     * @param maxConcurrency how many SDK calls may be in flight at once
     * @param maxAttempts attempts per call, including the first
     * @param baseBackoff the first retry's delay; doubles per attempt, with jitter, up to 20 s
     */
    public RateLimitedScheduler(
            Map<String, Double> rateOverrides, int maxConcurrency, int maxAttempts, Duration baseBackoff) {
        this.rateOverrides = Map.copyOf(rateOverrides);
        this.maxAttempts = maxAttempts;
        this.baseBackoff = baseBackoff;
        this.timer = Executors.newSingleThreadScheduledExecutor(daemon("cloudaeye-timer"));
        this.workers = Executors.newFixedThreadPool(maxConcurrency, daemon("cloudaeye-aws"));
    }

    @Override
    public <T> CompletableFuture<T> submit(Quota quota, Supplier<T> call) {
        CompletableFuture<T> result = new CompletableFuture<>();
        attempt(quota, call, result, 1);
        return result;
    }

    private <T> void attempt(Quota quota, Supplier<T> call, CompletableFuture<T> result, int attempt) {
        Bucket bucket = buckets.computeIfAbsent(
                quota.name(), n -> new Bucket(rateOverrides.getOrDefault(n, quota.requestsPerSecond())));
        bucket.enqueue(() -> {
            try {
                workers.execute(() -> {
                    T value;
                    try {
                        value = call.get();
                    } catch (RuntimeException e) {
                        retryOrFail(quota, call, result, attempt, bucket, e);
                        return;
                    } catch (Error e) {
                        result.completeExceptionally(e); // else the caller would wait forever
                        return;
                    }
                    bucket.onSuccess();
                    result.complete(value);
                });
            } catch (RejectedExecutionException closed) {
                result.completeExceptionally(closed); // the scheduler was closed: fail rather than wait forever
            }
        });
    }

    private <T> void retryOrFail(
            Quota quota,
            Supplier<T> call,
            CompletableFuture<T> result,
            int attempt,
            Bucket bucket,
            RuntimeException e) {
        boolean throttle = isThrottling(e);
        if (throttle) {
            throttled.increment();
            bucket.onThrottle();
        }
        if (attempt >= maxAttempts || !(throttle || isTransient(e))) {
            result.completeExceptionally(e);
            return;
        }
        long cap = Math.min(20_000, baseBackoff.toMillis() << Math.min(attempt - 1, 16));
        long delay = cap / 2 + ThreadLocalRandom.current().nextLong(cap / 2 + 1);
        LOG.debug("Retrying a {} call in {} ms after attempt {}: {}", quota.name(), delay, attempt, e.toString());
        onTimer(
                () -> {
                    try {
                        attempt(quota, call, result, attempt + 1);
                    } catch (RuntimeException bug) {
                        result.completeExceptionally(bug); // else the caller would wait forever
                    }
                },
                TimeUnit.MILLISECONDS.toNanos(delay));
    }

    /**
     * @param e an SDK error
     * @return true when AWS asked us to slow down
     */
    public static boolean isThrottling(Throwable e) {
        return e instanceof SdkServiceException s && (s.isThrottlingException() || s.statusCode() == 429);
    }

    /**
     * @param e an SDK error
     * @return true for errors a retry may cure: 5xx answers and network failures
     */
    public static boolean isTransient(Throwable e) {
        if (e instanceof SdkServiceException s) {
            return s.statusCode() >= 500;
        }
        if (e instanceof SdkClientException) {
            for (Throwable c = e; c != null; c = c.getCause()) {
                if (c instanceof IOException || c instanceof UncheckedIOException) {
                    return true;
                }
            }
            return e.getClass().getSimpleName().contains("Timeout");
        }
        return false;
    }

    /**
     * @param e an SDK error
     * @return true for the errors the scheduler retries: throttling, 5xx answers and network failures
     */
    public static boolean isRetryable(Throwable e) {
        return isThrottling(e) || isTransient(e);
    }

    @Override
    public CompletableFuture<Void> after(Duration delay) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        onTimer(() -> done.complete(null), delay.toNanos());
        return done;
    }

    @Override
    public long throttledCount() {
        return throttled.sum();
    }

    /**
     * @param quotaName a quota's name
     * @return its current, possibly slowed-down, rate; 0 when not used yet
     */
    public double currentRate(String quotaName) {
        Bucket b = buckets.get(quotaName);
        return b == null ? 0 : b.rate();
    }

    @Override
    public void close() {
        timer.shutdownNow();
        workers.shutdownNow();
    }

    /**
     * Runs a task on the timer thread. Its {@code ScheduledFuture} is not kept: each task completes its caller's
     * future itself, failures included (a throw would otherwise vanish into the dropped future), and {@link #close()}
     * drops the tasks still waiting.
     */
    private void onTimer(Runnable task, long delayNanos) {
        ScheduledFuture<?> unused = timer.schedule(task, delayNanos, TimeUnit.NANOSECONDS);
    }

    private static ThreadFactory daemon(String name) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /** A token bucket with a burst of one: dispatches queued calls one interval apart. */
    private final class Bucket {
        private final double configuredRate;
        private final ArrayDeque<Runnable> queue = new ArrayDeque<>();
        private double rate;
        private long nextFreeNanos = System.nanoTime();
        private boolean drainScheduled;

        Bucket(double configuredRate) {
            this.configuredRate = configuredRate;
            this.rate = configuredRate;
        }

        synchronized double rate() {
            return rate;
        }

        synchronized void enqueue(Runnable dispatch) {
            queue.add(dispatch);
            if (!drainScheduled) {
                scheduleDrain();
            }
        }

        private void scheduleDrain() {
            drainScheduled = true;
            long delay = Math.max(0, nextFreeNanos - System.nanoTime());
            onTimer(this::drainOne, delay);
        }

        private void drainOne() {
            Runnable next;
            synchronized (this) {
                next = queue.poll();
                if (next == null) {
                    drainScheduled = false;
                    return;
                }
                nextFreeNanos = Math.max(System.nanoTime(), nextFreeNanos) + (long) (1e9 / rate);
                if (queue.isEmpty()) {
                    drainScheduled = false;
                } else {
                    scheduleDrain();
                }
            }
            next.run();
        }

        synchronized void onSuccess() {
            rate = Math.min(configuredRate, rate + configuredRate * 0.02);
        }

        synchronized void onThrottle() {
            rate = Math.max(configuredRate * 0.1, rate * 0.7);
            nextFreeNanos = Math.max(nextFreeNanos, System.nanoTime()) + TimeUnit.MILLISECONDS.toNanos(250);
        }
    }
}
