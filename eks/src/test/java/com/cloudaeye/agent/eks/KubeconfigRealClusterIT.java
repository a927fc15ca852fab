package com.cloudaeye.agent.eks;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.ResourceResult;
import com.cloudaeye.agent.Secret;
import com.cloudaeye.agent.eks.testing.EksOnKubeCluster;
import com.cloudaeye.agent.eks.testing.KubeCluster;
import com.cloudaeye.agent.testing.ChildJvm;
import com.cloudaeye.agent.testing.Moto;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent DaemonSet through a caller's kubeconfig on a real Kubernetes control plane (kube-apiserver, etcd,
 * controller-manager, scheduler, kwok nodes; {@link KubeCluster}): a kubeconfig in YAML flow style and a {@code
 * KUBECONFIG} of several files are read as kubectl reads them, and their token is kept in no plan or journal; after an
 * install an unchanged plan is a no-op and adds no Helm revision; uninstall leaves the cluster's namespaces as they
 * were, deleting only the namespace the install created.
 */
class KubeconfigRealClusterIT {
    private static final String NAMESPACE = "cloudaeye-agent";
    private static final String TOKEN = "cae-real-k8s-token-71d0";

    /** Clears the release and its namespace before and after each test (the tests install with the admin kubeconfig). */
    @RegisterExtension
    static final EksOnKubeCluster CLUSTER = EksOnKubeCluster.callerKubeconfig().release(NAMESPACE);

    @TempDir
    Path work;

    private KubernetesClient kubernetes;
    private Set<String> namespacesBefore;

    @BeforeEach
    void connect() {
        Moto.reset();
        MotoEks.createCluster(MotoEks.CLUSTER);
        kubernetes = KubeCluster.admin();
        namespacesBefore = namespaces();
    }

    @AfterEach
    void close() {
        kubernetes.close();
    }

    @Test
    void flowStyleKubeconfig_installs_replansToNoOp_andUninstallLeavesTheNamespacesAsTheyWere() throws IOException {
        Path flow = Files.writeString(work.resolve("flow.yaml"), flowStyle(KubeCluster.kubeconfig()));
        assertThat(Files.readString(flow)).startsWith("{").doesNotContain("\n  ");

        try (AgentInstaller installer = installer(d -> d.kubeconfig(flow))) {
            Plan plan = installer.plan();
            assertThat(only(plan).action()).as(plan.toString()).isEqualTo(ChangeAction.CREATE);
            ApplyResult applied = installer.apply(plan);
            assertThat(applied.isSuccess()).as(applied.toString()).isTrue();
            // The kubeconfig's token stays out of plans and journals, like the agent token.
            assertThat(plan.toJson()).doesNotContain(KubeCluster.adminToken(), TOKEN);
            assertThat(Files.readString(applied.journal().orElseThrow()))
                    .doesNotContain(KubeCluster.adminToken(), TOKEN);
            assertThat(kubernetes
                            .apps()
                            .daemonSets()
                            .inNamespace(NAMESPACE)
                            .withName("cloudaeye-agent")
                            .get())
                    .isNotNull();
            assertThat(helmRevisions()).containsExactly("1");

            for (int run = 0; run < 2; run++) {
                Plan again = installer.plan();
                assertThat(only(again).action()).as(again.toString()).isEqualTo(ChangeAction.NO_OP);
                assertThat(installer.apply(again).results())
                        .noneMatch(r -> r.outcome() == ResourceResult.Outcome.APPLIED);
            }
            assertThat(helmRevisions())
                    .as("an unchanged release gets no new revision")
                    .containsExactly("1");

            ApplyResult removed = installer.apply(installer.planUninstall());
            assertThat(removed.isSuccess()).as(removed.toString()).isTrue();
        }
        assertThat(namespaces()).isEqualTo(namespacesBefore);
        assertThat(helmRevisions()).isEmpty();
    }

    @Test
    void kubeconfigOfSeveralFiles_inKUBECONFIG_installsAndReplansToNoOp_inAJvmOfItsOwn() throws Exception {
        JsonNode config = new YAMLMapper().readTree(KubeCluster.kubeconfig().toFile());
        // The cluster in one file, the user and the current context in another, as kubectl merges them.
        ObjectMapper json = new ObjectMapper();
        Path clusters = Files.writeString(
                work.resolve("clusters.yaml"),
                json.writeValueAsString(
                        Map.of("apiVersion", "v1", "kind", "Config", "clusters", config.get("clusters"))));
        Path rest = Files.writeString(
                work.resolve("users.yaml"),
                json.writeValueAsString(Map.of(
                        "apiVersion",
                        "v1",
                        "kind",
                        "Config",
                        "current-context",
                        config.get("current-context"),
                        "contexts",
                        config.get("contexts"),
                        "users",
                        config.get("users"))));
        String kubeconfigVariable = String.join(
                File.pathSeparator, rest.toString(), work.resolve("absent.yaml").toString(), clusters.toString());
        Path log = work.resolve("child.log");

        Process child = ChildJvm.start(
                InstallThroughDefaultKubeconfig.class,
                log,
                List.of(Moto.endpoint().toString(), work.resolve("journals").toString()),
                Map.of("KUBECONFIG", kubeconfigVariable));
        String output = ChildJvm.awaitSuccess(child, log, "install through KUBECONFIG");

        assertThat(output)
                .contains("INSTALL success=true", "REPLAN NO_OP", "UNINSTALL success=true")
                .doesNotContain(TOKEN);
        assertThat(namespaces()).isEqualTo(namespacesBefore);
    }

