package com.cloudaeye.agent.eks.internal.helm;

import java.util.OptionalInt;

/**
 * What to tell about a release whose latest revision Helm left pending (an install, upgrade or rollback that never
 * finished, ours or another helm's) or uninstalling (an uninstall that never finished): Helm refuses every other
 * operation on it, and helm-java has no rollback, so the user runs the fix Helm's own documentation gives.
 */
final class PendingReleases {
    private PendingReleases() {}

    /**
     * @param connection how to reach the cluster (to find the deployed revision to roll back to)
     * @param namespace the release namespace
     * @param release the release name
     * @param pending the release, pending
     * @return why it is left alone, with the command that resolves it
     */
    static String reason(ClusterConnection connection, String namespace, String release, InstalledRelease pending) {
        return "Release " + namespace + "/" + release + " revision " + pending.revision() + " is " + pending.status()
                + ": an interrupted Helm operation (this installer's or another helm's) left it so, and Helm refuses"
                + " any other until it is resolved. Run '" + fix(connection, namespace, release, pending)
                + "', then plan again (an interrupted apply of this installer is finished by resuming its journal).";
    }

    /**
     * The command that resolves a pending revision: roll back to the deployed revision below it, or uninstall; a
     * revision left uninstalling is someone's uninstall, which only finishing it resolves.
     */
    private static String fix(
            ClusterConnection connection, String namespace, String release, InstalledRelease pending) {
        if (pending.isUninstalling()) {
            return "helm uninstall " + release + " -n " + namespace;
        }
        OptionalInt deployed = connection
                .api()
                .map(api -> api.deployedRevisionBelow(namespace, release, pending.revision()))
                .orElse(OptionalInt.empty());
        if (deployed.isEmpty() && (pending.revision() == 1 || "pending-install".equals(pending.status()))) {
            return "helm uninstall " + release + " -n " + namespace;
        }
        return "helm rollback " + release + " " + deployed.orElse(pending.revision() - 1) + " -n " + namespace;
    }
}
