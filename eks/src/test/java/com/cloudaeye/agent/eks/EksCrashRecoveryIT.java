package com.cloudaeye.agent.eks;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.Journal;
import com.cloudaeye.agent.eks.crash.EksApplyInChildJvm;
import com.cloudaeye.agent.eks.internal.ControlPlaneLogging;
import com.cloudaeye.agent.eks.internal.access.CrossAccountRoleAccess;
import com.cloudaeye.agent.eks.internal.access.IamUserStackAccess;
import com.cloudaeye.agent.eks.testing.EksOnKubeCluster;
import com.cloudaeye.agent.eks.testing.KubeCluster;
import com.cloudaeye.agent.testing.ChildJvm;
import com.cloudaeye.agent.testing.Moto;
import com.cloudaeye.agent.testing.ThrottlingProxy;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.cloudformation.CloudFormationClient;
import software.amazon.awssdk.services.cloudformation.model.Stack;
import software.amazon.awssdk.services.eks.EksClient;
import software.amazon.awssdk.services.eks.model.Cluster;
import software.amazon.awssdk.services.eks.model.LogSetup;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.iam.model.NoSuchEntityException;

/**
 * A killed EKS install loses nothing: 8 clusters in moto (two with every log type already enabled by their owner,
 * three with the owner's tags), one {@link EksTarget} covering them all with control-plane logging, the first cluster
 * also with the agent DaemonSet (Helm, into the real control plane {@link KubeCluster}, through a kubeconfig of a user
 * of its own, whose writes the API server's audit log counts) and CloudAEye's IAM-user stack,
 * the second with the cross-account role. The apply runs in a child JVM behind a {@link ThrottlingProxy} (latency; the
 * installer's own EKS, IAM and CloudFormation rates are lowered) and is killed with {@code SIGKILL} once a few outcomes
 * are journaled; a new JVM then resumes (every resource changed exactly once across both JVMs) or rolls back (every
 * cluster's logging and tags as they were; the release, stack and role gone). The proxy lives in this JVM and the
 * audit log spans both children, so the request counts do too.
 *
 * <p>moto replaces a cluster's logging wholesale on {@code UpdateClusterConfig} (AWS merges), so the clusters whose
 * owner enabled log types have all five on: the installer must leave them alone. A cluster with only some types on
 * would lose them under moto on any partial update.
 */
class EksCrashRecoveryIT {
    private static final int KILL_AFTER = 4;
    private static final Set<String> ALL_ON =
            Set.of(EksApplyInChildJvm.CLUSTERS.get(2), EksApplyInChildJvm.CLUSTERS.get(5));
    private static final Map<String, Map<String, String>> USER_TAGS = Map.of(
            EksApplyInChildJvm.CLUSTERS.get(1), Map.of("team", "payments"),
            EksApplyInChildJvm.CLUSTERS.get(2), Map.of("env", "prod"),
            EksApplyInChildJvm.CLUSTERS.get(4), Map.of("team", "search", "cost-center", "42"));
    private static final List<String> TYPES =
            List.of("api", "audit", "authenticator", "controllerManager", "scheduler");
    private static final String ALL_TYPES = String.join(",", TYPES);
    private static final String NAMESPACE = "cloudaeye-agent";

    @TempDir
    Path work;

    private ThrottlingProxy proxy;
    private EksClient eks;
    private IamClient iam;
    private CloudFormationClient cfn;
    /** Clears the agent's release and namespace before and after each test. */
    @RegisterExtension
    static final EksOnKubeCluster KUBERNETES =
            EksOnKubeCluster.callerKubeconfig().release(NAMESPACE);

    private KubeCluster.User kubeUser;
    private long auditMark;
    /** Each cluster as created, by name. */
    private final Map<String, Cluster> originals = new LinkedHashMap<>();

