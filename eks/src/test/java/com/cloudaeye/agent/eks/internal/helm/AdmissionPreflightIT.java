package com.cloudaeye.agent.eks.internal.helm;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.ResourceResult;
import com.cloudaeye.agent.eks.AgentDaemonSet;
import com.cloudaeye.agent.eks.testing.DenyingWebhook;
import com.cloudaeye.agent.eks.testing.EksOnKubeCluster;
import com.cloudaeye.agent.eks.testing.EksOnKubeCluster.Running;
import com.cloudaeye.agent.eks.testing.KubeCluster;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceQuotaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.ByteArrayInputStream;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pre-flight of the plan and of the apply ({@link PodPreflight}) on the real API server: an upgrade into a
 * namespace whose admission refuses the agent's pods for a reason no namespace label shows (a ResourceQuota, a
 * ValidatingAdmissionPolicy) is refused within seconds, quoting the server, and the running DaemonSet keeps its
 * generation and its pods. Without the pre-flight the upgrade waited out Helm's timeout twice (upgrade, then the
 * atomic rollback) and the rolling update took the agent off a node. Each test has its own release and namespace, and
 * removes them and any cluster-scoped policy it made.
 */
class AdmissionPreflightIT {
    private static final String TOKEN = "tok-preflight-2b7d";
    /** The plan and the apply must end well before Helm's timeout, which a refused rollout would wait out. */
    private static final Duration TIMEOUT = Duration.ofMinutes(2);

    @RegisterExtension
    static final EksOnKubeCluster CLUSTER =
            EksOnKubeCluster.clusterAdmin("AKIDPREFLIGHTIT").releasePerTest("pf");

    @TempDir
    Path journals;

    private String name;

    @BeforeEach
    void name() {
        name = CLUSTER.name();
    }

    @Test
    void upgrade_intoANamespaceWhoseQuotaAllowsNoPod_isSkippedAtOnceQuotingTheQuota_andTheDaemonSetIsUntouched() {
        install();
        Running before = running();
        podsQuota("no-pods", 0);

        long started = System.nanoTime();
        planAndApplyUpgrade_isSkipped(
                "refuses the agent's pods in namespace " + name,
                "release " + name + "/" + name,
                "exceeded quota: no-pods",
                "kubectl get resourcequota -n " + name,
                "Nothing was changed");
        Duration took = Duration.ofNanos(System.nanoTime() - started);
        assertThat(took).as("refused before any wait").isLessThan(TIMEOUT.dividedBy(4));
        assertUntouched(before);
    }

    @Test
    void upgrade_whenAQuotaHasRoomForExactlyTheAgentsPods_replacesThemOneForOne() {
        install();
        Running before = running();
        podsQuota("agent-only", 3); // the agent's three pods fill it: one more pod would exceed it
        quota("cpu-room", "requests.cpu", "1", "150m"); // another quota, with room: the chart's 50m for each pod

        try (AgentInstaller installer = installer(upgrade())) {
            Plan plan = installer.plan();
            assertThat(only(plan).action()).as(plan.toString()).isEqualTo(ChangeAction.UPDATE);
            assertThat(plan.notes())
                    .anySatisfy(n -> assertThat(n)
                            .contains("ResourceQuota agent-only", "namespace " + name, "one for one")
                            .doesNotContain("could not be listed", TOKEN));
            ApplyResult applied = installer.apply(plan);
            assertThat(applied.isSuccess()).as(applied.toString()).isTrue();
        }
        Running after = running();
        assertThat(after.generation()).isGreaterThan(before.generation());
        assertThat(after.pods())
                .doesNotContainAnyElementsOf(before.pods())
                .allSatisfy(p -> assertThat(p).endsWith(":2.0.0"));
        assertThat(CLUSTER.helmList())
                .singleElement()
                .satisfies(r -> assertThat(r.getRevision()).isEqualTo("2"));
    }

