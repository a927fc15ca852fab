package com.cloudaeye.agent.eks.internal.helm;

import com.cloudaeye.agent.ConfigurationException;
import com.cloudaeye.agent.PlanningException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import org.jspecify.annotations.Nullable;

/**
 * How this library's own reads authenticate with the cluster of a {@link Kubeconfig}, as client-go would: the
 * cluster's CA (file or data) or {@code insecure-skip-tls-verify}, and the user's bearer token, token file, client
 * certificate, basic credentials or exec credential plugin (such as {@code aws eks get-token}). What client-go can
 * do and this cannot ({@code auth-provider}, {@code proxy-url}, {@code tls-server-name}, impersonation) is reported as
 * {@link Unsupported}, and the caller falls back to Helm, which reads such kubeconfigs itself.
 */
final class KubeCredentials {
    private static final Pattern PEM_BLOCK = Pattern.compile("-----BEGIN ([A-Z ]+)-----([^-]+)-----END \\1-----");

    private KubeCredentials() {}

    /** A kubeconfig feature the library's own client does not implement; Helm still can use it. */
    static final class Unsupported extends Exception {
        private static final long serialVersionUID = 1L;

        Unsupported(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * @param config the kubeconfig
     * @return the TLS context trusting the cluster and presenting the user's client certificate, if any
     * @throws Unsupported for TLS options the library does not implement
     */
    static SSLContext tls(Kubeconfig config) throws Unsupported {
        ObjectNode cluster = config.cluster();
        for (String field : List.of("proxy-url", "tls-server-name")) {
            if (!cluster.path(field).asText("").isEmpty()) {
                throw new Unsupported("cluster option " + field);
            }
        }
        try {
            TrustManager[] trust;
            if (cluster.path("insecure-skip-tls-verify").asBoolean(false)) {
                trust = new TrustManager[] {new TrustingAll()};
            } else {
                byte[] ca = pem(config, cluster, "certificate-authority");
                TrustManagerFactory factory =
                        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                factory.init(ca == null ? null : trustStore(ca));
                trust = factory.getTrustManagers();
            }
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(clientKey(config), trust, null);
            return context;
        } catch (GeneralSecurityException | IOException e) {
            throw new ConfigurationException(config.source() + ": the TLS settings of cluster '"
                    + config.cluster().path("server").asText() + "' or of the user could not be used: "
                    + e.getClass().getSimpleName() + ". Check them with 'kubectl cluster-info'.");
        }
    }

    /**
     * @param config the kubeconfig
     * @return gives the Authorization header value for each request (empty for client certificates or anonymous)
     * @throws Unsupported for user options the library does not implement
     */
    static Authorization authorization(Kubeconfig config) throws Unsupported {
        ObjectNode user = config.user();
        for (String field : List.of("auth-provider", "as", "as-groups", "as-uid", "as-user-extra")) {
            JsonNode value = user.path(field);
            if (!value.isMissingNode()
                    && !value.isNull()
                    && !(value.isTextual() && value.asText().isEmpty())) {
                throw new Unsupported("user option " + field);
            }
        }
        if (!user.path("token").asText("").isEmpty()) {
            String token = user.path("token").asText();
            return () -> Optional.of("Bearer " + token);
        }
        if (!user.path("tokenFile").asText("").isEmpty()) {
            Path file = Path.of(user.path("tokenFile").asText());
            return () -> Optional.of("Bearer " + readTokenFile(config, file));
        }
        if (!user.path("username").asText("").isEmpty()) {
            String basic =
                    user.path("username").asText() + ":" + user.path("password").asText("");
            return () ->
                    Optional.of("Basic " + Base64.getEncoder().encodeToString(basic.getBytes(StandardCharsets.UTF_8)));
        }
        if (user.path("exec") instanceof ObjectNode exec) {
            if (exec.path("exec").isObject()) {
                throw new Unsupported("nested exec");
            }
            return new ExecPlugin(config, exec);
        }
        return Optional::empty;
    }

    /** Gives the Authorization header for the next request. */
    @FunctionalInterface
    interface Authorization {
        /** @return the header value, empty for none */
        Optional<String> header();
    }

    private static String readTokenFile(Kubeconfig config, Path file) {
        try {
            return Files.readString(file).strip();
        } catch (IOException e) {
            throw new PlanningException(config.source() + ": the tokenFile " + file + " of user '"
                    + config.userName().orElse("") + "' could not be read: "
                    + e.getClass().getSimpleName());
        }
    }

    private static KeyStore trustStore(byte[] pem) throws GeneralSecurityException, IOException {
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        int i = 0;
        for (Certificate c : certificates(pem)) {
            store.setCertificateEntry("ca-" + i++, c);
        }
        return store;
    }

    private static List<? extends Certificate> certificates(byte[] pem) throws GeneralSecurityException {
        List<? extends Certificate> list = List.copyOf(
                CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(pem)));
        if (list.isEmpty()) {
            throw new java.security.cert.CertificateException("no certificate");
        }
        return list;
    }

