package com.cloudaeye.agent.eks.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.eks.LogType;
import com.cloudaeye.agent.spi.support.Json;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

/**
 * The typed state of a logging change reads what plans and journals written before it hold, and writes it back to the
 * letter (the tags written even when null).
 */
class LoggingStateTest {
    @Test
    void loggingState_plannedBefore_writesTheSameJson() throws Exception {
        JsonNode old = Json.parse("{\"cluster\":\"prod-eks\",\"before\":[\"api\"],\"enable\":[\"audit\","
                + "\"authenticator\"],\"disable\":[],\"tagBefore\":null,\"tagAfter\":\"audit,authenticator\"}");

        LoggingState state = LoggingState.fromJson(old);

        assertThat(Json.compact(state.toJson())).isEqualTo(Json.compact(old));
        assertThat(state.enableTypes()).containsExactly(LogType.AUDIT, LogType.AUTHENTICATOR);
        assertThat(state.beforeTypes()).containsExactly(LogType.API);
        assertThat(state.disableTypes()).isEmpty();
        assertThat(state.tagBefore()).isNull();
    }
}