    @Test
    void upgrade_whenAnotherQuotaHasNoRoomForTheNewPodsLargerRequest_isSkippedNamingIt_andTheDaemonSetIsUntouched() {
        install();
        Running before = running();
        podsQuota("agent-only", 3);
        quota("cpu-full", "requests.cpu", "150m", "150m"); // full of the chart's 50m for each pod

        // Both quotas refuse the dry run's extra pod, and admission names whichever it checks first: the pods quota
        // (which the one-for-one replacement fits, so the plan reads the other quotas) or the CPU quota itself.
        try (AgentInstaller installer = installer(
                options().tag("2.0.0").putResources("requests.cpu", "100m").build())) {
            SkippedPlan.planAndApply_isSkipped(installer, TOKEN, "namespace " + name, "cpu-full", "requests.cpu");
        }
        assertUntouched(before);
    }

    @Test
    void apply_ofAnUpgradePlannedBeforeTheQuotaCame_failsAtOnceBeforeHelm_andTheDaemonSetIsUntouched() {
        install();
        Running before = running();
        try (AgentInstaller installer = installer(upgrade())) {
            Plan plan = installer.plan();
            assertThat(only(plan).action()).as(plan.toString()).isEqualTo(ChangeAction.UPDATE);
            podsQuota("no-pods", 0);

            long started = System.nanoTime();
            ApplyResult applied = installer.apply(plan);
            Duration took = Duration.ofNanos(System.nanoTime() - started);

            assertThat(applied.results())
                    .as(applied.toString())
                    .singleElement()
                    .satisfies(r -> assertThat(r.outcome()).isEqualTo(ResourceResult.Outcome.FAILED));
            assertThat(applied.results().get(0).message())
                    .hasValueSatisfying(m -> assertThat(m)
                            .contains("was not changed", "exceeded quota: no-pods", "kubectl get resourcequota")
                            .doesNotContain(TOKEN));
            assertThat(took).as("refused before Helm's wait").isLessThan(TIMEOUT.dividedBy(4));
        }
        assertUntouched(before);
    }

    @Test
    void upgrade_intoANamespaceWhereAnAdmissionPolicyDeniesHostPath_isSkippedQuotingThePolicysMessage() {
        install();
        Running before = running();
        String policy = name + "-no-hostpath";
        List<HasMetadata> objects = load("""
                apiVersion: admissionregistration.k8s.io/v1
                kind: ValidatingAdmissionPolicy
                metadata:
                  name: %1$s
                spec:
                  failurePolicy: Fail
                  matchConstraints:
                    resourceRules:
                    - apiGroups: [""]
                      apiVersions: ["v1"]
                      operations: ["CREATE"]
                      resources: ["pods"]
                  validations:
                  - expression: "!has(object.spec.volumes) || object.spec.volumes.all(v, !has(v.hostPath))"
                    message: "hostPath volumes are not allowed in %2$s (platform team policy)"
                ---
                apiVersion: admissionregistration.k8s.io/v1
                kind: ValidatingAdmissionPolicyBinding
                metadata:
                  name: %1$s
                spec:
                  policyName: %1$s
                  validationActions: [Deny]
                  matchResources:
                    namespaceSelector:
                      matchLabels:
                        kubernetes.io/metadata.name: %2$s
                """.formatted(policy, name));
        withObjects(objects, () -> {
            awaitDenied("hostPath volumes are not allowed");
            planAndApplyUpgrade_isSkipped(
                    "refuses the agent's pods in namespace " + name,
                    "ValidatingAdmissionPolicy '" + policy + "'",
                    "hostPath volumes are not allowed in " + name + " (platform team policy)",
                    "kubectl get validatingadmissionpolicies");
            assertUntouched(before);
        });
    }

