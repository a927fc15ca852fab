package com.cloudaeye.agent.eks.internal;

import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ConfigurationException;
import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.eks.EksTarget;
import com.cloudaeye.agent.spi.ApplyContext;
import com.cloudaeye.agent.spi.JournaledChange;
import com.cloudaeye.agent.spi.TargetContext;
import com.cloudaeye.agent.spi.TargetPlan;
import com.cloudaeye.agent.spi.TargetService;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Applies, resumes and rolls back EKS changes: hands each change to the part owning its resource type. {@link
 * java.util.ServiceLoader} makes it with {@link #EksService()} for a saved plan or a journal; a configured {@code
 * EksTarget} hands core one whose own parts come first, since the IAM-user access may hold its own key sink (without
 * it, the installer's {@code EksTarget.ACCESS_KEY_SINK}; without either, the apply stops before anything changes).
 */
public final class EksService implements TargetService {
    private final List<EksComponent> dispatch;

    /** The provider {@link java.util.ServiceLoader} makes: every part, applying from the changes alone. */
    public EksService() {
        this(List.of(), Waits.DEFAULT);
    }

    /**
     * Changes go to the first component of their resource type: the parts apply from the changes' target state, except
     * the IAM-user access, which needs its key sink; {@code EksTarget.Builder.build()} lets only one cluster have it,
     * so its configured instance is the first of its type.
     *
     * @param configured the configured target's parts, which come first
     * @param waits how long to wait for asynchronous work
     */
    public EksService(List<EksComponent> configured, Waits waits) {
        List<EksComponent> all = new ArrayList<>(configured);
        all.addAll(EksComponents.unconfigured(waits));
        this.dispatch = List.copyOf(all);
    }

    @Override
    public String name() {
        return EksTarget.NAME;
    }

    /**
     * @param journaled the changes to undo
     * @param context clients
     * @return the rollback plan, each part planning its own changes
     */
    @Override
    public TargetPlan planRollback(List<JournaledChange> journaled, TargetContext context) {
        List<Change> changes = new ArrayList<>();
        List<Permission> reads = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        byComponent(journaled.stream().map(JournaledChange::change).toList()).forEach((component, own) -> {
            TargetPlan part = component.planJournaledRollback(
                    journaled.stream().filter(j -> own.contains(j.change())).toList(), context);
            changes.addAll(part.changes());
            reads.addAll(part.readPermissions());
            notes.addAll(part.notes());
        });
        return new TargetPlan(changes, reads, notes);
    }

    /**
     * @param changes the changes to apply, each by the part owning its resource type
     * @param context the apply context
     */
    @Override
    public void apply(List<Change> changes, ApplyContext context) {
        Map<EksComponent, List<Change>> byComponent = byComponent(changes);
        byComponent.forEach((component, own) -> component.check(own, context));
        for (Map.Entry<EksComponent, List<Change>> e : byComponent.entrySet()) {
            if (context.shouldStop()) {
                return;
            }
            e.getKey().apply(e.getValue(), context);
        }
    }

    /** Groups changes by the component owning their resource type, in component order. */
    private Map<EksComponent, List<Change>> byComponent(List<Change> changes) {
        Map<EksComponent, List<Change>> out = new LinkedHashMap<>();
        for (EksComponent component : dispatch) {
            Set<String> types = component.resourceTypes();
            for (Change c : changes) {
                if (types.contains(c.resourceType()) && out.values().stream().noneMatch(l -> l.contains(c))) {
                    out.computeIfAbsent(component, k -> new ArrayList<>()).add(c);
                }
            }
        }
        for (Change c : changes) {
            if (out.values().stream().noneMatch(l -> l.contains(c))) {
                throw new ConfigurationException("The EKS target has no part that applies " + c.resourceType() + " ("
                        + c.resourceId() + "): apply the plan with the installer version that made it.");
            }
        }
        return out;
    }
}
