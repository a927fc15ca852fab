package com.cloudaeye.agent.eks.internal.helm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.cloudaeye.agent.AgentSettings;
import com.cloudaeye.agent.PlanningException;
import com.cloudaeye.agent.Secret;
import com.cloudaeye.agent.eks.AgentDaemonSet;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

/**
 * How the pre-flight reads the API server's answer to its dry run, and the pod it sends; the real server's answers
 * (quota, admission policy, RBAC) are in {@code AdmissionPreflightIT} and {@code InstallerRbacIT}.
 */
class PodPreflightTest {
    private static final Secret TOKEN = Secret.of("tok-unit-preflight-91ac");

    @Test
    void admitted_orNamespaceGone_isNeitherRefusalNorNote() {
        assertThat(classify(201, "")).isEqualTo(PodPreflight.Result.ADMITTED);
        assertThat(classify(200, "")).isEqualTo(PodPreflight.Result.ADMITTED);
        assertThat(classify(404, "namespaces \"agents\" not found")).isEqualTo(PodPreflight.Result.ADMITTED);
    }

    @Test
    void rbacRefusalOfTheCaller_isANoteThatThePreflightCouldNotRun_notARefusal() {
        PodPreflight.Result result = classify(
                403,
                "pods is forbidden: User \"eks:AKIDX\" cannot create resource \"pods\" in API group \"\" in the"
                        + " namespace \"agents\"");

        assertThat(result.refusal()).isEmpty();
        assertThat(result.note())
                .hasValueSatisfying(n -> assertThat(n)
                        .contains(
                                "Release agents/agent",
                                "could not be checked",
                                "may not create pods in namespace agents",
                                "only the namespace's PodSecurity label was checked",
                                "Grant create on pods")
                        .doesNotContain("AKIDX"));
        assertThat(classify(401, "Unauthorized").note()).isPresent();
    }

    @Test
    void quotaRefusal_namesTheNamespaceReleaseQuotaAndFix() {
        String refusal = refusal(
                403,
                "pods \"agent-cloudaeye-agent-preflight-x1\" is forbidden: exceeded quota: no-pods, requested:"
                        + " pods=1, used: pods=3, limited: pods=0");

        assertThat(refusal)
                .contains(
                        "refuses the agent's pods in namespace agents",
                        "release agents/agent",
                        "HTTP 403",
                        "exceeded quota: no-pods",
                        "Nothing was changed",
                        "kubectl get resourcequota -n agents",
                        "AgentDaemonSet.namespace(...)");
    }

    @Test
    void admissionPolicyRefusal_quotesThePolicy_andNamesWhereToExemptTheNamespace() {
        String refusal = refusal(
                422,
                "pods \"x\" is forbidden: ValidatingAdmissionPolicy 'no-hostpath' with binding 'no-hostpath' denied"
                        + " request: hostPath volumes are not allowed");

        assertThat(refusal)
                .contains("ValidatingAdmissionPolicy 'no-hostpath'", "hostPath volumes are not allowed")
                .contains("exempt namespace agents", "validatingadmissionpolicies");
    }

    @Test
    void podSecurityRefusal_givesTheLabelFix_andTheClusterWideConfiguration() {
        String refusal = refusal(
                403,
                "pods \"x\" is forbidden: violates PodSecurity \"baseline:latest\": hostPath volumes (volume \"logs\")");

        assertThat(refusal)
                .contains(
                        "violates PodSecurity \"baseline:latest\"",
                        "kubectl label --overwrite namespace agents pod-security.kubernetes.io/enforce=privileged",
                        "cluster-wide admission configuration");
    }

    @Test
    void webhookAndOtherRefusals_sayWhatToFix() {
        assertThat(refusal(403, "admission webhook \"deny.example.com\" denied the request: no"))
                .contains("admission webhook", "validatingwebhookconfigurations");
        assertThat(refusal(400, "")).contains("no reason given", "Fix what the message names in namespace agents");
    }

