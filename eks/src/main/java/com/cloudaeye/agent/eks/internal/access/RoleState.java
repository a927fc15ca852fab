package com.cloudaeye.agent.eks.internal.access;

import com.cloudaeye.agent.spi.support.Json;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.JsonNode;
import org.jspecify.annotations.Nullable;

/**
 * What a planned creation or update of CloudAEye's cross-account role does, kept in {@code Change.targetState()}. The
 * JSON keeps the shape plans had before this type; the before-state is left out when there is none.
 *
 * @param cluster the cluster the role gives access to
 * @param description the role's description, which marks it as this installer's for this cluster
 * @param trustPolicy the trust policy, as JSON text
 * @param policy the inline read-only policy, as JSON text
 * @param trustBefore an update's: the trust policy the role had when planned, as JSON text, so that a rollback can
 *     put it back; null for a creation (and in plans made before it was recorded)
 * @param policyBefore an update's: the inline policy the role had when planned, as JSON text; null for a creation,
 *     for a role that had none, and in plans made before it was recorded
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"cluster", "description", "trustPolicy", "policy", "trustBefore", "policyBefore"})
record RoleState(
        String cluster,
        String description,
        String trustPolicy,
        String policy,
        @Nullable String trustBefore,
        @Nullable String policyBefore) {

    /** A creation's state: there is no before-state. */
    RoleState(String cluster, String description, String trustPolicy, String policy) {
        this(cluster, description, trustPolicy, policy, null, null);
    }

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
