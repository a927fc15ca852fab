package com.cloudaeye.agent.eks.internal.access;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.spi.support.Json;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

/**
 * The typed states of CloudAEye's access read what plans and journals written before them hold, and write it back to
 * the letter: the same keys, in the same order, absent ones left out.
 */
class AccessStatesTest {
    private static void roundTrips(String json, java.util.function.Function<JsonNode, JsonNode> through)
            throws Exception {
        JsonNode old = Json.parse(json);
        assertThat(Json.compact(through.apply(old))).isEqualTo(Json.compact(old));
    }

    @Test
    void stackState_ofACreationAndADeletion_writesTheSameJson() throws Exception {
        roundTrips(
                "{\"cluster\":\"prod\",\"template\":\"{}\"}",
                n -> StackState.fromJson(n).toJson());
        roundTrips(
                "{\"cluster\":\"prod\",\"stackId\":\"arn:stack\",\"policyArn\":\"arn:policy\"}",
                n -> StackState.fromJson(n).toJson());
    }

    @Test
    void keyState_ofACreationAndADeletion_writesTheSameJson() throws Exception {
        roundTrips(
                "{\"user\":\"CloudAEyeServiceAccount\",\"keysBefore\":[]}",
                n -> KeyState.fromJson(n).toJson());
        roundTrips(
                "{\"user\":\"CloudAEyeServiceAccount\",\"keys\":[\"AKIA1\",\"AKIA2\"]}",
                n -> KeyState.fromJson(n).toJson());
    }

    @Test
    void keyState_fromAPlanBeforeKeysWereRecorded_hasNone() throws Exception {
        KeyState state = KeyState.fromJson(Json.parse("{\"user\":\"CloudAEyeServiceAccount\"}"));

        assertThat(state.keysBefore()).isNull();
        assertThat(state.keys()).isNull();
    }

    @Test
    void roleState_writesTheSameJson() throws Exception {
        roundTrips(
                "{\"cluster\":\"prod\",\"description\":\"d\",\"trustPolicy\":\"{}\",\"policy\":\"{}\"}",
                n -> RoleState.fromJson(n).toJson());
    }
}
