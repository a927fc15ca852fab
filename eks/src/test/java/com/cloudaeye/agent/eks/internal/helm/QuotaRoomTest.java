package com.cloudaeye.agent.eks.internal.helm;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.spi.support.Json;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import org.junit.jupiter.api.Test;

/**
 * When a quota that refuses the pre-flight's one extra pod still takes an upgrade, which replaces each agent pod with
 * one new pod; the real server's full quota is in {@code AdmissionPreflightIT}.
 */
class QuotaRoomTest {
    private static final String FULL_OF_AGENT_PODS = "pods \"agent-cloudaeye-agent-preflight-x1\" is forbidden:"
            + " exceeded quota: agent-only, requested: pods=1, used: pods=3, limited: pods=3";

    @Test
    void parse_readsAdmissionsNumbers_andIgnoresOtherRefusals() {
        QuotaRoom.Refusal refusal = QuotaRoom.parse("pods \"x\" is forbidden: exceeded quota: q1, requested:"
                        + " pods=1,requests.cpu=250m,requests.memory=128Mi, used:"
                        + " pods=2,requests.cpu=1750m,requests.memory=1Gi, limited:"
                        + " pods=10,requests.cpu=2,requests.memory=1Gi")
                .orElseThrow();

        assertThat(refusal.quota()).isEqualTo("q1");
        assertThat(refusal.text()).startsWith("exceeded quota: q1, requested:").endsWith("requests.memory=1Gi");
        assertThat(refusal.requested().get("requests.cpu")).isEqualByComparingTo("0.25");
        assertThat(refusal.requested().get("requests.memory")).isEqualByComparingTo("134217728");
        assertThat(refusal.used().get("requests.cpu")).isEqualByComparingTo("1.75");
        assertThat(refusal.limited().get("requests.memory")).isEqualByComparingTo("1073741824");
        assertThat(refusal.limited()).containsOnlyKeys("pods", "requests.cpu", "requests.memory");

        assertThat(QuotaRoom.parse("pods \"x\" is forbidden: violates PodSecurity \"baseline:latest\""))
                .isEmpty();
        assertThat(QuotaRoom.parse("exceeded quota: q, requested: pods=one, used: pods=3, limited: pods=3"))
                .isEmpty();
    }

    @Test
    void quantity_readsKubernetesSuffixesAndExponents() {
        assertThat(QuotaRoom.quantity("100m")).isEqualByComparingTo("0.1");
        assertThat(QuotaRoom.quantity("2")).isEqualByComparingTo("2");
        assertThat(QuotaRoom.quantity("1.5Gi")).isEqualByComparingTo("1610612736");
        assertThat(QuotaRoom.quantity("64M")).isEqualByComparingTo("64000000");
        assertThat(QuotaRoom.quantity("2e3")).isEqualByComparingTo("2000");
        assertThat(QuotaRoom.quantity("1E")).isEqualByComparingTo("1e18");
        assertThat(QuotaRoom.quantity("lots")).isNull();
    }

    @Test
    void aQuotaExactlyFullOfTheAgentsPods_takesTheUpgrade() {
        assertThat(fits(FULL_OF_AGENT_PODS, running(3, CPU_100M), desired(""))).isTrue();
    }

    @Test
    void aQuotaBelowWhatIsUsed_refusesEvenOneForOne() {
        assertThat(fits(
                        "exceeded quota: q, requested: pods=1, used: pods=3, limited: pods=2",
                        running(3, CPU_100M),
                        desired("")))
                .isFalse();
    }

    @Test
    void noRunningAgentPod_leavesNothingToReplace() {
        assertThat(fits(FULL_OF_AGENT_PODS, running(0, CPU_100M), desired(""))).isFalse();
        assertThat(fits(FULL_OF_AGENT_PODS, Json.object(), desired(""))).isFalse();
    }

    @Test
    void aSurge_createsTheNewPodFirst_soTheRefusalStands() {
        String surge = "  updateStrategy: {type: RollingUpdate, rollingUpdate: {maxUnavailable: 0, maxSurge: 1}}\n";
        String noSurge = "  updateStrategy: {type: RollingUpdate, rollingUpdate: {maxUnavailable: 1, maxSurge: 0}}\n";
        String onDelete = "  updateStrategy: {type: OnDelete}\n";

        assertThat(fits(FULL_OF_AGENT_PODS, running(3, CPU_100M), desired(surge)))
                .isFalse();
        assertThat(fits(FULL_OF_AGENT_PODS, running(3, CPU_100M), desired(noSurge)))
                .isTrue();
        assertThat(fits(FULL_OF_AGENT_PODS, running(3, CPU_100M), desired(onDelete)))
                .isTrue();
    }

    @Test
    void cpuAndMemory_fitWhenTheNewPodTakesNoMoreThanTheOld() {
        String sameCpu = "exceeded quota: q, requested: requests.cpu=100m, used: requests.cpu=300m, limited:"
                + " requests.cpu=300m";
        String moreCpu = "exceeded quota: q, requested: requests.cpu=200m, used: requests.cpu=300m, limited:"
                + " requests.cpu=300m";

        assertThat(fits(sameCpu, running(3, CPU_100M), desired(""))).isTrue();
        assertThat(fits(moreCpu, running(3, CPU_100M), desired(""))).isFalse();
    }

