package com.cloudaeye.agent.ecs.internal;

import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.spi.TargetContext;
import com.cloudaeye.agent.spi.support.AwsFailures;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.services.ecs.EcsClient;
import software.amazon.awssdk.services.ecs.model.ClusterNotFoundException;
import software.amazon.awssdk.services.ecs.model.Service;
import software.amazon.awssdk.services.ecs.model.Task;

/**
 * What in the region runs a task definition revision, so that a rollback deregisters a revision only when nothing
 * does: the services of every cluster of the region (not only the clusters the apply touched: a service of another
 * cluster may have come to use our revision), and standalone tasks (RunTask, not part of a service) of every cluster.
 * ECS has no query by revision: every cluster is listed, and its services and tasks listed and described. Tasks of a
 * deployment that is being replaced may still run the revision: AWS keeps them running on an inactive revision, so a
 * service's own tasks are left to the service check.
 */
final class RevisionUsers {
    private static final int DESCRIBE_SERVICES_BATCH = 10;
    private static final int DESCRIBE_TASKS_BATCH = 100;

    private RevisionUsers() {}

    /**
     * @param context clients and scheduler
     * @return the ARNs of the region's clusters, sorted (every page of ListClusters)
     */
    static CompletableFuture<List<String>> clusters(TargetContext context) {
        EcsClient ecs = context.client(EcsClient.class, EcsClient::builder);
        return clusterPages(context, ecs, null, new ArrayList<>())
                .thenApply(arns -> arns.stream().sorted().toList());
    }

    /**
     * @param context clients and scheduler
     * @param revision a task definition ARN
     * @return the ARNs of the services (not inactive) and standalone tasks, of any cluster of the region, that run
     *     {@code revision}, sorted
     */
    static CompletableFuture<List<String>> running(TargetContext context, String revision) {
        EcsClient ecs = context.client(EcsClient.class, EcsClient::builder);
        return clusters(context).thenCompose(clusters -> {
            CompletableFuture<List<String>> found = CompletableFuture.completedFuture(new ArrayList<>());
            for (String cluster : clusters) {
                found = found.thenCompose(sofar -> serviceArns(context, ecs, cluster, null, new ArrayList<>())
                                .thenCompose(arns -> servicesRunning(context, ecs, cluster, arns, revision))
                                .thenApply(more -> appended(sofar, more)))
                        .thenCompose(sofar -> taskArns(context, ecs, cluster, null, new ArrayList<>())
                                .thenCompose(arns -> tasksRunning(context, ecs, cluster, arns, revision))
                                .thenApply(more -> appended(sofar, more)));
            }
            return found.thenApply(arns -> arns.stream().sorted().toList());
        });
    }

    /**
     * @param revision the revision looked for (its ARN names the region and account)
     * @param clusters the region's clusters (names or ARNs)
     * @return what {@link #running} calls: ListClusters and ListServices (not scoped by resource), DescribeServices on
     *     every service of each cluster, ListTasks on each cluster's container instances (how AWS authorizes it, with
     *     the cluster as condition key), DescribeTasks on every task of each cluster
     */
    static List<Permission> permissions(String revision, List<String> clusters) {
        List<Permission> p = new ArrayList<>();
        p.add(Permission.of("ecs:ListClusters", "*"));
        p.add(Permission.of("ecs:ListServices", "*"));
        String prefix = revision.substring(0, revision.indexOf("task-definition/"));
        clusters.forEach(c -> {
            String name = c.substring(c.lastIndexOf('/') + 1);
            p.add(Permission.of("ecs:DescribeServices", prefix + "service/" + name + "/*"));
            p.add(Permission.of("ecs:ListTasks", prefix + "container-instance/" + name + "/*"));
            p.add(Permission.of("ecs:DescribeTasks", prefix + "task/" + name + "/*"));
        });
        return p;
    }

    private static CompletableFuture<List<String>> clusterPages(
            TargetContext context, EcsClient ecs, @Nullable String token, List<String> into) {
        return context.scheduler()
                .submit(
                        EcsQuotas.SERVICE_READ,
                        () -> ecs.listClusters(l -> l.maxResults(100).nextToken(token)))
                .thenCompose(page -> {
                    into.addAll(page.clusterArns());
                    String next = page.nextToken();
                    return next == null || next.isEmpty()
                            ? CompletableFuture.completedFuture(into)
                            : clusterPages(context, ecs, next, into);
                });
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
                .exceptionallyCompose(RevisionUsers::noCluster);
    }