    private static javax.net.ssl.KeyManager @Nullable [] clientKey(Kubeconfig config)
            throws GeneralSecurityException, IOException {
        byte[] cert = pem(config, config.user(), "client-certificate");
        byte[] key = pem(config, config.user(), "client-key");
        if (cert == null && key == null) {
            return null;
        }
        if (cert == null || key == null) {
            throw new ConfigurationException(
                    config.source() + ": user '" + config.userName().orElse("")
                            + "' has a client "
                            + (cert == null ? "key but no client certificate" : "certificate but no client key")
                            + ": set both.");
        }
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        char[] password = new char[0];
        store.setKeyEntry(
                "client", privateKey(config, key), password, certificates(cert).toArray(Certificate[]::new));
        KeyManagerFactory factory = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        factory.init(store, password);
        return factory.getKeyManagers();
    }

    /** The PEM of {@code field-data} (base64) or of the file {@code field}, null when neither is set. */
    private static byte @Nullable [] pem(Kubeconfig config, JsonNode node, String field) throws IOException {
        String data = node.path(field + "-data").asText("");
        if (!data.isEmpty()) {
            try {
                return Base64.getMimeDecoder().decode(data);
            } catch (IllegalArgumentException e) {
                throw new ConfigurationException(
                        config.source() + ": " + field + "-data is not base64: check the kubeconfig.");
            }
        }
        String file = node.path(field).asText("");
        return file.isEmpty() ? null : Files.readAllBytes(Path.of(file));
    }

    /**
     * Reads a PEM private key: PKCS#8 ({@code PRIVATE KEY}), PKCS#1 ({@code RSA PRIVATE KEY}) or SEC1 ({@code EC
     * PRIVATE KEY}), the forms kubeadm, kind and openssl write.
     */
    static PrivateKey privateKey(Kubeconfig config, byte[] pem) throws GeneralSecurityException {
        Matcher block = PEM_BLOCK.matcher(new String(pem, StandardCharsets.US_ASCII));
        while (block.find()) {
            String type = block.group(1);
            byte[] der = Base64.getMimeDecoder().decode(block.group(2).strip());
            // EC PARAMETERS and the like may come before the key: those are read past.
            Optional<PrivateKey> key = switch (type) {
                case "PRIVATE KEY" -> Optional.of(pkcs8(der));
                case "RSA PRIVATE KEY" ->
                    Optional.of(KeyFactory.getInstance("RSA")
                            .generatePrivate(new PKCS8EncodedKeySpec(Der.pkcs8(Der.RSA_ALGORITHM, der))));
                case "EC PRIVATE KEY" ->
                    Optional.of(KeyFactory.getInstance("EC")
                            .generatePrivate(new PKCS8EncodedKeySpec(Der.pkcs8(Der.ecAlgorithm(der), der))));
                default -> Optional.empty();
            };
            if (key.isPresent()) {
                return key.get();
            }
        }
        throw new ConfigurationException(config.source() + ": the client key of user '"
                + config.userName().orElse("")
                + "' is not a PEM private key (PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY).");
    }

    private static PrivateKey pkcs8(byte[] der) throws GeneralSecurityException {
        GeneralSecurityException last = null;
        for (String algorithm : List.of("RSA", "EC", "Ed25519")) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (GeneralSecurityException e) {
                last = e;
            }
        }
        throw java.util.Objects.requireNonNull(last);
    }

    /** {@code insecure-skip-tls-verify}: accepts any server certificate and name, as the kubeconfig asks. */
    private static final class TrustingAll extends X509ExtendedTrustManager {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {}

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) {}

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {}

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {}

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {}

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) {}

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
