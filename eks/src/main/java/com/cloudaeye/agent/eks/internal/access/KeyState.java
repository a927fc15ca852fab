package com.cloudaeye.agent.eks.internal.access;

import com.cloudaeye.agent.spi.support.Json;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * What a planned change of the IAM user's access keys does, kept in {@code Change.targetState()}. The JSON keeps the
 * shape plans had before this type.
 *
 * @param user the IAM user
 * @param keysBefore a creation's: the user's key ids when planned, sorted; null in plans made before they were
 *     recorded
 * @param keys a deletion's: the key ids to delete, sorted; null for a creation
 * @param reuseKeyId a creation's: the key CloudAEye still holds (the target's {@code reuseAccessKey}), so that the
 *     apply makes none when the user has it by then; null when none was named (and in plans made before it was
 *     recorded)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"user", "keysBefore", "keys", "reuseKeyId"})
record KeyState(
        String user,
        @Nullable List<String> keysBefore,
        @Nullable List<String> keys,
        @Nullable String reuseKeyId) {

    /**
     * What a key creation journals with its outcome (never the secret).
     *
     * @param accessKeyId the key it created
     */
    record Applied(String accessKeyId) {
        /** @return this as JSON for the journal's {@code appliedState} */
        JsonNode toJson() {
            return Json.tree(this);
        }

        /**
         * @param appliedState what the journal holds beside a key change, if anything
         * @return the id of the key the change created, when it journaled one
         */
        static Optional<String> keyId(Optional<JsonNode> appliedState) {
            return appliedState.map(s -> s.path("accessKeyId").asText("")).filter(id -> !id.isEmpty());
        }
    }

    /** @return this state as JSON for {@code Change.targetState()} */
    JsonNode toJson() {
        return Json.tree(this);
    }

    /**
     * @param node a key change's target state
     * @return the state
     */
    static KeyState fromJson(JsonNode node) {
        return Json.convert(node, KeyState.class);
    }
}
