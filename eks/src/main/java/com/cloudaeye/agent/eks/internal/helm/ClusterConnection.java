package com.cloudaeye.agent.eks.internal.helm;

import com.cloudaeye.agent.PlanningException;
import com.marcnuri.helm.Helm;
import com.marcnuri.helm.Release;
import java.io.ByteArrayInputStream;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How Helm and this library's own reads reach the cluster: either the EKS endpoint with the cluster's CA and an EKS
 * token made from the caller's AWS credentials, or the caller's kubeconfig, resolved as kubectl does. Helm gets the
 * kubeconfig in memory (helm-java's kubeconfig contents), so no file holding a token is written.
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
     * @param kubeconfig the caller's kubeconfig, resolved
     * @return a connection through that kubeconfig's current context
     */
    static ClusterConnection kubeconfig(Kubeconfig kubeconfig) {
        return new ThroughKubeconfig(kubeconfig);
    }

    /**
     * Runs a Helm call with the kubeconfig's contents, valid for the whole call.
     *
     * @param call the Helm call, given the kubeconfig's contents; they may hold a token, so keep them in memory
     * @param <T> its result
     * @return the call's result
     */
    abstract <T> T withKubeconfig(Function<String, T> call);

    /**
     * Reads the release as installed, without changing anything.
     *
     * @param namespace the release namespace
     * @param release the release name
     * @return the release, empty when none is installed
     * @throws PlanningException when the API server cannot be reached or refuses the read
     */
    Optional<InstalledRelease> installedRelease(String namespace, String release) {
        Optional<KubeApi> api = api();
        if (api.isPresent()) {
            return api.get().helmRelease(namespace, release);
        }
        try {
            LOG.debug("Listing Helm releases in {} through {}", namespace, describe());
            return listThroughHelm(namespace, release);
        } catch (IllegalStateException e) {
            throw new PlanningException(
                    "Could not list the Helm releases in namespace " + namespace + " through " + describe() + ": "
                            + e.getMessage() + ". Check that its current context reaches the cluster.",
                    e);
        }
    }

    /** @return this library's own client of the cluster, empty when only Helm can use the credentials */
    abstract Optional<KubeApi> api();

    /** @return what to name in messages: the API server or the kubeconfig */
    abstract String describe();

    /** Reads the release list through Helm, which works with any kubeconfig but gives no manifests. */
    private Optional<InstalledRelease> listThroughHelm(String namespace, String release) {
        List<Release> releases = withKubeconfig(kubeconfig -> Helm.list()
                .withKubeConfigContents(kubeconfig)
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

    private static final class ThroughKubeconfig extends ClusterConnection {
        private final Kubeconfig config;
        private final String contents;
        private final @Nullable KubeApi api;

        ThroughKubeconfig(Kubeconfig config) {
            this.config = config;
            this.contents = config.minified();
            KubeApi client;
            try {
                client = new KubeApi(
                        config.server(),
                        KubeCredentials.tls(config),
                        KubeCredentials.authorization(config),
                        "give the user of context '" + config.context() + "' in " + config.source()
                                + " the RBAC the plan's notes list");
            } catch (KubeCredentials.Unsupported e) {
                LOG.warn(
                        "{} uses {}, which only Helm reads: the release's manifests and namespace are not read",
                        config.source(),
                        e.getMessage());
                client = null;
            }
            this.api = client;
        }

        @Override
        <T> T withKubeconfig(Function<String, T> call) {
            return call.apply(contents);
        }

        @Override
        Optional<KubeApi> api() {
            return Optional.ofNullable(api);
        }

        @Override
        String describe() {
            return config.source() + " (context " + config.context() + ")";
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
            this.api = KubeApi.eks(
                    server,
                    caCertificates(certificateAuthority),
                    () -> tokens.current().value());
        }

        @Override
        <T> T withKubeconfig(Function<String, T> call) {
            return call.apply(kubeconfig(tokens.current().value()));
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
