package com.cloudaeye.agent.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.Pacing;
import com.cloudaeye.agent.spi.CallScheduler;
import com.cloudaeye.agent.spi.Quota;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntSupplier;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.exception.SdkServiceException;

/**
 * An installer's threads end when idle: a fleet keeps one installer per account-region for its life, and the
 * account-regions that finished must not hold their workers and timers until the fleet closes.
 */
class IdleThreadsTest {
    private static final Quota QUOTA = new Quota("test.idle", 1000);

    @Test
    void workerAndTimerThreads_endWhenIdle_andStartAgainForTheNextCall() {
        try (RateLimitedScheduler scheduler = new RateLimitedScheduler(
                Map.of(), Pacing.documentedQuotas(), 4, 3, Duration.ofMillis(1), Duration.ofMillis(50))) {
            // Eight calls fill the four workers; each is throttled once, so the timer runs its retry's wait.
            List<CompletableFuture<Integer>> calls = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                int n = i;
                AtomicInteger attempts = new AtomicInteger();
                calls.add(scheduler.submit(QUOTA, () -> {
                    if (attempts.incrementAndGet() == 1) {
                        throw SdkServiceException.builder()
                                .statusCode(429)
                                .message("slow down")
                                .build();
                    }
                    return n;
                }));
            }
            calls.forEach(CallScheduler::join);

            awaitZero(scheduler::liveThreads, "the scheduler's worker and timer threads");
            assertThat(CallScheduler.join(scheduler.submit(QUOTA, () -> 42)))
                    .as("a call after the threads ended starts them again")
                    .isEqualTo(42);
        }
    }

    @Test
    void aSharesStallWatch_endsWhenIdle_andRunsAgainForTheNextCall() {
        java.util.Set<Thread> before = stallWatches();
        try (RateLimitedScheduler scheduler = new RateLimitedScheduler(
                Map.of(), Pacing.share(0.6), 4, 3, Duration.ofMillis(1), Duration.ofMillis(50))) {
            assertThat(scheduler.liveThreads())
                    .as("no thread before the first call")
                    .isZero();
            assertThat(CallScheduler.join(scheduler.submit(QUOTA, () -> 1))).isEqualTo(1);

            awaitZero(scheduler::liveThreads, "the share's stall watch and the scheduler's threads");
            assertThat(stallWatches()).as("this scheduler's watch ended").isSubsetOf(before);
            assertThat(CallScheduler.join(scheduler.submit(QUOTA, () -> 2))).isEqualTo(2);
            assertThat(Thread.getAllStackTraces().keySet())
                    .as("the next call starts the watch again")
                    .anyMatch(t -> t.getName().equals("cloudaeye-stall-watch"));
        }
    }

    private static java.util.Set<Thread> stallWatches() {
        java.util.Set<Thread> watches = new java.util.HashSet<>();
        Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().equals("cloudaeye-stall-watch"))
                .forEach(watches::add);
        return watches;
    }

    /** Waits (up to 60 s, for a loaded machine) until the count is 0; fails with the last count otherwise. */
    static void awaitZero(IntSupplier count, String what) {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        int last = count.getAsInt();
        while (last != 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
            last = count.getAsInt();
        }
        assertThat(last).as(what + " alive after they had nothing to do").isZero();
    }
}