    @Test
    void share_countsContainersInitContainersAndDefaultsRequestsToLimits() {
        JsonNode spec = yaml("""
                containers:
                - name: a
                  resources: {requests: {cpu: 100m, memory: 64Mi}, limits: {cpu: 200m, memory: 128Mi}}
                - name: b
                  resources: {limits: {cpu: 50m}}
                initContainers:
                - name: init
                  resources: {requests: {cpu: 500m}}
                overhead: {memory: 10Mi}
                """);

        assertThat(QuotaRoom.share(spec, "pods")).isEqualByComparingTo(BigDecimal.ONE);
        assertThat(QuotaRoom.share(spec, "count/pods")).isEqualByComparingTo(BigDecimal.ONE);
        // containers 100m + 50m (b's limit), the init container 500m alone: the larger
        assertThat(QuotaRoom.share(spec, "requests.cpu")).isEqualByComparingTo("0.5");
        assertThat(QuotaRoom.share(spec, "cpu")).isEqualByComparingTo("0.5");
        assertThat(QuotaRoom.share(spec, "limits.cpu")).isEqualByComparingTo("0.25");
        assertThat(QuotaRoom.share(spec, "memory")).isEqualByComparingTo(String.valueOf(74L << 20));
        // An extended resource no container asks for: none (a quota of requests.nvidia.com/gpu=0 admits the pod)
        assertThat(QuotaRoom.share(spec, "requests.nvidia.com/gpu")).isEqualByComparingTo(BigDecimal.ZERO);
        assertThat(QuotaRoom.share(spec, "services")).isNull();
        assertThat(QuotaRoom.share(spec, "requests.storage")).isNull();
    }

    @Test
    void anotherQuota_withRoomForTheReplacement_orOnlyOnWhatPodsDoNotUse_doesNotRefuse() {
        JsonNode running = running(3, CPU_100M);
        JsonNode same = desired("", CPU_100M);

        // full of the agent's pods and their CPU: one for one fits
        assertThat(QuotaRoom.otherQuotaRefuses(
                        quota("cpu", "hard: {requests.cpu: 300m, pods: '3'}", "used: {requests.cpu: 300m, pods: '3'}"),
                        running,
                        same))
                .isEmpty();
        // over its limit, but on services and storage, which pods do not count toward; no GPU asked for
        assertThat(QuotaRoom.otherQuotaRefuses(
                        quota(
                                "objects",
                                "hard: {services: '1', requests.storage: 1Gi, requests.nvidia.com/gpu: '0'}",
                                "used: {services: '2', requests.storage: 2Gi, requests.nvidia.com/gpu: '0'}"),
                        running,
                        same))
                .isEmpty();
    }

    @Test
    void anotherQuota_withoutRoomForTheNewPodsShare_orThatCannotBeTold_refusesNamingIt() {
        JsonNode running = running(3, CPU_100M);
        JsonNode moreCpu = desired("", "resources: {requests: {cpu: 200m}}");

        assertThat(QuotaRoom.otherQuotaRefuses(
                        quota("cpu", "hard: {requests.cpu: 300m}", "used: {requests.cpu: 300m}"), running, moreCpu))
                .hasValueSatisfying(r -> assertThat(r)
                        .contains(
                                "ResourceQuota cpu has no room",
                                "requests.cpu used 0.3 of 0.3",
                                "takes 0.2 where an old one took 0.1"));
        // not counted yet by the quota controller
        assertThat(QuotaRoom.otherQuotaRefuses(quota("fresh", "hard: {pods: '10'}", "used: {}"), running, moreCpu))
                .hasValueSatisfying(r -> assertThat(r).contains("ResourceQuota fresh's pods cannot be reckoned"));
        // scoped: whether it counts the agent's pods is not evaluated
        JsonNode scoped = yaml("""
                metadata: {name: best-effort}
                spec: {hard: {pods: '1'}, scopes: [BestEffort]}
                status: {hard: {pods: '1'}, used: {pods: '0'}}
                """);
        assertThat(QuotaRoom.otherQuotaRefuses(scoped, running, moreCpu))
                .hasValueSatisfying(r -> assertThat(r).contains("ResourceQuota best-effort has scopes"));
    }

    /** A ResourceQuota named {@code name} with these {@code hard: {...}} limits and, counted, {@code used: {...}}. */
    private static JsonNode quota(String name, String hard, String used) {
        return yaml("metadata: {name: " + name + "}\nspec:\n  " + hard + "\nstatus:\n  " + hard + "\n  " + used + "\n");
    }

    private static JsonNode desired(String strategy, String resources) {
        return yaml("spec:\n" + strategy + "  template: {spec: {containers: [{name: agent, " + resources + "}]}}\n");
    }

    private static final String CPU_100M = "resources: {requests: {cpu: 100m}}";

    private static boolean fits(String message, JsonNode running, JsonNode desired) {
        return QuotaRoom.replacementFits(QuotaRoom.parse(message).orElseThrow(), running, desired);
    }

    /** A running DaemonSet with an agent pod on {@code scheduled} nodes. */
    private static JsonNode running(int scheduled, String resources) {
        return yaml("""
                spec:
                  template:
                    spec:
                      containers:
                      - name: agent
                        %s
                status: {currentNumberScheduled: %d}
                """.formatted(resources, scheduled));
    }

    private static JsonNode desired(String strategy) {
        return yaml("spec:\n" + strategy + "  template: {spec: {containers: [{name: agent}]}}\n");
    }

    private static JsonNode yaml(String text) {
        try {
            return new com.fasterxml.jackson.dataformat.yaml.YAMLMapper().readTree(text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
