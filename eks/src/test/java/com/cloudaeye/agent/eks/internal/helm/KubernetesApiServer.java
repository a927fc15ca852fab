package com.cloudaeye.agent.eks.internal.helm;

import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.DaemonSetStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.http.Buffer;
import io.fabric8.mockwebserver.http.Dispatcher;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A fault-injecting shim, only for the faults a real API server cannot produce on demand: {@link #failNext} answers a
 * chosen request with a 500 ({@link HelmReleaseComponentTest}). Everything else about the Helm path runs on the real
 * control plane of scripts/k8s.sh ({@code KubeCluster}): {@link HelmReleaseIT}, {@link HelmReleaseStepsIT}, {@link
 * HelmCrashIT}, {@link InstallerRbacIT}, {@code EksCrashRecoveryIT}, {@code EksTokenRealClusterIT} and {@code
 * KubeconfigRealClusterIT}.
 *
 * <p>Good enough for Helm 3 to install, list, upgrade and uninstall a release: fabric8's CRUD mock over https behind a
 * dispatcher that serves discovery, stores Helm's protobuf release Secrets as JSON, answers with JSON content types
 * and typed lists, and turns mock errors into 500s (an unanswered request hangs Helm). A fake DaemonSet controller
 * marks DaemonSets ready, so {@code --wait} returns.
 */
final class KubernetesApiServer implements AutoCloseable {
    private final KubernetesMockServer server;
    private final List<String> requests = new CopyOnWriteArrayList<>();
    /** "METHOD path-prefix" of requests still to answer with a 500, each once. */
    private final List<String> failures = new CopyOnWriteArrayList<>();

    private final Map<String, AtomicInteger> skips = new ConcurrentHashMap<>();

    private final ScheduledExecutorService controller = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "fake-daemonset-controller");
        t.setDaemon(true);
        return t;
    });
    private final KubernetesClient client;

    // Serialization.jsonMapper() is deprecated, but it is the Kubernetes-aware mapper the CRUD mock needs and the
    // only public way to reach it.
    /** Starts the server and its fake DaemonSet controller. */
    @SuppressWarnings("deprecation")
    KubernetesApiServer() {
        Dispatcher crud = new KubernetesCrudDispatcher();
        server = new KubernetesMockServer(
                new Context(Serialization.jsonMapper()),
                new MockWebServer(),
                new HashMap<>(),
                new HelmFriendlyDispatcher(crud, requests, failures, skips),
                true);
        server.init();
        client = server.createClient();
        // Not kept: the task records its own errors in the request log, and close() stops it.
        ScheduledFuture<?> unused =
                controller.scheduleWithFixedDelay(this::markDaemonSetsReady, 100, 100, TimeUnit.MILLISECONDS);
    }

    /** @return the https URL of the API server, without trailing slash */
    String url() {
        return server.url("/").replaceAll("/$", "");
    }

    /** @return the base64 PEM of the server's self-signed certificate, as DescribeCluster gives a cluster CA */
    String certificateAuthorityData() {
        try {
            return Base64.getEncoder()
                    .encodeToString(Files.readAllBytes(
                            Path.of(server.getSelfSignedCertificate().certificatePath())));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** @return a kubeconfig for this server, for calling Helm directly in tests */
    String kubeconfig() {
        return "apiVersion: v1\nkind: Config\nclusters:\n- name: mock\n  cluster:\n    server: " + url() + "\n"
                + "    certificate-authority-data: " + certificateAuthorityData() + "\n"
                + "contexts:\n- name: mock\n  context:\n    cluster: mock\n    user: mock\n"
                + "current-context: mock\nusers:\n- name: mock\n  user:\n    token: test\n";
    }

    /** @return a fabric8 client of this server */
    KubernetesClient client() {
        return client;
    }

    /**
     * Answers the next request whose method and path match with HTTP 500, as a failing API server would.
     *
     * @param method the HTTP method, e.g. {@code POST}
     * @param pathPrefix the start of the request path, e.g. {@code /apis/apps/v1/namespaces/x/daemonsets}
     */
    void failNext(String method, String pathPrefix) {
        failures.add(method + " " + pathPrefix);
    }

    /**
     * Answers every request whose method and path match with HTTP 500 once {@code skip} of them were answered, e.g.
     * to fail a read-back after a failed install but not the reads before it.
     *
     * @param method the HTTP method, e.g. {@code GET}
     * @param pathPrefix the start of the request path and query
     * @param skip how many matching requests to answer first
     */
    void failAllAfter(String method, String pathPrefix, int skip) {
        for (int i = 0; i < 20; i++) {
            failures.add(method + " " + pathPrefix);
        }
        skips.put(method + " " + pathPrefix, new AtomicInteger(skip));
    }

    /** @return "METHOD path" of every request so far */
    List<String> requests() {
        return List.copyOf(requests);
    }

    private void markDaemonSetsReady() {
        try {
            for (DaemonSet ds :
                    client.apps().daemonSets().inAnyNamespace().list().getItems()) {
                Long generation = ds.getMetadata().getGeneration() == null
                        ? 1L
                        : ds.getMetadata().getGeneration();
                if (ds.getStatus() == null || !generation.equals(ds.getStatus().getObservedGeneration())) {
                    ds.setStatus(new DaemonSetStatusBuilder()
                            .withObservedGeneration(generation)
                            .withDesiredNumberScheduled(2)
                            .withCurrentNumberScheduled(2)
                            .withUpdatedNumberScheduled(2)
                            .withNumberReady(2)
                            .withNumberAvailable(2)
                            .build());
                    client.resource(ds).updateStatus();
                }
            }
        } catch (RuntimeException e) {
            requests.add("fake controller: " + e);
        }
    }

    @Override
    public void close() {
        controller.shutdownNow();
        client.close();
        server.destroy();
    }

    private static final class HelmFriendlyDispatcher extends Dispatcher {
        private final Dispatcher crud;
        private final List<String> log;
        private final List<String> failures;
        private final Map<String, AtomicInteger> skips;

        HelmFriendlyDispatcher(
                Dispatcher crud, List<String> log, List<String> failures, Map<String, AtomicInteger> skips) {
            this.crud = crud;
            this.log = log;
            this.failures = failures;
            this.skips = skips;
        }

        @Override
        public MockResponse dispatch(RecordedRequest request) {
            try {
                return answer(request);
            } catch (RuntimeException e) {
                log.add("  dispatcher failed: " + e);
                return json(500, "{\"kind\":\"Status\",\"status\":\"Failure\",\"code\":500}");
            }
        }

        private MockResponse answer(RecordedRequest request) {
            String path = request.getPath();
            String bare = path.contains("?") ? path.substring(0, path.indexOf('?')) : path;
            String call = request.getMethod() + " " + path;
            log.add(call);
            String failure =
                    failures.stream().filter(call::startsWith).findFirst().orElse(null);
            AtomicInteger skip = failure == null ? null : skips.get(failure);
            if (skip != null && skip.getAndDecrement() > 0) {
                failure = null;
            }
            if (failure != null && failures.remove(failure)) {
                log.add("  injected 500");
                return json(
                        500,
                        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\","
                                + "\"message\":\"injected fault\",\"reason\":\"InternalError\",\"code\":500}");
            }
            if ("GET".equals(request.getMethod())) {
                String doc = Discovery.DOCUMENTS.get(bare);
                if (doc != null) {
                    return json(200, doc);
                }
                if (bare.equals("/openapi/v2")) {
                    return new MockResponse()
                            .setResponseCode(200)
                            .setHeader("Content-Type", "application/com.github.proto-openapi.spec.v2.v1.0+protobuf")
                            .setBody(new byte[0]);
                }
                if (bare.startsWith("/openapi/")) {
                    return json(
                            404,
                            "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\","
                                    + "\"reason\":\"NotFound\",\"code\":404}");
                }
            }
            if ("POST".equals(request.getMethod()) && path.contains("dryRun=All")) {
                // A real server admits and stores nothing; the CRUD mock would store the object.
                return json(
                        201,
                        request.getBody() == null ? "{}" : request.getBody().readUtf8());
            }
            RecordedRequest forwarded = request;
            if (request.getBody() != null
                    && String.valueOf(request.getHeader("Content-Type")).contains("protobuf")) {
                byte[] body = request.getBody().getBytes();
                // A protobuf Secret is re-encoded as JSON; other protobuf bodies (DeleteOptions of a DELETE) are
                // dropped, since the mock cannot read them and needs none.
                String secret = ProtoSecret.isProto(body) ? ProtoSecret.toJson(body) : null;
                if (secret == null) {
                    secret = "";
                }
                forwarded = new RecordedRequest(
                        request.getHttpVersion(),
                        request.method(),
                        path,
                        request.getHeaders()
                                .newBuilder()
                                .set("Content-Type", "application/json")
                                .build(),
                        new Buffer(secret.getBytes(StandardCharsets.UTF_8)));
            }
            MockResponse response;
            try {
                response = crud.dispatch(forwarded);
            } catch (RuntimeException e) {
                log.add("  mock failed: " + e);
                return json(
                        500, "{\"kind\":\"Status\",\"status\":\"Failure\",\"message\":\"mock failed\",\"code\":500}");
            }
            if (response.code() == 409) {
                // The API server says why in a Status; clients (Helm's --create-namespace) look for the reason.
                response.setBody("{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\","
                        + "\"reason\":\"AlreadyExists\",\"message\":\"already exists\",\"code\":409}");
                response.setHeader("Content-Type", "application/json");
            }
            if (response.header("Content-Type") == null) {
                response.setHeader("Content-Type", "application/json");
            }
            typeList(request, bare, response);
            return response;
        }

        /** Helm decodes lists by their kind: turn the mock's "List" into e.g. "SecretList". */
        private static void typeList(RecordedRequest request, String bare, MockResponse response) {
            if (!"GET".equals(request.getMethod()) || response.code() != 200 || response.getBody() == null) {
                return;
            }
            String kind = Discovery.KIND_BY_PLURAL.get(bare.substring(bare.lastIndexOf('/') + 1));
            String body = new String(response.getBody().getBytes(), StandardCharsets.UTF_8);
            String untyped = "{\"apiVersion\":\"v1\",\"kind\":\"List\"";
            if (kind != null && body.startsWith(untyped)) {
                String[] parts = bare.split("/");
                String groupVersion = bare.startsWith("/api/") ? "v1" : parts[2] + "/" + parts[3];
                response.setBody("{\"apiVersion\":\"" + groupVersion + "\",\"kind\":\"" + kind + "List\""
                        + body.substring(untyped.length()));
            }
        }

        private static MockResponse json(int code, String body) {
            return new MockResponse()
                    .setResponseCode(code)
                    .setHeader("Content-Type", "application/json")
                    .setBody(body);
        }

        @Override
        public void shutdown() {
            crud.shutdown();
        }
    }

    /** Legacy discovery documents for the kinds the chart uses, and /version. */
    static final class Discovery {
        static final Map<String, String> KIND_BY_PLURAL = Map.ofEntries(
                Map.entry("namespaces", "Namespace"),
                Map.entry("secrets", "Secret"),
                Map.entry("configmaps", "ConfigMap"),
                Map.entry("serviceaccounts", "ServiceAccount"),
                Map.entry("pods", "Pod"),
                Map.entry("daemonsets", "DaemonSet"),
                Map.entry("clusterroles", "ClusterRole"),
                Map.entry("clusterrolebindings", "ClusterRoleBinding"));

        static final Map<String, String> DOCUMENTS = Map.of(
                "/version",
                "{\"major\":\"1\",\"minor\":\"31\",\"gitVersion\":\"v1.31.0\",\"platform\":\"linux/amd64\"}",
                "/api",
                "{\"kind\":\"APIVersions\",\"versions\":[\"v1\"],\"serverAddressByClientCIDRs\":"
                        + "[{\"clientCIDR\":\"0.0.0.0/0\",\"serverAddress\":\"127.0.0.1:443\"}]}",
                "/apis",
                "{\"kind\":\"APIGroupList\",\"apiVersion\":\"v1\",\"groups\":[" + group("apps") + ","
                        + group("rbac.authorization.k8s.io") + "]}",
                "/api/v1",
                list(
                        "v1",
                        resource("namespaces", "Namespace", false),
                        resource("secrets", "Secret", true),
                        resource("configmaps", "ConfigMap", true),
                        resource("serviceaccounts", "ServiceAccount", true),
                        resource("pods", "Pod", true),
                        resource("events", "Event", true)),
                "/apis/apps/v1",
                list(
                        "apps/v1",
                        resource("daemonsets", "DaemonSet", true),
                        resource("daemonsets/status", "DaemonSet", true)),
                "/apis/rbac.authorization.k8s.io/v1",
                list(
                        "rbac.authorization.k8s.io/v1",
                        resource("clusterroles", "ClusterRole", false),
                        resource("clusterrolebindings", "ClusterRoleBinding", false)));

        private Discovery() {}

        private static String resource(String name, String kind, boolean namespaced) {
            return "{\"name\":\"" + name + "\",\"singularName\":\"\",\"namespaced\":" + namespaced + ",\"kind\":\""
                    + kind + "\",\"verbs\":[\"create\",\"delete\",\"deletecollection\",\"get\",\"list\",\"patch\","
                    + "\"update\",\"watch\"]}";
        }

        private static String list(String groupVersion, String... resources) {
            return "{\"kind\":\"APIResourceList\",\"apiVersion\":\"v1\",\"groupVersion\":\"" + groupVersion
                    + "\",\"resources\":[" + String.join(",", resources) + "]}";
        }

        private static String group(String name) {
            return "{\"name\":\"" + name + "\",\"versions\":[{\"groupVersion\":\"" + name
                    + "/v1\",\"version\":\"v1\"}]," + "\"preferredVersion\":{\"groupVersion\":\"" + name
                    + "/v1\",\"version\":\"v1\"}}";
        }
    }
}
