package com.cloudaeye.agent.eks.internal;

import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ConfigurationException;
import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.spi.ApplyContext;
import com.cloudaeye.agent.spi.TargetContext;
import com.cloudaeye.agent.spi.TargetPlan;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.eks.model.Cluster;

/**
 * What the EKS target does with its clusters' parts: plans each cluster's parts after one {@code DescribeCluster},
 * and hands each applied or rolled-back change to the part owning its resource type.
 */
public final class EksParts {
    private static final Logger LOG = LoggerFactory.getLogger(EksParts.class);

    /**
     * One cluster and the parts configured for it.
     *
     * @param cluster the cluster's name
     * @param components its parts, in planning order
     */
    public record Selection(String cluster, List<EksComponent> components) {}

    private final List<Selection> selections;
    private final List<EksComponent> dispatch;

    /**
     * @param selections the configured clusters; none for a target that only applies saved plans
     * @param waits how long to wait for asynchronous work
     */
    public EksParts(List<Selection> selections, Waits waits) {
        this.selections = List.copyOf(selections);
        List<EksComponent> configured = new ArrayList<>();
        selections.forEach(sel -> configured.addAll(sel.components()));
        this.dispatch = withDefaults(configured, waits);
    }

    /**
     * Every component that can apply a saved plan's changes, the configured ones first. Changes go to the first
     * component of their resource type: the parts apply from the changes' target state, except the IAM-user access,
     * which needs its key sink; {@code EksTarget.Builder.build()} lets only one cluster have it, so its configured
     * instance is the first of its type.
     */
    private static List<EksComponent> withDefaults(List<EksComponent> configured, Waits waits) {
        List<EksComponent> all = new ArrayList<>(configured);
        all.addAll(EksComponents.unconfigured(waits));
        return List.copyOf(all);
    }

    /**
     * @param context clients
     * @return the install plan of every configured cluster's parts
     */
    public TargetPlan plan(TargetContext context) {
        return planAll(context, EksComponent::plan);
    }

    /**
     * @param context clients
     * @return the uninstall plan of every configured cluster's parts
     */
    public TargetPlan planUninstall(TargetContext context) {
        return planAll(context, EksComponent::planUninstall);
    }

    private TargetPlan planAll(TargetContext context, PlanStep step) {
        if (selections.isEmpty()) {
            throw new ConfigurationException(
                    "This EksTarget selects no cluster (it only applies saved plans): build one"
                            + " with EksTarget.builder().cluster(\"name\")... to plan.");
        }
        List<Change> changes = new ArrayList<>();
        List<Permission> reads = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        for (Selection selection : selections) {
            Cluster described = describe(context, selection.cluster());
            reads.add(Permission.of("eks:DescribeCluster", described.arn()));
            for (EksComponent component : selection.components()) {
                TargetPlan part = step.plan(component, described, context);
                changes.addAll(part.changes());
                reads.addAll(part.readPermissions());
                part.notes().stream().filter(n -> !notes.contains(n)).forEach(notes::add);
            }
        }
        return new TargetPlan(changes, reads, notes);
    }

    @FunctionalInterface
    private interface PlanStep {
        TargetPlan plan(EksComponent component, Cluster cluster, TargetContext context);
    }

    private static Cluster describe(TargetContext context, String name) {
        LOG.debug("Describing EKS cluster {}", name);
        return Clusters.describe(context, name);
    }

    /**
     * @param applied the changes to undo
     * @param context clients
     * @return the rollback plan, each part planning its own changes
     */
    public TargetPlan planRollback(List<Change> applied, TargetContext context) {
        List<Change> changes = new ArrayList<>();
        List<Permission> reads = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        byComponent(applied).forEach((component, own) -> {
            TargetPlan part = component.planRollback(own, context);
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

    @Override
    public String toString() {
        if (selections.isEmpty()) {
            return "EksTarget[no cluster]";
        }
        return "EksTarget["
                + selections.stream()
                        .map(sel -> sel.cluster() + ": " + sel.components().size() + " part(s)")
                        .collect(Collectors.joining(", "))
                + "]";
    }
}
