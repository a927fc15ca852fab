package com.cloudaeye.agent.eks.internal.helm;

import com.cloudaeye.agent.AgentSettings;
import com.cloudaeye.agent.Secret;
import com.cloudaeye.agent.eks.AgentDaemonSet;
import com.cloudaeye.agent.spi.support.Json;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;

/**
 * The chart values of an install. {@link #nonSecret} is what plans and journals keep; {@link #withToken} adds the
 * agent token only for the values file handed to Helm.
 */
final class ChartValues {
    private ChartValues() {}

    /**
     * @param options the DaemonSet options
     * @param agent the agent settings (endpoint and options; the token is not read)
     * @return the chart values without any secret
     */
    static ObjectNode nonSecret(AgentDaemonSet options, AgentSettings agent) {
        ObjectNode values = Json.object();
        ObjectNode cloudaeye = values.putObject("cloudaeye");
        cloudaeye.put("logsEndpoint", agent.logsEndpoint());
        ObjectNode agentOptions = cloudaeye.putObject("options");
        agent.options().forEach(agentOptions::put);
        if (options.image().isPresent() || options.tag().isPresent()) {
            ObjectNode image = values.putObject("image");
            options.image().ifPresent(i -> image.put("repository", i));
            options.tag().ifPresent(t -> image.put("tag", t));
        }
        options.resources().forEach((path, quantity) -> set(values, "resources." + path, quantity));
        if (!options.tolerations().isEmpty()) {
            ArrayNode tolerations = values.putArray("tolerations");
            for (AgentDaemonSet.Toleration t : options.tolerations()) {
                ObjectNode node = tolerations.addObject();
                if (t.key() != null) {
                    node.put("key", t.key());
                }
                node.put("operator", t.operator());
                if (t.value() != null) {
                    node.put("value", t.value());
                }
                if (t.effect() != null) {
                    node.put("effect", t.effect());
                }
            }
        }
        for (Map.Entry<String, String> e : options.extraValues().entrySet()) {
            set(values, e.getKey(), e.getValue());
        }
        return values;
    }

    /**
     * @param nonSecret values from {@link #nonSecret}
     * @param token the agent token
     * @return the values file's JSON (JSON is YAML) with the token; never log or keep it
     */
    static String withToken(JsonNode nonSecret, Secret token) {
        ObjectNode values = nonSecret.deepCopy();
        ((ObjectNode) values.path("cloudaeye")).put("apiToken", token.reveal());
        return values.toString();
    }

    /** Sets a dotted path as Helm's --set does: "true"/"false" become booleans, integers numbers. */
    private static void set(ObjectNode root, String dottedPath, String value) {
        String[] parts = dottedPath.split("\\.", -1);
        ObjectNode node = root;
        for (int i = 0; i < parts.length - 1; i++) {
            JsonNode child = node.get(parts[i]);
            node = child instanceof ObjectNode object ? object : node.putObject(parts[i]);
        }
        String leaf = parts[parts.length - 1];
        if ("true".equals(value) || "false".equals(value)) {
            node.put(leaf, Boolean.parseBoolean(value));
        } else if (value.matches("-?[1-9][0-9]{0,17}|0")) {
            node.put(leaf, Long.parseLong(value));
        } else {
            node.put(leaf, value);
        }
    }
}
