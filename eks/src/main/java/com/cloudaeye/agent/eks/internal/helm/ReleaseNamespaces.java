package com.cloudaeye.agent.eks.internal.helm;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The release's namespace when the install creates it: annotated as the install's, and deleted only then. */
final class ReleaseNamespaces {
    private static final Duration NAMESPACE_POLL = Duration.ofMillis(500);
    private static final Logger LOG = LoggerFactory.getLogger(ReleaseNamespaces.class);

    private ReleaseNamespaces() {}

    static boolean createdByInstall(JsonNode namespace, String release) {
        return release.equals(namespace
                .path("metadata")
                .path("annotations")
                .path(HelmReleaseComponent.NAMESPACE_CREATED_FOR)
                .asText());
    }

    /**
     * Creates the release's namespace, annotated as this install's, when it does not exist (waiting out one that is
     * still terminating after an uninstall).
     *
     * @return true when the namespace is this install's: created now, or by an earlier attempt that was killed
     */
    static boolean createNamespace(ClusterConnection connection, String namespace, String release, Duration timeout) {
        Optional<KubeApi> api = connection.api();
        if (api.isEmpty()) {
            return false; // Helm creates it, and it stays: the plan said so
        }
        Optional<JsonNode> existing = waitUntilNotTerminating(api.get(), namespace, timeout);
        if (existing.isPresent()) {
            return createdByInstall(existing.get(), release);
        }
        LOG.info("Creating namespace {} for Helm release {}", namespace, release);
        api.get().createNamespace(namespace, Map.of(HelmReleaseComponent.NAMESPACE_CREATED_FOR, release));
        return true;
    }

    /** @return true when the release's namespace exists, not terminating, and an install of the release created it */
    static boolean ownNamespaceExists(ClusterConnection connection, String namespace, String release) {
        return connection
                .api()
                .flatMap(a -> a.namespace(namespace))
                .filter(n -> !n.path("metadata").has("deletionTimestamp"))
                .filter(n -> createdByInstall(n, release))
                .isPresent();
    }

    /**
     * Deletes the release's namespace if the install created it, and waits up to the timeout until it is gone.
     *
     * @return what to add to the applied message
     */
    static String deleteOwnNamespace(ClusterConnection connection, String namespace, String release, Duration timeout) {
        Optional<KubeApi> api = connection.api();
        Optional<JsonNode> existing = api.flatMap(a -> a.namespace(namespace));
        if (api.isEmpty() || existing.isEmpty() || !createdByInstall(existing.get(), release)) {
            return "";
        }
        LOG.info("Deleting namespace {}, which the install of Helm release {} created", namespace, release);
        api.get().deleteNamespace(namespace);
        return waitUntilNotTerminating(api.get(), namespace, timeout).isEmpty()
                ? "; namespace " + namespace + " deleted"
                : "; namespace " + namespace + " is being deleted";
    }

    /** @return the namespace once it is not terminating, empty once it is gone or still terminating at the timeout */
    private static Optional<JsonNode> waitUntilNotTerminating(KubeApi api, String namespace, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Optional<JsonNode> now = api.namespace(namespace);
            if (now.isEmpty() || !now.get().path("metadata").has("deletionTimestamp")) {
                return now;
            }
            if (System.nanoTime() >= deadline) {
                return Optional.empty();
            }
            try {
                Thread.sleep(NAMESPACE_POLL.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("Interrupted while namespace " + namespace + " was terminating", e);
            }
        }
    }
}
