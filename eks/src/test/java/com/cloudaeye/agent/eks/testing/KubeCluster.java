package com.cloudaeye.agent.eks.testing;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenRequest;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBuilder;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import io.fabric8.kubernetes.api.model.rbac.Subject;
import io.fabric8.kubernetes.api.model.rbac.SubjectBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The real Kubernetes control plane that {@code scripts/test.sh} started for the integration tests (kube-apiserver,
 * etcd, controller-manager, scheduler and kwok's fake nodes, from {@code scripts/k8s.sh}); the path of its admin
 * kubeconfig arrives as the system property {@code k8s.kubeconfig}. Tests fail, rather than skip, when it is
 * missing: run them through the script.
 *
 * <p>The fake nodes: {@link #AMD64_NODE} and {@link #ARM64_NODE} (Linux), {@link #TAINTED_NODE} (Linux amd64, taint
 * {@code dedicated=logs:NoSchedule}) and {@link #FARGATE_NODE} (labelled and tainted like an EKS Fargate node).
 */
public final class KubeCluster {
    /** The system property with the admin kubeconfig's path. */
    public static final String PROPERTY = "k8s.kubeconfig";
    /** A Linux amd64 node. */
    public static final String AMD64_NODE = "kwok-amd64";
    /** A Linux arm64 node. */
    public static final String ARM64_NODE = "kwok-arm64";
    /** A Linux amd64 node with the taint {@code dedicated=logs:NoSchedule}. */
    public static final String TAINTED_NODE = "kwok-tainted";
    /** A node labelled {@code eks.amazonaws.com/compute-type=fargate}, with the matching NoSchedule taint. */
    public static final String FARGATE_NODE = "kwok-fargate";
    /** Where {@link #user} creates its service accounts. */
    public static final String USERS_NAMESPACE = "cloudaeye-test-users";

    private static final ObjectMapper JSON = new ObjectMapper();

    private KubeCluster() {}

    /** @return the admin kubeconfig's path */
    public static Path kubeconfig() {
        String path = System.getProperty(PROPERTY, "");
        if (path.isBlank()) {
            throw new IllegalStateException("No Kubernetes control plane: the EKS integration tests run through"
                    + " scripts/test.sh, which starts one (scripts/k8s.sh) and passes -D" + PROPERTY
                    + "=PATH_OF_ITS_KUBECONFIG to Maven.");
        }
        Path file = Path.of(path);
        if (!Files.isReadable(file)) {
            throw new IllegalStateException(PROPERTY + " names " + path + ", which is not a readable kubeconfig:"
                    + " was the control plane stopped? Run the tests through scripts/test.sh.");
        }
        return file;
    }

    /**
     * The admin kubeconfig of a second API server of the same control plane (the same etcd, users and controllers)
     * whose admission configuration enforces PodSecurity {@code baseline} in every namespace that no label sets a level
     * for, as a cluster-wide default does where the API server takes an admission configuration (EKS's managed one
     * does not, and leaves every namespace privileged). Only the requests it answers are subject to that default:
     * the controllers, and the tests on {@link #kubeconfig()}, are not. {@code scripts/test.sh} starts it
     * ({@code scripts/k8s.sh start DIR --pod-security-baseline}).
     *
     * @return its path, beside {@link #kubeconfig()}
     */
    public static Path podSecurityBaselineKubeconfig() {
        Path file = kubeconfig().resolveSibling("kubeconfig-pss-baseline");
        if (!Files.isReadable(file)) {
            throw new IllegalStateException("No API server with a cluster-wide PodSecurity default beside "
                    + kubeconfig() + ": start the control plane with scripts/k8s.sh start DIR --pod-security-baseline,"
                    + " as scripts/test.sh does.");
        }
        return file;
    }

    /** @return a client with cluster-admin rights (system:masters); close it */
    public static KubernetesClient admin() {
        return client(kubeconfig());
    }

    /**
     * @param kubeconfig a kubeconfig
     * @return a client through its current context; close it
     */
    public static KubernetesClient client(Path kubeconfig) {
        try {
            return new KubernetesClientBuilder()
                    .withConfig(Config.fromKubeconfig(Files.readString(kubeconfig)))
                    .build();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** @return the API server's https URL, as DescribeCluster would give an EKS cluster's endpoint */
    public static String server() {
        return kubeconfigField(kubeconfig(), "server");
    }

    /** @return the base64 PEM of the API server's certificate, as DescribeCluster gives a cluster's CA data */
    public static String certificateAuthorityData() {
        return kubeconfigField(kubeconfig(), "certificate-authority-data");
    }

    /** @return the admin kubeconfig's bearer token, for tests that prove a caller's token is kept nowhere */
    public static String adminToken() {
        return kubeconfigField(kubeconfig(), "token");
    }

    /** @return the API server's audit log: every request's user, verb and object, one JSON object a line */
    public static Path auditLog() {
        return kubeconfig().resolveSibling("audit.log");
    }

    /** @return where the audit log ends now: {@link #audited} reads what comes after it */
    public static long auditMark() {
        try {
            return Files.size(auditLog());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The audit log's entries of one user since a mark, each a request the API server answered: its {@code verb},
     * {@code objectRef} (resource, namespace, name) and {@code responseStatus.code}.
     *
     * @param user the user name, e.g. {@code eks:AKID...}
     * @param mark where to start, from {@link #auditMark}; 0 for the whole log
     * @return the entries, oldest first; a line the server is still writing is left for the next read
     */
    public static List<JsonNode> audited(String user, long mark) {
        try (SeekableByteChannel channel = Files.newByteChannel(auditLog())) {
            channel.position(mark);
            String text = new String(Channels.newInputStream(channel).readAllBytes(), StandardCharsets.UTF_8);
            List<JsonNode> entries = new ArrayList<>();
            for (String line : text.substring(0, text.lastIndexOf('\n') + 1).split("\n")) {
                if (line.isBlank()) {
                    continue;
                }
                JsonNode entry = JSON.readTree(line);
                if (user.equals(entry.path("user").path("username").asText())) {
                    entries.add(entry);
                }
            }
            return entries;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * @param entry an audit log entry
     * @return whether it is a write (create, update, patch, delete) that the API server carried out (2xx); a dry run
     *     ({@code dryRun=All}, as the installer's admission pre-flight sends) stores nothing and is no write
     */
    public static boolean isWrite(JsonNode entry) {
        int code = entry.path("responseStatus").path("code").asInt();
        return List.of("create", "update", "patch", "delete", "deletecollection")
                        .contains(entry.path("verb").asText())
                && code >= 200
                && code < 300
                && !entry.path("requestURI").asText().contains("dryRun=");
    }

    /**
     * Starts an EKS API (WireMock) that describes cluster {@code prod-eks} as this control plane: ACTIVE, its
     * endpoint and certificate, no Fargate profile. An installer pointed at it reaches the control plane through its
     * EKS connection, with an EKS token ({@link #eksUser}).
     *
     * @return the started server; stop it
     */
    public static WireMockServer startEksApi() {
        return startEksApi(kubeconfig());
    }

    /**
     * An EKS API as {@link #startEksApi()}, for the API server of another admin kubeconfig of this control plane.
     *
     * @param kubeconfig the admin kubeconfig whose server and certificate DescribeCluster gives
     * @return the started server; stop it
     */
    public static WireMockServer startEksApi(Path kubeconfig) {
        WireMockServer aws = new WireMockServer(WireMockConfiguration.options().dynamicPort());
        aws.start();
        aws.stubFor(get(urlPathEqualTo("/clusters/prod-eks"))
                .willReturn(aResponse()
                        .withHeader("Content-Type", "application/json")
                        .withBody(fixture("describe-cluster.json")
                                .replace("${endpoint}", kubeconfigField(kubeconfig, "server"))
                                .replace("${status}", "ACTIVE")
                                .replace("${ca}", kubeconfigField(kubeconfig, "certificate-authority-data")))));
        aws.stubFor(get(urlPathEqualTo("/clusters/prod-eks/fargate-profiles"))
                .willReturn(aResponse()
                        .withHeader("Content-Type", "application/json")
                        .withBody(fixture("list-fargate-profiles-empty.json"))));
        return aws;
    }

    private static String fixture(String file) {
        try (InputStream in = KubeCluster.class.getResourceAsStream("/fixtures/eks/" + file)) {
            if (in == null) {
                throw new IllegalStateException("No test resource /fixtures/eks/" + file);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Reads one field of an admin kubeconfig that scripts/k8s.sh writes (one cluster, one user). */
    private static String kubeconfigField(Path kubeconfig, String field) {
        try {
            Matcher m =
                    Pattern.compile("(?m)^\\s+" + field + ":\\s*(\\S+)\\s*$").matcher(Files.readString(kubeconfig));
            if (!m.find()) {
                throw new IllegalStateException("The kubeconfig " + kubeconfig + " has no " + field);
            }
            return m.group(1);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The user that an EKS token made from an AWS access key authenticates as (scripts/k8s.sh answers EKS tokens
     * like EKS's IAM authenticator, without checking the signature), with no rights until granted some.
     *
     * @param accessKeyId the access key id the installer's credentials use; unique per test
     * @return the user; it has no kubeconfig, the installer makes its EKS token
     */
    public static User eksUser(String accessKeyId) {
        return new User(
                new SubjectBuilder()
                        .withApiGroup("rbac.authorization.k8s.io")
                        .withKind("User")
                        .withName("eks:" + accessKeyId)
                        .build(),
                null);
    }

    /**
     * Creates a user with no rights at all: a service account in {@link #USERS_NAMESPACE}, with a kubeconfig holding
     * a token for it. Give it rights with {@link User#grantCluster} and {@link User#grantNamespace}.
     *
     * @param name the user's name (a DNS label, unique per test)
     * @param dir where to write its kubeconfig
     * @return the user
     */
    public static User user(String name, Path dir) {
        try (KubernetesClient admin = admin()) {
            admin.namespaces()
                    .resource(new NamespaceBuilder()
                            .withNewMetadata()
                            .withName(USERS_NAMESPACE)
                            .endMetadata()
                            .build())
                    .serverSideApply();
            admin.serviceAccounts()
                    .inNamespace(USERS_NAMESPACE)
                    .resource(new ServiceAccountBuilder()
                            .withNewMetadata()
                            .withName(name)
                            .endMetadata()
                            .build())
                    .serverSideApply();
            TokenRequest token = admin.serviceAccounts()
                    .inNamespace(USERS_NAMESPACE)
                    .withName(name)
                    .tokenRequest(new TokenRequestBuilder()
                            .withNewSpec()
                            .withExpirationSeconds(3600L)
                            .endSpec()
                            .build());
            String adminConfig = Files.readString(kubeconfig());
            Path file = dir.resolve(name + ".kubeconfig");
            // The admin kubeconfig with the admin's token replaced: same server, same trusted certificate.
            Files.writeString(
                    file,
                    adminConfig.replaceFirst(
                            "(?m)^(\\s+token: ).*$",
                            "$1" + Matcher.quoteReplacement(token.getStatus().getToken())));
            return new User(
                    new SubjectBuilder()
                            .withKind("ServiceAccount")
                            .withName(name)
                            .withNamespace(USERS_NAMESPACE)
                            .build(),
                    file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A service account or an EKS identity acting as a user, with the roles granted to it. */
    public static final class User {
        private final Subject subject;
        private final @Nullable Path kubeconfig;
        private final String roleName;
        private final List<HasMetadata> granted = new ArrayList<>();

        private User(Subject subject, @Nullable Path kubeconfig) {
            this.subject = subject;
            this.kubeconfig = kubeconfig;
            this.roleName = "test-user-"
                    + subject.getName().replaceAll("[^a-z0-9-]", "-").toLowerCase(Locale.ROOT);
        }

        /** @return a kubeconfig that authenticates as this service account */
        public Path kubeconfig() {
            if (kubeconfig == null) {
                throw new IllegalStateException(subject.getName() + " authenticates with an EKS token, which the"
                        + " installer makes from its access key: it has no kubeconfig.");
            }
            return kubeconfig;
        }

        /** @return the name the API server knows this user by, as its audit log shows it */
        public String userName() {
            return "ServiceAccount".equals(subject.getKind())
                    ? "system:serviceaccount:" + subject.getNamespace() + ":" + subject.getName()
                    : subject.getName();
        }

        /** @return the RBAC subject that names this user */
        public Subject subject() {
            return subject;
        }

        /**
         * Binds an existing ClusterRole (e.g. {@code cluster-admin}) to this user.
         *
         * @param clusterRole the ClusterRole's name
         * @return this user
         */
        public User grantClusterRole(String clusterRole) {
            try (KubernetesClient admin = admin()) {
                granted.add(admin.rbac()
                        .clusterRoleBindings()
                        .resource(new ClusterRoleBindingBuilder()
                                .withNewMetadata()
                                .withName(roleName + "-" + clusterRole)
                                .endMetadata()
                                .withNewRoleRef("rbac.authorization.k8s.io", "ClusterRole", clusterRole)
                                .withSubjects(subject)
                                .build())
                        .serverSideApply());
            }
            return this;
        }

        /**
         * Grants rules on the whole cluster: a ClusterRole and a ClusterRoleBinding named after the user.
         *
         * @param rules the rules
         * @return this user
         */
        public User grantCluster(List<PolicyRule> rules) {
            String role = roleName;
            try (KubernetesClient admin = admin()) {
                granted.add(admin.rbac()
                        .clusterRoles()
                        .resource(new ClusterRoleBuilder()
                                .withNewMetadata()
                                .withName(role)
                                .endMetadata()
                                .withRules(rules)
                                .build())
                        .serverSideApply());
                granted.add(admin.rbac()
                        .clusterRoleBindings()
                        .resource(new ClusterRoleBindingBuilder()
                                .withNewMetadata()
                                .withName(role)
                                .endMetadata()
                                .withNewRoleRef("rbac.authorization.k8s.io", "ClusterRole", role)
                                .withSubjects(subject)
                                .build())
                        .serverSideApply());
            }
            return this;
        }

        /**
         * Grants rules in one namespace: a Role and a RoleBinding named after the user.
         *
         * @param namespace the namespace (created when absent)
         * @param rules the rules
         * @return this user
         */
        public User grantNamespace(String namespace, List<PolicyRule> rules) {
            String role = roleName;
            try (KubernetesClient admin = admin()) {
                admin.namespaces()
                        .resource(new NamespaceBuilder()
                                .withNewMetadata()
                                .withName(namespace)
                                .endMetadata()
                                .build())
                        .serverSideApply();
                granted.add(admin.rbac()
                        .roles()
                        .inNamespace(namespace)
                        .resource(new RoleBuilder()
                                .withNewMetadata()
                                .withName(role)
                                .withNamespace(namespace)
                                .endMetadata()
                                .withRules(rules)
                                .build())
                        .serverSideApply());
                granted.add(admin.rbac()
                        .roleBindings()
                        .inNamespace(namespace)
                        .resource(new RoleBindingBuilder()
                                .withNewMetadata()
                                .withName(role)
                                .withNamespace(namespace)
                                .endMetadata()
                                .withNewRoleRef("rbac.authorization.k8s.io", "Role", role)
                                .withSubjects(subject)
                                .build())
                        .serverSideApply());
            }
            return this;
        }

        /** Deletes the roles and bindings granted to this user, and its service account. */
        public void delete() {
            try (KubernetesClient admin = admin()) {
                admin.resourceList(granted).delete();
                if (kubeconfig != null) {
                    admin.serviceAccounts()
                            .inNamespace(USERS_NAMESPACE)
                            .withName(subject.getName())
                            .delete();
                }
            }
            granted.clear();
        }
    }
}
