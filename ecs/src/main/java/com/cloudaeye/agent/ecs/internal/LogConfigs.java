package com.cloudaeye.agent.ecs.internal;

import com.cloudaeye.agent.spi.support.Json;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.services.ecs.model.LogConfiguration;

/** {@link LogConfiguration} to and from JSON, exactly (driver, options, secret options). */
final class LogConfigs {
    private LogConfigs() {}

    static JsonNode toJson(@Nullable LogConfiguration config) {
        if (config == null) {
            return NullNode.getInstance();
        }
        ObjectNode node = Json.object();
        node.put("logDriver", config.logDriverAsString());
        if (config.hasOptions() && !config.options().isEmpty()) {
            ObjectNode options = node.putObject("options");
            new TreeMap<>(config.options()).forEach((k, v) -> options.put(k, v));
        }
        if (config.hasSecretOptions() && !config.secretOptions().isEmpty()) {
            var secrets = node.putArray("secretOptions");
            config.secretOptions()
                    .forEach(s -> secrets.addObject().put("name", s.name()).put("valueFrom", s.valueFrom()));
        }
        return node;
    }

    static @Nullable LogConfiguration fromJson(@Nullable JsonNode node) {
        if (node == null || node.isNull()) {
            return null;
        }
        LogConfiguration.Builder b =
                LogConfiguration.builder().logDriver(node.path("logDriver").asText());
        if (node.has("options")) {
            Map<String, String> options = new TreeMap<>();
            node.get("options")
                    .properties()
                    .forEach(e -> options.put(e.getKey(), e.getValue().asText()));
            b.options(options);
        }
        if (node.has("secretOptions")) {
            List<software.amazon.awssdk.services.ecs.model.Secret> secrets = new ArrayList<>();
            node.get("secretOptions")
                    .forEach(s -> secrets.add(software.amazon.awssdk.services.ecs.model.Secret.builder()
                            .name(s.path("name").asText())
                            .valueFrom(s.path("valueFrom").asText())
                            .build()));
            b.secretOptions(secrets);
        }
        return b.build();
    }
}
