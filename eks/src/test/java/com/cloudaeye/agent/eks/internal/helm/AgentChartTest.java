package com.cloudaeye.agent.eks.internal.helm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.cloudaeye.agent.AgentException;
import com.cloudaeye.agent.AgentSettings;
import com.cloudaeye.agent.Secret;
import com.cloudaeye.agent.eks.AgentDaemonSet;
import com.cloudaeye.agent.eks.AgentDaemonSet.Toleration;
import com.fasterxml.jackson.databind.JsonNode;
import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Renders and lints the shipped chart with real Helm (helm-java) and reads the result as Kubernetes objects. */
class AgentChartTest {
    private static final String TOKEN = "tok-3f9a1c7e5b";
    private static final AgentSettings AGENT = AgentSettings.builder()
            .logsEndpoint("https://logs.example.cloudaeye.com")
            .apiToken(Secret.of(TOKEN))
            .putOptions("CLOUDAEYE_LOG_LEVEL", "debug")
            .build();

    @TempDir
    Path tmp;

    @Test
    void render_withDefaults_daemonSetMountsNodeLogDirsReadOnly_andToleratesEveryTaint() {
        List<HasMetadata> objects = render(AgentDaemonSet.defaults());

        assertThat(objects)
                .extracting(o -> o.getKind() + "/" + o.getMetadata().getName())
                .containsExactlyInAnyOrder(
                        "ServiceAccount/cloudaeye-agent",
                        "ClusterRole/cloudaeye-agent",
                        "ClusterRoleBinding/cloudaeye-agent",
                        "ConfigMap/cloudaeye-agent",
                        "Secret/cloudaeye-agent",
                        "DaemonSet/cloudaeye-agent");
        DaemonSet ds = only(objects, DaemonSet.class);
        assertThat(ds.getMetadata().getNamespace()).isEqualTo("cloudaeye-agent");
        assertThat(ds.getSpec().getUpdateStrategy().getType()).isEqualTo("RollingUpdate");
        var pod = ds.getSpec().getTemplate().getSpec();
        assertThat(pod.getServiceAccountName()).isEqualTo("cloudaeye-agent");
        assertThat(pod.getTolerations()).singleElement().satisfies(t -> {
            assertThat(t.getOperator()).isEqualTo("Exists");
            assertThat(t.getKey()).isNull();
            assertThat(t.getEffect()).isNull();
        });
        assertThat(pod.getVolumes())
                .extracting(Volume::getName, v -> v.getHostPath().getPath())
                .containsExactlyInAnyOrder(
                        org.assertj.core.groups.Tuple.tuple("pod-logs", "/var/log/pods"),
                        org.assertj.core.groups.Tuple.tuple("container-logs", "/var/log/containers"));
        Container agent = pod.getContainers().get(0);
        assertThat(agent.getVolumeMounts())
                .extracting(VolumeMount::getMountPath, VolumeMount::getReadOnly)
                .containsExactlyInAnyOrder(
                        org.assertj.core.groups.Tuple.tuple("/var/log/pods", true),
                        org.assertj.core.groups.Tuple.tuple("/var/log/containers", true));
        assertThat(agent.getImage()).isEqualTo("public.ecr.aws/cloudaeye/logs-agent:1.0.0");
        assertThat(agent.getResources().getRequests())
                .containsEntry("cpu", new Quantity("50m"))
                .containsEntry("memory", new Quantity("64Mi"));
        assertThat(agent.getEnv()).anySatisfy(e -> {
            assertThat(e.getName()).isEqualTo("CLOUDAEYE_API_TOKEN");
            assertThat(e.getValueFrom().getSecretKeyRef().getName()).isEqualTo("cloudaeye-agent");
        });
    }

