package com.cloudaeye.agent.eks.internal.helm;

import com.cloudaeye.agent.PlanningException;
import com.cloudaeye.agent.spi.support.AwsFailures;
import com.cloudaeye.agent.spi.support.Json;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.function.Supplier;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Kubernetes calls this library makes itself: it reads Helm's release storage (the {@code sh.helm.release.v1.*}
 * Secrets of a release) to compare the installed manifests with the ones a plan renders, and the agent DaemonSet's
 * rollout; it creates and deletes the release's namespace, annotated, so that uninstall deletes only a namespace the
 * install created; and it dry-runs the create of an agent pod ({@link #dryRunCreate}) to ask admission before Helm
 * changes anything. Everything else goes through Helm.
 */
final class KubeApi {
    private static final Logger LOG = LoggerFactory.getLogger(KubeApi.class);
    private static final Duration TIMEOUT = Duration.ofSeconds(20);

    private final URI server;
    private final KubeCredentials.Authorization authorization;
    private final String accessFix;
    private final HttpClient http;

    /**
     * @param server the API server URL
     * @param tls trusts the server and presents a client certificate if the user has one
     * @param authorization gives the Authorization header for each request
     * @param accessFix what to do when the server refuses a read, for messages
     */
    KubeApi(String server, SSLContext tls, KubeCredentials.Authorization authorization, String accessFix) {
        this.server = URI.create(server.endsWith("/") ? server : server + "/");
        this.authorization = authorization;
        this.accessFix = accessFix;
        this.http = HttpClient.newBuilder()
                .connectTimeout(Duration.ofSeconds(10))
                .sslContext(tls)
                .build();
    }

    /**
     * @param server the EKS API server URL
     * @param caPem the PEM certificates to trust for it
     * @param bearer gives a bearer token for each request
     * @return a client of an EKS cluster, authenticated with EKS tokens
     */
    static KubeApi eks(String server, byte[] caPem, Supplier<String> bearer) {
        return new KubeApi(
                server,
                trusting(caPem),
                () -> Optional.of("Bearer " + bearer.get()),
                "give the caller's IAM identity Kubernetes access (an EKS access entry with cluster admin"
                        + " rights, or the RBAC the plan's notes list)");
    }

    /**
     * @param namespace the release namespace
     * @param release the release name
     * @return the release's latest revision, empty when it is not installed
     */
    Optional<InstalledRelease> helmRelease(String namespace, String release) {
        // Absent (404) when the namespace does not exist: then there is no release either.
        JsonNode list = releaseSecrets(namespace, release);
        JsonNode latest = null;
        for (JsonNode item : list.path("items")) {
            if (!release.equals(
                    item.path("metadata").path("labels").path("name").asText())) {
                continue; // a server that ignores the selector
            }
            if (latest == null || version(item) > version(latest)) {
                latest = item;
            }
        }
        if (latest == null) {
            return Optional.empty();
        }
        return Optional.of(installed(latest, release));
    }

    /**
     * @param namespace the release namespace
     * @param release the release name
     * @param above a revision
     * @return the release's revisions above it, oldest first; empty when there are none
     */
    List<InstalledRelease> helmRevisionsAbove(String namespace, String release, int above) {
        List<InstalledRelease> revisions = new ArrayList<>();
        for (JsonNode item : releaseSecrets(namespace, release).path("items")) {
            if (release.equals(item.path("metadata").path("labels").path("name").asText()) && version(item) > above) {
                revisions.add(installed(item, release));
            }
        }
        revisions.sort(Comparator.comparingInt(InstalledRelease::revision));
        return revisions;
    }

    /** One revision of a release from its Secret. */
    private static InstalledRelease installed(JsonNode secret, String release) {
        JsonNode decoded = decode(secret.path("data").path("release").asText(), release);
        JsonNode chart = decoded.path("chart").path("metadata");
        return new InstalledRelease(
                decoded.path("version").asInt(version(secret)),
                decoded.path("info").path("status").asText(labelOf(secret, "status")),
                chart.path("name").asText() + "-" + chart.path("version").asText(),
                Optional.of(decoded.path("manifest").asText()),
                Optional.of(withoutToken(decoded.path("config"))));
    }

    /**
     * @param namespace the release namespace
     * @param release the release name
     * @param below a revision
     * @return the newest revision below it that Helm lists as deployed, the one a pending revision started from
     */
    OptionalInt deployedRevisionBelow(String namespace, String release, int below) {
        int found = 0;
        for (JsonNode item : releaseSecrets(namespace, release).path("items")) {
            int version = version(item);
            if (version < below && version > found && "deployed".equals(labelOf(item, "status"))) {
                found = version;
            }
        }
        return found == 0 ? OptionalInt.empty() : OptionalInt.of(found);
    }

    /**
     * Marks a revision Helm left pending (a crashed install, upgrade or rollback) failed, as Helm itself records a
     * failed operation: its release record's status and the status label of its Secret. Helm refuses every later
     * operation on a release whose latest revision is pending. Refused when the Secret changed since it was read.
     *
     * @param namespace the release namespace
     * @param release the release name
     * @param revision the pending revision
     */
    void markFailed(String namespace, String release, int revision) {
        String name = "sh.helm.release.v1." + release + ".v" + revision;
        URI uri = server.resolve("api/v1/namespaces/" + namespace + "/secrets/" + name);
        String what = "mark revision " + revision + " of Helm release " + namespace + "/" + release + " failed";
        JsonNode secret = call("GET", uri, null, "read " + name + " to " + what)
                .orElseThrow(() -> new PlanningException("Could not " + what + ": its Secret " + name + " is gone."));
        if (!(decode(secret.path("data").path("release").asText(), release) instanceof ObjectNode record)
                || !(secret.deepCopy() instanceof ObjectNode updated)) {
            throw new PlanningException(
                    "Could not " + what + ": its Secret " + name + " holds no Helm release record.");
        }
        ObjectNode info = child(record, "info");
        info.put("status", "failed");
        info.put("description", "Marked failed by the CloudAEye installer: an interrupted operation left it pending");
        child(child(updated, "metadata"), "labels").put("status", "failed");
        child(updated, "data").put("release", encode(record));
        if (call("PUT", uri, updated.toString(), what).isEmpty()) {
            throw new PlanningException("Could not " + what + ": its Secret " + name
                    + " changed or went since it was read (another Helm operation?): plan again.");
        }
    }

    private static ObjectNode child(ObjectNode parent, String field) {
        return parent.get(field) instanceof ObjectNode object ? object : parent.putObject(field);
    }

    private JsonNode releaseSecrets(String namespace, String release) {
        String selector = URLEncoder.encode("owner=helm,name=" + release, StandardCharsets.UTF_8);
        URI uri = server.resolve("api/v1/namespaces/" + namespace + "/secrets?labelSelector=" + selector);
        return call("GET", uri, null, "list the Helm release Secrets of " + release + " in namespace " + namespace)
                .orElseGet(Json::object);
    }

    /**
     * Reads one object or list.
     *
     * @param path the API path relative to the server, with its query
     * @param what what the read is for, for messages
     * @return the answer; an empty object when the server answers 404
     */
    JsonNode read(String path, String what) {
        return call("GET", server.resolve(path), null, what).orElseGet(Json::object);
    }

    /**
     * Reads one object or list that the caller may lack the right to read (an optional read, whose absence only makes
     * a message less precise).
     *
     * @param path the API path relative to the server, with its query
     * @param what what the read is for, for messages
     * @return the answer (an empty object when the server answers 404); empty when the server refuses the read (HTTP
     *     401 or 403)
     */
    Optional<JsonNode> readIfAllowed(String path, String what) {
        return call("GET", server.resolve(path), null, what, true).map(answer -> answer.orElseGet(Json::object));
    }

    /**
     * Deletes one object; a missing one is already deleted.
     *
     * @param path the object's API path relative to the server
     * @param what what the delete is for, for messages
     */
    void delete(String path, String what) {
        call("DELETE", server.resolve(path), null, what);
    }

    /** The release's user-supplied values without the agent token, which must never be kept. */
    private static JsonNode withoutToken(JsonNode config) {
        JsonNode copy = config.isObject() ? config.deepCopy() : Json.object();
        if (copy.path("cloudaeye") instanceof com.fasterxml.jackson.databind.node.ObjectNode cloudaeye) {
            cloudaeye.remove("apiToken");
        }
        return copy;
    }

    /**
     * @param name a namespace
     * @return the namespace object, empty when it does not exist
     */
    Optional<JsonNode> namespace(String name) {
        return call("GET", namespaceUri(name), null, "read namespace " + name);
    }

    /**
     * Creates a namespace with annotations; one that exists already is left as it is. A request whose answer was lost
     * is read back before it is reported failed.
     *
     * @param name the namespace
     * @param annotations its annotations
     */
    void createNamespace(String name, Map<String, String> annotations) {
        ObjectNode body = Json.object();
        body.put("apiVersion", "v1");
        body.put("kind", "Namespace");
        ObjectNode metadata = body.putObject("metadata");
        metadata.put("name", name);
        annotations.forEach(metadata.putObject("annotations")::put);
        String what = "create namespace " + name;
        try {
            call("POST", server.resolve("api/v1/namespaces"), body.toString(), what);
        } catch (PlanningException lost) {
            if (!(lost.getCause() instanceof IOException)) {
                throw lost;
            }
            try {
                if (namespace(name).isEmpty()) {
                    throw lost;
                }
            } catch (PlanningException readBack) {
                throw AwsFailures.outcomeUnknown(
                        what, lost, readBack, "check it with 'kubectl get namespace " + name + "'.");
            }
        }
    }

    /**
     * Deletes a namespace and everything in it; a missing one is already deleted. The API server answers at once and
     * its namespace controller deletes the contents, so the namespace may exist, terminating, for a while after.
     *
     * @param name the namespace
     */
    void deleteNamespace(String name) {
        String what = "delete namespace " + name;
        try {
            call("DELETE", namespaceUri(name), null, what);
        } catch (PlanningException lost) {
            if (!(lost.getCause() instanceof IOException)) {
                throw lost;
            }
            try {
                if (namespace(name)
                        .filter(n -> !n.path("metadata").has("deletionTimestamp"))
                        .isPresent()) {
                    throw lost;
                }
            } catch (PlanningException readBack) {
                throw AwsFailures.outcomeUnknown(
                        what, lost, readBack, "check it with 'kubectl get namespace " + name + "'.");
            }
        }
    }

    private URI namespaceUri(String name) {
        return server.resolve("api/v1/namespaces/" + name);
    }

    /** One request; 404 and 409 (absent, already there) are empty, for the caller to read as it needs. */
    private Optional<JsonNode> call(String method, URI uri, @Nullable String body, String what) {
        return call(method, uri, body, what, false).orElseThrow(IllegalStateException::new);
    }

    /**
     * One request.
     *
     * @param refusalIsEmpty whether a refusal (401, 403) is answered empty instead of thrown
     * @return the answer, empty for 404 and 409; empty itself only for a refusal when {@code refusalIsEmpty}
     */
    private Optional<Optional<JsonNode>> call(
            String method, URI uri, @Nullable String body, String what, boolean refusalIsEmpty) {
        HttpResponse<String> response = send(method, uri, body, what);
        int code = response.statusCode();
        if (code == 404 || code == 409) {
            return Optional.of(Optional.empty());
        }
        if ((code == 401 || code == 403) && refusalIsEmpty) {
            return Optional.empty();
        }
        if (code == 401 || code == 403) {
            throw new PlanningException("The Kubernetes API server " + server + " refused to " + what + " (HTTP " + code
                    + "): " + accessFix + ".");
        }
        if (code / 100 != 2) {
            throw new PlanningException(
                    "The Kubernetes API server " + server + " answered HTTP " + code + " when asked to " + what + ".");
        }
        try {
            return Optional.of(Optional.of(Json.parse(response.body())));
        } catch (IOException e) {
            throw new PlanningException(
                    "The Kubernetes API server " + server + " sent no JSON when asked to " + what, e);
        }
    }

    /**
     * The API server's answer to a server-side dry run ({@code dryRun=All}) of a create: the object goes through
     * authorization, defaulting, validation and every admission step (PodSecurity, ResourceQuota,
     * ValidatingAdmissionPolicy, webhooks) as a real create would, and nothing is stored.
     *
     * @param code the HTTP status (2xx when the create would be admitted)
     * @param message the {@code Status} message of a refusal (e.g. {@code pods "x" is forbidden: exceeded quota: ...}),
     *     "" when admitted or when the server sent none
     */
    record DryRun(int code, String message) {
        /** @return true when the create would be admitted */
        boolean admitted() {
            return code / 100 == 2;
        }
    }

    /**
     * Dry-runs the create of an object on the server ({@code ?dryRun=All}): nothing is stored.
     *
     * @param path the collection's API path relative to the server, e.g. {@code api/v1/namespaces/ns/pods}
     * @param body the object
     * @param what what the create is for, for messages
     * @return the server's answer, refusals included
     * @throws PlanningException when the server cannot be reached
     */
    DryRun dryRunCreate(String path, JsonNode body, String what) {
        HttpResponse<String> response = send("POST", server.resolve(path + "?dryRun=All"), body.toString(), what);
        String message = "";
        if (response.statusCode() / 100 != 2) {
            try {
                message = Json.parse(response.body()).path("message").asText("");
            } catch (IOException e) {
                message = ""; // not a Status: the code says what there is to say
            }
        }
        return new DryRun(response.statusCode(), message);
    }

    /** Sends one request; throws when the server cannot be reached. */
    private HttpResponse<String> send(String method, URI uri, @Nullable String body, String what) {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri)
                .timeout(TIMEOUT)
                .header("Accept", "application/json")
                .method(
                        method,
                        body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            request.header("Content-Type", "application/json");
        }
        authorization.header().ifPresent(h -> request.header("Authorization", h));
        HttpResponse<String> response;
        try {
            LOG.debug("{} {}", method, uri);
            response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new PlanningException(
                    "Could not reach the Kubernetes API server " + server + " to " + what + ": "
                            + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : " " + e.getMessage())
                            + ". Check the cluster's endpoint access (public, or private from this network).",
                    e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PlanningException("Interrupted while trying to " + what, e);
        }
        return response;
    }

    /** The inverse of {@link #decode}: base64(gzip(JSON)), as Helm writes it, for the Secret's data. */
    private static String encode(JsonNode record) {
        try {
            ByteArrayOutputStream compressed = new ByteArrayOutputStream();
            try (GZIPOutputStream gzip = new GZIPOutputStream(compressed)) {
                gzip.write(record.toString().getBytes(StandardCharsets.UTF_8));
            }
            byte[] helmEncoded = Base64.getEncoder().encode(compressed.toByteArray());
            return Base64.getEncoder().encodeToString(helmEncoded);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Helm stores a release as base64(gzip(JSON)) in the Secret's data, which the API base64-encodes again. */
    private static JsonNode decode(String data, String release) {
        try {
            byte[] helmEncoded = Base64.getDecoder().decode(data);
            byte[] compressed = Base64.getDecoder().decode(helmEncoded);
            InputStream in = new ByteArrayInputStream(compressed);
            if (compressed.length > 1 && (compressed[0] & 0xff) == 0x1f && (compressed[1] & 0xff) == 0x8b) {
                in = new GZIPInputStream(in);
            }
            try (InputStream json = in) {
                return Json.parse(json);
            }
        } catch (IllegalArgumentException | IOException e) {
            throw new PlanningException(
                    "The Helm release storage of " + release
                            + " is not in Helm 3's format: check it with 'helm list' and remove the release if it is broken.",
                    e);
        }
    }

    private static int version(JsonNode secret) {
        return Integer.parseInt(labelOf(secret, "version").isEmpty() ? "0" : labelOf(secret, "version"));
    }

    private static String labelOf(JsonNode secret, String label) {
        return secret.path("metadata").path("labels").path(label).asText("");
    }

    private static SSLContext trusting(byte[] caPem) {
        try {
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            int i = 0;
            for (Certificate c :
                    CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(caPem))) {
                store.setCertificateEntry("ca-" + i++, c);
            }
            TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            trust.init(store);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, trust.getTrustManagers(), null);
            return context;
        } catch (GeneralSecurityException | IOException e) {
            throw new PlanningException("Could not trust the cluster's certificate authority: " + e.getMessage(), e);
        }
    }
}
