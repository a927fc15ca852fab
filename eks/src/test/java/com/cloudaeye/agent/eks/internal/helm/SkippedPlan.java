package com.cloudaeye.agent.eks.internal.helm;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.Plan;

/** The pre-flight ITs' check of a release the plan skips. */
final class SkippedPlan {
    private SkippedPlan() {}

    /**
     * Plans and applies the plan: its one change is a SKIP whose reason says every part and not the token, and the
     * apply has nothing to do (a skipped change is not applied).
     *
     * @param installer the installer of the one release
     * @param token the agent token, which the reason must not show
     * @param reason what the reason must say
     */
    static void planAndApply_isSkipped(AgentInstaller installer, String token, String... reason) {
        Plan plan = installer.plan();
        assertThat(plan.changes()).as(plan.toString()).hasSize(1);
        Change change = plan.changes().first();
        assertThat(change.action()).as(plan.toString()).isEqualTo(ChangeAction.SKIP);
        assertThat(change.reason())
                .hasValueSatisfying(r -> assertThat(r).contains(reason).doesNotContain(token));
        ApplyResult applied = installer.apply(plan);
        assertThat(applied.isSuccess()).as(applied.toString()).isTrue();
        assertThat(applied.results())
                .as("a skipped change is not applied: " + applied)
                .isEmpty();
    }
}
