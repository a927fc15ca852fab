package com.cloudaeye.agent.testing;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.testing.ThrottlingProxy.Request;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/** Holds the seed's request, lets the test kill the child, then lets that request through or drops it. */
final class KillPoint implements ThrottlingProxy.Gate {
    private final long seed;
    private final CrashHarness.Subject subject;
    private final @Nullable String killOperation;
    private final int killAt;
    private final boolean heldLands;
    private final AtomicInteger seen = new AtomicInteger();
    private final CompletableFuture<Request> reached = new CompletableFuture<>();
    private final CountDownLatch released = new CountDownLatch(1);

    KillPoint(long seed, CrashHarness.Subject subject, @Nullable String killOperation, int killAt, boolean heldLands) {
        this.seed = seed;
        this.subject = subject;
        this.killOperation = killOperation;
        this.killAt = killAt;
        this.heldLands = heldLands;
    }

    @Override
    public boolean pass(Request request) throws InterruptedException {
        if (!reached.isDone() && matches(request) && seen.incrementAndGet() == killAt) {
            reached.complete(request);
            released.await();
            return heldLands;
        }
        if (reached.isDone()) {
            released.await();
            return false; // sent after the held one: the kill came first
        }
        return true;
    }

    private boolean matches(Request request) {
        return killOperation != null
                ? CrashHarness.operation(request).equals(killOperation)
                : CrashHarness.isMutating(request)
                        && subject.mutationKey(request).isPresent();
    }

    /** @return the held request, after the child was killed; empty when the child finished first */
    Optional<Request> await(Process child, Path log) throws Exception {
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
            while (!reached.isDone()) {
                if (!child.isAlive()) {
                    System.out.println("Crash seed " + seed + ": the apply finished before the kill point");
                    assertThat(child.exitValue())
                            .as("the apply's exit code:\n" + Files.readString(log))
                            .isZero();
                    return Optional.empty();
                }
                assertThat(System.nanoTime())
                        .as("the kill point within 3 minutes")
                        .isLessThan(deadline);
                Thread.sleep(10);
            }
            child.destroyForcibly();
            assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
            Request r = reached.get();
            System.out.println("Crash seed " + seed + ": killed while " + r.action() + " " + r.path() + " waited; it "
                    + (heldLands ? "lands" : "is dropped"));
            return Optional.of(r);
        } finally {
            child.destroyForcibly();
            released.countDown();
        }
    }
}
