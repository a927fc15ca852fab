package com.cloudaeye.agent.internal;

import com.cloudaeye.agent.Pacing;
import com.cloudaeye.agent.spi.CallScheduler;
import com.cloudaeye.agent.spi.Quota;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.PriorityBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.exception.AbortedException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkServiceException;

/**
 * The {@link CallScheduler}: one bucket per {@link Quota} (burst of one, so calls are evenly spaced at its current
 * rate), a bounded pool of worker threads for the blocking SDK calls, a single timer thread for waits, and the rate
 * of each quota moved by its {@link QuotaPace} under the installer's {@link Pacing}: raised while nothing is
 * throttled (adaptive pacing only), cut on a throttle.
 */
public final class RateLimitedScheduler implements CallScheduler, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RateLimitedScheduler.class);
    /** The quota of the call a worker thread is running, for {@link #awaitSendTurn()}. */
    private static final ThreadLocal<Bucket> RUNNING = new ThreadLocal<>();

    /**
     * How long an idle worker or timer thread lives: a fleet keeps one installer per account-region for its life, and
     * an account-region that finished must not hold its 32 workers until the fleet closes (an estate of 800
     * account-regions would hold over 25,000 threads). A thread ends after this long without work and is started
     * again by the next call.
     */
    static final Duration IDLE_THREAD_LIFETIME = Duration.ofSeconds(5);

    private final ScheduledThreadPoolExecutor timer;
    /** Runs the calls; calls waiting for a worker go scarcest quota first ({@link Work}). */
    private final ThreadPoolExecutor workers;

    private final AtomicLong handOrder = new AtomicLong();
    private final Map<String, Bucket> buckets = new ConcurrentHashMap<>();
    private final Map<String, Double> rateOverrides;
    private final Pacing pacing;
    private final int maxConcurrency;
    /**
     * Calls handed to the workers and not finished: from {@code maxConcurrency} on, a dispatched call waits for a
     * worker, not for its quota's rate.
     */
    private final AtomicInteger handedToWorkers = new AtomicInteger();

    private final int maxAttempts;
    private final Duration baseBackoff;
    private final LongAdder throttled = new LongAdder();
    private final @Nullable StallWatch stalls;
    /**
     * Every future of a submitted call or a wait not completed yet. {@link #close()} drops the queued tasks that were
     * the only ones to complete them (drains, retry delays, waits, calls waiting for a worker), so it fails these
     * instead: a caller joining one must not wait forever.
     */
    private final Map<Long, CompletableFuture<?>> pending = new ConcurrentHashMap<>();

    private final AtomicLong pendingIds = new AtomicLong();

    private volatile boolean closed;

    /**
     * A scheduler that never goes faster than the quotas' rates ({@link Pacing#documentedQuotas()}).
     *
     * @param rateOverrides requests per second by quota name, replacing AWS's defaults
     * @param maxConcurrency how many SDK calls may be in flight at once
     * @param maxAttempts attempts per call, including the first
     * @param baseBackoff the first retry's delay; doubles per attempt, with jitter, up to 20 s
     */
    public RateLimitedScheduler(
            Map<String, Double> rateOverrides, int maxConcurrency, int maxAttempts, Duration baseBackoff) {
        this(rateOverrides, Pacing.documentedQuotas(), maxConcurrency, maxAttempts, baseBackoff);
    }

    /**
     * @param rateOverrides requests per second by quota name, replacing AWS's defaults
     * @param pacing how each quota's rate moves around its documented (or overridden) rate
     * @param maxConcurrency how many SDK calls may be in flight at once
     * @param maxAttempts attempts per call, including the first
     * @param baseBackoff the first retry's delay; doubles per attempt, with jitter, up to 20 s
     */
    public RateLimitedScheduler(
            Map<String, Double> rateOverrides,
            Pacing pacing,
            int maxConcurrency,
            int maxAttempts,
            Duration baseBackoff) {
        this(rateOverrides, pacing, maxConcurrency, maxAttempts, baseBackoff, IDLE_THREAD_LIFETIME);
    }

    RateLimitedScheduler(
            Map<String, Double> rateOverrides,
            Pacing pacing,
            int maxConcurrency,
            int maxAttempts,
            Duration baseBackoff,
            Duration idleThreadLifetime) {
        this.rateOverrides = Map.copyOf(rateOverrides);
        this.pacing = pacing;
        this.maxConcurrency = maxConcurrency;
        this.maxAttempts = maxAttempts;
        this.baseBackoff = baseBackoff;
        this.timer = new ScheduledThreadPoolExecutor(1, daemon("cloudaeye-timer"));
        // The timer's one thread stays while a wait is queued (ThreadPoolExecutor never retires the last thread of a
        // non-empty queue), so a wait longer than the lifetime still runs.
        timer.setKeepAliveTime(idleThreadLifetime.toNanos(), TimeUnit.NANOSECONDS);
        timer.allowCoreThreadTimeOut(true);
        this.workers = new ThreadPoolExecutor(
                maxConcurrency,
                maxConcurrency,
                idleThreadLifetime.toNanos(),
                TimeUnit.NANOSECONDS,
                new PriorityBlockingQueue<>(),
                daemon("cloudaeye-aws"));
        workers.allowCoreThreadTimeOut(true);
        // A share promises the account's other users every second's rest: count its requests from when they left.
        this.stalls = pacing.share() < 1
                ? new StallWatch((from, to) -> buckets.values().forEach(b -> b.stalled(from, to)), idleThreadLifetime)
                : null;
    }

    @Override
    public <T> CompletableFuture<T> submit(Quota quota, Supplier<T> call) {
        CompletableFuture<T> result = tracked(new CompletableFuture<>());
        if (result.isDone()) {
            return result; // closed
        }
        if (stalls != null) {
            stalls.use();
        }
        try {
            attempt(quota, call, result, 1);
        } catch (RejectedExecutionException closing) {
            result.completeExceptionally(closedError()); // closed while it was queued
        }
        return result;
    }

    /**
     * Registers a future {@link #close()} fails if it is still pending then; fails it at once when already closed.
     * The registration comes before the check of {@code closed}, and close sets it before failing what is pending, so
     * no future escapes both.
     */
    private <T> CompletableFuture<T> tracked(CompletableFuture<T> future) {
        Long id = pendingIds.getAndIncrement();
        pending.put(id, future);
        // Only removes it: the caller's own future carries any error.
        CompletableFuture<T> unused = future.whenComplete((value, error) -> pending.remove(id));
        if (closed) {
            future.completeExceptionally(closedError());
        }
        return future;
    }

    private static RejectedExecutionException closedError() {
        // Said of every call still pending, including one in flight whose answer the close cut off: it may have
        // landed, so a target reads the resource back (and reports UNKNOWN when it cannot) rather than FAILED.
        return new RejectedExecutionException("The installer was closed before the call finished: it may or may not"
                + " have been sent and landed; read the resource back (plan again, or resume with the journal)");
    }

    private <T> void attempt(Quota quota, Supplier<T> call, CompletableFuture<T> result, int attempt) {
        Bucket bucket = buckets.computeIfAbsent(
                quota.name(), n -> new Bucket(n, rateOverrides.getOrDefault(n, quota.requestsPerSecond())));
        bucket.enqueue((dispatchedAt, waited) ->
                start(new Attempt<>(quota, call, result, attempt, bucket, dispatchedAt), waited));
    }

    /**
     * One attempt of a submitted call, once its quota's bucket dispatched it.
     *
     * @param number the attempt's number, 1 for the first
     * @param dispatchedAt when the bucket let it go ({@link System#nanoTime()})
     */
    private record Attempt<T>(
            Quota quota, Supplier<T> call, CompletableFuture<T> result, int number, Bucket bucket, long dispatchedAt) {}

    /**
     * Runs a dispatched call on a worker, once its quota admits it (see {@link QuotaPace#admit(long)}).
     *
     * @param waited true when more calls were waiting for the quota as this one went. Only then, and only when a
     *     worker was free for it, did the quota's rate hold it back, which is what lets adaptive pacing raise the rate:
     *     calls that queue for busy workers (another quota's calls fill them) say nothing about the endpoint, and a
     *     rate raised on them goes out at once when the workers free up (TCP's rule for an application-limited
     *     sender, RFC 7661).
     */
    private <T> void start(Attempt<T> a, boolean waited) {
        boolean heldByRate = handedToWorkers.getAndIncrement() < maxConcurrency && waited;
        try {
            workers.execute(new Work(a.bucket().quotaRate(), handOrder.getAndIncrement(), () -> {
                try {
                    long wait = a.bucket().admit();
                    if (wait > 0) { // it waited for a worker and would start too close to others: later
                        onTimer(() -> start(a, waited), wait, a.result());
                        return;
                    }
                    run(a, heldByRate);
                } finally {
                    handedToWorkers.decrementAndGet();
                }
            }));
        } catch (RejectedExecutionException closed) {
            handedToWorkers.decrementAndGet();
            a.result().completeExceptionally(closed); // the scheduler was closed: fail rather than wait forever
        }
    }

    private <T> void run(Attempt<T> a, boolean heldByRate) {
        T value;
        long started = System.nanoTime();
        RUNNING.set(a.bucket());
        try {
            value = a.call().get();
        } catch (RuntimeException e) {
            retryOrFail(a, e);
            return;
        } catch (Error e) {
            a.result().completeExceptionally(e); // else the caller would wait forever
            return;
        } finally {
            RUNNING.remove();
        }
        a.bucket().onSuccess(heldByRate, System.nanoTime() - started);
        a.result().complete(value);
    }

    private <T> void retryOrFail(Attempt<T> a, RuntimeException e) {
        boolean throttle = isThrottling(e);
        if (throttle) {
            throttled.increment();
            a.bucket().onThrottle(a.dispatchedAt());
        }
        if (a.number() >= maxAttempts || !(throttle || isTransient(e))) {
            a.result().completeExceptionally(e);
            return;
        }
        long cap = Math.min(20_000, baseBackoff.toMillis() << Math.min(a.number() - 1, 16));
        long delay = cap / 2 + ThreadLocalRandom.current().nextLong(cap / 2 + 1);
        LOG.debug(
                "Retrying a {} call in {} ms after attempt {}: {}", a.quota().name(), delay, a.number(), e.toString());
        onTimer(
                () -> {
                    try {
                        attempt(a.quota(), a.call(), a.result(), a.number() + 1);
                    } catch (RuntimeException bug) {
                        a.result().completeExceptionally(bug); // else the caller would wait forever
                    }
                },
                TimeUnit.MILLISECONDS.toNanos(delay),
                a.result());
    }

    /**
     * Holds the request of the call this thread runs until its quota lets it leave ({@link QuotaPace#admitSend}):
     * under a capped pacing, never more than the cap's worth of requests of one quota within a window, counted where
     * they are sent, however unevenly the SDK took to marshal and sign them and whichever attempt they are.
     * {@link SendGate}, the HTTP client of the installer's own clients, calls it; a thread that runs no scheduled call passes at once.
     *
     * @throws AbortedException when the thread is interrupted while it waits (the scheduler was closed)
     */
    static void awaitSendTurn() {
        Bucket bucket = RUNNING.get();
        if (bucket == null) {
            return;
        }
        for (long wait = bucket.admitSend(); wait > 0; wait = bucket.admitSend()) {
            try {
                TimeUnit.NANOSECONDS.sleep(wait);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw AbortedException.create("Interrupted while waiting for the quota's turn to send", e);
            }
        }
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
        CompletableFuture<Void> done = tracked(new CompletableFuture<>());
        if (!done.isDone()) {
            onTimer(() -> done.complete(null), delay.toNanos(), done);
        }
        return done;
    }

    @Override
    public long throttledCount() {
        return throttled.sum();
    }

    /**
     * {@inheritDoc} Here: unless the pacing raises rates above the documented ones, and until the quota was throttled
     * once.
     */
    @Override
    public boolean rateLimits(Quota quota) {
        if (!pacing.raisesAboveQuota()) {
            return true;
        }
        Bucket b = buckets.get(quota.name());
        return b != null && b.wasThrottled();
    }

    /** @return the pacing in force */
    public Pacing pacing() {
        return pacing;
    }

    /**
     * @param quotaName a quota's name
     * @return its current rate, raised or slowed down by the pacing; 0 when not used yet
     */
    public double currentRate(String quotaName) {
        Bucket b = buckets.get(quotaName);
        return b == null ? 0 : b.rate();
    }

    /** @return how many dispatched calls wait for a free worker (tests wait for them to queue) */
    int waitingForWorkers() {
        return workers.getQueue().size();
    }

    /**
     * @param quotaName a quota's name
     * @return how many of its calls wait for their turn, not yet dispatched (tests wait for a backlog to go out)
     */
    int waiting(String quotaName) {
        Bucket b = buckets.get(quotaName);
        return b == null ? 0 : b.waiting();
    }

    /** @return the worker, timer and stall-watch threads alive now */
    int liveThreads() {
        return workers.getPoolSize() + timer.getPoolSize() + (stalls != null && stalls.running() ? 1 : 0);
    }

    @Override
    public void close() {
        closed = true;
        if (stalls != null) {
            stalls.close();
        }
        timer.shutdownNow();
        workers.shutdownNow();
        // The dropped tasks were all that would complete these; an interrupted call's own error may still come first.
        RejectedExecutionException error = closedError();
        pending.values().forEach(f -> f.completeExceptionally(error));
    }

    /**
     * Runs a task on the timer thread. Its {@code ScheduledFuture} is not kept: each task completes its caller's
     * future itself, failures included (a throw would otherwise vanish into the dropped future), and {@link #close()}
     * drops the tasks still waiting and fails their callers' futures.
     *
     * @param owner the future the task completes, failed here when the timer is closed; null for a bucket's drain,
     *     whose queued calls' futures {@link #close()} fails
     */
    private void onTimer(Runnable task, long delayNanos, @Nullable CompletableFuture<?> owner) {
        try {
            ScheduledFuture<?> unused = timer.schedule(task, delayNanos, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException closing) {
            if (owner == null) {
                throw closing;
            }
            owner.completeExceptionally(closedError()); // thrown from a worker, it would leave the future pending
        }
    }

    private static ThreadFactory daemon(String name) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /**
     * A dispatched call, as the workers take it: when all are busy, the call of the quota with the lowest documented
     * rate goes first, in the order dispatched within one rate. The scarce quota's calls are the ones the run's floor
     * counts (Lambda's shared 15/s bucket), and a call of theirs that waits behind a backlog of a plentiful quota's
     * calls (the plan's tag reads, 100/s) is a slot of the scarce quota lost: behind the throttling proxy, the plan's
     * alias listings started at 6-13/s instead of 15 while the tag reads filled the workers. A scarce quota cannot
     * starve the others: its own rate bounds how many of its calls there are.
     */
    private record Work(double quotaRate, long order, Runnable task) implements Runnable, Comparable<Work> {
        @Override
        public void run() {
            task.run();
        }

        @Override
        public int compareTo(Work other) {
            int byRate = Double.compare(quotaRate, other.quotaRate);
            return byRate != 0 ? byRate : Long.compare(order, other.order);
        }
    }

    /** A call waiting for its quota's turn. */
    private interface Dispatch {
        /**
         * @param dispatchedAt when it went
         * @param waited true when other calls were still waiting for the quota as it went
         */
        void go(long dispatchedAt, boolean waited);
    }

    /** A quota's queue: dispatches queued calls one interval of its {@link QuotaPace} apart. */
    private final class Bucket {
        private final String name;
        private final double quotaRate;
        private final QuotaPace pace;
        private final ArrayDeque<Dispatch> queue = new ArrayDeque<>();
        private boolean drainScheduled;
        private boolean throttledOnce;

        Bucket(String name, double quotaRate) {
            this.name = name;
            this.quotaRate = quotaRate;
            this.pace = new QuotaPace(quotaRate, pacing, System.nanoTime());
        }

        synchronized double rate() {
            return pace.rate();
        }

        /** @return the quota's documented (or overridden) rate, which its pacing starts from */
        double quotaRate() {
            return quotaRate;
        }

        synchronized int waiting() {
            return queue.size();
        }

        synchronized void enqueue(Dispatch dispatch) {
            queue.add(dispatch);
            if (!drainScheduled) {
                scheduleDrain();
            }
        }

        private void scheduleDrain() {
            drainScheduled = true;
            long delay = Math.max(0, pace.nextFree() - System.nanoTime());
            onTimer(this::drainOne, delay, null);
        }

        private void drainOne() {
            Dispatch next;
            long now = System.nanoTime();
            boolean waited;
            synchronized (this) {
                if (pace.nextFree() - now > 0) { // a throttle paused the quota after this drain was scheduled
                    scheduleDrain();
                    return;
                }
                next = queue.poll();
                if (next == null) {
                    drainScheduled = false;
                    return;
                }
                pace.dispatched(now);
                waited = !queue.isEmpty();
                if (waited) {
                    scheduleDrain();
                } else {
                    drainScheduled = false;
                }
            }
            next.go(now, waited);
        }

        synchronized long admit() {
            return pace.admit(System.nanoTime());
        }

        synchronized long admitSend() {
            return pace.admitSend(System.nanoTime());
        }

        synchronized void onSuccess(boolean waited, long roundTripNanos) {
            pace.succeeded(waited, roundTripNanos);
        }

        synchronized void stalled(long from, long to) {
            pace.stalled(from, to);
        }

        synchronized boolean wasThrottled() {
            return throttledOnce;
        }

        synchronized void onThrottle(long dispatchedAt) {
            throttledOnce = true;
            if (pace.throttled(dispatchedAt, System.nanoTime())) {
                LOG.debug("Throttled: the rate of {} is now {}/s", name, pace.rate());
            }
        }
    }
}
