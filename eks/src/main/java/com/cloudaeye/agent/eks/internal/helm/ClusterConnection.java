package com.cloudaeye.agent.eks.internal.helm;

import com.cloudaeye.agent.ConfigurationException;
import com.cloudaeye.agent.PlanningException;
import com.marcnuri.helm.Helm;
import com.marcnuri.helm.Release;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How Helm reaches the cluster: either the EKS endpoint with the cluster's CA and an EKS token made from the caller's
 * AWS credentials, or a kubeconfig file the caller passed. Helm reads a kubeconfig only from a file, so the EKS
 * variant writes one, with a fresh token, into a private temporary directory for each Helm call.
 */
abstract class ClusterConnection {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterConnection.class);

    /**
     * @param server the API server's https URL
     * @param certificateAuthority the cluster CA bundle, base64 PEM as DescribeCluster returns it
     * @param tokens the EKS token source
     * @return a connection through the EKS endpoint
     */
    static ClusterConnection eks(String server, String certificateAuthority, EksToken tokens) {
        return new Eks(server, certificateAuthority, tokens);
    }

    /**
     * @param kubeconfig the caller's kubeconfig
     * @return a connection through that kubeconfig's current context
     */
    static ClusterConnection kubeconfig(Path kubeconfig) {
        if (!Files.isRegularFile(kubeconfig) || !Files.isReadable(kubeconfig)) {
            throw new ConfigurationException("AgentDaemonSet kubeconfig " + kubeconfig
                    + " is not a readable file: pass the path of a kubeconfig, or leave it out to use the EKS token.");
        }
        String text;
        try {
            text = Files.readString(kubeconfig);
        } catch (IOException e) {
            throw new ConfigurationException(
                    "AgentDaemonSet kubeconfig " + kubeconfig + " could not be read: " + e.getMessage(), e);
        }
        // Helm reads a malformed kubeconfig as "no releases" and then fails the install obscurely: check the basics.
        if (!KUBECONFIG_CONTEXT.matcher(text).find()
                || !KUBECONFIG_SERVER.matcher(text).find()) {
            throw new ConfigurationException("AgentDaemonSet kubeconfig " + kubeconfig
                    + " has no current-context or no cluster server: pass a kubeconfig whose current context reaches"
                    + " the cluster (e.g. written by 'aws eks update-kubeconfig').");
        }
        return new Kubeconfig(kubeconfig);
    }

    private static final java.util.regex.Pattern KUBECONFIG_CONTEXT =
            java.util.regex.Pattern.compile("(?m)^current-context:\\s*\\S+");
    private static final java.util.regex.Pattern KUBECONFIG_SERVER =
            java.util.regex.Pattern.compile("(?m)^\\s+server:\\s*\\S+");

    /**
     * Runs a Helm call with a kubeconfig file valid for the whole call.
     *
     * @param dir a private directory for the kubeconfig file, when one must be written
     * @param call the Helm call, given the kubeconfig's path
     * @param <T> its result
     * @return the call's result
     */
    abstract <T> T withKubeconfig(PrivateDir dir, Function<Path, T> call);

    /**
     * Reads the release as installed, without changing anything.
     *
     * @param namespace the release namespace
     * @param release the release name
     * @return the release, empty when none is installed
     * @throws PlanningException when the API server cannot be reached or refuses the read
     */
    abstract Optional<InstalledRelease> installedRelease(String namespace, String release);

    /** @return this library's own client of the cluster, empty when only Helm can use the credentials */
    abstract Optional<KubeApi> api();

    /** @return what to name in messages: the API server or the kubeconfig */
    abstract String describe();

    /** Reads the release list through Helm, which works with any kubeconfig but gives no manifests. */
    Optional<InstalledRelease> listThroughHelm(PrivateDir dir, String namespace, String release) {
        List<Release> releases = withKubeconfig(
                dir,
                kubeconfig -> Helm.list()
                        .withKubeConfig(kubeconfig)
                        .withNamespace(namespace)
                        .all()
                        .call());
        return releases.stream()
                .filter(r -> release.equals(r.getName()))
                .findFirst()
                .map(r -> new InstalledRelease(
                        Integer.parseInt(r.getRevision()),
                        r.getStatus(),
                        r.getChart(),
                        Optional.empty(),
                        Optional.empty()));
    }

    private static final class Kubeconfig extends ClusterConnection {
        private final Path file;

        Kubeconfig(Path file) {
            this.file = file;
        }

        @Override
        <T> T withKubeconfig(PrivateDir dir, Function<Path, T> call) {
            return call.apply(file);
        }

        @Override
        Optional<InstalledRelease> installedRelease(String namespace, String release) {
            try (PrivateDir dir = PrivateDir.create()) {
                LOG.debug("Listing Helm releases in {} through {}", namespace, file);
                return listThroughHelm(dir, namespace, release);
            } catch (IllegalStateException e) {
                throw new PlanningException(
                        "Could not list the Helm releases in namespace " + namespace
                                + " with kubeconfig " + file + ": " + e.getMessage()
                                + ". Check that its current context reaches the cluster.",
                        e);
            }
        }

        @Override
        Optional<KubeApi> api() {
            return Optional.empty();
        }

        @Override
        String describe() {
            return "kubeconfig " + file;
        }
    }

    private static final class Eks extends ClusterConnection {
        private final String server;
        private final String certificateAuthority;
        private final EksToken tokens;
        private final KubeApi api;

        Eks(String server, String certificateAuthority, EksToken tokens) {
            this.server = server;
            this.certificateAuthority = certificateAuthority;
            this.tokens = tokens;
            this.api = new KubeApi(
                    server,
                    caCertificates(certificateAuthority),
                    () -> tokens.current().value());
        }

        @Override
        <T> T withKubeconfig(PrivateDir dir, Function<Path, T> call) {
            Path file = dir.write("kubeconfig", kubeconfig(tokens.current().value()));
            try {
                return call.apply(file);
            } finally {
                try {
                    Files.deleteIfExists(file);
                } catch (IOException e) {
                    LOG.warn("Could not delete the temporary kubeconfig {}; the directory is deleted next", file);
                }
            }
        }

        @Override
        Optional<InstalledRelease> installedRelease(String namespace, String release) {
            return api.helmRelease(namespace, release);
        }

        @Override
        Optional<KubeApi> api() {
            return Optional.of(api);
        }

        @Override
        String describe() {
            return "API server " + server;
        }

        private String kubeconfig(String token) {
            return "apiVersion: v1\nkind: Config\n"
                    + "clusters:\n- name: eks\n  cluster:\n    server: " + quote(server) + "\n"
                    + "    certificate-authority-data: " + quote(certificateAuthority) + "\n"
                    + "users:\n- name: eks\n  user:\n    token: " + quote(token) + "\n"
                    + "contexts:\n- name: eks\n  context:\n    cluster: eks\n    user: eks\n"
                    + "current-context: eks\n";
        }

        private static String quote(String value) {
            return "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
        }

        private static byte[] caCertificates(String base64Pem) {
            try {
                byte[] pem = java.util.Base64.getMimeDecoder().decode(base64Pem);
                // Fail now, with a clear message, rather than inside Helm.
                java.security.cert.CertificateFactory.getInstance("X.509")
                        .generateCertificates(new ByteArrayInputStream(pem));
                return pem;
            } catch (IllegalArgumentException | java.security.cert.CertificateException e) {
                throw new PlanningException(
                        "The cluster's certificate authority data is not a base64 PEM"
                                + " certificate: check the cluster with DescribeCluster.",
                        e);
            }
        }
    }
}