    @Test
    void upgrade_intoANamespaceWhoseAdmissionWebhookDeniesThePods_isSkippedQuotingTheWebhook() {
        install();
        Running before = running();
        String hook = name + ".deny.cloudaeye.test";
        withDenyingWebhook(hook, "agent pods need a security exception (SEC-12)", webhook -> {
            int reviews = webhook.dryRunReviews();
            planAndApplyUpgrade_isSkipped(
                    "refuses the agent's pods in namespace " + name,
                    "admission webhook \"" + hook + "\" denied the request",
                    "agent pods need a security exception (SEC-12)",
                    "kubectl get validatingwebhookconfigurations");
            assertThat(webhook.dryRunReviews())
                    .as("the plan's dry run reached the webhook")
                    .isGreaterThan(reviews);
            assertUntouched(before);
        });
    }

    @Test
    void upgrade_whenAFailClosedWebhookCannotBeReached_isSkippedNamingTheWebhook_andChangesNothing() {
        install();
        Running before = running();
        String hook = name + ".down.cloudaeye.test";
        withDenyingWebhook(hook, "denied while it was up", webhook -> {
            webhook.stop(); // the API server now cannot call it, and its failurePolicy is Fail
            planAndApplyUpgrade_isSkipped(
                    "refuses the agent's pods in namespace " + name,
                    "HTTP 500",
                    "failed calling webhook \"" + hook + "\"",
                    "fails closed and the API server cannot call it",
                    "kubectl get validatingwebhookconfigurations");
            assertUntouched(before);
        });
    }

    /**
     * Runs a check while a webhook denying every pod of the test's namespace with {@code message} is registered as
     * {@code hook} and in effect; removes it after.
     */
    private void withDenyingWebhook(String hook, String message, Consumer<DenyingWebhook> check) {
        try (DenyingWebhook webhook = DenyingWebhook.start(journals, message)) {
            withObjects(load(webhook.configuration(hook, name)), () -> {
                awaitDenied(message);
                check.accept(webhook);
            });
        }
    }

    @Test
    void plan_inANamespaceThatAdmitsTheAgent_dryRunsOnePod_andStoresNone() {
        install();
        Running before = running();
        long mark = KubeCluster.auditMark();
        try (AgentInstaller installer = installer(upgrade())) {
            Plan plan = installer.plan();
            assertThat(only(plan).action()).as(plan.toString()).isEqualTo(ChangeAction.UPDATE);
            assertThat(plan.notes()).noneSatisfy(n -> assertThat(n).contains("could not be checked"));
        }
        assertThat(KubeCluster.audited("eks:" + CLUSTER.accessKey(), mark)).anySatisfy(r -> {
            assertThat(r.path("verb").asText()).isEqualTo("create");
            assertThat(r.path("objectRef").path("resource").asText()).isEqualTo("pods");
            assertThat(r.path("objectRef").path("namespace").asText()).isEqualTo(name);
            assertThat(r.path("requestURI").asText()).contains("dryRun=All");
            assertThat(r.path("responseStatus").path("code").asInt()).isEqualTo(201);
        });
        assertUntouched(before);
    }

    private void install() {
        try (AgentInstaller installer = installer(options().build())) {
            ApplyResult result = installer.apply(installer.plan());
            assertThat(result.isSuccess()).as(result.toString()).isTrue();
        }
    }

    /**
     * Plans the upgrade and applies the plan: a SKIP whose reason says every part and no secret, and an apply with
     * nothing to do.
     */
    private void planAndApplyUpgrade_isSkipped(String... reason) {
        try (AgentInstaller installer = installer(upgrade())) {
            SkippedPlan.planAndApply_isSkipped(installer, TOKEN, reason);
        }
    }

    /** The DaemonSet and its pods are as they were, and Helm has still only the install's revision. */
    private void assertUntouched(Running before) {
        assertThat(running()).isEqualTo(before);
        assertThat(CLUSTER.helmList())
                .singleElement()
                .satisfies(r -> assertThat(r.getRevision()).isEqualTo("1"));
    }