    @Test
    void aMissingServiceAccount_isToldApartFromOtherRefusals() {
        assertThat(PodPreflight.missingServiceAccount(new KubeApi.DryRun(
                        403,
                        "pods \"x\" is forbidden: error looking up service account agents/agent-cloudaeye-agent:"
                                + " serviceaccount \"agent-cloudaeye-agent\" not found")))
                .isTrue();
        assertThat(PodPreflight.missingServiceAccount(
                        new KubeApi.DryRun(403, "pods \"x\" is forbidden: exceeded quota")))
                .isFalse();
        assertThat(PodPreflight.missingServiceAccount(new KubeApi.DryRun(201, "")))
                .isFalse();
    }

    @Test
    void serverFailure_failsThePlan_quotingTheServer() {
        assertThatThrownBy(() -> classify(500, "Internal error occurred: etcdserver: request timed out"))
                .isInstanceOf(PlanningException.class)
                .hasMessageContaining("HTTP 500")
                .hasMessageContaining("namespace agents")
                .hasMessageContaining("etcdserver: request timed out");
    }

    @Test
    void failClosedWebhookThatCannotBeCalled_isARefusalOfThisChange_notAFailureOfThePlan() {
        String message = "Internal error occurred: failed calling webhook \"w.example.com\": failed to call webhook:"
                + " Post \"https://127.0.0.1:9443/validate?timeout=10s\": dial tcp 127.0.0.1:9443: connect: connection"
                + " refused";

        PodPreflight.Result result = classify(500, message);

        assertThat(result.note()).isEmpty();
        assertThat(result.refusal())
                .hasValueSatisfying(r -> assertThat(r)
                        .contains(
                                "refuses the agent's pods in namespace agents",
                                "HTTP 500",
                                "failed calling webhook \"w.example.com\"",
                                "fails closed and the API server cannot call it",
                                "kubectl get validatingwebhookconfigurations,mutatingwebhookconfigurations",
                                "Nothing was changed"));
    }

    @Test
    void theTokenIsMaskedInAnythingQuotedFromTheServer() {
        String quoted = "denied: env CLOUDAEYE_TOKEN=" + TOKEN.reveal() + " is not allowed";

        assertThat(refusal(403, quoted)).doesNotContain(TOKEN.reveal()).contains(Secret.REDACTED);
        assertThatThrownBy(() -> classify(503, quoted))
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain(TOKEN.reveal()));
    }

    @Test
    void pod_isTheDaemonSetsTemplate_withAGeneratedName_andNoNode() {
        AgentDaemonSet options = AgentDaemonSet.builder()
                .namespace("agents")
                .releaseName("agent")
                .build();
        Manifests rendered = Manifests.parse(AgentChart.render(
                "agent",
                "agents",
                ChartValues.nonSecret(
                        options,
                        AgentSettings.builder()
                                .logsEndpoint("https://logs.example.cloudaeye.com")
                                .apiToken(TOKEN)
                                .build()),
                TOKEN));
        String daemonSet = AgentChart.fullName("agent");

        ObjectNode pod = PodPreflight.pod(rendered.get("DaemonSet/" + daemonSet).orElseThrow(), "agents", daemonSet);

        assertThat(pod.path("kind").asText()).isEqualTo("Pod");
        JsonNode metadata = pod.path("metadata");
        assertThat(metadata.path("generateName").asText()).isEqualTo(daemonSet + "-preflight-");
        assertThat(metadata.has("name")).isFalse();
        assertThat(metadata.path("namespace").asText()).isEqualTo("agents");
        assertThat(metadata.path("labels").size()).isPositive();
        assertThat(pod.path("spec").has("nodeName")).isFalse();
        assertThat(pod.path("spec").path("containers").size()).isPositive();
        assertThat(pod.path("spec").path("volumes").findValues("hostPath")).isNotEmpty();
        assertThat(pod.toString()).doesNotContain(TOKEN.reveal());
    }

    private static PodPreflight.Result classify(int code, String message) {
        return PodPreflight.classify(new KubeApi.DryRun(code, message), "agents", "agent", TOKEN);
    }

    private static String refusal(int code, String message) {
        PodPreflight.Result result = classify(code, message);
        assertThat(result.note()).isEmpty();
        return result.refusal().orElseThrow();
    }
}
