package com.cloudaeye.agent.eks.internal.helm;

import com.cloudaeye.agent.spi.support.Json;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * What a planned Helm release change does, kept in {@code Change.targetState()}: everything apply and rollback need
 * (cluster, namespace, release, the non-secret chart values, the planned-from revision), so a saved plan applies in
 * another JVM. The agent token is never part of it. The JSON keeps the shape plans had before this type (the same
 * keys in the same order, absent ones left out), so saved plans and journals still read.
 *
 * @param cluster the cluster's name
 * @param clusterArn the cluster's ARN
 * @param namespace the release namespace
 * @param release the release name
 * @param timeoutSeconds how long Helm and the rollout may take; null in plans made before it was recorded
 * @param kubeconfig the caller's kubeconfig file, when the change goes through it; else null
 * @param defaultKubeconfig true when the change goes through the default kubeconfig; else null
 * @param beforeRevision the release's revision when planned, 0 when it was not installed
 * @param values the chart values to install (without the token)
 * @param beforeValues the values of the revision before, when they could be read; else null
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({
    "cluster",
    "clusterArn",
    "namespace",
    "release",
    "timeoutSeconds",
    "kubeconfig",
    "defaultKubeconfig",
    "beforeRevision",
    "values",
    "beforeValues"
})
public record ReleaseState(
        String cluster,
        String clusterArn,
        String namespace,
        String release,
        @Nullable Long timeoutSeconds,
        @Nullable String kubeconfig,
        @Nullable Boolean defaultKubeconfig,
        int beforeRevision,
        JsonNode values,
        @Nullable JsonNode beforeValues) {

    /** The timeout of plans made before it was recorded: {@code AgentDaemonSet}'s default. */
    static final Duration TIMEOUT_BEFORE_RECORDED = Duration.ofMinutes(5);

    /**
     * What an applied install or upgrade journals with its outcome.
     *
     * @param revision the release's revision it made, as Helm reports it (a number, written as text)
     */
    record Applied(String revision) {
        /** @return this as JSON for the journal's {@code appliedState} */
        JsonNode toJson() {
            return Json.tree(this);
        }
    }

    /** @return {@code namespace/release}, for messages */
    String label() {
        return namespace + "/" + release;
    }

    /** @return the timeout this change was planned with; {@link #TIMEOUT_BEFORE_RECORDED} in older plans */
    Duration timeout() {
        return timeoutSeconds == null ? TIMEOUT_BEFORE_RECORDED : Duration.ofSeconds(timeoutSeconds);
    }

    /** @return whether the change goes through the default kubeconfig */
    boolean usesDefaultKubeconfig() {
        return Boolean.TRUE.equals(defaultKubeconfig);
    }

    /** @return whether the change goes through a kubeconfig (the caller's, or the default one), not an EKS token */
    boolean throughKubeconfig() {
        return kubeconfig != null || usesDefaultKubeconfig();
    }

    /**
     * @param revision the revision the next change starts from
     * @param newValues the values it installs
     * @param newBeforeValues the values before it, or null
     * @return this state for that next change
     */
    ReleaseState next(int revision, JsonNode newValues, @Nullable JsonNode newBeforeValues) {
        return new ReleaseState(
                cluster,
                clusterArn,
                namespace,
                release,
                timeoutSeconds,
                kubeconfig,
                defaultKubeconfig,
                revision,
                newValues,
                newBeforeValues);
    }

    /** @return this state as JSON for {@code Change.targetState()} */
    public JsonNode toJson() {
        return Json.tree(this);
    }

    /**
     * @param node a release change's target state
     * @return the state
     */
    public static ReleaseState fromJson(JsonNode node) {
        return Json.convert(node, ReleaseState.class);
    }
}
