package com.cloudaeye.agent.eks.internal.access;

import com.cloudaeye.agent.spi.support.Json;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.JsonNode;

/**
 * What a planned creation or update of CloudAEye's cross-account role does, kept in {@code Change.targetState()}. The
 * JSON keeps the shape plans had before this type.
 *
 * @param cluster the cluster the role gives access to
 * @param description the role's description, which marks it as this installer's for this cluster
 * @param trustPolicy the trust policy, as JSON text
 * @param policy the inline read-only policy, as JSON text
 */
@JsonPropertyOrder({"cluster", "description", "trustPolicy", "policy"})
record RoleState(String cluster, String description, String trustPolicy, String policy) {

    /** @return this state as JSON for {@code Change.targetState()} */
    JsonNode toJson() {
        return Json.tree(this);
    }

    /**
     * @param node a role change's target state
     * @return the state
     */
    static RoleState fromJson(JsonNode node) {
        return Json.convert(node, RoleState.class);
    }
}
