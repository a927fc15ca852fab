package com.cloudaeye.agent.logsub.internal;

import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.PlanningException;
import com.cloudaeye.agent.spi.CallScheduler;
import com.cloudaeye.agent.spi.JournaledChange;
import com.cloudaeye.agent.spi.TargetContext;
import com.cloudaeye.agent.spi.TargetPlan;
import com.cloudaeye.agent.spi.support.Globs;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.services.cloudwatchlogs.model.LogGroup;

/** Plans install, uninstall and rollback with read calls only: one change per selected log group. */
public final class SubscriptionPlanner {
    private final Logs logs;
    private final CallScheduler scheduler;
    private final List<Permission> reads = new ArrayList<>();

    /** @param context the installer's context */
    public SubscriptionPlanner(TargetContext context) {
        this.logs = new Logs(context);
        this.scheduler = context.scheduler();
    }

    /**
     * @param selection what to subscribe
     * @return a change per selected group: create or update our filter, or a no-op when it is in place
     */
    public TargetPlan install(Selection selection) {
        Filter wanted = selection.wanted();
        List<Change> changes = new ArrayList<>();
        groups(selection).forEach((arn, name) -> {
            Filter live = live(arn, name);
            changes.add(Logs.change(arn, new FilterState(name, live, wanted), "already subscribed"));
        });
        return new TargetPlan(changes, reads);
    }

    /**
     * @param selection what was subscribed
     * @return a change per selected group: delete our filter, or a no-op when there is none
     */
    public TargetPlan uninstall(Selection selection) {
        List<Change> changes = new ArrayList<>();
        groups(selection).forEach((arn, name) -> {
            Filter live = live(arn, name);
            changes.add(Logs.change(arn, new FilterState(name, live, null), "not subscribed"));
        });
        return new TargetPlan(changes, reads);
    }

    /**
     * @param journaled the changes whose call may have been sent
     * @return per change: restore the filter it found when it landed; nothing when it did not; a skip when someone
     *     changed the filter since
     */
    public TargetPlan rollback(List<JournaledChange> journaled) {
        List<Change> changes = new ArrayList<>();
        for (JournaledChange j : journaled) {
            String arn = j.change().resourceId();
            FilterState applied = FilterState.of(j.change());
            Filter live = live(arn, applied.logGroup());
            FilterState restore = new FilterState(applied.logGroup(), live, applied.before());
            if (applied.landed(live)) {
                changes.add(Logs.change(arn, restore, "nothing to restore"));
            } else if (applied.untouched(live)) {
                changes.add(Logs.change(arn, new FilterState(applied.logGroup(), live, live), "it did not land"));
            } else {
                changes.add(Change.builder()
                        .from(Logs.change(arn, new FilterState(applied.logGroup(), live, live), "changed"))
                        .action(ChangeAction.SKIP)
                        .reason("the filter " + com.cloudaeye.agent.logsub.LogSubscriptionTarget.FILTER_NAME
                                + " was changed since the apply: left as it is; remove it by hand if unwanted")
                        .build());
            }
        }
        return new TargetPlan(changes, reads);
    }

    private @Nullable Filter live(String groupArn, String name) {
        reads.add(Logs.read(groupArn));
        return CallScheduler.join(logs.filter(name)).orElse(null);
    }

    /** @return the selected groups, ARN to name, in name order */
    private Map<String, String> groups(Selection selection) {
        // DescribeLogGroups is authorized on every log group, whatever the prefix.
        reads.add(Permission.of("logs:DescribeLogGroups", "arn:aws:logs:*:*:log-group:*"));
        List<LogGroup> all = new ArrayList<>();
        String token = null;
        do {
            String page = token;
            var response = scheduler.call(Logs.QUOTA, () -> logs.client().describeLogGroups(r -> r.nextToken(page)));
            all.addAll(response.logGroups());
            token = response.nextToken();
        } while (token != null);
        Map<String, String> selected = new LinkedHashMap<>();
        for (String glob : selection.logGroups()) {
            Pattern pattern = Globs.toPattern(glob);
            int before = selected.size();
            all.stream()
                    .filter(g -> pattern.matcher(g.logGroupName()).matches())
                    .sorted(java.util.Comparator.comparing(LogGroup::logGroupName))
                    .forEach(g -> selected.putIfAbsent(Logs.groupArn(g.arn()), g.logGroupName()));
            if (selected.size() == before
                    && all.stream()
                            .noneMatch(g -> pattern.matcher(g.logGroupName()).matches())) {
                throw new PlanningException("No log group matches '" + glob + "' in this region: check the name, or"
                        + " create the group first.");
            }
        }
        return selected;
    }
}