    @BeforeEach
    void createClusters() throws IOException {
        Moto.reset();
        eks = MotoEks.eks();
        iam = MotoEks.iam();
        cfn = MotoEks.cloudFormation();
        for (String name : EksApplyInChildJvm.CLUSTERS) {
            eks.createCluster(r -> {
                r.name(name)
                        .roleArn("arn:aws:iam::" + Moto.ACCOUNT + ":role/eks-cluster")
                        .resourcesVpcConfig(v -> v.subnetIds("subnet-0a1b2c3d"))
                        .tags(USER_TAGS.getOrDefault(name, Map.of()));
                if (ALL_ON.contains(name)) {
                    r.logging(l -> l.clusterLogging(LogSetup.builder()
                            .enabled(true)
                            .typesWithStrings(TYPES)
                            .build()));
                }
            });
            originals.put(name, describe(name));
        }
        kubeUser = KubeCluster.user("eks-crash-recovery", work).grantClusterRole("cluster-admin");
        auditMark = KubeCluster.auditMark();
        proxy = ThrottlingProxy.builder()
                .target(Moto.endpoint())
                .unlimited()
                .latency(Duration.ofMillis(20))
                .start();
    }

    @AfterEach
    void close() {
        kubeUser.delete();
        proxy.close();
        eks.close();
        iam.close();
        cfn.close();
    }

    @Test
    void killedInstall_resumedInANewJvm_changesEveryResourceExactlyOnce() throws Exception {
        Path first = applyAndKill();
        Journal killed = Journal.read(first);
        assertThat(killed.applied()).hasSizeGreaterThanOrEqualTo(KILL_AFTER);
        assertThat(killed.unfinished()).as("the kill left work to resume").isNotEmpty();

        ChildJvm.Result resumed = run("resume", first);
        assertThat(resumed.status())
                .as(
                        "resume status, killed journal:\n%s\nresumed journal:\n%s",
                        Files.readString(first), Files.readString(resumed.journalPath()))
                .isEqualTo(ApplyResult.Status.SUCCEEDED);
        assertThat(resumed.failed()).as("failed").isZero();

        for (Map.Entry<String, Cluster> e : originals.entrySet()) {
            String name = e.getKey();
            Cluster now = describe(name);
            assertThat(enabled(now)).as(name + " log types").isEqualTo(ALL_TYPES);
            Map<String, String> tags = new LinkedHashMap<>(e.getValue().tags());
            if (!ALL_ON.contains(name)) {
                tags.put(ControlPlaneLogging.TAG, ALL_TYPES);
            }
            assertThat(now.tags())
                    .as(name + " tags: the owner's kept, ours added")
                    .isEqualTo(tags);
            assertThat(updates(name))
                    .as(name + ": one logging update across both JVMs, none where all was on")
                    .isEqualTo(ALL_ON.contains(name) ? 0 : 1);
        }
        assertThat(proxy.requests("CreateRole")).as("CreateRole requests").isEqualTo(1);
        assertThat(proxy.requests("CreateStack")).as("CreateStack requests").isEqualTo(1);
        assertThat(proxy.requests("CreateAccessKey"))
                .as("CreateAccessKey requests")
                .isEqualTo(1);
        assertThat(daemonSetCreations())
                .as("DaemonSet creations across both JVMs")
                .isEqualTo(1);
        assertThat(iam.getRole(r -> r.roleName(CrossAccountRoleAccess.ROLE_NAME))
                        .role()
                        .description())
                .contains(EksApplyInChildJvm.ROLE_CLUSTER);
        assertThat(stack()).isNotNull();
        assertThat(iam.listAccessKeys(r -> r.userName(IamUserStackAccess.USER_NAME))
                        .accessKeyMetadata())
                .hasSize(1);

        // The resume's journal begins with the killed apply's lines: it records every resource as applied, once, and
        // neither journal holds a secret.
        Journal resumedJournal = Journal.read(resumed.journalPath());
        List<String> applied = new ArrayList<>();
        resumedJournal.applied().forEach(c -> applied.add(key(c)));
        killed.applied().forEach(c -> assertThat(applied).contains(key(c)));
        // Logging per cluster, the release, the stack, its key, the role.
        int mutations = originals.size() - ALL_ON.size() + 4;
        assertThat(applied).hasSize(mutations);
        assertThat(resumedJournal.unfinished()).isEmpty();
        assertNoSecretIn(Files.readString(first) + Files.readString(resumedJournal.path()) + ChildJvm.output(work));

        // Resuming the finished journal again changes nothing.
        long mutatingBefore = mutatingRequests();
        ChildJvm.Result again = run("resume", resumedJournal.path());
        assertThat(again.applied()).as("applied").isZero();
        assertThat(again.status()).isEqualTo(ApplyResult.Status.NOTHING_TO_DO);
        assertThat(mutatingRequests()).as("mutating requests").isEqualTo(mutatingBefore);
    }