    private static CompletableFuture<List<String>> taskArns(
            TargetContext context, EcsClient ecs, String cluster, @Nullable String token, List<String> into) {
        return context.scheduler()
                .submit(
                        EcsQuotas.SERVICE_READ,
                        () -> ecs.listTasks(
                                l -> l.cluster(cluster).maxResults(100).nextToken(token)))
                .thenCompose(page -> {
                    into.addAll(page.taskArns());
                    String next = page.nextToken();
                    return next == null || next.isEmpty()
                            ? CompletableFuture.completedFuture(into)
                            : taskArns(context, ecs, cluster, next, into);
                })
                .exceptionallyCompose(RevisionUsers::noCluster);
    }

    /** A cluster deleted since it was listed has no service and no task. */
    private static CompletableFuture<List<String>> noCluster(Throwable error) {
        return AwsFailures.unwrap(error) instanceof ClusterNotFoundException
                ? CompletableFuture.completedFuture(List.of())
                : CompletableFuture.failedFuture(error);
    }

    private static CompletableFuture<List<String>> servicesRunning(
            TargetContext context, EcsClient ecs, String cluster, List<String> arns, String revision) {
        return inBatches(
                arns,
                DESCRIBE_SERVICES_BATCH,
                batch -> context.scheduler()
                        .submit(
                                EcsQuotas.SERVICE_READ,
                                () -> ecs.describeServices(
                                        d -> d.cluster(cluster).services(batch)))
                        .thenApply(r -> r.services().stream()
                                .filter(s -> !"INACTIVE".equals(s.status()) && revision.equals(s.taskDefinition()))
                                .map(Service::serviceArn)
                                .toList()));
    }

    private static CompletableFuture<List<String>> tasksRunning(
            TargetContext context, EcsClient ecs, String cluster, List<String> arns, String revision) {
        return inBatches(
                arns,
                DESCRIBE_TASKS_BATCH,
                batch -> context.scheduler()
                        .submit(
                                EcsQuotas.SERVICE_READ,
                                () -> ecs.describeTasks(d -> d.cluster(cluster).tasks(batch)))
                        .thenApply(r -> r.tasks().stream()
                                // A service's tasks are the service's (checked above): one being moved off the
                                // revision still runs it while its deployment drains.
                                .filter(t -> t.group() == null || !t.group().startsWith("service:"))
                                .filter(t -> !"STOPPED".equals(t.lastStatus()))
                                .filter(t -> revision.equals(t.taskDefinitionArn()))
                                .map(Task::taskArn)
                                .toList()));
    }

    /**
     * Describes {@code arns} a batch at a time, one batch after another (the Describe calls take at most {@code size}
     * ARNs each).
     *
     * @return what {@code describe} found in every batch, in order
     */
    private static CompletableFuture<List<String>> inBatches(
            List<String> arns, int size, Function<List<String>, CompletableFuture<List<String>>> describe) {
        CompletableFuture<List<String>> found = CompletableFuture.completedFuture(new ArrayList<>());
        for (int from = 0; from < arns.size(); from += size) {
            List<String> batch = arns.subList(from, Math.min(arns.size(), from + size));
            found = found.thenCompose(sofar -> describe.apply(batch).thenApply(more -> appended(sofar, more)));
        }
        return found;
    }

    private static List<String> appended(List<String> to, List<String> more) {
        to.addAll(more);
        return to;
    }

    /**
     * @param users service and task ARNs, as {@link #running} returns them
     * @return where they are, for a person: {@code service prod/api}, {@code standalone task batch/0f3c...}
     */
    static List<String> describe(List<String> users) {
        return users.stream().map(RevisionUsers::describe).toList();
    }

    private static String describe(String arn) {
        int service = arn.indexOf(":service/");
        if (service >= 0) {
            return "service " + arn.substring(service + ":service/".length());
        }
        int task = arn.indexOf(":task/");
        return task >= 0 ? "standalone task " + arn.substring(task + ":task/".length()) : arn;
    }
}
