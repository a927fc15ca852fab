package com.cloudaeye.agent.ecs.internal;

import com.cloudaeye.agent.spi.support.Json;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.core.SdkField;
import software.amazon.awssdk.core.SdkPojo;
import software.amazon.awssdk.core.util.SdkAutoConstructList;
import software.amazon.awssdk.core.util.SdkAutoConstructMap;

/**
 * The size of an ECS request's JSON body as the AWS SDK sends it (every field by its wire name; fields never set are
 * left out), so planning can tell before apply that AWS would refuse a request as too large.
 */
final class RequestSize {
    /** The most AWS accepts in one RegisterTaskDefinition request: 64 KiB. */
    static final int MAX_REGISTER_BYTES = 64 * 1024;

    private RequestSize() {}

    /**
     * @param request an ECS request
     * @return the UTF-8 size of its JSON body in bytes
     */
    static int bytes(SdkPojo request) {
        return Json.compact(node(request)).getBytes(StandardCharsets.UTF_8).length;
    }

    private static ObjectNode node(SdkPojo pojo) {
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        for (SdkField<?> field : pojo.sdkFields()) {
            JsonNode value = value(field.getValueOrDefault(pojo));
            if (value != null) {
                out.set(field.locationName(), value);
            }
        }
        return out;
    }

    private static @Nullable JsonNode value(@Nullable Object value) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        if (value == null || value instanceof SdkAutoConstructList || value instanceof SdkAutoConstructMap) {
            return null; // the SDK sends neither a missing value nor a list or map that was never set
        }
        if (value instanceof SdkPojo pojo) {
            return node(pojo);
        }
        if (value instanceof List<?> list) {
            ArrayNode out = f.arrayNode();
            list.forEach(v -> {
                JsonNode n = value(v);
                out.add(n == null ? f.nullNode() : n);
            });
            return out;
        }
        if (value instanceof Map<?, ?> map) {
            ObjectNode out = f.objectNode();
            map.forEach((k, v) -> {
                JsonNode n = value(v);
                if (n != null) {
                    out.set(String.valueOf(k), n);
                }
            });
            return out;
        }
        if (value instanceof Boolean b) {
            return f.booleanNode(b);
        }
        if (value instanceof Integer i) {
            return f.numberNode(i);
        }
        if (value instanceof Long l) {
            return f.numberNode(l);
        }
        if (value instanceof Double d) {
            return f.numberNode(d);
        }
        if (value instanceof Float d) {
            return f.numberNode(d);
        }
        if (value instanceof BigDecimal d) {
            return f.numberNode(d);
        }
        if (value instanceof Instant t) {
            // The SDK sends a timestamp as epoch seconds with milliseconds.
            return f.numberNode(BigDecimal.valueOf(t.toEpochMilli(), 3));
        }
        if (value instanceof SdkBytes bytes) {
            return f.textNode(java.util.Base64.getEncoder().encodeToString(bytes.asByteArray()));
        }
        return f.textNode(value.toString());
    }
}
