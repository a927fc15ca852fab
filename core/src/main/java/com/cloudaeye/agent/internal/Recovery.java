package com.cloudaeye.agent.internal;

import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ConfigurationException;
import com.cloudaeye.agent.Journal;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.spi.JournaledChange;
import com.cloudaeye.agent.spi.Target;
import com.cloudaeye.agent.spi.TargetContext;
import com.cloudaeye.agent.spi.TargetPlan;
import com.cloudaeye.agent.spi.TargetService;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.function.Function;

/**
 * How the installer assembles the plans that recover from an earlier apply: a rollback from its journal, and the
 * rest of an interrupted apply. Also where the service of a change's target is found: the configured target's, or
 * the one {@link ServiceLoader} finds.
 */
public final class Recovery {
    private Recovery() {}

    /**
     * @param journal the journal of an earlier apply
     * @param region the installer's region
     * @param service finds a target's service by name
     * @param context clients and scheduler
     * @return the rollback plan, without the preflight's permissions
     */
    public static Plan.Builder rollback(
            Journal journal, String region, Function<String, TargetService> service, TargetContext context) {
        Map<String, List<JournaledChange>> byTarget = new LinkedHashMap<>();
        journal.sent()
                .forEach(j -> byTarget.computeIfAbsent(j.change().target(), t -> new ArrayList<>())
                        .add(j));
        Plan.Builder plan = Plan.builder().kind(Plan.Kind.ROLLBACK).region(region);
        byTarget.forEach((name, journaled) -> add(plan, service.apply(name).planRollback(journaled, context)));
        return plan;
    }

    /**
     * The rest of an interrupted apply. Interrupted and unknown changes go back to their target as journaled: it
     * checks the live state, so none runs twice. Failed, skipped and never started ones changed nothing and are
     * planned again; a rollback's are taken from the journal, whose before-states only it knows.
     *
     * @param journal the journal of the interrupted apply
     * @param fresh plans again: an install or an uninstall, by the journaled plan's kind
     * @return the plan to apply
     */
    public static Plan resume(Journal journal, Function<Plan.Kind, Plan> fresh) {
        Plan journaled = journal.plan();
        Plan.Builder rest = Plan.builder()
                .kind(journaled.kind())
                .region(journaled.region())
                .readPermissions(journaled.readPermissions())
                .notes(journaled.notes());
        if (journaled.kind() == Plan.Kind.ROLLBACK) {
            journal.unfinished().forEach(rest::addChanges);
            return rest.build();
        }
        List<Change> mayHaveLanded = new ArrayList<>(journal.interrupted());
        mayHaveLanded.addAll(journal.unknown());
        Set<String> replan = keys(journal.unfinished());
        replan.removeAll(keys(mayHaveLanded));
        mayHaveLanded.forEach(rest::addChanges);
        Plan again = fresh.apply(journaled.kind());
        rest.addAllReadPermissions(again.readPermissions());
        again.changes().stream().filter(c -> replan.contains(Changes.key(c))).forEach(rest::addChanges);
        return rest.build();
    }

    private static Set<String> keys(List<Change> changes) {
        Set<String> keys = new HashSet<>();
        changes.forEach(c -> keys.add(Changes.key(c)));
        return keys;
    }

    /**
     * @param plan the plan being built
     * @param part one target's part of it
     */
    public static void add(Plan.Builder plan, TargetPlan part) {
        plan.addAllChanges(part.changes())
                .addAllReadPermissions(part.readPermissions())
                .addAllNotes(part.notes());
    }

    /**
     * @param configured the installer's targets
     * @param name a change's target
     * @return the service of the configured target of that name, else the one {@link ServiceLoader} finds
     * @throws ConfigurationException when there is none
     */
    public static TargetService service(List<Target> configured, String name) {
        for (Target t : configured) {
            if (t.name().equals(name)) {
                return t.service();
            }
        }
        for (TargetService s : ServiceLoader.load(TargetService.class, Recovery.class.getClassLoader())) {
            if (s.name().equals(name)) {
                return s;
            }
        }
        throw new ConfigurationException("No target named '" + name + "' is configured or on the class path: add"
                + " the cloudaeye-agent-" + name + " module to apply this plan.");
    }
}
