package com.cloudaeye.agent.eks.internal.helm;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * How far the agent DaemonSet has rolled out, read from the API server: complete when the controller has seen the
 * latest spec and every node the DaemonSet should run on (desired) has an updated pod that is ready. Helm's own wait
 * is weaker (it accepts {@code maxUnavailable} pods not ready, and a DaemonSet that matches no node), so the apply
 * checks this after Helm, and a failed wait is explained with the pods that are not ready.
 *
 * @param desired the nodes the DaemonSet should run on
 * @param updated the nodes running a pod of the latest spec
 * @param ready the nodes whose pod is ready
 * @param observed whether the controller has seen the latest spec
 * @param notReady why pods are not ready: "pod on node: reason", sorted by node
 * @param uid the DaemonSet's uid, empty when it is missing
 */
record Rollout(int desired, int updated, int ready, boolean observed, List<String> notReady, String uid) {
    Rollout {
        notReady = List.copyOf(notReady);
    }

    /** @return the API path of the DaemonSet {@code namespace/name} */
    static String path(String namespace, String name) {
        return "apis/apps/v1/namespaces/" + namespace + "/daemonsets/" + name;
    }

    /**
     * @param api the API server
     * @param namespace the DaemonSet's namespace
     * @param name its name
     * @return its rollout now; a missing DaemonSet reads as nothing desired and not observed
     */
    static Rollout read(KubeApi api, String namespace, String name) {
        JsonNode ds = api.read(path(namespace, name), "read DaemonSet " + namespace + "/" + name);
        JsonNode status = ds.path("status");
        boolean observed = ds.has("metadata")
                && status.path("observedGeneration").asLong(-1)
                        >= ds.path("metadata").path("generation").asLong(0);
        List<String> notReady = new ArrayList<>();
        String selector = selector(ds.path("spec").path("selector").path("matchLabels"));
        if (!selector.isEmpty()) {
            JsonNode pods = api.read(
                    "api/v1/namespaces/" + namespace + "/pods?labelSelector="
                            + URLEncoder.encode(selector, StandardCharsets.UTF_8),
                    "list the pods of DaemonSet " + namespace + "/" + name);
            Map<String, String> byNode = new TreeMap<>();
            for (JsonNode pod : pods.path("items")) {
                if (!isReady(pod)) {
                    byNode.put(
                            pod.path("spec").path("nodeName").asText("(no node yet)"),
                            pod.path("metadata").path("name").asText() + " " + why(pod));
                }
            }
            byNode.forEach((node, why) -> notReady.add("on " + node + ": " + why));
        }
        return new Rollout(
                status.path("desiredNumberScheduled").asInt(0),
                status.path("updatedNumberScheduled").asInt(0),
                status.path("numberReady").asInt(0),
                observed,
                notReady,
                ds.path("metadata").path("uid").asText(""));
    }

    /** @return true when every node that should run the agent runs the latest spec, ready */
    boolean complete() {
        return observed && desired > 0 && updated == desired && ready == desired;
    }

    /**
     * @return true when the controller has seen the latest spec and the DaemonSet should run on some node, but no pod
     *     of that spec exists: the DaemonSet controller could not create one (its FailedCreate events say why), or has
     *     not yet
     */
    boolean noPodCreated() {
        return observed && desired > 0 && updated == 0;
    }

    @Override
    public String toString() {
        if (observed && desired == 0) {
            return "the DaemonSet matches no node (check the chart's nodeSelector, affinity and tolerations against"
                    + " the nodes' labels and taints)";
        }
        return desired + " node(s) to run on, " + updated + " updated, " + ready + " ready"
                + (observed ? "" : ", the latest spec not yet seen by the DaemonSet controller")
                + (notReady.isEmpty() ? "" : "; not ready: " + String.join("; ", notReady));
    }

    private static String selector(JsonNode matchLabels) {
        List<String> terms = new ArrayList<>();
        for (var e : matchLabels.properties()) {
            terms.add(e.getKey() + "=" + e.getValue().asText());
        }
        return String.join(",", terms);
    }

    private static boolean isReady(JsonNode pod) {
        for (JsonNode condition : pod.path("status").path("conditions")) {
            if ("Ready".equals(condition.path("type").asText())) {
                return "True".equals(condition.path("status").asText());
            }
        }
        return false;
    }

    /** The first waiting or terminated container's reason and message, else the Ready condition's, else the phase. */
    private static String why(JsonNode pod) {
        for (JsonNode container : pod.path("status").path("containerStatuses")) {
            for (String state : List.of("waiting", "terminated")) {
                JsonNode s = container.path("state").path(state);
                if (s.has("reason")) {
                    return container.path("name").asText() + " " + state + " ("
                            + s.path("reason").asText()
                            + (s.has("message") ? ": " + s.path("message").asText() : "") + ")";
                }
            }
        }
        for (JsonNode condition : pod.path("status").path("conditions")) {
            if ("Ready".equals(condition.path("type").asText()) && condition.has("reason")) {
                return "not ready (" + condition.path("reason").asText()
                        + (condition.has("message")
                                ? ": " + condition.path("message").asText()
                                : "") + ")";
            }
        }
        return pod.path("status").path("phase").asText("Pending");
    }
}
