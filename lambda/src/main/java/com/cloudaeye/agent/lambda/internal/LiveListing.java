package com.cloudaeye.agent.lambda.internal;

import com.cloudaeye.agent.spi.CallScheduler;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.FunctionConfiguration;
import software.amazon.awssdk.services.lambda.model.ListFunctionsResponse;

/**
 * The live read before an update, for many functions at once, where the endpoint returns no {@code RevisionId} (an
 * emulator): instead of one {@code GetFunction} per function right before its update, one pass of
 * {@code ListFunctions} (which carries each function's layers, variables, architecture and runtime, all that the
 * comparison with the plan needs) serves every update whose check asks for it at most {@link #MAX_AGE} after the
 * pass's first request. A later check starts a new pass; a check whose pass failed, or does not hold its function,
 * reads the function itself. A function's state is then taken at most one second before its check asked for it (a
 * {@code GetFunction} takes it between the ask and the answer), and both wait alike for the update's turn after it.
 * A pass's pages are calls of the shared bucket, so the updater uses passes only where that bucket's rate is not the
 * limit ({@link CallScheduler#rateLimits}); behind a share or documented quotas they would lengthen the run.
 */
final class LiveListing {
    /** How old a pass may be when a check uses it. */
    static final Duration MAX_AGE = Duration.ofSeconds(1);

    private final LambdaClient lambda;
    private final CallScheduler scheduler;
    private @Nullable CompletableFuture<Map<String, FunctionConfiguration>> pass;
    private long passStarted;

    LiveListing(LambdaClient lambda, CallScheduler scheduler) {
        this.lambda = lambda;
        this.scheduler = scheduler;
    }

    /**
     * @param arn a function's unqualified ARN
     * @return the function as a pass that started at most {@link #MAX_AGE} before this call listed it; null when it
     *     cannot say (the pass failed, or does not hold the function): the caller reads it itself
     */
    CompletableFuture<@Nullable FunctionConfiguration> read(String arn) {
        CompletableFuture<Map<String, FunctionConfiguration>> current;
        synchronized (this) {
            long now = System.nanoTime();
            if (pass == null || now - passStarted > MAX_AGE.toNanos()) {
                passStarted = now;
                pass = list(null, new HashMap<>());
            }
            current = pass;
        }
        return current.handle((functions, error) -> error != null ? null : functions.get(arn));
    }

    private CompletableFuture<Map<String, FunctionConfiguration>> list(
            @Nullable String marker, Map<String, FunctionConfiguration> functions) {
        return scheduler
                .submit(
                        LambdaQuotas.CONTROL_PLANE,
                        () -> lambda.listFunctions(r -> r.maxItems(50).marker(marker)))
                .thenCompose((ListFunctionsResponse page) -> {
                    page.functions().forEach(f -> functions.put(FunctionPlanner.unqualified(f.functionArn()), f));
                    String next = page.nextMarker();
                    return next == null || next.isEmpty()
                            ? CompletableFuture.completedFuture(functions)
                            : list(next, functions);
                });
    }
}
