package com.cloudaeye.agent.eks.testing;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.Secret;
import com.cloudaeye.agent.eks.AgentDaemonSet;
import com.cloudaeye.agent.eks.EksTarget;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.marcnuri.helm.Helm;
import com.marcnuri.helm.Release;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;

/**
 * The setup the real-cluster integration tests share, as a JUnit 5 extension: an EKS API (WireMock) that describes
 * cluster {@value #CLUSTER} as the control plane {@link KubeCluster} (started for the test class; not for tests that
 * go through a caller's kubeconfig), optionally an EKS identity with cluster-admin, and optionally a Helm release and
 * namespace of each test's own, or one fixed name, removed (release uninstalled, namespace deleted) after each test
 * whatever the test left; a fixed name is also cleared before each test, and its namespace waited for.
 *
 * <pre>{@code
 * @RegisterExtension
 * static final EksOnKubeCluster cluster = EksOnKubeCluster.clusterAdmin("AKIDMYTESTIT").releasePerTest("it");
 * }</pre>
 */
public final class EksOnKubeCluster
        implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback, AfterEachCallback {
    /** The EKS cluster the EKS API describes. */
    public static final String CLUSTER = "prod-eks";

    private final @Nullable String adminAccessKey;
    private final boolean eksApi;
    private @Nullable String prefix;
    private @Nullable String fixedName;
    private boolean podSecurityBaseline;
    private @Nullable WireMockServer aws;
    private KubeCluster.@Nullable User admin;
    private @Nullable String name;

    private EksOnKubeCluster(@Nullable String adminAccessKey, boolean eksApi) {
        this.adminAccessKey = adminAccessKey;
        this.eksApi = eksApi;
    }

    /**
     * @param accessKeyId the access key of the tests' AWS credentials; its EKS identity gets cluster-admin (as with an
     *     access entry of AmazonEKSClusterAdminPolicy), unique per test class
     * @return the extension
     */
    public static EksOnKubeCluster clusterAdmin(String accessKeyId) {
        return new EksOnKubeCluster(accessKeyId, true);
    }

    /** @return the extension with the EKS API only: the tests bind their EKS identities themselves */
    public static EksOnKubeCluster eksApiOnly() {
        return new EksOnKubeCluster(null, true);
    }

    /** @return the extension without EKS API nor identity: the tests install through a caller's kubeconfig */
    public static EksOnKubeCluster callerKubeconfig() {
        return new EksOnKubeCluster(null, false);
    }

    /**
     * Gives each test a release and namespace of its own, {@code PREFIX-HASH} of its display name (the chart's
     * ClusterRole is named after the release, so releases must differ), removed after it.
     *
     * @param prefix the name prefix, a DNS label
     * @return this extension
     */
    public EksOnKubeCluster releasePerTest(String prefix) {
        this.prefix = prefix;
        return this;
    }

    /**
     * Points the EKS API at the API server that enforces PodSecurity {@code baseline} in every namespace without a
     * level of its own ({@link KubeCluster#podSecurityBaselineKubeconfig()}) instead of the default one.
     *
     * @return this extension
     */
    public EksOnKubeCluster podSecurityBaselineServer() {
        this.podSecurityBaseline = true;
        return this;
    }

    /**
     * Removes the release {@code name} in namespace {@code name} (and that namespace) after each test.
     *
     * @param name the release's and its namespace's name
     * @return this extension
     */
    public EksOnKubeCluster release(String name) {
        this.fixedName = name;
        return this;
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        if (adminAccessKey != null) {
            admin = KubeCluster.eksUser(adminAccessKey).grantClusterRole("cluster-admin");
        }
        if (eksApi) {
            aws = KubeCluster.startEksApi(
                    podSecurityBaseline ? KubeCluster.podSecurityBaselineKubeconfig() : KubeCluster.kubeconfig());
        }
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (aws != null) {
            aws.stop();
        }
        if (admin != null) {
            admin.delete();
        }
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        name = fixedName != null
                ? fixedName
                : prefix == null
                        ? null
                        : prefix + "-"
                                + Integer.toHexString(context.getDisplayName().hashCode() & 0xfffffff);
        if (fixedName != null) {
            removeRelease(fixedName, true); // what an earlier test class left in the shared name
        }
    }

    @Override
    public void afterEach(ExtensionContext context) {
        if (name != null) {
            // A fixed name is used again by the next test: wait until its namespace is gone.
            removeRelease(name, fixedName != null);
        }
    }

    /**
     * Uninstalls a release (if installed) and deletes its namespace, as admin, whatever a test left.
     *
     * @param name the release's and its namespace's name
     * @param wait whether to wait until the namespace is gone
     */
    public static void removeRelease(String name, boolean wait) {
        if (!helmList(name).isEmpty()) {
            Helm.uninstall(name)
                    .withNamespace(name)
                    .withKubeConfig(KubeCluster.kubeconfig())
                    .call();
        }
        deleteNamespace(name, wait);
    }

    /** @return this test's release and namespace name */
    public String name() {
        if (name == null) {
            throw new IllegalStateException("no release per test: register the extension with releasePerTest(..)");
        }
        return name;
    }

    /** @return the EKS API's URL, the installer's AWS endpoint override */
    public String eksEndpoint() {
        if (aws == null) {
            throw new IllegalStateException("no EKS API: register with clusterAdmin(..) or eksApiOnly()");
        }
        return aws.baseUrl();
    }

    /** @return the cluster-admin EKS identity's access key */
    public String accessKey() {
        if (adminAccessKey == null) {
            throw new IllegalStateException("no cluster-admin identity: register with clusterAdmin(..)");
        }
        return adminAccessKey;
    }

    /**
     * @param daemonSet the DaemonSet options
     * @param token the agent token
     * @param journals the journal directory
     * @return an installer of the DaemonSet on {@value #CLUSTER} as the cluster-admin identity
     */
    public AgentInstaller installer(AgentDaemonSet daemonSet, String token, Path journals) {
        return installer(eksEndpoint(), accessKey(), daemonSet, token, journals);
    }

    /**
     * An installer of the DaemonSet on {@value #CLUSTER} through an EKS API, as the EKS identity of an access key;
     * for child JVMs too, which get the endpoint as an argument.
     *
     * @param eksEndpoint the EKS API's URL
     * @param accessKeyId the access key of the installer's AWS credentials
     * @param daemonSet the DaemonSet options
     * @param token the agent token
     * @param journals the journal directory
     * @return the installer
     */
    public static AgentInstaller installer(
            String eksEndpoint, String accessKeyId, AgentDaemonSet daemonSet, String token, Path journals) {
        return AgentInstaller.builder()
                .region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKeyId, "test")))
                .endpointOverride(URI.create(eksEndpoint))
                .agent(a -> a.logsEndpoint("https://logs.example.cloudaeye.com").apiToken(Secret.of(token)))
                .target(EksTarget.builder()
                        .cluster(CLUSTER)
                        .daemonSet(daemonSet)
                        .build())
                .journalDirectory(journals)
                .build();
    }

    /**
     * What an upgrade of the agent would change in this test's release.
     *
     * @param generation the agent DaemonSet's generation
     * @param pods its pods, each as {@code NODE/NAME IMAGE}
     */
    public record Running(long generation, Set<String> pods) {}

    /** @return the agent DaemonSet of this test's release (it must exist) and its pods, as they are now */
    public Running running() {
        try (KubernetesClient admin = KubeCluster.admin()) {
            DaemonSet ds = admin.apps()
                    .daemonSets()
                    .inNamespace(name())
                    .withName(name() + "-cloudaeye-agent")
                    .require();
            Set<String> pods = admin.pods().inNamespace(name()).list().getItems().stream()
                    .map(p -> p.getSpec().getNodeName() + "/" + p.getMetadata().getName() + " "
                            + p.getSpec().getContainers().get(0).getImage())
                    .collect(Collectors.toSet());
            return new Running(ds.getMetadata().getGeneration(), pods);
        }
    }

    /** @return every revision's record of this test's release, as Helm lists them */
    public List<Release> helmList() {
        return helmList(name());
    }

    /**
     * @param namespace a namespace
     * @return every revision's record of every release in it, as Helm lists them
     */
    public static List<Release> helmList(String namespace) {
        return Helm.list()
                .withKubeConfig(KubeCluster.kubeconfig())
                .withNamespace(namespace)
                .all()
                .call();
    }

    /**
     * Deletes a namespace, and waits until it is gone if asked: a namespace lingers while the namespace controller
     * empties it, and a test that installs into it again would find it terminating.
     *
     * @param namespace the namespace
     * @param wait whether to wait until it is gone
     */
    public static void deleteNamespace(String namespace, boolean wait) {
        try (KubernetesClient admin = KubeCluster.admin()) {
            admin.namespaces().withName(namespace).delete();
            if (!wait) {
                return;
            }
            long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
            while (admin.namespaces().withName(namespace).get() != null) {
                assertThat(System.nanoTime())
                        .as("namespace " + namespace + " is gone")
                        .isLessThan(deadline);
                Thread.sleep(200);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
