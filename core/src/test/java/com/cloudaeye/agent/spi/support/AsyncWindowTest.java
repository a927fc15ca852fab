package com.cloudaeye.agent.spi.support;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class AsyncWindowTest {
    @Test
    void run_whenTasksFail_runsTheOthersAndCompletes() {
        List<Integer> started = new ArrayList<>();

        CompletableFuture<Void> all = AsyncWindow.run(List.of(1, 2, 3, 4), 2, () -> false, i -> {
            synchronized (started) {
                started.add(i);
            }
            return i % 2 == 0
                    ? CompletableFuture.failedFuture(new IllegalStateException("task " + i))
                    : CompletableFuture.completedFuture(i);
        });

        assertThat(all).succeedsWithin(5, TimeUnit.SECONDS);
        assertThat(started).containsExactlyInAnyOrder(1, 2, 3, 4);
    }

    @Test
    void run_whenStartingTheNextTaskThrows_failsInsteadOfHanging() {
        AtomicInteger checks = new AtomicInteger();
        CompletableFuture<Object> first = new CompletableFuture<>();

        CompletableFuture<Void> all = AsyncWindow.run(
                List.of(1, 2),
                1,
                () -> {
                    if (checks.incrementAndGet() > 1) {
                        throw new IllegalStateException("stop check failed");
                    }
                    return false;
                },
                i -> first);
        first.complete(null);

        assertThat(all)
                .failsWithin(5, TimeUnit.SECONDS)
                .withThrowableThat()
                .withRootCauseInstanceOf(IllegalStateException.class)
                .withMessageContaining("stop check failed");
    }
}
