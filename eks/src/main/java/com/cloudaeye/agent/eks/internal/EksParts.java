package com.cloudaeye.agent.eks.internal;

import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.spi.TargetContext;
import com.cloudaeye.agent.spi.TargetPlan;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.eks.model.Cluster;

/**
 * What the EKS target does with its clusters' parts: plans each cluster's parts after one {@code DescribeCluster};
 * its {@link #service()} hands each applied or rolled-back change to the component owning its resource type.
 */
public final class EksParts {
    private static final Logger LOG = LoggerFactory.getLogger(EksParts.class);

    /**
     * One cluster and the parts configured for it.
     *
     * @param cluster the cluster's name
     * @param planners its parts' planners, in planning order
     */
    public record Selection(String cluster, List<ComponentPlanner> planners) {}

    private final List<Selection> selections;
    private final EksService service;

    /**
     * @param selections the configured clusters, at least one
     * @param service the service that applies and rolls back what they plan, with the target's settings
     */
    public EksParts(List<Selection> selections, EksService service) {
        this.selections = List.copyOf(selections);
        this.service = service;
    }

    /** @return the service that applies and rolls back changes, with the target's settings */
    public EksService service() {
        return service;
    }

    /**
     * @param context clients
     * @return the install plan of every configured cluster's parts
     */
    public TargetPlan plan(TargetContext context) {
        return planAll(context, ComponentPlanner::plan);
    }

    /**
     * @param context clients
     * @return the uninstall plan of every configured cluster's parts
     */
    public TargetPlan planUninstall(TargetContext context) {
        return planAll(context, ComponentPlanner::planUninstall);
    }

    private TargetPlan planAll(TargetContext context, PlanStep step) {
        List<Change> changes = new ArrayList<>();
        List<Permission> reads = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        for (Selection selection : selections) {
            Cluster described = describe(context, selection.cluster());
            reads.add(Permission.of("eks:DescribeCluster", described.arn()));
            for (ComponentPlanner planner : selection.planners()) {
                TargetPlan part = step.plan(planner, described, context);
                changes.addAll(part.changes());
                reads.addAll(part.readPermissions());
                part.notes().stream().filter(n -> !notes.contains(n)).forEach(notes::add);
            }
        }
        return new TargetPlan(changes, reads, notes);
    }

    @FunctionalInterface
    private interface PlanStep {
        TargetPlan plan(ComponentPlanner planner, Cluster cluster, TargetContext context);
    }

    private static Cluster describe(TargetContext context, String name) {
        LOG.debug("Describing EKS cluster {}", name);
        return Clusters.describe(context, name);
    }

    @Override
    public String toString() {
        return "EksTarget["
                + selections.stream()
                        .map(sel -> sel.cluster() + ": " + sel.planners().size() + " part(s)")
                        .collect(Collectors.joining(", "))
                + "]";
    }
}
