package com.cloudaeye.agent.eks.internal;

import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.NothingSelectedException;
import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.PlanningException;
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
        List<Cluster> clusters = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        for (Selection selection : selections) {
            LOG.debug("Describing EKS cluster {}", selection.cluster());
            Clusters.find(context, selection.cluster())
                    .ifPresentOrElse(clusters::add, () -> missing.add(selection.cluster()));
        }
        if (!missing.isEmpty()) {
            String why = Clusters.noCluster(missing, context);
            // No cluster of the target in this region: nothing of it to plan here (a fleet over regions where the
            // clusters exist in some only plans the others with nothing to change; one installer still fails). Some
            // of them missing beside others is a selection that does not fit the region: an error.
            throw clusters.isEmpty() ? new NothingSelectedException(why) : new PlanningException(why);
        }
        for (int i = 0; i < selections.size(); i++) {
            Selection selection = selections.get(i);
            Cluster described = clusters.get(i);
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

    @Override
    public String toString() {
        return "EksTarget["
                + selections.stream()
                        .map(sel -> sel.cluster() + ": " + sel.planners().size() + " part(s)")
                        .collect(Collectors.joining(", "))
                + "]";
    }
}
