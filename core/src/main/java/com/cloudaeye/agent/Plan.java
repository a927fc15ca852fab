package com.cloudaeye.agent;

import com.cloudaeye.agent.internal.PlanTable;
import com.cloudaeye.agent.spi.support.Json;
import com.cloudaeye.agent.spi.support.ValueStyle;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.immutables.value.Value;

/**
 * The result of {@link AgentInstaller#plan()}: every selected resource with what would change and why, made by
 * read-only calls. Print it for a table, {@link #toJson()} for a deterministic document, {@link #requiredPolicy()}
 * for the IAM policy that the reads and the apply need, then pass it to {@link AgentInstaller#apply(Plan)}.
 */
@Value.Immutable
@ValueStyle
@JsonSerialize(as = ImmutablePlan.class)
@JsonDeserialize(as = ImmutablePlan.class)
public abstract class Plan {
    /** What a plan was made for. */
    public enum Kind {
        /** Install or upgrade the agent. */
        INSTALL,
        /** Remove what the installer added. */
        UNINSTALL,
        /** Restore journaled before-states. */
        ROLLBACK
    }

    /** @return what the plan was made for */
    public abstract Kind kind();

    /** @return the AWS region of every resource in the plan */
    public abstract String region();

    /** @return every selected resource's change, sorted by target and resource */
    @Value.NaturalOrder
    public abstract java.util.SortedSet<Change> changes();

    /** @return the permissions that planning itself used (the read calls), sorted */
    @Value.NaturalOrder
    public abstract java.util.SortedSet<Permission> readPermissions();

    /** @return plan-wide notes for the reviewer (for example, the Kubernetes permissions an EKS install needs) */
    public abstract List<String> notes();

    /**
     * For a rollback plan made from a journal ({@link AgentInstaller#planRollback(Journal)}): where that journal is.
     * When the applying installer's {@link S3JournalStore} holds it, {@link AgentInstaller#apply(Plan)} first takes
     * the journal's lease, as {@link AgentInstaller#rollback(Journal)} does: refused while the worker that wrote it may
     * still be applying, and refused if that run went on since the plan was made ({@link #rollsBackLines()}).
     *
     * @return the rolled-back journal's location; empty for an install or uninstall plan
     */
    @JsonInclude(JsonInclude.Include.NON_ABSENT)
    @Value.Default
    public Optional<String> rollsBack() {
        return Optional.empty();
    }

    /**
     * @return how many lines the journal in {@link #rollsBack()} held when this plan was made; an apply that holds the
     *     journal's lease refuses the plan when the journal has more (the run went on: plan the rollback again)
     */
    @JsonInclude(JsonInclude.Include.NON_ABSENT)
    @Value.Default
    public OptionalInt rollsBackLines() {
        return OptionalInt.empty();
    }

    /**
     * The pacing of the installer that made the plan, or that applies it: shown in the table, not part of the JSON
     * (the installer that applies a plan paces it by its own settings).
     *
     * @return e.g. {@code at most 60 % of the documented quotas}; empty for a plan read from JSON
     */
    @JsonIgnore
    @Value.Auxiliary
    public abstract java.util.Optional<String> pacing();

    /** @return the changes that would change the account */
    @JsonIgnore
    public List<Change> mutations() {
        return changes().stream().filter(Change::isMutation).collect(Collectors.toList());
    }

    /** @return true when applying this plan would change nothing */
    @JsonIgnore
    public boolean isEmpty() {
        return mutations().isEmpty();
    }

    /** @return the number of changes per action, e.g. {@code {update=3, skip=1}} */
    @JsonIgnore
    public Map<ChangeAction, Long> counts() {
        return changes().stream().collect(Collectors.groupingBy(Change::action, TreeMap::new, Collectors.counting()));
    }

    /**
     * The least-privilege IAM policy that running this plan needs: the reads that planning used and, for each change
     * that mutates, the actions on exactly its resources.
     *
     * @return a valid IAM policy document
     */
    public PolicyDocument requiredPolicy() {
        List<Permission> all = new ArrayList<>(readPermissions());
        mutations().forEach(c -> all.addAll(c.permissions()));
        return PolicyDocument.allowing(all);
    }

    /** @return the plan as deterministic, pretty-printed JSON (no secrets) */
    public String toJson() {
        return Json.write(this);
    }

    /**
     * Reads a plan written by {@link #toJson()}, for example one that was reviewed before it is applied.
     *
     * @param json the plan JSON
     * @return the plan
     */
    public static Plan fromJson(String json) {
        return Json.read(json, Plan.class);
    }

    /** @return a new builder */
    public static Builder builder() {
        return new Builder();
    }

    /** @return a readable table: one row per change with its action, resource, attribute changes or reason */
    @Override
    public String toString() {
        return PlanTable.render(this);
    }

    /** Builds a {@link Plan}. */
    public static final class Builder extends ImmutablePlan.Builder {
        Builder() {}
    }
}
