package com.cloudaeye.agent.testing;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.PlanningException;
import com.cloudaeye.agent.ResourceResult;
import java.util.Optional;

/** Helpers for the fault-injection suites, where even read-only planning may run out of attempts. */
public final class Patiently {
    private static final int PLANS = 20;

    private Patiently() {}

    /**
     * Plans until a plan comes back: under injected faults, planning can itself run out of attempts, which is a clear
     * {@link PlanningException}, and a caller plans again.
     *
     * @param installer the installer, pointed at a faulty endpoint
     * @return the first plan that succeeded
     * @throws AssertionError when {@value #PLANS} plans in a row failed
     */
    public static Plan plan(AgentInstaller installer) {
        PlanningException last = null;
        for (int attempt = 0; attempt < PLANS; attempt++) {
            try {
                return installer.plan();
            } catch (PlanningException e) {
                last = e;
            }
        }
        throw new AssertionError("planning failed " + PLANS + " times under faults", last);
    }

    /**
     * Finishes, without faults, what the faulted runs left: it must be one calm run from done, nothing stuck half-way.
     * (Requiring the faulted runs themselves to finish within a bound is a bet: at 30 % faults and one attempt a change
     * can fail many runs in a row.)
     *
     * @param calm an installer pointed straight at the endpoint, with the faulted runs' journal directory
     * @return the calm run's result, or empty when the faulted runs left nothing
     * @throws AssertionError when a change of the calm run is not applied, or a plan after it is not empty
     */
    public static Optional<ApplyResult> finishCalmly(AgentInstaller calm) {
        Plan rest = calm.plan();
        Optional<ApplyResult> finished = Optional.empty();
        if (!rest.mutations().isEmpty()) {
            ApplyResult result = calm.apply(rest);
            assertThat(result.results())
                    .as("the calm run applies what the faulted runs left")
                    .allMatch(r -> r.outcome() == ResourceResult.Outcome.APPLIED);
            finished = Optional.of(result);
        }
        assertThat(calm.plan().mutations())
                .as("nothing left after the calm run")
                .isEmpty();
        return finished;
    }
}
