package com.cloudaeye.agent.lambda.internal;

import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.spi.CallScheduler;
import com.cloudaeye.agent.spi.Quota;
import com.cloudaeye.agent.spi.TargetContext;
import com.cloudaeye.agent.spi.support.AwsFailures;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.services.cloudfront.CloudFrontClient;
import software.amazon.awssdk.services.cloudfront.model.CacheBehavior;
import software.amazon.awssdk.services.cloudfront.model.DistributionList;
import software.amazon.awssdk.services.cloudfront.model.DistributionSummary;
import software.amazon.awssdk.services.cloudfront.model.LambdaFunctionAssociation;
import software.amazon.awssdk.services.cloudfront.model.LambdaFunctionAssociations;

/**
 * Finds Lambda@Edge functions: those a CloudFront distribution's cache behaviours associate (by version ARN). Lambda
 * replicates an Edge function from us-east-1 only, and it takes no environment variables, so the check runs only
 * there: one paged {@code cloudfront:ListDistributions}, on the first function planned for an update. When the
 * caller may not read CloudFront, the plan carries AWS's error as a note instead of failing.
 */
final class EdgeFunctions {
    /** CloudFront's control plane; one paged read per plan, so a small rate is plenty. */
    static final Quota CLOUDFRONT = new Quota("cloudfront.control-plane", 5);

    private static final String EDGE_REGION = "us-east-1";

    private final TargetContext context;
    private @Nullable Map<String, Set<String>> distributionsByFunction;
    private final List<String> notes = new ArrayList<>();
    private final List<Permission> reads = new ArrayList<>();

    EdgeFunctions(TargetContext context) {
        this.context = context;
    }

    /**
     * @param functionArn a function's unqualified ARN
     * @return why it cannot take the agent when it is a Lambda@Edge function, else null
     */
    synchronized @Nullable String reason(String functionArn) {
        if (!EDGE_REGION.equals(context.region().id())) {
            return null;
        }
        Set<String> distributions = associations().get(functionArn);
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

    private Map<String, Set<String>> associations() {
        if (distributionsByFunction != null) {
            return distributionsByFunction;
        }
        Map<String, Set<String>> found = new TreeMap<>();
        reads.add(Permission.of("cloudfront:ListDistributions", "*")); // AWS does not scope it by resource
        CloudFrontClient cloudFront = context.client(CloudFrontClient.class, CloudFrontClient::builder);
        CallScheduler scheduler = context.scheduler();
        try {
            String marker = null;
            do {
                String page = marker;
                DistributionList list = scheduler
                        .call(CLOUDFRONT, () -> cloudFront.listDistributions(r -> r.marker(page)))
                        .distributionList();
                for (DistributionSummary d : list.items()) {
                    add(found, d.id(), d.defaultCacheBehavior().lambdaFunctionAssociations());
                    if (d.cacheBehaviors() != null) {
                        for (CacheBehavior b : d.cacheBehaviors().items()) {
                            add(found, d.id(), b.lambdaFunctionAssociations());
                        }
                    }
                }
                marker = Boolean.TRUE.equals(list.isTruncated()) ? list.nextMarker() : null;
            } while (marker != null && !marker.isEmpty());
        } catch (AwsServiceException e) {
            notes.add("Whether a function is a Lambda@Edge function could not be checked: CloudFront answered "
                    + AwsFailures.describe(e) + ". An Edge function takes no environment variables, so its update"
                    + " would break its next CloudFront deployment: allow cloudfront:ListDistributions, or"
                    + " exclude Edge functions.");
        }
        distributionsByFunction = found;
        return found;
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
