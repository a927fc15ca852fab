package com.cloudaeye.agent.eks.internal.helm;

import com.cloudaeye.agent.spi.support.Json;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.Optional;
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
 * @param beforeChart the chart (name-version, e.g. {@code cloudaeye-agent-0.1.0}) of the revision before; null when
 *     not installed, and in plans and journals made before it was recorded. Those older versions kept the values of
 *     any release of the name, whatever its chart (a user's own, a later version), so a null here is read as "not
 *     known to be the bundled chart": undo and rollback then restore nothing themselves and name the {@code helm
 *     rollback} command instead, never installing the bundled chart with another chart's values.
 * @param pendingToFail a revision that this installer's own interrupted apply left pending, which apply marks failed
 *     before it upgrades (Helm refuses to upgrade a pending release); set by the rollback of that apply, else null
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
    "beforeValues",
    "beforeChart",
    "pendingToFail"
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
        @Nullable JsonNode beforeValues,
        @Nullable String beforeChart,
        @Nullable Integer pendingToFail) {

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

    /** @return whether the revision before ran the chart this module ships, the only one undo and rollback install */
    boolean beforeIsBundledChart() {
        return ChartFiles.ID.equals(beforeChart);
    }

    /**
     * @return why undo and rollback cannot put revision {@link #beforeRevision} back themselves (it ran another chart,
     *     or its chart was not recorded), with the command that can; empty when it ran the bundled chart
     */
    Optional<String> beforeChartNotRestorable() {
        if (beforeIsBundledChart()) {
            return Optional.empty();
        }
        return Optional.of("revision " + beforeRevision + " of release " + label() + " ran "
                + (beforeChart == null ? "a chart the plan did not record" : "chart " + beforeChart)
                + ", not the " + ChartFiles.ID + " this installer ships, so it cannot put that revision back: run '"
                + helmRollback(beforeRevision) + "'");
    }

    /**
     * @param revision a revision of this release
     * @return the command that rolls the release back to it, for what this installer cannot restore itself
     */
    String helmRollback(int revision) {
        return "helm rollback " + release + " " + revision + " -n " + namespace;
    }

    /**
     * @param revision the revision the next change starts from
     * @param newValues the values it installs
     * @param newBeforeValues the values before it, or null
     * @param newBeforeChart the chart of that revision, or null
     * @return this state for that next change
     */
    ReleaseState next(
            int revision, JsonNode newValues, @Nullable JsonNode newBeforeValues, @Nullable String newBeforeChart) {
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
                newBeforeValues,
                newBeforeChart,
                null);
    }

    /**
     * @param revision a revision this installer's interrupted apply left pending
     * @return this state, marking that revision failed before its upgrade
     */
    ReleaseState failingPending(int revision) {
        return new ReleaseState(
                cluster,
                clusterArn,
                namespace,
                release,
                timeoutSeconds,
                kubeconfig,
                defaultKubeconfig,
                beforeRevision,
                values,
                beforeValues,
                beforeChart,
                revision);
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
