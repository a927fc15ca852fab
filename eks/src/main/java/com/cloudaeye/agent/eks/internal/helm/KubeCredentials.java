package com.cloudaeye.agent.eks.internal.helm;

import com.cloudaeye.agent.ConfigurationException;
import com.cloudaeye.agent.PlanningException;
import com.cloudaeye.agent.spi.support.Json;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
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
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
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
    private static final long EXEC_TIMEOUT_SECONDS = 60;

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

    /**
     * An exec credential plugin, as client-go runs it: the command with its args and env, {@code
     * KUBERNETES_EXEC_INFO} describing a non-interactive call, the {@code ExecCredential} read from its output and
     * kept until its {@code expirationTimestamp}.
     */
    private static final class ExecPlugin implements Authorization {
        private final Kubeconfig config;
        private final ObjectNode exec;
        private @Nullable String token;
        private @Nullable Instant expires;

        ExecPlugin(Kubeconfig config, ObjectNode exec) throws Unsupported {
            this.config = config;
            this.exec = exec;
            if ("Always".equals(exec.path("interactiveMode").asText())) {
                throw new Unsupported("exec interactiveMode Always");
            }
        }

        @Override
        public synchronized Optional<String> header() {
            Instant now = Instant.now();
            if (token == null || (expires != null && !now.isBefore(expires.minusSeconds(60)))) {
                run();
            }
            return Optional.of("Bearer " + token);
        }

        private void run() {
            String command = exec.path("command").asText("");
            String user = config.userName().orElse("");
            if (command.isEmpty()) {
                throw new ConfigurationException(
                        config.source() + ": the exec plugin of user '" + user + "' has no command.");
            }
            List<String> args = new java.util.ArrayList<>();
            args.add(command);
            exec.path("args").forEach(a -> args.add(a.asText()));
            ProcessBuilder builder = new ProcessBuilder(args).redirectError(ProcessBuilder.Redirect.DISCARD);
            exec.path("env")
                    .forEach(e -> builder.environment()
                            .put(e.path("name").asText(), e.path("value").asText()));
            ObjectNode info = Json.object();
            String apiVersion = exec.path("apiVersion").asText("client.authentication.k8s.io/v1beta1");
            info.put("apiVersion", apiVersion);
            info.put("kind", "ExecCredential");
            ObjectNode spec = info.putObject("spec");
            spec.put("interactive", false);
            if (exec.path("provideClusterInfo").asBoolean(false)) {
                ObjectNode cluster = spec.putObject("cluster");
                cluster.put("server", config.server());
                if (config.cluster().hasNonNull("certificate-authority-data")) {
                    cluster.put(
                            "certificate-authority-data",
                            config.cluster().path("certificate-authority-data").asText());
                }
                cluster.put(
                        "insecure-skip-tls-verify",
                        config.cluster().path("insecure-skip-tls-verify").asBoolean(false));
            }
            builder.environment().put("KUBERNETES_EXEC_INFO", info.toString());
            JsonNode credential;
            try {
                Process process = builder.start();
                process.getOutputStream().close();
                byte[] out;
                try (InputStream in = process.getInputStream()) {
                    out = in.readAllBytes();
                }
                if (!process.waitFor(EXEC_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    throw failure(command, "did not finish within " + EXEC_TIMEOUT_SECONDS + " seconds");
                }
                if (process.exitValue() != 0) {
                    throw failure(command, "exited with " + process.exitValue());
                }
                credential = Json.parse(new ByteArrayInputStream(out));
            } catch (IOException e) {
                throw failure(
                        command,
                        "could not run or printed no ExecCredential JSON ("
                                + e.getClass().getSimpleName() + ")");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw failure(command, "was interrupted");
            }
            String value = credential.path("status").path("token").asText("");
            if (value.isEmpty()) {
                throw failure(
                        command,
                        "printed an ExecCredential without status.token (client certificates from"
                                + " exec plugins are left to Helm)");
            }
            token = value;
            String expiry =
                    credential.path("status").path("expirationTimestamp").asText("");
            expires = expiry.isEmpty() ? null : Instant.parse(expiry);
        }

        private PlanningException failure(String command, String what) {
            return new PlanningException(config.source() + ": the exec credential plugin " + command + " of user '"
                    + config.userName().orElse("") + "' " + what + ": run it by hand to see why.");
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

    /** Just enough DER to wrap PKCS#1 and SEC1 keys into PKCS#8. */
    static final class Der {
        /** AlgorithmIdentifier of rsaEncryption with NULL parameters. */
        static final byte[] RSA_ALGORITHM = {
            0x30,
            0x0d,
            0x06,
            0x09,
            0x2a,
            (byte) 0x86,
            0x48,
            (byte) 0x86,
            (byte) 0xf7,
            0x0d,
            0x01,
            0x01,
            0x01,
            0x05,
            0x00
        };

        private static final byte[] EC_PUBLIC_KEY_OID = {
            0x06, 0x07, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x02, 0x01
        };

        private Der() {}

        /** PrivateKeyInfo: SEQUENCE { INTEGER 0, algorithm, OCTET STRING key }. */
        static byte[] pkcs8(byte[] algorithm, byte[] key) {
            byte[] version = {0x02, 0x01, 0x00};
            return tlv(0x30, concat(version, algorithm, tlv(0x04, key)));
        }

        /** The ecPublicKey AlgorithmIdentifier with the named curve a SEC1 key carries in its [0] field. */
        static byte[] ecAlgorithm(byte[] sec1) throws java.security.spec.InvalidKeySpecException {
            int[] at = {0};
            expect(sec1, at, 0x30);
            length(sec1, at);
            while (at[0] < sec1.length) {
                int tag = sec1[at[0]++] & 0xff;
                int length = length(sec1, at);
                if (tag == 0xa0) {
                    byte[] curve = java.util.Arrays.copyOfRange(sec1, at[0], at[0] + length);
                    return tlv(0x30, concat(EC_PUBLIC_KEY_OID, curve));
                }
                at[0] += length;
            }
            throw new java.security.spec.InvalidKeySpecException("EC PRIVATE KEY without its named curve");
        }

        private static void expect(byte[] der, int[] at, int tag) throws java.security.spec.InvalidKeySpecException {
            if (at[0] >= der.length || (der[at[0]++] & 0xff) != tag) {
                throw new java.security.spec.InvalidKeySpecException("not DER");
            }
        }

        private static int length(byte[] der, int[] at) throws java.security.spec.InvalidKeySpecException {
            if (at[0] >= der.length) {
                throw new java.security.spec.InvalidKeySpecException("truncated DER");
            }
            int first = der[at[0]++] & 0xff;
            if (first < 0x80) {
                return first;
            }
            int bytes = first & 0x7f;
            if (bytes > 3 || at[0] + bytes > der.length) {
                throw new java.security.spec.InvalidKeySpecException("bad DER length");
            }
            int length = new BigInteger(1, java.util.Arrays.copyOfRange(der, at[0], at[0] + bytes)).intValue();
            at[0] += bytes;
            return length;
        }

        private static byte[] tlv(int tag, byte[] value) {
            byte[] length;
            if (value.length < 0x80) {
                length = new byte[] {(byte) value.length};
            } else {
                byte[] digits = BigInteger.valueOf(value.length).toByteArray();
                int skip = digits[0] == 0 ? 1 : 0;
                length = new byte[digits.length - skip + 1];
                length[0] = (byte) (0x80 | (digits.length - skip));
                System.arraycopy(digits, skip, length, 1, digits.length - skip);
            }
            return concat(new byte[] {(byte) tag}, length, value);
        }

        private static byte[] concat(byte[]... parts) {
            int size = 0;
            for (byte[] p : parts) {
                size += p.length;
            }
            byte[] all = new byte[size];
            int at = 0;
            for (byte[] p : parts) {
                System.arraycopy(p, 0, all, at, p.length);
                at += p.length;
            }
            return all;
        }
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