    @Test
    void uninstall_keepsTheNamespaceThatExistedBeforeTheInstall() throws IOException {
        kubernetes
                .namespaces()
                .resource(new NamespaceBuilder()
                        .withNewMetadata()
                        .withName(NAMESPACE)
                        .endMetadata()
                        .build())
                .create();
        Set<String> before = namespaces();
        Path kubeconfig = KubeCluster.kubeconfig();
        try (AgentInstaller installer = installer(d -> d.kubeconfig(kubeconfig))) {
            assertThat(installer.apply(installer.plan()).isSuccess()).isTrue();
            Plan uninstall = installer.planUninstall();
            assertThat(only(uninstall).reason())
                    .hasValueSatisfying(r -> assertThat(r).contains("existed before the install"));
            assertThat(installer.apply(uninstall).isSuccess()).isTrue();
        }
        assertThat(namespaces()).isEqualTo(before).contains(NAMESPACE);
        assertThat(helmRevisions()).isEmpty();
    }

    private AgentInstaller installer(java.util.function.Consumer<AgentDaemonSet.Builder> daemonSet) {
        return MotoEks.installer(MotoEks.target()
                        .daemonSet(d -> daemonSet.accept(d.timeout(Duration.ofMinutes(2))))
                        .build())
                .agent(a -> a.logsEndpoint("https://logs.example.cloudaeye.com").apiToken(Secret.of(TOKEN)))
                .journalDirectory(work.resolve("journals"))
                .build();
    }

    /** The Helm revisions of the release, from its release Secrets. */
    private List<String> helmRevisions() {
        return kubernetes
                .secrets()
                .inNamespace(NAMESPACE)
                .withLabel("owner", "helm")
                .withLabel("name", "cloudaeye-agent")
                .list()
                .getItems()
                .stream()
                .map(s -> s.getMetadata().getLabels().get("version"))
                .sorted()
                .toList();
    }

    private Set<String> namespaces() {
        return kubernetes.namespaces().list().getItems().stream()
                .map(n -> n.getMetadata().getName())
                .collect(Collectors.toCollection(TreeSet::new));
    }

    /** The kubeconfig rewritten in YAML flow style: one line of braces and brackets, plain scalars where YAML allows. */
    static String flowStyle(Path kubeconfig) throws IOException {
        return flow(new YAMLMapper().readTree(kubeconfig.toFile())) + "\n";
    }

    private static String flow(JsonNode node) {
        if (node.isObject()) {
            return node.properties().stream()
                    .map(e -> e.getKey() + ": " + flow(e.getValue()))
                    .collect(Collectors.joining(", ", "{", "}"));
        }
        if (node.isArray()) {
            StringBuilder out = new StringBuilder("[");
            for (int i = 0; i < node.size(); i++) {
                out.append(i > 0 ? ", " : "").append(flow(node.get(i)));
            }
            return out.append(']').toString();
        }
        if (node.isTextual()) {
            return "'" + node.asText().replace("'", "''") + "'";
        }
        return node.asText();
    }

    private static Change only(Plan plan) {
        assertThat(plan.changes()).as(plan.toString()).hasSize(1);
        return plan.changes().first();
    }

    /**
     * A child JVM's main, run with {@code KUBECONFIG} set: installs through the default kubeconfig, plans again and
     * uninstalls, printing {@code INSTALL success=..}, {@code REPLAN <action>} and {@code UNINSTALL success=..}.
     */
    public static final class InstallThroughDefaultKubeconfig {
        private InstallThroughDefaultKubeconfig() {}

        /** @param args the moto endpoint and the journal directory */
        public static void main(String[] args) {
            try (AgentInstaller installer = AgentInstaller.builder()
                    .region(Moto.REGION)
                    .endpointOverride(URI.create(args[0]))
                    .credentialsProvider(Moto.credentials())
                    .agent(a ->
                            a.logsEndpoint("https://logs.example.cloudaeye.com").apiToken(Secret.of(TOKEN)))
                    .target(EksTarget.builder()
                            .cluster(MotoEks.CLUSTER)
                            .daemonSet(d -> d.defaultKubeconfig(true).timeout(Duration.ofMinutes(2)))
                            .build())
                    .journalDirectory(Path.of(args[1]))
                    .build()) {
                ApplyResult installed = installer.apply(installer.plan());
                System.out.println("INSTALL success=" + installed.isSuccess() + " " + installed);
                System.out.println("REPLAN " + only(installer.plan()).action());
                ApplyResult removed = installer.apply(installer.planUninstall());
                System.out.println("UNINSTALL success=" + removed.isSuccess() + " " + removed);
            }
        }
    }
}