    @Test
    void killedInstall_rolledBackInANewJvm_leavesEveryClusterAsItWas_andRemovesTheStack() throws Exception {
        Path first = applyAndKill();
        Journal killed = Journal.read(first);
        assertThat(originals.entrySet())
                .as("the killed apply changed at least one cluster, so the rollback has something to restore")
                .anyMatch(
                        e -> !describe(e.getKey()).logging().equals(e.getValue().logging()));
        assertThat(stack()).as("the killed apply created the stack").isNotNull();
        assertThat(daemonSets()).as("the killed apply installed the DaemonSet").isNotEmpty();
        Set<String> touched = Stream.concat(killed.applied().stream(), killed.interrupted().stream())
                .filter(c -> c.resourceType().equals(ControlPlaneLogging.RESOURCE_TYPE))
                .map(c -> c.targetState().path("cluster").asText())
                .collect(Collectors.toSet());
        Map<String, Long> updatesBefore = new LinkedHashMap<>();
        originals.keySet().forEach(name -> updatesBefore.put(name, updates(name)));
        String secrets = String.join("\n", secrets());

        ChildJvm.Result rolledBack = run("rollback", first);
        assertThat(rolledBack.status())
                .as("rollback status:\n%s", rolledBack.output())
                .isIn(ApplyResult.Status.SUCCEEDED, ApplyResult.Status.NOTHING_TO_DO);
        assertThat(rolledBack.failed()).as("failed").isZero();

        for (Map.Entry<String, Cluster> e : originals.entrySet()) {
            Cluster now = describe(e.getKey());
            assertThat(now.logging())
                    .as(e.getKey() + " logging")
                    .isEqualTo(e.getValue().logging());
            assertThat(now.tags())
                    .as(e.getKey() + " tags")
                    .isEqualTo(e.getValue().tags());
            assertThat(updates(e.getKey()) - updatesBefore.get(e.getKey()))
                    .as(e.getKey() + ": at most one restoring update, none for clusters the apply never reached")
                    .isLessThanOrEqualTo(touched.contains(e.getKey()) ? 1 : 0);
        }
        assertThat(stack()).as("the stack is deleted").isNull();
        assertThat(userExists()).as("the stack's user is deleted").isFalse();
        assertThat(roleExists()).as("no role is left").isFalse();
        assertThat(daemonSets()).as("no DaemonSet is left").isEmpty();
        try (KubernetesClient admin = KubeCluster.admin()) {
            assertThat(admin.secrets().inNamespace(NAMESPACE).list().getItems())
                    .as("no Helm release record nor the agent's Secret is left")
                    .isEmpty();
        }
        assertThat(secrets).as("the killed apply created a key").isNotBlank();
        for (String secret : secrets.split("\n")) {
            assertThat(Files.readString(first) + Files.readString(rolledBack.journalPath()) + ChildJvm.output(work))
                    .doesNotContain(secret);
        }
    }

    private Path applyAndKill() throws Exception {
        return ChildJvm.applyAndKill(EksApplyInChildJvm.class, work, this::args, KILL_AFTER);
    }

    private ChildJvm.Result run(String mode, Path journal) throws Exception {
        return ChildJvm.run(EksApplyInChildJvm.class, work, this::args, mode, journal);
    }