    private AgentDaemonSet upgrade() {
        return options().tag("2.0.0").build();
    }

    /**
     * A quota of {@code pods} pods in the namespace, once its controller has counted the pods in it (ResourceQuota
     * admission refuses every pod until then).
     */
    private void podsQuota(String quota, int pods) {
        quota(quota, "pods", Integer.toString(pods), "3");
    }

    /**
     * A quota of one resource in the namespace, once its controller has counted what the running pods use of it.
     *
     * @param used what the install's pods use of it, which the quota's status must show first
     */
    private void quota(String quota, String resource, String hard, String used) {
        try (KubernetesClient admin = KubeCluster.admin()) {
            admin.resourceQuotas()
                    .inNamespace(name)
                    .resource(new ResourceQuotaBuilder()
                            .withNewMetadata()
                            .withName(quota)
                            .endMetadata()
                            .withNewSpec()
                            .withHard(Map.of(resource, new Quantity(hard)))
                            .endSpec()
                            .build())
                    .create();
            BigDecimal expected = new Quantity(used).getNumericalAmount();
            admin.resourceQuotas()
                    .inNamespace(name)
                    .withName(quota)
                    .waitUntilCondition(
                            q -> q.getStatus() != null
                                    && q.getStatus().getUsed() != null
                                    && q.getStatus().getUsed().containsKey(resource)
                                    && q.getStatus()
                                                    .getUsed()
                                                    .get(resource)
                                                    .getNumericalAmount()
                                                    .compareTo(expected)
                                            == 0,
                            30,
                            TimeUnit.SECONDS);
        }
    }

    /** Creates cluster-scoped objects for the duration of a check, and deletes them after it. */
    private static void withObjects(List<HasMetadata> objects, Runnable check) {
        try (KubernetesClient admin = KubeCluster.admin()) {
            admin.resourceList(objects).create();
        }
        try {
            check.run();
        } finally {
            try (KubernetesClient admin = KubeCluster.admin()) {
                admin.resourceList(objects).delete();
            }
        }
    }

    /**
     * A policy or webhook takes effect once the API server has loaded it: waits until a hostPath pod in the namespace
     * is denied with the message.
     */
    private void awaitDenied(String message) {
        Pod probe = new PodBuilder()
                .withNewMetadata()
                .withGenerateName("probe-")
                .endMetadata()
                .withNewSpec()
                .addNewContainer()
                .withName("c")
                .withImage("busybox")
                .endContainer()
                .addNewVolume()
                .withName("logs")
                .withNewHostPath()
                .withPath("/var/log")
                .endHostPath()
                .endVolume()
                .endSpec()
                .build();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        try (KubernetesClient admin = KubeCluster.admin()) {
            while (true) {
                try {
                    admin.pods().inNamespace(name).resource(probe).dryRun().create();
                } catch (KubernetesClientException denied) {
                    assertThat(denied.getMessage()).contains(message);
                    return;
                }
                assertThat(System.nanoTime()).as("the policy takes effect").isLessThan(deadline);
                Thread.sleep(200);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** The running agent: the install's three pods (amd64, arm64, the tainted node). */
    private Running running() {
        Running running = CLUSTER.running();
        assertThat(running.pods()).hasSize(3);
        return running;
    }

    private static List<HasMetadata> load(String yaml) {
        try (KubernetesClient admin = KubeCluster.admin()) {
            return admin.load(new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8)))
                    .items();
        }
    }

    private static Change only(Plan plan) {
        assertThat(plan.changes()).as(plan.toString()).hasSize(1);
        return plan.changes().first();
    }

    private AgentDaemonSet.Builder options() {
        return AgentDaemonSet.builder().namespace(name).releaseName(name).timeout(TIMEOUT);
    }

    private AgentInstaller installer(AgentDaemonSet options) {
        return CLUSTER.installer(options, TOKEN, journals);
    }
}
