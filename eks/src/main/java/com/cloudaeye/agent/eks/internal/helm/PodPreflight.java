package com.cloudaeye.agent.eks.internal.helm;

import com.cloudaeye.agent.PlanningException;
import com.cloudaeye.agent.Secret;
import com.cloudaeye.agent.spi.support.Json;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Asks the API server, before Helm changes anything, whether it admits the agent's pods: a server-side dry run
 * ({@code POST .../pods?dryRun=All}) of a Pod made from the rendered DaemonSet's pod template, with a generated name
 * and no node. The dry run goes through every admission step a pod of the DaemonSet controller goes through
 * (PodSecurity, also a cluster-wide default no namespace label shows; ResourceQuota; ValidatingAdmissionPolicy;
 * admission webhooks) and stores nothing. A refusal found here ends the plan (and the apply, which asks again) before
 * an upgrade's rolling update deletes a node's running agent pod whose replacement the server would refuse.
 *
 * <p>The caller may lack {@code create} on pods (RBAC cannot limit a right to dry runs): then the pre-flight does not
 * run, and the plan says so in a note; the namespace label check of {@link ReleasePlanner} still applies.
 */
final class PodPreflight {
    private static final Logger LOG = LoggerFactory.getLogger(PodPreflight.class);
    private static final ObjectMapper YAML = new YAMLMapper();

    /**
     * What the dry run found.
     *
     * @param refusal why the API server refuses the agent's pods, with the fix; empty when it admits them
     * @param note why the pre-flight could not run, for the plan's notes; empty when it ran
     */
    record Result(Optional<String> refusal, Optional<String> note) {
        static final Result ADMITTED = new Result(Optional.empty(), Optional.empty());
    }

    private PodPreflight() {}

    /**
     * Dry-runs the create of one agent pod in the release namespace, which must exist (and not be terminating).
     *
     * @param api the API server
     * @param namespace the release namespace
     * @param release the release name
     * @param desired the rendered manifests, with the agent DaemonSet
     * @param token the agent token, masked in anything quoted from the server
     * @return what the server said
     * @throws PlanningException when the server cannot be reached or fails the request (HTTP 5xx, 429), except for
     *     a fail-closed webhook it cannot call, which is a refusal
     */
    static Result check(KubeApi api, String namespace, String release, Manifests desired, Secret token) {
        String daemonSet = AgentChart.fullName(release);
        String yaml = desired.get("DaemonSet/" + daemonSet)
                .orElseThrow(() -> new IllegalStateException("the agent chart rendered no DaemonSet " + daemonSet));
        ObjectNode pod = pod(yaml, namespace, daemonSet);
        KubeApi.DryRun answer = dryRun(api, namespace, daemonSet, pod);
        if (missingServiceAccount(answer)) {
            // Admission looks up the pod's ServiceAccount first, and the chart's comes with the release (a first
            // install, or a renamed one): the namespace's default account stands in for it, so that the steps that
            // matter here (PodSecurity, quota, policies, webhooks) still answer.
            ((ObjectNode) pod.path("spec")).remove(List.of("serviceAccountName", "serviceAccount"));
            answer = dryRun(api, namespace, daemonSet, pod);
            if (missingServiceAccount(answer)) {
                LOG.debug(
                        "No ServiceAccount in namespace {} to dry-run an agent pod with: {}",
                        namespace,
                        answer.message());
                return new Result(
                        Optional.empty(),
                        Optional.of("Release " + namespace + "/" + release + ": whether the API server admits the"
                                + " agent's pods could not be checked before installing: namespace " + namespace
                                + " has neither the chart's ServiceAccount nor a default one yet to dry-run a pod"
                                + " with, so only the namespace's PodSecurity label was checked."));
            }
        }
        Result result = classify(answer, namespace, release, token);
        if (result.refusal().isEmpty()) {
            return result;
        }
        return QuotaRoom.parse(answer.message())
                .flatMap(quota -> upgradeInFullQuota(api, namespace, release, daemonSet, yaml, quota, token))
                .orElse(result);
    }

