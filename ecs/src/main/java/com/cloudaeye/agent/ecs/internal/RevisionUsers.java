package com.cloudaeye.agent.ecs.internal;

import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.spi.TargetContext;
import com.cloudaeye.agent.spi.support.AwsFailures;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.services.ecs.EcsClient;
import software.amazon.awssdk.services.ecs.model.ClusterNotFoundException;

/**
 * Which services of given clusters run a task definition revision, so that a rollback deregisters a revision only
 * when none does. ECS has no query by revision: every service of each cluster is listed and described. Tasks of a
 * deployment that is being replaced may still run the revision: AWS keeps them running on an inactive revision.
 */
final class RevisionUsers {
    private static final int DESCRIBE_BATCH = 10;

    private RevisionUsers() {}

    /**
     * @param context clients and scheduler
     * @param clusters the clusters to look in (names or ARNs); one that no longer exists has no service
     * @param revision a task definition ARN
     * @return the ARNs of the services that are not inactive and run {@code revision}, sorted
     */
    static CompletableFuture<List<String>> running(TargetContext context, List<String> clusters, String revision) {
        EcsClient ecs = context.client(EcsClient.class, EcsClient::builder);
        CompletableFuture<List<String>> found = CompletableFuture.completedFuture(new ArrayList<>());
        for (String cluster : clusters) {
            found = found.thenCompose(sofar -> serviceArns(context, ecs, cluster, null, new ArrayList<>())
                    .thenCompose(arns -> runningOf(context, ecs, cluster, arns, 0, revision, sofar)));
        }
        return found.thenApply(arns -> arns.stream().sorted().toList());
    }

    /**
     * @param revision the revision looked for (its ARN names the region and account)
     * @param clusters the clusters looked in
     * @return what {@link #running} calls: ListServices (not scoped by resource), DescribeServices on every service of
     *     each cluster
     */
    static List<Permission> permissions(String revision, List<String> clusters) {
        List<Permission> p = new ArrayList<>();
        p.add(Permission.of("ecs:ListServices", "*"));
        String prefix = revision.substring(0, revision.indexOf("task-definition/"));
        clusters.forEach(c -> p.add(Permission.of(
                "ecs:DescribeServices", prefix + "service/" + c.substring(c.lastIndexOf('/') + 1) + "/*")));
        return p;
    }

    private static CompletableFuture<List<String>> serviceArns(
            TargetContext context, EcsClient ecs, String cluster, @Nullable String token, List<String> into) {
        return context.scheduler()
                .submit(
                        EcsQuotas.SERVICE_READ,
                        () -> ecs.listServices(
                                l -> l.cluster(cluster).maxResults(100).nextToken(token)))
                .thenCompose(page -> {
                    into.addAll(page.serviceArns());
                    String next = page.nextToken();
                    return next == null || next.isEmpty()
                            ? CompletableFuture.completedFuture(into)
                            : serviceArns(context, ecs, cluster, next, into);
                })
                .exceptionallyCompose(error -> AwsFailures.unwrap(error) instanceof ClusterNotFoundException
                        ? CompletableFuture.completedFuture(List.of()) // no cluster, no service running it
                        : CompletableFuture.failedFuture(error));
    }

    private static CompletableFuture<List<String>> runningOf(
            TargetContext context,
            EcsClient ecs,
            String cluster,
            List<String> arns,
            int from,
            String revision,
            List<String> found) {
        if (from >= arns.size()) {
            return CompletableFuture.completedFuture(found);
        }
        List<String> batch = arns.subList(from, Math.min(arns.size(), from + DESCRIBE_BATCH));
        return context.scheduler()
                .submit(
                        EcsQuotas.SERVICE_READ,
                        () -> ecs.describeServices(d -> d.cluster(cluster).services(batch)))
                .thenCompose(r -> {
                    r.services().stream()
                            .filter(s -> !"INACTIVE".equals(s.status()) && revision.equals(s.taskDefinition()))
                            .forEach(s -> found.add(s.serviceArn()));
                    return runningOf(context, ecs, cluster, arns, from + DESCRIBE_BATCH, revision, found);
                });
    }
}
