package com.cloudaeye.agent.spi.support;

import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.ManagedResources;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Who owns a resource, read from its tags, and what {@link ManagedResources} makes of a change to an owned resource:
 * a warning, a skip, or a skip plus the template fragment its owner should add (collected by {@link Fragments}).
 */
public final class IacOwners {
    /** The template parameter that stands for the API token in fragments: the token itself never appears. */
    public static final String TOKEN_PARAMETER = "CloudAEyeApiToken";

    private static final Pattern PLAIN_KEY = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_./-]*");

    private IacOwners() {}

    /**
     * The owner of a resource.
     *
     * @param stack the CloudFormation stack, or null when an owner tag of the caller's matched
     * @param logicalId the resource's logical id in the stack's template, when tagged
     * @param description e.g. {@code CloudFormation stack orders (logical id OrdersFn)}
     */
    public record Owner(@Nullable String stack, @Nullable String logicalId, String description) {}

    /**
     * @param policy the caller's settings
     * @param tags the resource's tags
     * @return its owner, when CloudFormation's stack tag or one of the caller's owner tags is there
     */
    public static Optional<Owner> of(ManagedResources policy, Map<String, String> tags) {
        String stack = tags.get(ManagedResources.STACK_NAME_TAG);
        if (stack != null) {
            String logicalId = tags.get(ManagedResources.LOGICAL_ID_TAG);
            return Optional.of(new Owner(
                    stack,
                    logicalId,
                    "CloudFormation stack " + stack + (logicalId == null ? "" : " (logical id " + logicalId + ")")));
        }
        for (Map.Entry<String, String> t : policy.ownerTags().entrySet()) {
            String value = tags.get(t.getKey());
            if (value != null && (t.getValue().isEmpty() || t.getValue().equals(value))) {
                return Optional.of(new Owner(null, null, "the tool that sets the tag " + t.getKey() + "=" + value));
            }
        }
        return Optional.empty();
    }

    /**
     * @param change a planned change to an owned resource that mutates it
     * @param owner its owner
     * @param policy the caller's settings
     * @param install true for an install, false for an uninstall
     * @return the change with a warning ({@link ManagedResources.Action#WARN}), or a skip naming the owner
     */
    public static Change review(Change change, Owner owner, ManagedResources policy, boolean install) {
        String who = owner.description();
        switch (policy.action()) {
            case WARN:
                return Change.builder()
                        .from(change)
                        .addWarnings(who + " owns this resource: its next deployment reverts this change"
                                + (install ? ", removing the agent again," : "") + " or fails on drift. Make the"
                                + " change in its template instead (ManagedResources.template(...) prints the"
                                + " fragment), or leave such resources out with ManagedResources.skip().")
                        .build();
            case SKIP:
                return skipped(
                        change,
                        "owned by " + who + ", whose next deployment would revert a direct change: "
                                + (install ? "add the agent" : "remove the agent")
                                + " in its template (ManagedResources.template(...) prints the fragment)");
            case TEMPLATE:
            default:
                return skipped(
                        change,
                        "owned by " + who + ": "
                                + (install
                                        ? "add the template fragment in the plan's notes to it instead"
                                        : "remove the agent from its template instead"));
        }
    }

    /**
     * @param change a planned change
     * @param reason why it is skipped
     * @return the change as a skip: what it would have changed stays visible, nothing is applied or granted
     */
    public static Change skipped(Change change, String reason) {
        return Change.builder()
                .from(change)
                .action(ChangeAction.SKIP)
                .reason(reason)
                .permissions(List.of())
                .warnings(List.of())
                .targetState(Json.object())
                .build();
    }

    /** Template fragments collected per owner, written as plan notes. */
    public static final class Fragments {
        private final Map<String, ObjectNode> byOwner = new TreeMap<>();
        private final Map<String, Boolean> needsToken = new TreeMap<>();

        /**
         * @param owner the resource's owner
         * @param resourceName the resource's name, its key in the fragment when the owner gives no logical id
         * @param type the CloudFormation resource type, e.g. {@code AWS::Lambda::Function}
         * @param properties the properties to add, in CloudFormation's names
         * @param usesToken whether the properties refer to {@link #TOKEN_PARAMETER}
         */
        public void add(Owner owner, String resourceName, String type, ObjectNode properties, boolean usesToken) {
            String key = owner.stack() != null
                    ? "CloudFormation stack " + owner.stack()
                    : owner.description().replace("the tool that sets", "Resources with");
            ObjectNode template = byOwner.computeIfAbsent(key, k -> Json.object());
            String logicalId = owner.logicalId() != null ? owner.logicalId() : resourceName;
            ObjectNode resource = template.withObjectProperty("Resources").putObject(logicalId);
            resource.put("Type", type);
            resource.set("Properties", properties);
            needsToken.merge(key, usesToken, Boolean::logicalOr);
        }

        /**
         * @param format YAML or JSON
         * @param hint how to merge the fragment into a template (platform-specific)
         * @return one note per owner, with its fragment
         */
        public List<String> notes(ManagedResources.Format format, String hint) {
            List<String> notes = new ArrayList<>();
            byOwner.forEach((owner, resources) -> {
                ObjectNode template = Json.object();
                boolean token = Boolean.TRUE.equals(needsToken.get(owner));
                if (token) {
                    ObjectNode parameter =
                            template.withObjectProperty("Parameters").putObject(TOKEN_PARAMETER);
                    parameter.put("Type", "String");
                    parameter.put("NoEcho", true);
                    parameter.put("Description", "The CloudAEye API token");
                }
                template.setAll(resources);
                String other = owner.startsWith("CloudFormation")
                        ? ""
                        : " The fragment uses CloudFormation's names: set the same properties in that tool's"
                                + " configuration.";
                notes.add(owner + ": instead of the skipped changes, add this to the template and deploy it. "
                        + hint + other
                        + (token
                                ? " The API token is the NoEcho parameter " + TOKEN_PARAMETER + ", never its value:"
                                        + " pass it when deploying, or put a {{resolve:secretsmanager:...}} reference"
                                        + " in its place."
                                : "")
                        + System.lineSeparator()
                        + render(template, format));
            });
            return notes;
        }
    }

    /**
     * @param node a JSON tree
     * @param format YAML or JSON
     * @return the tree written in the format (YAML in block style, strings double-quoted)
     */
    public static String render(JsonNode node, ManagedResources.Format format) {
        if (format == ManagedResources.Format.JSON) {
            return Json.write(node);
        }
        StringBuilder out = new StringBuilder();
        yaml(node, 0, out);
        return out.toString();
    }

    private static void yaml(JsonNode node, int indent, StringBuilder out) {
        String pad = " ".repeat(indent);
        if (node.isObject()) {
            for (Map.Entry<String, JsonNode> field : node.properties()) {
                String key =
                        PLAIN_KEY.matcher(field.getKey()).matches() ? field.getKey() : Json.compact(field.getKey());
                out.append(pad).append(key).append(':');
                value(field.getValue(), indent, out);
            }
        } else if (node.isArray()) {
            for (JsonNode element : node) {
                if (element.isContainerNode() && !element.isEmpty()) {
                    // The element's block, its first line starting with the dash.
                    StringBuilder block = new StringBuilder();
                    yaml(element, indent + 2, block);
                    out.append(pad).append("- ").append(block.substring(indent + 2));
                } else {
                    out.append(pad).append('-');
                    value(element, indent, out);
                }
            }
        }
    }

    private static void value(JsonNode value, int indent, StringBuilder out) {
        if (value.isContainerNode() && !value.isEmpty()) {
            out.append('\n');
            yaml(value, indent + 2, out);
        } else {
            // Scalars in JSON syntax are YAML too: a double-quoted string, a number, true/false, null, {} or [].
            out.append(' ').append(value.toString()).append('\n');
        }
    }
}
