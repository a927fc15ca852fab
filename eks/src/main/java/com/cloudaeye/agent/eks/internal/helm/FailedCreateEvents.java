package com.cloudaeye.agent.eks.internal.helm;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * Why the DaemonSet controller could not create the agent's pods, from the {@code FailedCreate} Warning events it
 * records on the DaemonSet (e.g. {@code pods "x" is forbidden: violates PodSecurity "restricted:latest": ...}, when
 * PodSecurity admission rejects the agent's hostPath volumes). Read through the core/v1 events API: the controller
 * writes its events with the core/v1 recorder, so that API shows them as written (message, count, last timestamp), it
 * selects them by {@code involvedObject.uid} and {@code reason} on every Kubernetes version, and it is what {@code
 * kubectl describe} shows the operator. The caller needs {@code list} on {@code events} in the release namespace (the
 * Role of {@link InstallerRbac}); without it the wait falls back to its timeout.
 */
final class FailedCreateEvents {
    static final String REASON = "FailedCreate";

    /** Clock skew allowed between this machine and the API server when telling an event newer than the wait. */
    private static final long SKEW_SECONDS = 5;

    private FailedCreateEvents() {}

    /**
     * What the events say: the newest FailedCreate message, or that none exists yet, or that they could not be read.
     *
     * @param message the newest FailedCreate message since the wait started, null when none
     * @param readable false when the server refused to list the events
     */
    record Found(@Nullable String message, boolean readable) {
        /** @return the message when it is a refusal, which the controller's retries will get again */
        Optional<String> refusal() {
            return Optional.ofNullable(message).filter(m -> m.contains("forbidden"));
        }
    }

    /**
     * @param api the API server
     * @param namespace the DaemonSet's namespace
     * @param daemonSet its name
     * @param uid its uid, so that events of an earlier DaemonSet of that name are not taken for this one's
     * @param since when the wait started: older events are not this install's
     * @return the newest FailedCreate event's message since then
     */
    static Found find(KubeApi api, String namespace, String daemonSet, String uid, Instant since) {
        String selector = "involvedObject.kind=DaemonSet,involvedObject.uid=" + uid + ",reason=" + REASON;
        Optional<JsonNode> events = api.readIfAllowed(
                "api/v1/namespaces/" + namespace + "/events?fieldSelector="
                        + URLEncoder.encode(selector, StandardCharsets.UTF_8),
                "list the events of DaemonSet " + namespace + "/" + daemonSet);
        if (events.isEmpty()) {
            return new Found(null, false);
        }
        Instant newest = since.minusSeconds(SKEW_SECONDS);
        String message = null;
        for (JsonNode event : events.get().path("items")) {
            JsonNode about = event.path("involvedObject");
            if (!REASON.equals(event.path("reason").asText())
                    || !uid.equals(about.path("uid").asText())
                    || !daemonSet.equals(about.path("name").asText())) {
                continue; // a server that ignores the selector
            }
            Instant last = lastSeen(event);
            if (!last.isBefore(newest)) {
                newest = last;
                message = event.path("message").asText("");
            }
        }
        return new Found(message, true);
    }

    /** The event's last occurrence: its series', else its last timestamp, else its event time; EPOCH when none. */
    private static Instant lastSeen(JsonNode event) {
        Instant last = Instant.EPOCH;
        for (JsonNode time : new JsonNode[] {
            event.path("series").path("lastObservedTime"), event.path("lastTimestamp"), event.path("eventTime")
        }) {
            if (time.isTextual()) {
                try {
                    Instant t = Instant.parse(time.asText());
                    last = t.isAfter(last) ? t : last;
                } catch (DateTimeParseException e) {
                    // Not a time: the other fields decide.
                }
            }
        }
        return last;
    }

    /**
     * What to do about a FailedCreate refusal, naming the namespace: for PodSecurity, the namespace's label to change
     * (or, when no label of it rejects the agent, the cluster-wide admission configuration that does).
     *
     * @param api the API server
     * @param namespace the release namespace
     * @param message the event's message
     * @return the fix, a sentence
     */
    static String fix(KubeApi api, String namespace, String message) {
        String label = ReleasePlanner.POD_SECURITY_ENFORCE;
        String elsewhere = " or install into another namespace with AgentDaemonSet.namespace(...), and plan again.";
        if (!message.contains("PodSecurity")) {
            return "Fix what the event names in namespace " + namespace + " (kubectl get events -n " + namespace
                    + " --field-selector reason=" + REASON + ")," + elsewhere;
        }
        String level;
        try {
            level = api.namespace(namespace)
                    .map(n -> n.path("metadata").path("labels").path(label).asText(""))
                    .orElse("");
        } catch (RuntimeException e) {
            level = "";
        }
        String relabel = "label it " + label + "=privileged (kubectl label --overwrite namespace " + namespace + " "
                + label + "=privileged),";
        if (level.equals("baseline") || level.equals("restricted")) {
            return "Namespace " + namespace + " has " + label + "=" + level + " (set since planning?), which rejects"
                    + " the hostPath volumes the agent reads the node's logs from: " + relabel + elsewhere;
        }
        return "Namespace " + namespace + " has no " + label + " label that rejects the agent, so PodSecurity is"
                + " enforced cluster-wide by the API server's admission configuration, which rejects the hostPath"
                + " volumes the agent reads the node's logs from: " + relabel + " exempt the namespace in that"
                + " configuration," + elsewhere;
    }
}
