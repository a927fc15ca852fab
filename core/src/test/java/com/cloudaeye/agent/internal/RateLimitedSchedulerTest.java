package com.cloudaeye.agent.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.cloudaeye.agent.Pacing;
import com.cloudaeye.agent.spi.CallScheduler;
import com.cloudaeye.agent.spi.Quota;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.assertj.core.api.ThrowableAssertAlternative;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkServiceException;

/** Retry and accounting behaviour only: speed is measured by the benchmark, never asserted here. */
class RateLimitedSchedulerTest {
    private static final Quota FAST = new Quota("test.fast", 1000);

    private RateLimitedScheduler scheduler = scheduler(5);

    @AfterEach
    void close() {
        scheduler.close();
    }

    private static RateLimitedScheduler scheduler(int maxAttempts) {
        return new RateLimitedScheduler(Map.of(), 4, maxAttempts, Duration.ofMillis(1));
    }

    private static SdkServiceException status(int code) {
        return SdkServiceException.builder()
                .statusCode(code)
                .message("status " + code)
                .build();
    }

    private static AwsServiceException awsError(int code, String errorCode) {
        return AwsServiceException.builder()
                .statusCode(code)
                .awsErrorDetails(AwsErrorDetails.builder()
                        .errorCode(errorCode)
                        .errorMessage(errorCode)
                        .build())
                .build();
    }

    private static SdkClientException ioError() {
        return SdkClientException.builder()
                .message("Unable to execute HTTP request")
                .cause(new IOException("Connection reset"))
                .build();
    }

    /** Throws the given errors on the first attempts, then answers "ok"; counts attempts. */
    private static final class Scripted implements Supplier<String> {
        private final List<RuntimeException> errors;
        final AtomicInteger attempts = new AtomicInteger();

        Scripted(RuntimeException... errors) {
            this.errors = new ArrayList<>(List.of(errors));
        }

        @Override
        public String get() {
            int n = attempts.getAndIncrement();
            if (n < errors.size()) {
                throw errors.get(n);
            }
            return "ok";
        }
    }

    @Test
    void call_returnsTheValue_afterOneAttempt() {
        Scripted call = new Scripted();
        assertThat(scheduler.call(FAST, call)).isEqualTo("ok");
        assertThat(call.attempts).hasValue(1);
        assertThat(scheduler.throttledCount()).isZero();
    }

    @Test
    void retries5xxAndNetworkErrors_untilTheCallSucceeds() {
        Scripted call = new Scripted(status(500), ioError(), status(503));
        assertThat(scheduler.call(FAST, call)).isEqualTo("ok");
        assertThat(call.attempts).hasValue(4);
        assertThat(scheduler.throttledCount()).isZero();
    }

    @Test
    void retriesAttemptTimeouts() {
        Scripted call = new Scripted(ApiCallAttemptTimeoutException.create(60_000));
        assertThat(scheduler.call(FAST, call)).isEqualTo("ok");
        assertThat(call.attempts).hasValue(2);
    }

    @Test
    void givesUpAfterMaxAttempts_withTheLastError() {
        scheduler.close();
        scheduler = scheduler(3);
        SdkServiceException last = status(502);
        Scripted call = new Scripted(status(500), status(500), last, status(500));

        assertThatThrownBy(() -> scheduler.call(FAST, call)).isSameAs(last);
        assertThat(call.attempts).hasValue(3);
    }

    @Test
    void doesNotRetryClientErrors() {
        SdkServiceException notFound = status(404);
        Scripted call = new Scripted(notFound);
        assertThatThrownBy(() -> scheduler.call(FAST, call)).isSameAs(notFound);
        assertThat(call.attempts).hasValue(1);

        AwsServiceException validation = awsError(400, "ValidationException");
        Scripted invalid = new Scripted(validation);
        assertThatThrownBy(() -> scheduler.call(FAST, invalid)).isSameAs(validation);
        assertThat(invalid.attempts).hasValue(1);
        assertThat(scheduler.throttledCount()).isZero();
    }

