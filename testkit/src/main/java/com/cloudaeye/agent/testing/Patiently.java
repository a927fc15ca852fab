package com.cloudaeye.agent.testing;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.PlanningException;

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
}
