package com.cloudaeye.agent.internal;

import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.PlanningException;
import java.util.HashMap;
import java.util.Map;

/** Core's checks of what targets plan. */
public final class Changes {
    private Changes() {}

    /**
     * A target plans at most one change per resource: two would be journaled, reported and rolled back as one, so one
     * of them would be lost.
     *
     * @param changes changes of one or more targets
     * @throws PlanningException naming the resource and both changes
     */
    public static void requireOnePerResource(Iterable<Change> changes) {
        Map<String, Change> seen = new HashMap<>();
        for (Change c : changes) {
            Change before = seen.putIfAbsent(key(c), c);
            if (before != null) {
                throw new PlanningException("The " + c.target() + " target planned two changes for "
                        + c.resourceId() + " (" + before.action().label() + " " + before.resourceType() + " and "
                        + c.action().label() + " " + c.resourceType() + "), but a target plans at most one change"
                        + " per resource: this is a bug in the target; report it with the plan. Nothing was changed.");
            }
        }
    }

    /**
     * @param c a change
     * @return what identifies it in a journal and a result: its target and resource
     */
    public static String key(Change c) {
        return key(c.target(), c.resourceId());
    }

    /**
     * @param target a target's name
     * @param resourceId a resource of that target
     * @return what identifies a change to it in a journal and a result
     */
    public static String key(String target, String resourceId) {
        return target + "|" + resourceId;
    }
}
