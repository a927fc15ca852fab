package com.cloudaeye.agent;

import com.cloudaeye.agent.spi.support.Globs;
import com.cloudaeye.agent.spi.support.Json;
import com.cloudaeye.agent.spi.support.ValueStyle;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import org.immutables.value.Value;

/**
 * An IAM policy document (version {@code 2012-10-17}) that allows exactly a set of {@link Permission}s. Made by
 * {@link Plan#requiredPolicy()}; its JSON is valid IAM policy JSON and deterministic (sorted statements, actions and
 * resources), so it can be reviewed, diffed and attached as it is.
 */
@Value.Immutable
@ValueStyle
@JsonSerialize(as = ImmutablePolicyDocument.class)
@JsonDeserialize(as = ImmutablePolicyDocument.class)
@JsonPropertyOrder({"Version", "Statement"})
public abstract class PolicyDocument {
    /** The IAM policy language version every document uses. */
    public static final String VERSION = "2012-10-17";

    /** @return the policy language version, always {@value #VERSION} */
    @JsonProperty("Version")
    @Value.Default
    public String version() {
        return VERSION;
    }

    /** @return the statements, sorted */
    @JsonProperty("Statement")
    public abstract List<Statement> statements();

    /**
     * Builds the smallest readable document that allows exactly the given permissions: one statement per service and
     * set of resources, an action granted on {@code *} only when a permission asks for {@code *}.
     *
     * @param permissions what to allow
     * @return the document
     */
    public static PolicyDocument allowing(Collection<Permission> permissions) {
        Map<String, SortedSet<String>> resourcesByAction = new TreeMap<>();
        for (Permission p : permissions) {
            resourcesByAction.computeIfAbsent(p.action(), a -> new TreeSet<>()).add(p.resource());
        }
        // An action allowed on "*" needs no other resource.
        resourcesByAction.values().forEach(r -> {
            if (r.contains("*")) {
                r.retainAll(Set.of("*"));
            }
        });
        // Group actions of one service that share exactly the same resources.
        Map<String, Group> groupsByServiceAndResources = new TreeMap<>();
        resourcesByAction.forEach((action, resources) -> {
            String key = action.substring(0, action.indexOf(':')) + "|" + String.join(",", resources);
            groupsByServiceAndResources
                    .computeIfAbsent(key, k -> new Group(resources, new TreeSet<>()))
                    .actions()
                    .add(action);
        });
        List<Statement> statements = new ArrayList<>();
        Map<String, Integer> sidCounter = new TreeMap<>();
        groupsByServiceAndResources.forEach((key, group) -> {
            String service = key.substring(0, key.indexOf('|'));
            int n = sidCounter.merge(service, 1, Integer::sum);
            statements.add(ImmutableStatement.builder()
                    .sid(sidPrefix(service) + n)
                    .actions(group.actions())
                    .resources(group.resources())
                    .build());
        });
        return ImmutablePolicyDocument.builder().statements(statements).build();
    }

    /** Actions of one service that share exactly the same resources: one statement. */
    private record Group(SortedSet<String> resources, SortedSet<String> actions) {}

    private static String sidPrefix(String service) {
        StringBuilder sid = new StringBuilder("Allow");
        for (String part : service.split("-", -1)) {
            sid.append(part.substring(0, 1).toUpperCase(Locale.ROOT)).append(part.substring(1));
        }
        return sid.toString();
    }

    /**
     * Whether this document allows an action on a resource, with IAM's wildcard matching ({@code *} and {@code ?},
     * case-insensitive actions).
     *
     * @param permission the action and resource
     * @return true when some statement allows it
     */
    public boolean allows(Permission permission) {
        for (Statement s : statements()) {
            boolean actionMatches = s.actions().stream()
                    .anyMatch(a -> Globs.toPattern(a, true)
                            .matcher(permission.action())
                            .matches());
            boolean resourceMatches = s.resources().stream()
                    .anyMatch(r -> Globs.toPattern(r, false)
                            .matcher(permission.resource())
                            .matches());
            if (actionMatches && resourceMatches) {
                return true;
            }
        }
        return false;
    }

    /** @return every action this document names, sorted */
    public SortedSet<String> actions() {
        SortedSet<String> actions = new TreeSet<>();
        statements().forEach(s -> actions.addAll(s.actions()));
        return actions;
    }

    /** @return the document as pretty-printed, deterministic IAM policy JSON */
    public String toJson() {
        return Json.write(this);
    }

    /**
     * Reads a document written by {@link #toJson()}.
     *
     * @param json the policy JSON
     * @return the document
     */
    public static PolicyDocument fromJson(String json) {
        return Json.read(json, PolicyDocument.class);
    }

    @Override
    public String toString() {
        return toJson();
    }

    /** One {@code Allow} statement. */
    @Value.Immutable
    @ValueStyle
    @JsonSerialize(as = ImmutableStatement.class)
    @JsonDeserialize(as = ImmutableStatement.class)
    @JsonPropertyOrder({"Sid", "Effect", "Action", "Resource"})
    public abstract static class Statement {
        /** @return the statement id, unique in the document */
        @JsonProperty("Sid")
        public abstract String sid();

        /** @return always {@code Allow}: the installer never writes deny statements */
        @JsonProperty("Effect")
        @Value.Default
        public String effect() {
            return "Allow";
        }

        /** @return the actions, sorted */
        @JsonProperty("Action")
        @Value.NaturalOrder
        public abstract SortedSet<String> actions();

        /** @return the resource ARNs, sorted */
        @JsonProperty("Resource")
        @Value.NaturalOrder
        public abstract SortedSet<String> resources();
    }
}