    @Test
    void doesNotRetryClientSideErrorsWithoutANetworkCause_orOtherExceptions() {
        SdkClientException noCredentials = SdkClientException.builder()
                .message("Unable to load credentials")
                .build();
        Scripted call = new Scripted(noCredentials);
        assertThatThrownBy(() -> scheduler.call(FAST, call)).isSameAs(noCredentials);
        assertThat(call.attempts).hasValue(1);

        IllegalStateException bug = new IllegalStateException("bug");
        Scripted buggy = new Scripted(bug);
        assertThatThrownBy(() -> scheduler.call(FAST, buggy)).isSameAs(bug);
        assertThat(buggy.attempts).hasValue(1);
    }

    @Test
    void retriesThrottling_countsIt_andSlowsTheQuotaDown() {
        Quota quota = new Quota("test.throttled", 1000);
        Scripted call = new Scripted(status(429), awsError(400, "ThrottlingException"));

        assertThat(scheduler.call(quota, call)).isEqualTo("ok");

        assertThat(call.attempts).hasValue(3);
        assertThat(scheduler.throttledCount()).isEqualTo(2);
        assertThat(scheduler.currentRate("test.throttled")).isLessThan(1000);
    }

    @Test
    void rateLimits_underACapOrDocumentedQuotas_always_underAdaptivePacing_onlyOnceTheQuotaWasThrottled() {
        Quota quota = new Quota("test.limit", 1000);
        assertThat(scheduler.rateLimits(quota)).as("documented quotas").isTrue();
        try (RateLimitedScheduler share =
                        new RateLimitedScheduler(Map.of(), Pacing.share(0.6), 4, 5, Duration.ofMillis(1));
                RateLimitedScheduler adaptive =
                        new RateLimitedScheduler(Map.of(), Pacing.adaptive(), 4, 5, Duration.ofMillis(1))) {
            assertThat(share.rateLimits(quota)).as("a share").isTrue();

            assertThat(adaptive.rateLimits(quota)).as("adaptive, unused").isFalse();
            assertThat(adaptive.call(quota, new Scripted())).isEqualTo("ok");
            assertThat(adaptive.rateLimits(quota))
                    .as("adaptive, nothing throttled")
                    .isFalse();
            assertThat(adaptive.call(quota, new Scripted(status(429)))).isEqualTo("ok");
            assertThat(adaptive.rateLimits(quota))
                    .as("adaptive, after a throttle")
                    .isTrue();
            assertThat(adaptive.rateLimits(FAST)).as("another quota").isFalse();
        }
    }

    @Test
    void throttling_thatOutlastsMaxAttempts_failsWithTheThrottlingError() {
        scheduler.close();
        scheduler = scheduler(2);
        AwsServiceException tooMany = awsError(429, "TooManyRequestsException");
        Scripted call = new Scripted(status(429), tooMany);

        assertThatThrownBy(() -> scheduler.call(FAST, call)).isSameAs(tooMany);
        assertThat(scheduler.throttledCount()).isEqualTo(2);
    }

