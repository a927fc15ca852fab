package com.cloudaeye.agent.eks.internal.access;

import com.cloudaeye.agent.spi.support.Json;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.JsonNode;
import org.jspecify.annotations.Nullable;

/**
 * What a planned change of CloudAEye's stack does, kept in {@code Change.targetState()}: a creation carries the
 * template, a deletion the stack and the policy to detach. The JSON keeps the shape plans had before this type.
 *
 * @param cluster the cluster the stack gives access to
 * @param template the template to create the stack from; null for a deletion
 * @param stackId the stack to delete; null for a creation
 * @param policyArn the managed policy detached from the user before the deletion; null for a creation
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"cluster", "template", "stackId", "policyArn"})
record StackState(
        String cluster,
        @Nullable String template,
        @Nullable String stackId,
        @Nullable String policyArn) {

    /**
     * What a stack creation journals with its outcome.
     *
     * @param stackId the stack it created
     */
    record Applied(String stackId) {
        /** @return this as JSON for the journal's {@code appliedState} */
        JsonNode toJson() {
            return Json.tree(this);
        }
    }

    /** @return this state as JSON for {@code Change.targetState()} */
    JsonNode toJson() {
        return Json.tree(this);
    }

    /**
     * @param node a stack change's target state
     * @return the state
     */
    static StackState fromJson(JsonNode node) {
        return Json.convert(node, StackState.class);
    }
}