    /**
     * A quota that refuses the dry run's extra pod may still take an upgrade, which replaces each running agent pod
     * with a new one ({@link QuotaRoom}), if the namespace's other quotas, which admission did not get to, have room
     * for that too.
     *
     * @return the plan's note when the upgrade fits; a refusal naming the other quota that has no room; empty when the
     *     dry run's refusal stands
     */
    private static Optional<Result> upgradeInFullQuota(
            KubeApi api,
            String namespace,
            String release,
            String daemonSet,
            String yaml,
            QuotaRoom.Refusal quota,
            Secret token) {
        JsonNode running = api.readIfAllowed(
                        Rollout.path(namespace, daemonSet), "read DaemonSet " + namespace + "/" + daemonSet)
                .orElseGet(Json::object);
        JsonNode desired = readYaml(yaml);
        if (!QuotaRoom.replacementFits(quota, running, desired)) {
            return Optional.empty();
        }
        Optional<JsonNode> quotas = api.readIfAllowed(
                "api/v1/namespaces/" + namespace + "/resourcequotas",
                "list the ResourceQuotas of namespace " + namespace);
        Optional<String> otherRefuses = quotas.flatMap(list -> list.path("items")
                .valueStream()
                .filter(q -> !q.path("metadata").path("name").asText().equals(quota.quota()))
                .flatMap(q -> QuotaRoom.otherQuotaRefuses(q, running, desired).stream())
                .findFirst());
        if (otherRefuses.isPresent()) {
            // The dry run's refusal stands, told with the quota that refuses the replacement too.
            String message =
                    quota.text() + "; the upgrade replaces the agent's pods one for one, but " + otherRefuses.get();
            return Optional.of(new Result(
                    Optional.of(refusal(namespace, release, 403, AgentChart.mask(message, token))), Optional.empty()));
        }
        return Optional.of(new Result(
                Optional.empty(),
                Optional.of("Release " + namespace + "/" + release + ": ResourceQuota " + quota.quota()
                        + " in namespace " + namespace + " has no room for one more agent pod (the API server's dry"
                        + " run of one: " + quota.text() + "), but the upgrade replaces the agent's pods one for one"
                        + " (the rolling update deletes a node's pod before it creates the new one), so it fits. A node"
                        + " that joins later gets no agent pod until the quota has room: raise it (kubectl get"
                        + " resourcequota -n " + namespace + ")."
                        + (quotas.isPresent()
                                ? ""
                                : " The namespace's other ResourceQuotas could not be listed (the caller may not"
                                        + " list resourcequotas), so only this one was checked."))));
    }

    private static KubeApi.DryRun dryRun(KubeApi api, String namespace, String daemonSet, ObjectNode pod) {
        return api.dryRunCreate(
                "api/v1/namespaces/" + namespace + "/pods",
                pod,
                "dry-run the create of a pod of DaemonSet " + namespace + "/" + daemonSet);
    }

    /** The ServiceAccount admission's refusal of a pod whose account does not exist (yet). */
    static boolean missingServiceAccount(KubeApi.DryRun answer) {
        return answer.code() == 403 && answer.message().contains("error looking up service account");
    }

    /**
     * @param answer the server's answer to the dry run
     * @param namespace the release namespace
     * @param release the release name
     * @param token the agent token, masked in the quoted message
     * @return the refusal, the note of a pre-flight that could not run, or neither
     */
    static Result classify(KubeApi.DryRun answer, String namespace, String release, Secret token) {
        int code = answer.code();
        String message = AgentChart.mask(answer.message(), token).strip();
        if (answer.admitted() || code == 404) {
            // 404: the namespace went since it was read; the install creates it, with nothing in it to refuse.
            return Result.ADMITTED;
        }
        if (code == 401 || (code == 403 && message.contains("cannot create resource"))) {
            // RBAC's refusal of the caller, not admission's of the pod: nothing is known about admission.
            LOG.debug(
                    "The pre-flight dry run of an agent pod in namespace {} was refused (HTTP {}): {}",
                    namespace,
                    code,
                    message);
            return new Result(
                    Optional.empty(),
                    Optional.of("Release " + namespace + "/" + release + ": whether the API server admits the agent's"
                            + " pods could not be checked before installing (a server-side dry run of one pod was"
                            + " refused: the caller may not create pods in namespace " + namespace + ", HTTP " + code
                            + "), so only the namespace's PodSecurity label was checked; a quota, admission policy or"
                            + " webhook that refuses the pods would show only when the rollout gets no pod. Grant"
                            + " create on pods in the namespace (the RBAC these notes list) to have it checked."));
        }
        if (code == 400 || code == 403 || code == 422 || unreachableWebhook(code, message)) {
            return new Result(Optional.of(refusal(namespace, release, code, message)), Optional.empty());
        }
        throw new PlanningException("The Kubernetes API server answered HTTP " + code + " to a dry-run create of an"
                + " agent pod in namespace " + namespace + (message.isEmpty() ? "" : ": " + message)
                + ". Plan again; if it persists, check the API server (and its admission webhooks).");
    }