    @Test
    void submit_completesEveryCall_andNeverRunsMoreThanMaxConcurrencyAtOnce() throws Exception {
        AtomicInteger inFlight = new AtomicInteger();
        AtomicInteger peak = new AtomicInteger();
        List<CompletableFuture<Integer>> futures = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            int n = i;
            futures.add(scheduler.submit(FAST, () -> {
                peak.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                inFlight.decrementAndGet();
                return n;
            }));
        }
        CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
        assertThat(futures)
                .extracting(CompletableFuture::join)
                .containsExactlyInAnyOrder(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11);
        assertThat(peak.get()).isBetween(1, 4);
    }

    @Test
    void adaptive_raisesNoRate_whileItsCallsWaitForBusyWorkers_notForTheRate() throws Exception {
        Quota other = new Quota("test.other", 1000);
        Quota waiting = new Quota("test.waiting", 100);
        try (RateLimitedScheduler adaptive =
                new RateLimitedScheduler(Map.of(), Pacing.adaptive(), 1, 5, Duration.ofMillis(1))) {
            CountDownLatch release = new CountDownLatch(1);
            CompletableFuture<String> busy = occupyAWorker(adaptive, other, release);
            List<CompletableFuture<String>> backlog = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                backlog.add(adaptive.submit(waiting, () -> "ok"));
            }
            // Every call of the backlog is dispatched at the quota's rate while the only worker is busy.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (adaptive.waiting("test.waiting") > 0 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(adaptive.waiting("test.waiting"))
                    .as("the backlog was dispatched")
                    .isZero();
            release.countDown();
            assertThat(busy.get(30, TimeUnit.SECONDS)).isEqualTo("released");
            CompletableFuture.allOf(backlog.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);

            assertThat(adaptive.currentRate("test.waiting"))
                    .as("the calls waited for the worker, not for the rate: nothing to raise it on")
                    .isEqualTo(100.0);
        }
    }

    @Test
    void callsWaitingForAWorker_goScarcestQuotaFirst_inTheOrderDispatchedWithinOneQuota() throws Exception {
        Quota plentiful = new Quota("test.plentiful", 1000);
        Quota scarce = new Quota("test.scarce", 15);
        try (RateLimitedScheduler one = new RateLimitedScheduler(Map.of(), 1, 5, Duration.ofMillis(1))) {
            CountDownLatch release = new CountDownLatch(1);
            CompletableFuture<String> busy = occupyAWorker(one, plentiful, release);
            List<String> ran = new CopyOnWriteArrayList<>();
            List<CompletableFuture<Boolean>> calls = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                String name = "plentiful " + i;
                calls.add(one.submit(plentiful, () -> ran.add(name)));
            }
            calls.add(one.submit(scarce, () -> ran.add("scarce")));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (one.waitingForWorkers() < 4 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(one.waitingForWorkers())
                    .as("every call waits for the busy worker")
                    .isEqualTo(4);

            release.countDown();
            assertThat(busy.get(30, TimeUnit.SECONDS)).isEqualTo("released");
            CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);

            assertThat(ran).containsExactly("scarce", "plentiful 0", "plentiful 1", "plentiful 2");
        }
    }

    /** @return a call of the quota that keeps a worker busy until {@code release} opens (at most 30 s) */
    private static CompletableFuture<String> occupyAWorker(
            RateLimitedScheduler scheduler, Quota quota, CountDownLatch release) {
        return scheduler.submit(quota, () -> {
            try {
                return release.await(30, TimeUnit.SECONDS) ? "released" : "timed out";
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return "interrupted";
            }
        });
    }

    @Test
    void anErrorInACall_failsItsFuture_insteadOfLeavingItPendingForever() {
        AssertionError error = new AssertionError("a target's bug");
        CompletableFuture<String> future = scheduler.submit(FAST, () -> {
            throw error;
        });
        assertThatThrownBy(() -> future.get(10, TimeUnit.SECONDS)).hasCause(error);
    }

    /**
     * Asserts the future completes exceptionally within a second. AssertJ's {@code failsWithin} alone also passes a
     * future that stays pending (a get() that times out "fails" too): the ExecutionException is what tells them apart.
     *
     * @return an assertion on the error it failed with
     */
    private static ThrowableAssertAlternative<?> failsSoon(CompletableFuture<?> future) {
        return assertThat(future)
                .failsWithin(Duration.ofSeconds(1))
                .withThrowableOfType(ExecutionException.class)
                .havingCause();
    }

    /** A call that blocks until its thread is interrupted (the scheduler closed), then throws {@code onInterrupt}. */
    private static Supplier<String> blockingUntilInterrupted(CountDownLatch started, RuntimeException onInterrupt) {
        return () -> {
            started.countDown();
            try {
                new CountDownLatch(1).await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            throw onInterrupt;
        };
    }

    @Test
    void close_failsEveryCallStillWaitingForItsQuota_andEveryWait_insteadOfLeavingThemPendingForever()
            throws Exception {
        Quota slow = new Quota("test.slow", 1);
        CountDownLatch started = new CountDownLatch(1);
        List<CompletableFuture<String>> calls = new ArrayList<>();
        calls.add(scheduler.submit(slow, blockingUntilInterrupted(started, new IllegalStateException("interrupted"))));
        for (int i = 0; i < 4; i++) {
            calls.add(scheduler.submit(slow, () -> "ok"));
        }
        CompletableFuture<Void> wait = scheduler.after(Duration.ofMinutes(1));
        assertThat(started.await(30, TimeUnit.SECONDS)).isTrue();

        scheduler.close();

        calls.forEach(RateLimitedSchedulerTest::failsSoon);
        for (CompletableFuture<String> queued : calls.subList(1, calls.size())) {
            failsSoon(queued).isInstanceOf(RejectedExecutionException.class).withMessageContaining("closed");
        }
        failsSoon(wait);
    }

    @Test
    void close_whileACallFailsWithARetryableError_failsItsFuture_insteadOfLeavingItPendingForever() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        CompletableFuture<String> call = scheduler.submit(FAST, blockingUntilInterrupted(started, status(503)));
        assertThat(started.await(30, TimeUnit.SECONDS)).isTrue();

        scheduler.close(); // interrupts the call, whose retry the closed timer can no longer schedule

        failsSoon(call);
    }

    @Test
    void submit_afterClose_returnsAFailedFuture() {
        scheduler.close();

        CompletableFuture<String> call = scheduler.submit(FAST, () -> "ok");

        failsSoon(call).isInstanceOf(RejectedExecutionException.class);
        failsSoon(scheduler.after(Duration.ZERO)).isInstanceOf(RejectedExecutionException.class);
    }

    @Test
    void rateOverride_replacesTheQuotasDefault() {
        RateLimitedScheduler overridden =
                new RateLimitedScheduler(Map.of("test.override", 5.0), 2, 3, Duration.ofMillis(1));
        try {
            assertThat(overridden.currentRate("test.override"))
                    .as("not used yet")
                    .isZero();
            overridden.call(new Quota("test.override", 1000), () -> "ok");
            assertThat(overridden.currentRate("test.override")).isEqualTo(5.0);
        } finally {
            overridden.close();
        }
    }

    @Test
    void after_completesWithoutACall() throws Exception {
        CompletableFuture<Void> waited = scheduler.after(Duration.ofMillis(5));
        assertThat(waited.get(30, TimeUnit.SECONDS)).isNull();
        assertThat(waited).isCompleted();
    }

    @Test
    void join_unwrapsTheSdkError() {
        CompletableFuture<String> failed = CompletableFuture.failedFuture(status(500));
        assertThatThrownBy(() -> CallScheduler.join(failed.thenApply(s -> s)))
                .isInstanceOf(SdkServiceException.class)
                .hasMessage("status 500");
    }

    @Test
    void classifiers_tellThrottlingTransientAndPermanentErrorsApart() {
        assertThat(RateLimitedScheduler.isThrottling(status(429))).isTrue();
        assertThat(RateLimitedScheduler.isThrottling(awsError(400, "Throttling")))
                .isTrue();
        assertThat(RateLimitedScheduler.isThrottling(status(500))).isFalse();
        assertThat(RateLimitedScheduler.isTransient(status(500))).isTrue();
        assertThat(RateLimitedScheduler.isTransient(status(409))).isFalse();
        assertThat(RateLimitedScheduler.isTransient(ioError())).isTrue();
        assertThat(RateLimitedScheduler.isTransient(new IllegalStateException()))
                .isFalse();
    }

    @Test
    void quota_needsAPositiveRate() {
        assertThatThrownBy(() -> new Quota("lambda.control-plane", 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("lambda.control-plane");
    }
}
