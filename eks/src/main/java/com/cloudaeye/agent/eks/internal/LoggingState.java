package com.cloudaeye.agent.eks.internal;

import com.cloudaeye.agent.eks.LogType;
import com.cloudaeye.agent.spi.support.Json;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * What a planned control-plane logging change does, kept in {@code Change.targetState()}. Log types are EKS's names
 * ({@code api}, {@code audit}, ...). The JSON keeps the shape plans had before this type (the same keys in the same
 * order, the tags written even when null), so saved plans and journals still read.
 *
 * @param cluster the cluster's name
 * @param before the log types enabled when planned
 * @param enable the log types to enable
 * @param disable the log types to disable
 * @param tagBefore the installer's tag on the cluster when planned, or null
 * @param tagAfter the tag the change sets, or null to remove it
 */
@JsonPropertyOrder({"cluster", "before", "enable", "disable", "tagBefore", "tagAfter"})
record LoggingState(
        String cluster,
        List<String> before,
        List<String> enable,
        List<String> disable,
        @Nullable String tagBefore,
        @Nullable String tagAfter) {

    /**
     * @param cluster the cluster's name
     * @param before the log types enabled when planned
     * @param enable the log types to enable
     * @param disable the log types to disable
     * @param tagBefore the installer's tag when planned, or null
     * @param tagAfter the tag the change sets, or null
     * @return the state
     */
    static LoggingState of(
            String cluster,
            Set<LogType> before,
            Set<LogType> enable,
            Set<LogType> disable,
            @Nullable String tagBefore,
            @Nullable String tagAfter) {
        return new LoggingState(
                cluster,
                ControlPlaneLogging.awsNames(before),
                ControlPlaneLogging.awsNames(enable),
                ControlPlaneLogging.awsNames(disable),
                tagBefore,
                tagAfter);
    }

    /**
     * What a logging change journals with its outcome.
     *
     * @param enabled the log types enabled once it applied, EKS's names
     */
    record Applied(List<String> enabled) {
        /** @return this as JSON for the journal's {@code appliedState} */
        JsonNode toJson() {
            return Json.tree(this);
        }
    }

    /**
     * What an UNKNOWN logging change journals when the installer's tag it set first may still be on the cluster (its
     * update was refused or not confirmed, and the tag's undo was not confirmed either).
     *
     * @param tag the tag's value the change set, or null when it removed the tag
     */
    record TagSent(@Nullable String tag) {
        /** @return this as JSON for the journal's {@code appliedState}; the tag is written even when null */
        JsonNode toJson() {
            return Json.object().put("tag", tag);
        }

        /**
         * @param appliedState what the journal holds beside a logging change, if anything
         * @return the tag value a {@code TagSent} state names; empty for other states and for a removed tag
         */
        static Optional<String> tag(Optional<JsonNode> appliedState) {
            return appliedState
                    .map(s -> s.path("tag"))
                    .filter(JsonNode::isTextual)
                    .map(JsonNode::asText);
        }
    }

    /**
     * What an UNKNOWN logging change journals of the update it sent: its id, when EKS returned one, so that a rollback
     * can see whether it still runs (EKS refuses another update of the cluster until it ends).
     *
     * @param tagSent whether {@code tag} is journaled (the change set the installer's tag first)
     * @param tag as {@link TagSent#tag}
     * @param updateId the id of the UpdateClusterConfig it sent, or null
     * @return the state, or null when there is nothing to journal
     */
    static @Nullable JsonNode unknownState(boolean tagSent, @Nullable String tag, @Nullable String updateId) {
        if (!tagSent && updateId == null) {
            return null;
        }
        ObjectNode state = Json.object();
        if (tagSent) {
            // As TagSent writes it: the tag even when null.
            state.put("tag", tag);
        }
        if (updateId != null) {
            state.put("updateId", updateId);
        }
        return state;
    }

    /**
     * @param appliedState what the journal holds beside a logging change, if anything
     * @return the id of the cluster update the change sent and journaled, if any
     */
    static Optional<String> updateId(Optional<JsonNode> appliedState) {
        return appliedState
                .map(s -> s.path("updateId"))
                .filter(JsonNode::isTextual)
                .map(JsonNode::asText);
    }

    /** @return {@link #before} as log types */
    Set<LogType> beforeTypes() {
        return types(before);
    }

    /** @return {@link #enable} as log types */
    Set<LogType> enableTypes() {
        return types(enable);
    }

    /** @return {@link #disable} as log types */
    Set<LogType> disableTypes() {
        return types(disable);
    }

    private static Set<LogType> types(List<String> names) {
        Set<LogType> out = EnumSet.noneOf(LogType.class);
        names.forEach(n -> out.add(LogType.fromAwsName(n)));
        return out;
    }

    /** @return this state as JSON for {@code Change.targetState()} */
    JsonNode toJson() {
        return Json.tree(this);
    }

    /**
     * @param node a logging change's target state
     * @return the state
     */
    static LoggingState fromJson(JsonNode node) {
        return Json.convert(node, LoggingState.class);
    }
}
