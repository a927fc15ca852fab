package com.cloudaeye.agent.eks.internal;

import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ConfigurationException;
import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.eks.AccessKey;
import com.cloudaeye.agent.eks.EksTarget;
import com.cloudaeye.agent.eks.internal.access.CrossAccountRoleAccess;
import com.cloudaeye.agent.eks.internal.access.IamUserStackAccess;
import com.cloudaeye.agent.eks.internal.helm.HelmReleaseComponent;
import com.cloudaeye.agent.spi.ApplyContext;
import com.cloudaeye.agent.spi.JournaledChange;
import com.cloudaeye.agent.spi.Quota;
import com.cloudaeye.agent.spi.TargetContext;
import com.cloudaeye.agent.spi.TargetPlan;
import com.cloudaeye.agent.spi.TargetService;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Applies, resumes and rolls back EKS changes: hands each change to the component owning its resource type, which
 * applies it from what the change carries. {@link java.util.ServiceLoader} makes it with {@link #EksService()} for a
 * saved plan or a journal; a configured {@code EksTarget} hands core one with its waits and, for the IAM-user access,
 * its own key sink (without it, the installer's {@code EksTarget.ACCESS_KEY_SINK}; without either, {@link
 * #checkApply} refuses a plan that would create a key before any target changes anything).
 *
 * <p>A new part adds its component here, so that saved plans and journals with its resource types can be applied by
 * the service {@link java.util.ServiceLoader} makes.
 */
public final class EksService implements TargetService {
    private final List<EksComponent> components;

    /** The provider {@link java.util.ServiceLoader} makes: default waits, the installer's key sink. */
    public EksService() {
        this(Waits.DEFAULT, Optional.empty(), List.of());
    }

    /**
     * @param waits how long to wait for asynchronous work
     * @param keySink where a new access key of CloudAEye's IAM user goes; empty for the installer's sink
     * @param order resource types in the order the configured target's parts come (its builder's order): their
     *     components apply first, in that order; the others after them
     */
    public EksService(Waits waits, Optional<Consumer<AccessKey>> keySink, List<String> order) {
        List<EksComponent> all = new ArrayList<>(List.of(
                new ControlPlaneLogging(waits),
                new IamUserStackAccess(keySink, waits),
                new CrossAccountRoleAccess(),
                new HelmReleaseComponent()));
        // A stable sort: components without a configured type keep their order after the configured ones.
        all.sort(Comparator.comparingInt(c -> c.resourceTypes().stream()
                .mapToInt(order::indexOf)
                .filter(i -> i >= 0)
                .min()
                .orElse(Integer.MAX_VALUE)));
        this.components = List.copyOf(all);
    }

    @Override
    public String name() {
        return EksTarget.NAME;
    }

    @Override
    public List<Quota> quotas() {
        return List.of(EksQuotas.EKS, EksQuotas.CLOUDFORMATION, EksQuotas.IAM, EksQuotas.LOGS_DESCRIBE_LOG_GROUPS);
    }

    /**
     * @param journaled the changes to undo
     * @param context clients
     * @return the rollback plan, each component planning its own changes
     */
    @Override
    public TargetPlan planRollback(List<JournaledChange> journaled, TargetContext context) {
        List<Change> changes = new ArrayList<>();
        List<Permission> reads = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        byComponent(journaled.stream().map(JournaledChange::change).toList()).forEach((component, own) -> {
            TargetPlan part = component.planRollback(
                    journaled.stream().filter(j -> own.contains(j.change())).toList(), context);
            changes.addAll(part.changes());
            reads.addAll(part.readPermissions());
            notes.addAll(part.notes());
        });
        return new TargetPlan(changes, reads, notes);
    }

    /**
     * Refuses, before any target changes anything, what a component cannot apply with what this service and the
     * installer hold: each component checks its own changes (a key without a sink, a release whose kubeconfig was
     * moved since planning).
     *
     * @param changes the changes about to be applied
     * @param context settings and sinks
     */
    @Override
    public void checkApply(List<Change> changes, TargetContext context) {
        byComponent(changes).forEach((component, own) -> component.check(own, context));
    }

    /**
     * @param changes the changes to apply, each by the component owning its resource type
     * @param context the apply context
     */
    @Override
    public void apply(List<Change> changes, ApplyContext context) {
        Map<EksComponent, List<Change>> byComponent = byComponent(changes);
        // Core checked already (checkApply, before any target applied); again here, so that no caller of apply alone
        // gets a partial EKS apply from what the checks refuse.
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
        components.forEach(component -> changes.stream()
                .filter(c -> component.resourceTypes().contains(c.resourceType()))
                .forEach(c ->
                        out.computeIfAbsent(component, k -> new ArrayList<>()).add(c)));
        for (Change c : changes) {
            if (components.stream()
                    .noneMatch(component -> component.resourceTypes().contains(c.resourceType()))) {
                throw new ConfigurationException("The EKS target has no part that applies " + c.resourceType() + " ("
                        + c.resourceId() + "): apply the plan with the installer version that made it.");
            }
        }
        return out;
    }
}
