package com.cloudaeye.agent.eks.internal.helm;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Optional;

/**
 * A Helm release as installed in the cluster.
 *
 * @param revision its latest revision
 * @param status Helm's status of that revision ({@code deployed}, {@code failed}, {@code pending-upgrade}, ...)
 * @param chart the chart name and version, e.g. {@code cloudaeye-agent-0.1.0}
 * @param manifest the manifests it installed, absent when the connection cannot read release storage
 * @param values the values it was installed with, the agent token removed; absent when not readable
 */
record InstalledRelease(
        int revision, String status, String chart, Optional<String> manifest, Optional<JsonNode> values) {
    /**
     * @param name a chart name
     * @return true when the release runs a version of the chart of that name ({@link #chart} is name-version, and a
     *     Helm chart version is SemVer, with an optional leading {@code v})
     */
    boolean runsChart(String name) {
        return chart.startsWith(name + "-")
                && chart.substring(name.length() + 1).matches("v?[0-9].*");
    }

    /** @return true when Helm considers the release installed and healthy */
    boolean isDeployed() {
        return "deployed".equals(status);
    }

    /**
     * @return true when an install, upgrade or rollback of it never finished ({@code pending-install}, {@code
     *     pending-upgrade}, {@code pending-rollback}): Helm refuses every other operation on it until it is resolved
     */
    boolean isPending() {
        return status.startsWith("pending-");
    }

    /**
     * @return true when an uninstall of it never finished ({@code uninstalling}; Helm records that before it deletes
     *     anything): Helm upgrades only a release with a deployed revision and installs only a name not in use, so
     *     nothing but finishing the uninstall resolves it
     */
    boolean isUninstalling() {
        return "uninstalling".equals(status);
    }
}
