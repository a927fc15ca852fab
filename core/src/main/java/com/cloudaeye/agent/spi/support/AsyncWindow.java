package com.cloudaeye.agent.spi.support;

import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * Runs an asynchronous task per item with at most {@code window} in flight, starting the next when one finishes, so
 * thousands of resources never hold thousands of pending responses in memory at once. Holds no thread while waiting.
 */
public final class AsyncWindow {
    private AsyncWindow() {}

    /**
     * @param items the items, in order
     * @param window how many may be in flight at once
     * @param stop checked before each start: true stops starting new items
     * @param task the task per item; its future's failure does not stop the others
     * @param <T> the item type
     * @return completes when every started task has finished
     */
    public static <T> CompletableFuture<Void> run(
            List<T> items, int window, BooleanSupplier stop, Function<T, CompletableFuture<?>> task) {
        CompletableFuture<Void> all = new CompletableFuture<>();
        Iterator<T> iterator = items.iterator();
        AtomicInteger running = new AtomicInteger();
        Runnable startNext = new Runnable() {
            @Override
            public void run() {
                T next = null;
                synchronized (iterator) {
                    if (iterator.hasNext() && !stop.getAsBoolean()) {
                        next = iterator.next();
                        running.incrementAndGet();
                    }
                }
                if (next == null) {
                    if (running.get() == 0) {
                        all.complete(null);
                    }
                    return;
                }
                CompletableFuture<?> f;
                try {
                    f = task.apply(next);
                } catch (RuntimeException e) {
                    f = CompletableFuture.failedFuture(e);
                }
                // A task's failure does not stop the others (it is the task's to report); an error in starting the
                // next one fails the whole run instead of leaving it pending forever.
                f.handle((v, e) -> null)
                        .thenRun(() -> {
                            running.decrementAndGet();
                            this.run();
                        })
                        .exceptionally(bug -> {
                            all.completeExceptionally(bug);
                            return null;
                        });
            }
        };
        for (int i = 0; i < Math.max(1, window); i++) {
            startNext.run();
        }
        return all;
    }
}