    /** The child's arguments; the apply runs at a low rate, so that the kill lands half-way. */
    private List<String> args(String mode, Path journals, @Nullable Path journal) {
        String rate = mode.equals("apply") ? "2" : "20";
        List<String> args = new ArrayList<>(List.of(
                mode,
                proxy.endpoint().toString(),
                journals.toString(),
                rate,
                kubeUser.kubeconfig().toString()));
        if (journal != null) {
            args.add(journal.toString());
        }
        return args;
    }

    /** Every access key secret moto holds (its state dump shows them; AWS never would). */
    private static List<String> secrets() throws Exception {
        String body = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create(Moto.endpoint() + "/moto-api/data.json"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString())
                .body();
        JsonNode data = new ObjectMapper().readTree(body);
        return data.findValuesAsText("secret_access_key");
    }

    private void assertNoSecretIn(String text) throws Exception {
        List<String> secrets = secrets();
        assertThat(secrets).as("the apply created a key").isNotEmpty();
        for (String secret : secrets) {
            assertThat(text).as("a secret access key leaked").doesNotContain(secret);
        }
        assertThat(text).doesNotContain(EksApplyInChildJvm.TOKEN);
    }

    private long updates(String cluster) {
        return proxy.requests("UpdateClusterConfig", cluster);
    }

    /** @return every mutating request of every child so far: logging updates, tags, role, policy, stack, key */
    private long mutatingRequests() {
        long awsWrites = Stream.of(
                        "CreateRole", "PutRolePolicy", "CreateAccessKey", "CreateStack", "TagResource", "UntagResource")
                .mapToLong(proxy::requests)
                .sum();
        long kubernetesWrites = kubernetesWrites().size();
        return awsWrites
                + kubernetesWrites
                + originals.keySet().stream().mapToLong(this::updates).sum();
    }

    private long daemonSetCreations() {
        return kubernetesWrites().stream()
                .filter(w -> w.path("verb").asText().equals("create")
                        && w.path("objectRef").path("resource").asText().equals("daemonsets"))
                .count();
    }

    /** The writes the API server carried out for the children since the test began. */
    private List<JsonNode> kubernetesWrites() {
        return KubeCluster.audited(kubeUser.userName(), auditMark).stream()
                .filter(KubeCluster::isWrite)
                .toList();
    }

    private List<String> daemonSets() {
        try (KubernetesClient admin = KubeCluster.admin()) {
            return admin.apps().daemonSets().inNamespace(NAMESPACE).list().getItems().stream()
                    .map(d -> d.getMetadata().getName())
                    .toList();
        }
    }

    private Cluster describe(String name) {
        return eks.describeCluster(r -> r.name(name)).cluster();
    }

    private Stack stack() {
        return cfn.describeStacks().stacks().stream()
                .filter(s -> s.stackName().equals(IamUserStackAccess.STACK_NAME))
                .filter(s -> !s.stackStatusAsString().equals("DELETE_COMPLETE"))
                .findFirst()
                .orElse(null);
    }

    private boolean userExists() {
        try {
            iam.getUser(r -> r.userName(IamUserStackAccess.USER_NAME));
            return true;
        } catch (NoSuchEntityException e) {
            return false;
        }
    }

    private boolean roleExists() {
        try {
            iam.getRole(r -> r.roleName(CrossAccountRoleAccess.ROLE_NAME));
            return true;
        } catch (NoSuchEntityException e) {
            return false;
        }
    }

    private static String key(Change c) {
        return c.resourceType() + " " + c.resourceId();
    }

    /** @return the enabled log types, in AWS's order, comma-separated */
    private static String enabled(Cluster cluster) {
        Set<String> on = cluster.logging().clusterLogging().stream()
                .filter(LogSetup::enabled)
                .flatMap(s -> s.typesAsStrings().stream())
                .collect(Collectors.toSet());
        return TYPES.stream().filter(on::contains).collect(Collectors.joining(","));
    }
}
