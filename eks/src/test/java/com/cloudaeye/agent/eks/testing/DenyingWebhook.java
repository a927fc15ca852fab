package com.cloudaeye.agent.eks.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * A validating admission webhook that denies every pod it is asked about, for the real API server to call: the
 * customer's policy engine (Kyverno, Gatekeeper, a security team's own) the agent's pods may meet. It stands in only
 * for that engine's verdict; the API server that calls it, and words its denial, is the real one. HTTPS on loopback
 * with a certificate made by the JDK's {@code keytool} for this run.
 */
public final class DenyingWebhook implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PASSWORD = "webhook-test";

    private final HttpsServer server;
    private final String caBundle;
    private final String message;
    private final AtomicInteger reviews = new AtomicInteger();
    private final AtomicInteger dryRunReviews = new AtomicInteger();
    private final AtomicBoolean closed = new AtomicBoolean();

    private DenyingWebhook(HttpsServer server, String caBundle, String message) {
        this.server = server;
        this.caBundle = caBundle;
        this.message = message;
    }

    /**
     * Starts the webhook on a free loopback port.
     *
     * @param dir a directory for its key store
     * @param message the denial's message
     * @return the running webhook; close it
     */
    public static DenyingWebhook start(Path dir, String message) {
        try {
            Path store = dir.resolve("webhook.p12");
            keytool(
                    "-genkeypair",
                    "-alias",
                    "webhook",
                    "-keyalg",
                    "EC",
                    "-groupname",
                    "secp256r1",
                    "-dname",
                    "CN=127.0.0.1",
                    "-ext",
                    "SAN=ip:127.0.0.1",
                    "-validity",
                    "2",
                    "-storetype",
                    "PKCS12",
                    "-keystore",
                    store.toString(),
                    "-storepass",
                    PASSWORD,
                    "-keypass",
                    PASSWORD);
            KeyStore keys = KeyStore.getInstance("PKCS12");
            try (InputStream in = Files.newInputStream(store)) {
                keys.load(in, PASSWORD.toCharArray());
            }
            KeyManagerFactory managers = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            managers.init(keys, PASSWORD.toCharArray());
            SSLContext tls = SSLContext.getInstance("TLS");
            tls.init(managers.getKeyManagers(), null, null);
            String pem = "-----BEGIN CERTIFICATE-----\n"
                    + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                            .encodeToString(keys.getCertificate("webhook").getEncoded())
                    + "\n-----END CERTIFICATE-----\n";
            HttpsServer server = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
            server.setHttpsConfigurator(new HttpsConfigurator(tls));
            DenyingWebhook webhook = new DenyingWebhook(
                    server, Base64.getEncoder().encodeToString(pem.getBytes(StandardCharsets.US_ASCII)), message);
            server.createContext("/deny", webhook::review);
            server.start();
            return webhook;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void keytool(String... args) throws IOException {
        Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
        List<String> command = new ArrayList<>(List.of(keytool.toString()));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
                throw new IllegalStateException("keytool failed: " + output);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Answers an AdmissionReview: denied, with the message, echoing the request's uid. */
    private void review(HttpExchange exchange) throws IOException {
        try (exchange) {
            JsonNode request = JSON.readTree(exchange.getRequestBody()).path("request");
            reviews.incrementAndGet();
            if (request.path("dryRun").asBoolean(false)) {
                dryRunReviews.incrementAndGet();
            }
            ObjectNode review = JSON.createObjectNode();
            review.put("apiVersion", "admission.k8s.io/v1");
            review.put("kind", "AdmissionReview");
            ObjectNode response = review.putObject("response");
            response.put("uid", request.path("uid").asText());
            response.put("allowed", false);
            response.putObject("status").put("code", 403).put("message", message);
            byte[] body = JSON.writeValueAsBytes(review);
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }

    /**
     * A ValidatingWebhookConfiguration that sends this webhook the creates of pods in one namespace.
     *
     * @param name the configuration's and the webhook's name (a webhook's name has at least three DNS labels)
     * @param namespace the namespace whose pods it reviews
     * @return the configuration's YAML
     */
    public String configuration(String name, String namespace) {
        return """
                apiVersion: admissionregistration.k8s.io/v1
                kind: ValidatingWebhookConfiguration
                metadata:
                  name: %1$s
                webhooks:
                - name: %1$s
                  admissionReviewVersions: [v1]
                  sideEffects: None
                  failurePolicy: Fail
                  timeoutSeconds: 10
                  clientConfig:
                    url: https://127.0.0.1:%2$d/deny
                    caBundle: %3$s
                  rules:
                  - apiGroups: [""]
                    apiVersions: [v1]
                    operations: [CREATE]
                    resources: [pods]
                  namespaceSelector:
                    matchLabels:
                      kubernetes.io/metadata.name: %4$s
                """.formatted(name, server.getAddress().getPort(), caBundle, namespace);
    }

    /** @return how many AdmissionReviews the API server sent, and how many of them were of dry runs */
    public int reviews() {
        return reviews.get();
    }

    /** @return how many of the reviews were of dry runs */
    public int dryRunReviews() {
        return dryRunReviews.get();
    }

    /** Stops the webhook, so that the API server can no longer reach it; stopping it again does nothing. */
    public void stop() {
        if (closed.compareAndSet(false, true)) {
            server.stop(0);
        }
    }

    @Override
    public void close() {
        stop();
    }
}