    /**
     * A fail-closed webhook ({@code failurePolicy: Fail}) that the API server cannot call: it refuses every pod of the
     * namespace, the DaemonSet controller's too, until it answers. A refusal of this change, not a failure of the whole
     * plan, so that the plan's other targets are still planned.
     */
    private static boolean unreachableWebhook(int code, String message) {
        return code == 500 && message.contains("failed calling webhook");
    }

    private static String refusal(String namespace, String release, int code, String message) {
        return "The API server refuses the agent's pods in namespace " + namespace + " (a server-side dry run of one"
                + " pod of release " + namespace + "/" + release + " answered HTTP " + code + ": "
                + (message.isEmpty() ? "no reason given" : message) + "), so the DaemonSet would get no pod, and an"
                + " upgrade's rolling update would take the running agent off each node it reaches. Nothing was"
                + " changed. " + fix(namespace, message);
    }

    /** What to do about a refusal, by what the server named. */
    static String fix(String namespace, String message) {
        String elsewhere = " or install into another namespace with AgentDaemonSet.namespace(...), and plan again.";
        if (message.contains("PodSecurity")) {
            String label = ReleasePlanner.POD_SECURITY_ENFORCE;
            return "PodSecurity rejects the hostPath volumes the agent reads the node's logs from: label the"
                    + " namespace " + label + "=privileged (kubectl label --overwrite namespace " + namespace + " "
                    + label + "=privileged); when no label of the namespace sets that level, it is the API server's"
                    + " cluster-wide admission configuration: exempt the namespace there," + elsewhere;
        }
        if (QuotaRoom.isQuotaRefusal(message)) {
            return "The agent needs one pod per node: raise or remove the ResourceQuota the message names (kubectl"
                    + " get resourcequota -n " + namespace + ")," + elsewhere;
        }
        if (message.contains("ValidatingAdmissionPolicy")) {
            return "The agent needs its hostPath volumes to read the node's logs: exempt namespace " + namespace
                    + " from the ValidatingAdmissionPolicy the message names (kubectl get"
                    + " validatingadmissionpolicies,validatingadmissionpolicybindings)," + elsewhere;
        }
        if (message.contains("failed calling webhook")) {
            return "The admission webhook the message names fails closed and the API server cannot call it, so it"
                    + " refuses every pod created in the namespace until it answers: bring its service back (kubectl get"
                    + " validatingwebhookconfigurations,mutatingwebhookconfigurations names it), exempt namespace "
                    + namespace + " from it," + elsewhere;
        }
        if (message.contains("admission webhook")) {
            return "Exempt namespace " + namespace + " from the admission webhook the message names (kubectl get"
                    + " validatingwebhookconfigurations,mutatingwebhookconfigurations)," + elsewhere;
        }
        return "Fix what the message names in namespace " + namespace + "," + elsewhere;
    }

    /**
     * @param daemonSetYaml the rendered DaemonSet
     * @param namespace the release namespace
     * @param daemonSet the DaemonSet's name
     * @return a Pod of its template, as the DaemonSet controller would create it: the template's labels (which
     *     policies and quota scopes may select on), annotations and spec, a generated name, no node
     */
    static ObjectNode pod(String daemonSetYaml, String namespace, String daemonSet) {
        JsonNode template = readYaml(daemonSetYaml).path("spec").path("template");
        ObjectNode pod = Json.object();
        pod.put("apiVersion", "v1");
        pod.put("kind", "Pod");
        ObjectNode metadata = pod.putObject("metadata");
        metadata.put("generateName", daemonSet + "-preflight-");
        metadata.put("namespace", namespace);
        for (String field : new String[] {"labels", "annotations"}) {
            if (template.path("metadata").path(field).isObject()) {
                metadata.set(field, template.path("metadata").path(field).deepCopy());
            }
        }
        pod.set("spec", template.path("spec").isObject() ? template.path("spec").deepCopy() : Json.object());
        ((ObjectNode) pod.path("spec")).remove("nodeName");
        return pod;
    }

    private static JsonNode readYaml(String daemonSetYaml) {
        try {
            return YAML.readTree(daemonSetYaml);
        } catch (IOException e) {
            throw new IllegalStateException("the agent chart rendered a DaemonSet that is not YAML", e);
        }
    }
}
