package com.cloudaeye.agent.lambda.internal;

import com.cloudaeye.agent.internal.Json;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * What a planned Lambda change does, kept in {@code Change.targetState()}. The environment is described as
 * operations on the live variables, never as a copy of them, so no user value lands in a plan or journal. A
 * {@code null} value in {@link #set} stands for the API token, read from the agent settings at apply time.
 *
 * @param revisionId the function's RevisionId when planned; the update is sent only against it (null only from
 *     emulators that do not track revisions)
 * @param layers the complete layer list to send
 * @param layersBefore the layer list when planned (for rollback)
 * @param set variables to set; a null value is the API token
 * @param remove variables to delete
 * @param save variables whose user value is copied to {@code CLOUDAEYE_SAVED__NAME} before {@link #set}
 * @param restore variables restored from {@code CLOUDAEYE_SAVED__NAME} (which is then deleted)
 * @param previous earlier non-secret values of the agent's own variables, for rollback of an upgrade
 * @param publish whether to publish a version after the update
 */
public record FunctionState(
        @Nullable String revisionId,
        List<String> layers,
        List<String> layersBefore,
        Map<String, @Nullable String> set,
        List<String> remove,
        List<String> save,
        List<String> restore,
        Map<String, String> previous,
        boolean publish) {

    /** @return this state as JSON for {@code Change.targetState()} */
    public JsonNode toJson() {
        return Json.MAPPER.valueToTree(this);
    }

    /**
     * @param node a change's target state
     * @return the state
     */
    public static FunctionState fromJson(JsonNode node) {
        return Json.MAPPER.convertValue(node, FunctionState.class);
    }
}
