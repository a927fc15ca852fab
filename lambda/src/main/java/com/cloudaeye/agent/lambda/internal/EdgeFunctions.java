package com.cloudaeye.agent.lambda.internal;

import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.spi.CallScheduler;
import com.cloudaeye.agent.spi.Quota;
import com.cloudaeye.agent.spi.TargetContext;
import com.cloudaeye.agent.spi.support.AwsFailures;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.services.cloudfront.CloudFrontClient;
import software.amazon.awssdk.services.cloudfront.model.CacheBehavior;
import software.amazon.awssdk.services.cloudfront.model.DistributionSummary;
import software.amazon.awssdk.services.cloudfront.model.LambdaFunctionAssociation;
import software.amazon.awssdk.services.cloudfront.model.LambdaFunctionAssociations;

/**
 * Finds Lambda@Edge functions: those a CloudFront distribution's cache behaviours associate (by version ARN). Lambda
 * replicates an Edge function from us-east-1 only, and it takes no environment variables, so the check runs only
 * there: one paged {@code cloudfront:ListDistributions}, started by the first function planned for an update
 * ({@link #startReading()}) and read beside the functions' own reads, whose answers the plan then checks
 * ({@link #reason(String)}). Started on a worker, it costs the planner no wait: building the CloudFront client alone
 * took 0.3-0.7 s in a fresh JVM, and the functions' reads used to queue only after the read answered. When the
 * caller may not read CloudFront, the plan carries AWS's error as a note instead of failing.
 */
final class EdgeFunctions {
    /** CloudFront's control plane; one paged read per plan, so a small rate is plenty. */
    static final Quota CLOUDFRONT = new Quota("cloudfront.control-plane", 5);

    private static final String EDGE_REGION = "us-east-1";

    private final TargetContext context;
    private @Nullable CompletableFuture<Map<String, Set<String>>> distributionsByFunction;
    private final List<String> notes = new ArrayList<>();
    private final List<Permission> reads = new ArrayList<>();

    EdgeFunctions(TargetContext context) {
        this.context = context;
    }

    /** Starts the read of CloudFront's associations, once, where Edge functions can be (us-east-1); never waits. */
    synchronized void startReading() {
        if (distributionsByFunction != null
                || !EDGE_REGION.equals(context.region().id())) {
            return;
        }
        reads.add(Permission.of("cloudfront:ListDistributions", "*")); // AWS does not scope it by resource
        distributionsByFunction = readFrom(null, new TreeMap<>()).exceptionally(this::noted);
    }

    /**
     * @param functionArn a function's unqualified ARN
     * @return why it cannot take the agent when it is a Lambda@Edge function, else null; waits for the read, which
     *     it starts if no update did
     */
    @Nullable
    String reason(String functionArn) {
        if (!EDGE_REGION.equals(context.region().id())) {
            return null;
        }
        CompletableFuture<Map<String, Set<String>>> read;
        synchronized (this) {
            startReading();
            read = Objects.requireNonNull(distributionsByFunction);
        }
        Set<String> distributions = CallScheduler.join(read).get(functionArn); // not under the lock: noted() takes it
        if (distributions == null) {
            return null;
        }
        return "it is a Lambda@Edge function (associated with CloudFront distribution "
                + String.join(", ", distributions) + "): Lambda@Edge takes no environment variables, so the"
                + " extension cannot be configured; send its logs from CloudWatch Logs instead";
    }

    /** @return AWS's error when CloudFront could not be read, else nothing */
    synchronized List<String> notes() {
        return List.copyOf(notes);
    }

    /** @return the permission the read used, once made */
    synchronized List<Permission> reads() {
        return List.copyOf(reads);
    }

    /** Reads the page after {@code marker} (the first when null) and the pages after it into {@code found}. */
    private CompletableFuture<Map<String, Set<String>>> readFrom(
            @Nullable String marker, Map<String, Set<String>> found) {
        return context.scheduler()
                .submit(
                        CLOUDFRONT,
                        () -> context.client(CloudFrontClient.class, CloudFrontClient::builder)
                                .listDistributions(r -> r.marker(marker))
                                .distributionList())
                .thenCompose(list -> {
                    for (DistributionSummary d : list.items()) {
                        add(found, d.id(), d.defaultCacheBehavior().lambdaFunctionAssociations());
                        if (d.cacheBehaviors() != null) {
                            for (CacheBehavior b : d.cacheBehaviors().items()) {
                                add(found, d.id(), b.lambdaFunctionAssociations());
                            }
                        }
                    }
                    String next = Boolean.TRUE.equals(list.isTruncated()) ? list.nextMarker() : null;
                    return next != null && !next.isEmpty()
                            ? readFrom(next, found)
                            : CompletableFuture.completedFuture(found);
                });
    }

    /** AWS refused the read: noted in the plan, and no function counts as an Edge function. Other errors fail it. */
    private Map<String, Set<String>> noted(Throwable failure) {
        Throwable cause =
                failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
        if (!(cause instanceof AwsServiceException e)) {
            throw failure instanceof CompletionException c ? c : new CompletionException(failure);
        }
        synchronized (this) {
            notes.add("Whether a function is a Lambda@Edge function could not be checked: CloudFront answered "
                    + AwsFailures.describe(e) + ". An Edge function takes no environment variables, so its update"
                    + " would break its next CloudFront deployment: allow cloudfront:ListDistributions, or"
                    + " exclude Edge functions.");
        }
        return Map.of();
    }

    private static void add(
            Map<String, Set<String>> found, String distribution, @Nullable LambdaFunctionAssociations a) {
        if (a == null) {
            return;
        }
        for (LambdaFunctionAssociation f : a.items()) {
            found.computeIfAbsent(FunctionPlanner.unqualified(f.lambdaFunctionARN()), k -> new TreeSet<>())
                    .add(distribution);
        }
    }
}
