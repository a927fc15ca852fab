package com.cloudaeye.agent.spi;

import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.PlanningException;
import com.cloudaeye.agent.internal.Changes;
import java.util.List;

/**
 * What one target planned: its changes, the permissions its read calls used, and plan-wide notes.
 *
 * @param changes one change per selected resource
 * @param readPermissions the actions and resources that planning read
 * @param notes notes for the reviewer (e.g. Kubernetes permissions needed)
 */
public record TargetPlan(List<Change> changes, List<Permission> readPermissions, List<String> notes) {
    /**
     * Copies the lists.
     *
     * @throws PlanningException when two changes name one resource: a target plans at most one change per resource
     */
    public TargetPlan {
        Changes.requireOnePerResource(changes);
        changes = List.copyOf(changes);
        readPermissions = List.copyOf(readPermissions);
        notes = List.copyOf(notes);
    }

    /**
     * @param changes one change per selected resource
     * @param readPermissions the actions and resources that planning read
     */
    public TargetPlan(List<Change> changes, List<Permission> readPermissions) {
        this(changes, readPermissions, List.of());
    }
}
