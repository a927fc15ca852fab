package com.cloudaeye.agent.logsub.internal;

import com.cloudaeye.agent.AttributeChange;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.logsub.LogSubscriptionTarget;
import com.cloudaeye.agent.spi.Quota;
import com.cloudaeye.agent.spi.TargetContext;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.services.cloudwatchlogs.CloudWatchLogsClient;
import software.amazon.awssdk.services.cloudwatchlogs.model.SubscriptionFilter;

/** The CloudWatch Logs calls that planning and applying share, each under the one quota they count against. */
final class Logs {
    /** CloudWatch Logs' subscription filter and log group calls: 5 requests per second per account and region. */
    static final Quota QUOTA = new Quota("logs.subscription-filters", 5);

    private final TargetContext context;
    private final CloudWatchLogsClient client;

    Logs(TargetContext context) {
        this.context = context;
        this.client = context.client(CloudWatchLogsClient.class, CloudWatchLogsClient::builder);
    }

    CloudWatchLogsClient client() {
        return client;
    }

    /** @return our filter in the group, empty when it has none */
    CompletableFuture<Optional<Filter>> filter(String logGroup) {
        return context.scheduler()
                .submit(
                        QUOTA,
                        () -> client.describeSubscriptionFilters(r ->
                                        r.logGroupName(logGroup).filterNamePrefix(LogSubscriptionTarget.FILTER_NAME))
                                .subscriptionFilters())
                .thenApply(filters -> filters.stream()
                        .filter(f -> f.filterName().equals(LogSubscriptionTarget.FILTER_NAME))
                        .findFirst()
                        .map(Logs::filter));
    }

    private static Filter filter(SubscriptionFilter f) {
        return new Filter(f.destinationArn(), f.filterPattern() == null ? "" : f.filterPattern());
    }

    /** @return the IAM resource of a log group: its ARN without the {@code :*} that DescribeLogGroups appends */
    static String groupArn(String arn) {
        return arn.endsWith(":*") ? arn.substring(0, arn.length() - 2) : arn;
    }

    /** @return the permission to read a group's filters */
    static Permission read(String groupArn) {
        return Permission.of("logs:DescribeSubscriptionFilters", groupArn);
    }

    /**
     * The change that takes a group's filter from {@code before} to {@code after}: a no-op when they are equal.
     *
     * @param groupArn the log group's ARN, the change's resource
     * @param state the group and the two filters
     * @param why the reason of a no-op
     * @return the change
     */
    static Change change(String groupArn, FilterState state, String why) {
        Filter before = state.before();
        Filter after = state.after();
        Change.Builder c = Change.builder()
                .target(LogSubscriptionTarget.NAME)
                .resourceType("AWS::Logs::SubscriptionFilter")
                .resourceId(groupArn)
                .targetState(state.toTree());
        if (java.util.Objects.equals(before, after)) {
            return c.action(ChangeAction.NO_OP).reason(why).build();
        }
        c.action(before == null ? ChangeAction.CREATE : after == null ? ChangeAction.DELETE : ChangeAction.UPDATE)
                .addAttributes(
                        AttributeChange.of("DestinationArn", destination(before), destination(after)),
                        AttributeChange.of("FilterPattern", pattern(before), pattern(after)))
                // Apply reads the filter first (resume, lost answers), then puts or deletes it.
                .addPermissions(read(groupArn))
                .addPermissions(Permission.of(
                        after == null ? "logs:DeleteSubscriptionFilter" : "logs:PutSubscriptionFilter", groupArn));
        return c.build();
    }

    private static @Nullable String destination(@Nullable Filter f) {
        return f == null ? null : f.destinationArn();
    }

    private static @Nullable String pattern(@Nullable Filter f) {
        return f == null ? null : f.filterPattern();
    }
}
