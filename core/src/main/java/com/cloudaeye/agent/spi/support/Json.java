package com.cloudaeye.agent.spi.support;

import com.cloudaeye.agent.AgentException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.deser.std.StdScalarDeserializer;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.ser.std.ToStringSerializer;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.time.format.DateTimeParseException;

/**
 * The one JSON codec of the installer and its platforms: sorted keys and pretty printing, so that plans, states and
 * policies diff well. Its mapper is private and fixed: it registers exactly the modules it names, never what
 * happens to be on the embedding application's class path, so the same value always gives the same text.
 */
public final class Json {
    /** Pretty, deterministic. */
    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .addModule(new Jdk8Module())
            .addModule(durations())
            .enable(SerializationFeature.INDENT_OUTPUT)
            .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
            .enable(MapperFeature.SORT_PROPERTIES_ALPHABETICALLY)
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();

    /** One object per line, for journals. */
    private static final ObjectMapper COMPACT = MAPPER.copy().disable(SerializationFeature.INDENT_OUTPUT);

    private Json() {}

    /**
     * {@link Duration} as ISO-8601 text ({@code PT1.5S}), as jackson-datatype-jsr310 writes it, without that
     * dependency: Jackson refuses java.time types it has no handler for, which broke {@code ApplyResult.toJson()}.
     */
    private static SimpleModule durations() {
        return new SimpleModule("durations")
                .addSerializer(Duration.class, ToStringSerializer.instance)
                .addDeserializer(Duration.class, new StdScalarDeserializer<Duration>(Duration.class) {
                    private static final long serialVersionUID = 1L;

                    @Override
                    public Duration deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
                        try {
                            return Duration.parse(p.getValueAsString());
                        } catch (DateTimeParseException e) {
                            return (Duration) ctxt.handleWeirdStringValue(Duration.class, p.getText(), e.getMessage());
                        }
                    }
                });
    }

    /**
     * @param value any serializable value
     * @return pretty JSON with a trailing newline
     */
    public static String write(Object value) {
        try {
            return MAPPER.writeValueAsString(value) + "\n";
        } catch (JsonProcessingException e) {
            throw new AgentException("Could not write " + value.getClass().getSimpleName() + " as JSON", e);
        }
    }

    /**
     * @param json JSON text
     * @param type the type to read
     * @param <T> the type
     * @return the value
     */
    public static <T> T read(String json, Class<T> type) {
        try {
            return MAPPER.readValue(json, type);
        } catch (JsonProcessingException e) {
            throw new AgentException(
                    "Not a valid " + type.getSimpleName() + " document: " + e.getOriginalMessage()
                            + ". Pass JSON written by " + type.getSimpleName() + ".toJson().",
                    e);
        }
    }

    /**
     * @param value any serializable value
     * @return it as one line of JSON, without a trailing newline (journal lines, AWS policy and template documents)
     */
    public static String compact(Object value) {
        try {
            return COMPACT.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new AgentException("Could not write " + value.getClass().getSimpleName() + " as JSON", e);
        }
    }

    /**
     * @param json JSON text
     * @return its tree
     * @throws JsonProcessingException when the text is not JSON
     */
    public static JsonNode parse(String json) throws JsonProcessingException {
        return MAPPER.readTree(json);
    }

    /**
     * @param json a stream of JSON text, not closed here
     * @return its tree
     * @throws IOException when the stream fails or is not JSON
     */
    public static JsonNode parse(InputStream json) throws IOException {
        return MAPPER.readTree(json);
    }

    /**
     * @param value any serializable value, e.g. a target's typed state
     * @return its tree
     */
    public static JsonNode tree(Object value) {
        return MAPPER.valueToTree(value);
    }

    /**
     * @param node a tree, e.g. a change's target state
     * @param type the type to read it as
     * @param <T> the type
     * @return the value
     * @throws IllegalArgumentException when the tree does not fit the type
     */
    public static <T> T convert(JsonNode node, Class<T> type) {
        return MAPPER.convertValue(node, type);
    }

    /** @return a new empty array node */
    public static ArrayNode array() {
        return MAPPER.createArrayNode();
    }

    /** @return a new empty object node */
    public static ObjectNode object() {
        return MAPPER.createObjectNode();
    }
}