    @Test
    void render_withOptions_setsImageTagResourcesTolerationsAndExtraValues() {
        AgentDaemonSet options = AgentDaemonSet.builder()
                .namespace("observability")
                .releaseName("logs")
                .image("123456789012.dkr.ecr.us-east-1.amazonaws.com/mirror/logs-agent")
                .tag("2.3.4")
                .putResources("requests.cpu", "100m")
                .putResources("limits.memory", "512Mi")
                .addTolerations(Toleration.equal("dedicated", "gpu", "NoSchedule"))
                .addTolerations(Toleration.exists("node-role.kubernetes.io/control-plane", null))
                .putExtraValues("priorityClassName", "high")
                .putExtraValues("updateStrategy.rollingUpdate.maxUnavailable", "3")
                .build();

        List<HasMetadata> objects = render(options);

        DaemonSet ds = only(objects, DaemonSet.class);
        assertThat(ds.getMetadata().getName()).isEqualTo("logs-cloudaeye-agent");
        assertThat(ds.getMetadata().getNamespace()).isEqualTo("observability");
        assertThat(ds.getSpec()
                        .getUpdateStrategy()
                        .getRollingUpdate()
                        .getMaxUnavailable()
                        .getIntVal())
                .isEqualTo(3);
        var pod = ds.getSpec().getTemplate().getSpec();
        assertThat(pod.getPriorityClassName()).isEqualTo("high");
        assertThat(pod.getTolerations())
                .extracting(t -> t.getKey(), t -> t.getOperator(), t -> t.getValue(), t -> t.getEffect())
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple("dedicated", "Equal", "gpu", "NoSchedule"),
                        org.assertj.core.groups.Tuple.tuple(
                                "node-role.kubernetes.io/control-plane", "Exists", null, null));
        Container agent = pod.getContainers().get(0);
        assertThat(agent.getImage()).isEqualTo("123456789012.dkr.ecr.us-east-1.amazonaws.com/mirror/logs-agent:2.3.4");
        assertThat(agent.getResources().getRequests())
                .containsEntry("cpu", new Quantity("100m"))
                .containsEntry("memory", new Quantity("64Mi"));
        assertThat(agent.getResources().getLimits()).containsEntry("memory", new Quantity("512Mi"));
        ClusterRoleBinding binding = only(objects, ClusterRoleBinding.class);
        assertThat(binding.getSubjects()).singleElement().satisfies(s -> {
            assertThat(s.getName()).isEqualTo("logs-cloudaeye-agent");
            assertThat(s.getNamespace()).isEqualTo("observability");
        });
        assertThat(only(objects, ServiceAccount.class).getMetadata().getNamespace())
                .isEqualTo("observability");
    }

    @Test
    void fullName_isTheNameTheChartGivesTheDaemonSet() {
        for (String release : List.of("cloudaeye-agent", "agent", "my-cloudaeye-agent-2", "r".repeat(53))) {
            AgentDaemonSet options =
                    AgentDaemonSet.builder().releaseName(release).build();

            assertThat(only(render(options), io.fabric8.kubernetes.api.model.apps.DaemonSet.class)
                            .getMetadata()
                            .getName())
                    .as(release)
                    .isEqualTo(AgentChart.fullName(release));
        }
    }

    @Test
    void render_tokenIsOnlyInTheSecret_andOptionsInTheConfigMap() {
        List<HasMetadata> objects = render(AgentDaemonSet.defaults());

        io.fabric8.kubernetes.api.model.Secret secret = only(objects, io.fabric8.kubernetes.api.model.Secret.class);
        assertThat(new String(Base64.getDecoder().decode(secret.getData().get("api-token")), StandardCharsets.UTF_8))
                .isEqualTo(TOKEN);
        ConfigMap config = only(objects, ConfigMap.class);
        assertThat(config.getData())
                .containsEntry("CLOUDAEYE_LOGS_ENDPOINT", "https://logs.example.cloudaeye.com")
                .containsEntry("CLOUDAEYE_LOG_LEVEL", "debug")
                .doesNotContainValue(TOKEN);
        assertThat(only(objects, ClusterRole.class).getRules())
                .allSatisfy(r -> assertThat(r.getVerbs()).containsExactlyInAnyOrder("get", "list", "watch"));
    }

    @Test
    void render_withInvalidValue_failsWithHelmsMessage_withoutTheToken() {
        AgentDaemonSet options = AgentDaemonSet.builder()
                .putExtraValues("tolerations", "not-a-list")
                .build();
        JsonNode values = ChartValues.nonSecret(options, AGENT);

        assertThatThrownBy(() -> AgentChart.render("r", "ns", values, AGENT.apiToken()))
                .isInstanceOf(AgentException.class)
                .hasMessageContaining("Rendering the agent chart failed")
                .hasMessageNotContaining(TOKEN);
    }

    @Test
    void mask_hidesTheTokenLiterallyAndInItsBase64Forms() {
        Secret token = Secret.of("tok>>>???a"); // base64 "dG9rPj4+Pz8/YQ==": the two alphabets differ, with padding
        byte[] bytes = token.reveal().getBytes(StandardCharsets.UTF_8);
        String standard = Base64.getEncoder().encodeToString(bytes);
        String url = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
        assertThat(standard).isNotEqualTo(url.replace("=", ""));
        String message =
                "Secret cloudaeye: data.api-token: \"" + standard + "\" (url " + url + "), value " + token.reveal();

        String masked = AgentChart.mask(message, token);

        assertThat(masked)
                .doesNotContain(token.reveal())
                .doesNotContain(standard)
                .doesNotContain(standard.replace("=", ""))
                .doesNotContain(url)
                .contains("data.api-token: \"****\"");
    }

    @Test
    void lint_strict_passesWithDefaultAndCustomValues() throws Exception {
        assertThat(lint(Map.of())).isEmpty();
        assertThat(
                        lint(
                                Map.of(
                                        "image:\n  # -- Registry and repository of the agent image.\n"
                                                + "  repository: public.ecr.aws/cloudaeye/logs-agent\n  # -- Image tag; defaults to"
                                                + " the chart's appVersion when empty.\n  tag: \"\"",
                                        "image:\n  repository: example.com/agent\n  tag: \"9.9\"",
                                        "tolerations:\n  - operator: Exists",
                                        "tolerations:\n  - key: dedicated\n    operator: Equal\n    value: logs\n    effect: NoSchedule")))
                .isEmpty();
    }

    /** Lints a copy of the chart whose values.yaml has the required values filled in and replacements made. */
    private List<String> lint(Map<String, String> replacements) throws Exception {
        Path chart = ChartFiles.copyTo(Files.createTempDirectory(tmp, "lint"));
        Path valuesFile = chart.resolve("values.yaml");
        String values = Files.readString(valuesFile)
                .replace("logsEndpoint: \"\"", "logsEndpoint: \"https://logs.example.cloudaeye.com\"")
                .replace("apiToken: \"\"", "apiToken: \"t\"");
        for (Map.Entry<String, String> r : replacements.entrySet()) {
            assertThat(values).as("lint fixture").contains(r.getKey());
            values = values.replace(r.getKey(), r.getValue());
        }
        Files.writeString(valuesFile, values);
        LintResult result = new Helm(chart).lint().strict().call();
        return result.isFailed() ? result.getMessages() : List.of();
    }

    private static List<HasMetadata> render(AgentDaemonSet options) {
        String manifest = AgentChart.render(
                options.releaseName(), options.namespace(), ChartValues.nonSecret(options, AGENT), AGENT.apiToken());
        List<HasMetadata> objects = new ArrayList<>();
        for (String doc : manifest.split("(?m)^---\\s*$")) {
            if (!doc.strip().isEmpty()) {
                objects.add(Serialization.unmarshal(doc, HasMetadata.class));
            }
        }
        return objects;
    }

    private static <T> T only(List<HasMetadata> objects, Class<T> type) {
        return objects.stream()
                .filter(type::isInstance)
                .map(type::cast)
                .reduce((a, b) -> {
                    throw new AssertionError("more than one " + type.getSimpleName());
                })
                .orElseThrow(() -> new AssertionError("no " + type.getSimpleName()));
    }
}
