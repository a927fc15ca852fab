package com.cloudaeye.agent.testing;

import com.cloudaeye.agent.spi.support.AwsActions;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * An HTTP proxy on a free loopback port in front of moto that makes the Lambda control plane behave like AWS where
 * moto does not: rate limits, latency, asynchronous updates and faults. Point the SDK at {@link #endpoint()}; every
 * request is forwarded to moto unchanged, except that:
 *
 * <ul>
 *   <li><b>Rate limits.</b> A token bucket per quota group, matched from the Lambda REST path:
 *       {@code GetFunction} ({@code GET /2015-03-31/functions/{name}}) has its own bucket ({@value
 *       #DEFAULT_GET_FUNCTION_RATE}/s, {@link #GET_FUNCTION}); every other Lambda control-plane call shares one
 *       ({@value #DEFAULT_CONTROL_PLANE_RATE}/s, {@link #CONTROL_PLANE}). Invocations (data plane), other services
 *       and moto's own {@code /moto-api} are never limited. An over-limit request is answered like AWS: HTTP 429,
 *       header {@code x-amzn-ErrorType: TooManyRequestsException}, body
 *       {@code {"Type":"User","message":"Rate exceeded"}}. The buckets are per proxy (one account and region).
 *   <li><b>Latency.</b> Every request waits {@link Builder#latency(Duration)} before it is answered.
 *   <li><b>Asynchronous updates.</b> After a successful {@code UpdateFunctionConfiguration}
 *       ({@code PUT /2015-03-31/functions/{name}/configuration}), for {@link Builder#propagationDelay(Duration)}:
 *       its response, {@code GetFunction} and {@code GetFunctionConfiguration} of that function say
 *       {@code "LastUpdateStatus": "InProgress"}, and {@code UpdateFunctionConfiguration} or {@code PublishVersion}
 *       of it get HTTP 409 {@code ResourceConflictException}.
 *   <li><b>Faults.</b> A fraction of requests (drawn from a seeded {@link Random}, optionally only of some services
 *       or operations: {@link Builder#faultOnly(String...)}) is answered with a server error, a throttling error, a
 *       connection closed without an answer, a slow answer, or is forwarded and its answer lost (see {@link Fault}).
 * </ul>
 *
 * <p>Besides Lambda's REST paths, the proxy names the operations of the other protocols our targets use, and answers
 * injected errors in each protocol's own shape so that the SDK parses the right error code:
 *
 * <ul>
 *   <li>AWS JSON 1.0/1.1 (ECS, CloudWatch Logs): the operation is the {@code X-Amz-Target} header's suffix; errors
 *       carry {@code x-amzn-ErrorType} and {@code {"__type": code, "message": ...}}.
 *   <li>rest-json (EKS): the operation is named from the path ({@code /clusters/{name}/update-config} is
 *       {@code UpdateClusterConfig}); errors carry {@code x-amzn-ErrorType} and {@code {"message": ...}}.
 *   <li>query (IAM, STS, CloudFormation): the operation is the form body's {@code Action}; errors are XML
 *       {@code <ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>}.
 * </ul>
 *
 * <p>The service of a request is the signing name in its SigV4 {@code Authorization} header's credential scope
 * ({@code ecs}, {@code eks}, {@code logs}, {@code iam}, ...). Only Lambda's control plane is rate limited.
 *
 * <p>Counters: requests per operation (including throttled and faulted ones), throttled responses, conflicts, faults
 * and the peak number of requests in flight. Thread-safe; {@link #close()} stops it.
 *
 * <pre>{@code
 * try (ThrottlingProxy proxy = ThrottlingProxy.builder()
 *         .target(Moto.endpoint())
 *         .latency(Duration.ofMillis(50))
 *         .propagationDelay(Duration.ofMillis(500))
 *         .start()) {
 *     LambdaClient lambda = LambdaClient.builder().endpointOverride(proxy.endpoint())...build();
 * }
 * }</pre>
 */
public final class ThrottlingProxy implements AutoCloseable {
    /** The quota group of {@code GetFunction}. */
    public static final String GET_FUNCTION = "lambda.get-function";
    /** The quota group every other Lambda control-plane call shares. */
    public static final String CONTROL_PLANE = "lambda.control-plane";
    /** AWS's default {@code GetFunction} rate per account and region, requests per second. */
    public static final double DEFAULT_GET_FUNCTION_RATE = 100;
    /** AWS's default rate of the shared Lambda control-plane bucket, requests per second. */
    public static final double DEFAULT_CONTROL_PLANE_RATE = 15;

    /** A fault the proxy can inject. */
    public enum Fault {
        /**
         * HTTP 500 with the service's server error: Lambda {@code ServiceException}, ECS and EKS
         * {@code ServerException}, CloudWatch Logs {@code ServiceUnavailableException}, otherwise
         * {@code InternalFailure}. The request does not reach moto.
         */
        SERVER_ERROR,
        /** The connection is closed without an answer; the request does not reach moto. */
        CONNECTION_RESET,
        /** The request is forwarded and answered after an extra {@link Builder#slowResponse(Duration)}. */
        SLOW_RESPONSE,
        /**
         * The service's throttling error; the request does not reach moto. Lambda: 429
         * {@code TooManyRequestsException}; EKS: 429 {@code ThrottlingException} (its model's status); other JSON
         * services (ECS, Logs): 400 {@code ThrottlingException}; query services (IAM, STS, CloudFormation): 400
         * {@code Throttling}.
         */
        THROTTLED,
        /**
         * The request IS forwarded to moto and takes effect, then the connection is closed before the answer: the
         * client cannot tell whether its change landed.
         */
        LOST_RESPONSE
    }

    /** The wire protocol of a request, which decides how its operation is named and how errors are shaped. */
    enum Protocol {
        /** Lambda's REST paths. */
        LAMBDA,
        /** AWS JSON 1.0 or 1.1: {@code X-Amz-Target}. */
        JSON,
        /** rest-json, e.g. EKS. */
        REST_JSON,
        /** The query protocol: {@code Action=} in a form body. */
        QUERY
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern CREDENTIAL_SCOPE =
            Pattern.compile("Credential=[^/]+/\\d{8}/[^/]+/([^/]+)/aws4_request");
    private static final Pattern ACTION = Pattern.compile("(?:^|&)Action=([^&]+)");
    private static final Pattern CLOUDFRONT_DISTRIBUTIONS = Pattern.compile("/20\\d\\d-\\d\\d-\\d\\d/distribution/?");
    private static final Pattern LAMBDA_PATH =
            Pattern.compile("/\\d{4}-\\d{2}-\\d{2}/(functions|layers|tags|event-source-mappings|account-settings"
                    + "|code-signing-configs)(/.*)?");
    /** Request headers that {@link HttpClient} sets itself and refuses to copy. */
    private static final Set<String> RESTRICTED_REQUEST_HEADERS =
            Set.of("connection", "content-length", "expect", "host", "upgrade", "transfer-encoding");
    /** Response headers that {@link HttpServer} sets itself. */
    private static final Set<String> RESTRICTED_RESPONSE_HEADERS =
            Set.of("connection", "content-length", "transfer-encoding", "date", "keep-alive", "server");

    private final URI target;
    private final Duration latency;
    private final Duration propagationDelay;
    private final Duration slowResponse;
    private final Map<Fault, Double> faultRates;
    private final Set<String> faultOnly;
    /** How many faults may still be injected; counts down from {@link Builder#maxFaults(long)}. */
    private final java.util.concurrent.atomic.AtomicLong faultBudget;

    private final Random random;
    private final Map<String, TokenBucket> buckets = new HashMap<>();
    private final HttpServer server;
    private final ExecutorService executor;
    private final HttpClient http;

    private final Map<String, Long> inProgressUntilNanos = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> requests = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> requestsByResource = new ConcurrentHashMap<>();
    private final List<Request> requestLog = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
    /** Requests moto answered with a 2xx: those that took effect, whether or not their answer reached the client. */
    private final List<Request> landed = java.util.Collections.synchronizedList(new java.util.ArrayList<>());

    private final Gate gate;
    private final Map<String, LongAdder> throttledByGroup = new ConcurrentHashMap<>();
    /** Arrival times (nanoTime) of every request of a quota group, throttled ones included. */
    private final Map<String, java.util.Queue<Long>> arrivalsByGroup = new ConcurrentHashMap<>();

    private final Map<Fault, LongAdder> faults = new EnumMap<>(Fault.class);
    private final LongAdder conflicts = new LongAdder();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicInteger peakInFlight = new AtomicInteger();

    private ThrottlingProxy(Builder b) throws IOException {
        this.target = b.target != null ? b.target : Moto.endpoint();
        this.latency = b.latency;
        this.propagationDelay = b.propagationDelay;
        this.slowResponse = b.slowResponse;
        this.faultRates = new EnumMap<>(b.faultRates);
        this.faultOnly = Set.copyOf(b.faultOnly);
        this.faultBudget = new java.util.concurrent.atomic.AtomicLong(b.maxFaults);
        this.random = new Random(b.seed);
        this.gate = b.gate;
        for (Fault f : Fault.values()) {
            faults.put(f, new LongAdder());
        }
        b.rates.forEach((group, rate) -> {
            if (rate != null) {
                double burst = b.bursts.getOrDefault(group, Math.max(1, Math.ceil(rate)));
                buckets.put(group, new TokenBucket(rate, burst));
            }
        });
        this.executor = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "throttling-proxy");
            t.setDaemon(true);
            return t;
        });
        this.http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10))
                .executor(executor)
                .build();
        this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 512);
        server.setExecutor(executor);
        server.createContext("/", this::handle);
        server.start();
    }

    /** @return a builder with AWS's default Lambda rates, no latency, no propagation delay and no faults */
    public static Builder builder() {
        return new Builder();
    }

    /** @return the proxy's URL, e.g. {@code http://127.0.0.1:41234}, for {@code endpointOverride} */
    public URI endpoint() {
        InetSocketAddress address = server.getAddress();
        return URI.create("http://" + address.getAddress().getHostAddress() + ":" + address.getPort());
    }

    /** @return requests received per operation (e.g. {@code GetFunction}), including throttled and faulted ones */
    public Map<String, Long> requests() {
        Map<String, Long> copy = new TreeMap<>();
        requests.forEach((k, v) -> copy.put(k, v.sum()));
        return copy;
    }

    /**
     * @param operation an operation name, e.g. {@code UpdateFunctionConfiguration}
     * @return how many requests of it arrived
     */
    public long requests(String operation) {
        LongAdder n = requests.get(operation);
        return n == null ? 0 : n.sum();
    }

    /**
     * @param operation an operation name, e.g. {@code UpdateClusterConfig}
     * @param resource the resource its path names: a Lambda function's or an EKS cluster's name
     * @return how many requests of that operation on that resource arrived
     */
    public long requests(String operation, String resource) {
        LongAdder n = requestsByResource.get(operation + " " + resource);
        return n == null ? 0 : n.sum();
    }

    /** @return requests of every operation, including throttled and faulted ones */
    public long totalRequests() {
        return requests.values().stream().mapToLong(LongAdder::sum).sum();
    }

    /** @return how many requests were answered with 429 {@code TooManyRequestsException} */
    public long throttled() {
        return throttledByGroup.values().stream().mapToLong(LongAdder::sum).sum();
    }

    /**
     * @param group {@link #GET_FUNCTION} or {@link #CONTROL_PLANE}
     * @return how many requests of that group were throttled
     */
    public long throttled(String group) {
        LongAdder n = throttledByGroup.get(group);
        return n == null ? 0 : n.sum();
    }

    /**
     * The most requests of a quota group that arrived within any one window (a sliding window, starting at each
     * arrival): whether a client stayed under a rate in every second, not just on average.
     *
     * @param group {@link #GET_FUNCTION} or {@link #CONTROL_PLANE}
     * @param window e.g. one second
     * @return the largest count, throttled requests included
     */
    public int maxRequestsInAnyWindow(String group, Duration window) {
        java.util.Queue<Long> arrivals = arrivalsByGroup.get(group);
        if (arrivals == null) {
            return 0;
        }
        long[] times = arrivals.stream().mapToLong(Long::longValue).sorted().toArray();
        int max = 0;
        int first = 0;
        for (int i = 0; i < times.length; i++) {
            while (times[i] - times[first] >= window.toNanos()) {
                first++;
            }
            max = Math.max(max, i - first + 1);
        }
        return max;
    }

    /** @return how many requests were answered with 409 {@code ResourceConflictException} (update in progress) */
    public long conflicts() {
        return conflicts.sum();
    }

    /**
     * @return every request moto answered with a 2xx, in order: the calls that took effect, including those whose
     *     answer was lost or never reached a killed client
     */
    public List<Request> landedRequests() {
        return List.copyOf(landed);
    }

    /**
     * Waits until no request is in the proxy, e.g. until a request held by a {@link Gate} has reached moto.
     *
     * @throws InterruptedException when waiting is interrupted
     */
    public void awaitIdle() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (inFlight.get() > 0) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(inFlight.get() + " requests still in the proxy after 60 s");
            }
            Thread.sleep(10);
        }
    }

    /**
     * Decides what becomes of a request before any fault or limit applies; it may block the request meanwhile. The
     * crash harness holds one while it kills the client, then lets it through or drops it.
     */
    @FunctionalInterface
    public interface Gate {
        /**
         * @param request the request, as logged
         * @return true to let it go on, false to drop it (the connection is closed without an answer)
         * @throws InterruptedException when waiting is interrupted
         */
        boolean pass(Request request) throws InterruptedException;
    }

    /** @return every request the proxy forwarded or faulted, in order (moto's admin calls left out) */
    public List<Request> requestLog() {
        return List.copyOf(requestLog);
    }

    /**
     * One request the proxy received, for tests that check what each call touched.
     *
     * @param action the IAM action, e.g. {@code lambda:UpdateFunctionConfiguration}
     * @param method the HTTP method
     * @param path the raw path, e.g. {@code /2015-03-31/functions/app/configuration}
     * @param body the request body (JSON, or a query protocol's form)
     */
    public record Request(String action, String method, String path, String body) {}

    /** @return how many faults of each kind were injected */
    public Map<Fault, Long> faults() {
        Map<Fault, Long> copy = new EnumMap<>(Fault.class);
        faults.forEach((k, v) -> copy.put(k, v.sum()));
        return copy;
    }

    /** @return how many faults were injected, of any kind */
    public long faultsInjected() {
        return faults.values().stream().mapToLong(LongAdder::sum).sum();
    }

    /** @return the largest number of requests the proxy was handling at the same time */
    public int peakConcurrentRequests() {
        return peakInFlight.get();
    }

    /** Sets every counter back to zero (the buckets and pending updates stay as they are). */
    public void resetCounters() {
        requests.clear();
        requestsByResource.clear();
        throttledByGroup.clear();
        arrivalsByGroup.clear();
        faults.values().forEach(LongAdder::reset);
        conflicts.reset();
        peakInFlight.set(inFlight.get());
    }

    /** Stops the proxy; requests in flight are cut off. */
    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }

    @Override
    public String toString() {
        return "ThrottlingProxy " + endpoint() + " -> " + target + ": " + totalRequests() + " requests, "
                + throttled() + " throttled, " + conflicts() + " conflicts, " + faultsInjected() + " faults, peak "
                + peakConcurrentRequests() + " concurrent";
    }

    // ---------------------------------------------------------------------------------------------------------------

    private void handle(HttpExchange exchange) throws IOException {
        int now = inFlight.incrementAndGet();
        peakInFlight.accumulateAndGet(now, Math::max);
        try {
            byte[] body = exchange.getRequestBody().readAllBytes();
            Call call =
                    Call.of(exchange.getRequestMethod(), exchange.getRequestURI(), exchange.getRequestHeaders(), body);
            requests.computeIfAbsent(call.operation, k -> new LongAdder()).increment();
            if (call.resource != null) {
                requestsByResource
                        .computeIfAbsent(call.operation + " " + call.resource, k -> new LongAdder())
                        .increment();
            }
            if (call.admin) {
                forwardAndRespond(exchange, call, body, null);
                return;
            }
            Request logged = new Request(
                    AwsActions.iamAction(call.service, call.operation),
                    exchange.getRequestMethod(),
                    exchange.getRequestURI().getRawPath(),
                    new String(body, StandardCharsets.UTF_8));
            requestLog.add(logged);
            if (!gate.pass(logged)) {
                exchange.close();
                return;
            }
            if (call.group != null) {
                arrivalsByGroup
                        .computeIfAbsent(call.group, k -> new java.util.concurrent.ConcurrentLinkedQueue<>())
                        .add(System.nanoTime());
            }
            sleep(latency);
            Fault fault = faultOnly.isEmpty() || faultOnly.contains(call.operation) || faultOnly.contains(call.service)
                    ? drawFault()
                    : null;
            if (fault != null) {
                Objects.requireNonNull(faults.get(fault), "every fault has a counter")
                        .increment();
                switch (fault) {
                    case SERVER_ERROR -> {
                        respondServerError(exchange, call);
                        return;
                    }
                    case THROTTLED -> {
                        respondThrottled(exchange, call);
                        return;
                    }
                    case LOST_RESPONSE -> {
                        forward(call, exchange, body, logged);
                        exchange.close();
                        return;
                    }
                    case CONNECTION_RESET -> {
                        // Closing an exchange before its response headers closes the connection: the client sees
                        // the server hang up without an answer.
                        exchange.close();
                        return;
                    }
                    case SLOW_RESPONSE -> sleep(slowResponse);
                }
            }
            TokenBucket bucket = call.group == null ? null : buckets.get(call.group);
            if (bucket != null && !bucket.tryAcquire()) {
                throttledByGroup
                        .computeIfAbsent(call.group, k -> new LongAdder())
                        .increment();
                respondThrottled(exchange, call);
                return;
            }
            if (call.function != null
                    && (call.operation.equals("UpdateFunctionConfiguration") || call.operation.equals("PublishVersion"))
                    && inProgress(call.function)) {
                conflicts.increment();
                respondError(
                        exchange,
                        call,
                        409,
                        "ResourceConflictException",
                        "The operation cannot be performed at this time. An update is in progress for resource: "
                                + call.function);
                return;
            }
            forwardAndRespond(exchange, call, body, logged);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            exchange.close();
        } finally {
            inFlight.decrementAndGet();
            exchange.close();
        }
    }

    private void forwardAndRespond(HttpExchange exchange, Call call, byte[] body, @Nullable Request logged)
            throws IOException, InterruptedException {
        HttpResponse<byte[]> response;
        try {
            response = http.send(forwardRequest(exchange, body), HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException e) {
            respondError(exchange, call, 502, serverErrorCode(call), "moto did not answer the proxy: " + e);
            return;
        }
        recordLanded(logged, response);
        byte[] answer = afterForward(call, response);
        Headers out = exchange.getResponseHeaders();
        response.headers().map().forEach((name, values) -> {
            String lower = name.toLowerCase(Locale.ROOT);
            if (!RESTRICTED_RESPONSE_HEADERS.contains(lower) && !lower.startsWith(":")) {
                out.put(name, List.copyOf(values));
            }
        });
        send(exchange, response.statusCode(), answer);
    }

    /** Forwards a request whose answer will be lost; moto's answer still updates the propagation state. */
    private void forward(Call call, HttpExchange exchange, byte[] body, Request logged)
            throws IOException, InterruptedException {
        HttpResponse<byte[]> response =
                http.send(forwardRequest(exchange, body), HttpResponse.BodyHandlers.ofByteArray());
        recordLanded(logged, response);
        afterForward(call, response);
    }

    private void recordLanded(@Nullable Request logged, HttpResponse<byte[]> response) {
        if (logged != null && response.statusCode() / 100 == 2) {
            landed.add(logged);
        }
    }

    /** @return moto's answer, rewritten while a Lambda update is in progress */
    private byte[] afterForward(Call call, HttpResponse<byte[]> response) throws IOException {
        byte[] answer = response.body();
        if (call.function != null && response.statusCode() == 200) {
            if (call.operation.equals("UpdateFunctionConfiguration") && !propagationDelay.isZero()) {
                inProgressUntilNanos.put(call.function, System.nanoTime() + propagationDelay.toNanos());
                answer = markInProgress(answer, false);
            } else if (call.operation.equals("GetFunction") && inProgress(call.function)) {
                answer = markInProgress(answer, true);
            } else if (call.operation.equals("GetFunctionConfiguration") && inProgress(call.function)) {
                answer = markInProgress(answer, false);
            }
        }
        return answer;
    }

    private HttpRequest forwardRequest(HttpExchange exchange, byte[] body) {
        URI in = exchange.getRequestURI();
        String base = target.toString().replaceAll("/+$", "");
        URI uri = URI.create(base + in.getRawPath() + (in.getRawQuery() == null ? "" : "?" + in.getRawQuery()));
        HttpRequest.Builder request = HttpRequest.newBuilder(uri)
                .timeout(Duration.ofSeconds(60))
                .method(
                        exchange.getRequestMethod(),
                        body.length == 0
                                ? HttpRequest.BodyPublishers.noBody()
                                : HttpRequest.BodyPublishers.ofByteArray(body));
        exchange.getRequestHeaders().forEach((name, values) -> {
            if (!RESTRICTED_REQUEST_HEADERS.contains(name.toLowerCase(Locale.ROOT))) {
                values.forEach(v -> request.header(name, v));
            }
        });
        return request.build();
    }

    /** Rewrites a configuration (or, for GetFunction, its {@code Configuration} member) to an update in progress. */
    private static byte[] markInProgress(byte[] json, boolean nested) throws IOException {
        JsonNode root = JSON.readTree(json);
        JsonNode config = nested ? root.path("Configuration") : root;
        if (!(config instanceof ObjectNode object)) {
            return json;
        }
        object.put("LastUpdateStatus", "InProgress");
        object.put("LastUpdateStatusReason", "The function is being updated.");
        object.put("LastUpdateStatusReasonCode", "Updating");
        return JSON.writeValueAsBytes(root);
    }

    private boolean inProgress(String function) {
        Long until = inProgressUntilNanos.get(function);
        if (until == null) {
            return false;
        }
        if (System.nanoTime() - until >= 0) {
            inProgressUntilNanos.remove(function, until);
            return false;
        }
        return true;
    }

    private @Nullable Fault drawFault() {
        if (faultRates.isEmpty()) {
            return null;
        }
        double x;
        synchronized (random) {
            x = random.nextDouble();
        }
        for (Map.Entry<Fault, Double> e : faultRates.entrySet()) {
            if (x < e.getValue()) {
                return faultBudget.getAndUpdate(n -> Math.max(0, n - 1)) > 0 ? e.getKey() : null;
            }
            x -= e.getValue();
        }
        return null;
    }

    private static void respondServerError(HttpExchange exchange, Call call) throws IOException {
        respondError(exchange, call, 500, serverErrorCode(call), "Injected fault: internal error");
    }

    private static String serverErrorCode(Call call) {
        return switch (call.service) {
            case "lambda" -> "ServiceException";
            case "ecs", "eks" -> "ServerException";
            case "logs" -> "ServiceUnavailableException";
            default -> "InternalFailure";
        };
    }

    /** Answers with the service's own throttling error (see {@link Fault#THROTTLED}). */
    private static void respondThrottled(HttpExchange exchange, Call call) throws IOException {
        switch (call.protocol) {
            case LAMBDA -> respondError(exchange, call, 429, "TooManyRequestsException", "Rate exceeded");
            case QUERY -> respondError(exchange, call, 400, "Throttling", "Rate exceeded");
            default ->
                respondError(
                        exchange, call, call.service.equals("eks") ? 429 : 400, "ThrottlingException", "Rate exceeded");
        }
    }

    /** Answers an error in the shape of the call's protocol, so that the SDK parses {@code code} from it. */
    private static void respondError(HttpExchange exchange, Call call, int status, String code, String message)
            throws IOException {
        Headers headers = exchange.getResponseHeaders();
        headers.set("x-amzn-RequestId", "proxy-" + Long.toHexString(System.nanoTime()));
        switch (call.protocol) {
            case LAMBDA -> {
                headers.set("Content-Type", "application/json");
                headers.set("x-amzn-ErrorType", code);
                ObjectNode body = JSON.createObjectNode()
                        .put("Type", status >= 500 ? "Service" : "User")
                        .put("message", message);
                send(exchange, status, JSON.writeValueAsBytes(body));
            }
            case JSON -> {
                headers.set("Content-Type", "application/x-amz-json-1.1");
                headers.set("x-amzn-ErrorType", code);
                ObjectNode body = JSON.createObjectNode().put("__type", code).put("message", message);
                send(exchange, status, JSON.writeValueAsBytes(body));
            }
            case REST_JSON -> {
                headers.set("Content-Type", "application/json");
                headers.set("x-amzn-ErrorType", code);
                send(
                        exchange,
                        status,
                        JSON.writeValueAsBytes(JSON.createObjectNode().put("message", message)));
            }
            case QUERY -> {
                headers.set("Content-Type", "text/xml");
                String xml = "<ErrorResponse><Error><Type>" + (status >= 500 ? "Receiver" : "Sender")
                        + "</Type><Code>" + code + "</Code><Message>" + xmlEscape(message)
                        + "</Message></Error><RequestId>" + headers.getFirst("x-amzn-RequestId")
                        + "</RequestId></ErrorResponse>";
                send(exchange, status, xml.getBytes(StandardCharsets.UTF_8));
            }
        }
    }

    private static String xmlEscape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }

    private static void send(HttpExchange exchange, int status, byte[] body) throws IOException {
        boolean noBody =
                body.length == 0 || status == 204 || status == 304 || "HEAD".equals(exchange.getRequestMethod());
        exchange.sendResponseHeaders(status, noBody ? -1 : body.length);
        if (!noBody) {
            exchange.getResponseBody().write(body);
        }
    }

    private static void sleep(Duration d) throws InterruptedException {
        if (!d.isZero()) {
            TimeUnit.NANOSECONDS.sleep(d.toNanos());
        }
    }

    /** A classic token bucket: {@code burst} tokens at most, refilled at {@code rate} per second. */
    private static final class TokenBucket {
        private final double rate;
        private final double burst;
        private double tokens;
        private long last = System.nanoTime();

        TokenBucket(double rate, double burst) {
            this.rate = rate;
            this.burst = burst;
            this.tokens = burst;
        }

        synchronized boolean tryAcquire() {
            long now = System.nanoTime();
            tokens = Math.min(burst, tokens + (now - last) / 1e9 * rate);
            last = now;
            if (tokens >= 1) {
                tokens -= 1;
                return true;
            }
            return false;
        }
    }

    /**
     * What a request is: its operation, service and protocol, its quota group and, for function calls, the function's
     * name.
     */
    static final class Call {
        final String operation;
        final String service;
        final Protocol protocol;
        final @Nullable String group;
        final @Nullable String function;
        /** The resource the call is about, when its path names it: a Lambda function, an EKS cluster. */
        final @Nullable String resource;

        final boolean admin;

        private Call(
                String operation,
                String service,
                Protocol protocol,
                @Nullable String group,
                @Nullable String function,
                boolean admin) {
            this(operation, service, protocol, group, function, function, admin);
        }

        private Call(
                String operation,
                String service,
                Protocol protocol,
                @Nullable String group,
                @Nullable String function,
                @Nullable String resource,
                boolean admin) {
            this.operation = operation;
            this.service = service;
            this.protocol = protocol;
            this.group = group;
            this.function = function;
            this.resource = resource;
            this.admin = admin;
        }

        static Call of(String method, URI uri, Headers headers) {
            return of(method, uri, headers, new byte[0]);
        }

        static Call of(String method, URI uri, Headers headers, byte[] body) {
            String path = uri.getRawPath();
            if (path.startsWith("/moto-api")) {
                return new Call("moto-api", "moto", Protocol.REST_JSON, null, null, true);
            }
            String service = signingName(headers);
            Matcher m = LAMBDA_PATH.matcher(path);
            if (m.matches()) {
                String[] segments = path.substring(1).split("/");
                String operation = lambdaOperation(method, segments);
                if (operation.equals("Lambda GET functions/*/provisioned-concurrency")) {
                    // One path for both: the query tells them apart.
                    operation = String.valueOf(uri.getRawQuery()).contains("List=ALL")
                            ? "ListProvisionedConcurrencyConfigs"
                            : "GetProvisionedConcurrencyConfig";
                }
                String function =
                        segments.length >= 3 && segments[1].equals("functions") ? functionName(segments[2]) : null;
                String group = operation.equals("GetFunction")
                        ? GET_FUNCTION
                        : operation.startsWith("Invoke") ? null : CONTROL_PLANE;
                return new Call(operation, "lambda", Protocol.LAMBDA, group, function, false);
            }
            String target = headers.getFirst("X-Amz-Target");
            if (target != null) {
                return new Call(
                        target.substring(target.lastIndexOf('.') + 1), service, Protocol.JSON, null, null, false);
            }
            String contentType =
                    String.valueOf(headers.getFirst("Content-Type")).toLowerCase(Locale.ROOT);
            if (contentType.startsWith("application/x-www-form-urlencoded")) {
                Matcher action = ACTION.matcher(new String(body, StandardCharsets.UTF_8));
                if (action.find()) {
                    String operation = URLDecoder.decode(action.group(1), StandardCharsets.UTF_8);
                    return new Call(operation, service, Protocol.QUERY, null, null, false);
                }
            }
            if (path.startsWith("/clusters")
                    || (path.startsWith("/tags/") && (service.equals("eks") || service.equals("unknown")))) {
                String[] segments = path.substring(1).replaceAll("/+$", "").split("/", -1);
                String cluster = segments[0].equals("clusters") && segments.length >= 2
                        ? URLDecoder.decode(segments[1], StandardCharsets.UTF_8)
                        : null;
                return new Call(eksOperation(method, path), "eks", Protocol.REST_JSON, null, null, cluster, false);
            }
            if (method.equals("GET") && CLOUDFRONT_DISTRIBUTIONS.matcher(path).matches()) {
                // CloudFront (rest-xml): the Lambda target reads it once per plan for Lambda@Edge associations
                return new Call("ListDistributions", "cloudfront", Protocol.REST_JSON, null, null, false);
            }
            return new Call(method + " " + path, service, Protocol.REST_JSON, null, null, false);
        }

        /** @return the SigV4 signing name (e.g. {@code ecs}) from the Authorization header, or {@code unknown} */
        static String signingName(Headers headers) {
            String authorization = headers.getFirst("Authorization");
            if (authorization != null) {
                Matcher m = CREDENTIAL_SCOPE.matcher(authorization);
                if (m.find()) {
                    return m.group(1);
                }
            }
            return "unknown";
        }

        /** @return the operation name of an EKS rest-json call, e.g. {@code UpdateClusterConfig} */
        static String eksOperation(String method, String rawPath) {
            String[] s = rawPath.replaceAll("/+$", "").substring(1).split("/", -1);
            int n = s.length;
            if (s[0].equals("tags")) {
                return switch (method) {
                    case "GET" -> "ListTagsForResource";
                    case "POST" -> "TagResource";
                    case "DELETE" -> "UntagResource";
                    default -> "EKS " + method + " tags";
                };
            }
            if (n == 1) {
                return method.equals("POST") ? "CreateCluster" : "ListClusters";
            }
            if (n == 2) {
                return switch (method) {
                    case "DELETE" -> "DeleteCluster";
                    default -> "DescribeCluster";
                };
            }
            String sub = s[2];
            if (sub.equals("update-config")) {
                return "UpdateClusterConfig";
            }
            if (sub.equals("updates")) {
                return n == 3 ? (method.equals("POST") ? "UpdateClusterVersion" : "ListUpdates") : "DescribeUpdate";
            }
            String noun = switch (sub) {
                case "fargate-profiles" -> "FargateProfile";
                case "node-groups" -> "Nodegroup";
                case "addons" -> "Addon";
                case "access-entries" -> "AccessEntry";
                default -> null;
            };
            if (noun == null) {
                return "EKS " + method + " clusters/*/" + sub;
            }
            if (sub.equals("access-entries") && n >= 5 && s[4].equals("access-policies")) {
                return switch (method) {
                    case "POST" -> "AssociateAccessPolicy";
                    case "DELETE" -> "DisassociateAccessPolicy";
                    default -> "ListAssociatedAccessPolicies";
                };
            }
            if (n >= 5 && s[4].startsWith("update-")) {
                return "Update" + noun + (s[4].equals("update-version") ? "Version" : "Config");
            }
            if (n == 3) {
                return method.equals("POST")
                        ? "Create" + noun
                        : "List" + (noun.equals("AccessEntry") ? "AccessEntries" : noun + "s");
            }
            return switch (method) {
                case "DELETE" -> "Delete" + noun;
                case "POST" -> "Update" + noun;
                default -> "Describe" + noun;
            };
        }

        /** @return the operation name of a Lambda REST call; segments start with the API version */
        static String lambdaOperation(String method, String[] s) {
            String resource = s[1];
            int n = s.length;
            String sub = n >= 4 ? s[3] : "";
            return switch (resource) {
                case "functions" ->
                    switch (n) {
                        case 2 -> method.equals("POST") ? "CreateFunction" : "ListFunctions";
                        case 3 ->
                            switch (method) {
                                case "DELETE" -> "DeleteFunction";
                                default -> "GetFunction";
                            };
                        default ->
                            switch (sub + " " + method) {
                                case "configuration GET" -> "GetFunctionConfiguration";
                                case "configuration PUT" -> "UpdateFunctionConfiguration";
                                case "code PUT" -> "UpdateFunctionCode";
                                case "versions GET" -> "ListVersionsByFunction";
                                case "versions POST" -> "PublishVersion";
                                case "aliases GET" -> n == 4 ? "ListAliases" : "GetAlias";
                                case "aliases POST" -> "CreateAlias";
                                case "aliases PUT" -> "UpdateAlias";
                                case "aliases DELETE" -> "DeleteAlias";
                                case "policy GET" -> "GetPolicy";
                                case "policy POST" -> "AddPermission";
                                case "policy DELETE" -> "RemovePermission";
                                case "concurrency GET" -> "GetFunctionConcurrency";
                                case "concurrency PUT" -> "PutFunctionConcurrency";
                                case "concurrency DELETE" -> "DeleteFunctionConcurrency";
                                case "invocations POST" -> "Invoke";
                                case "invoke-async POST" -> "InvokeAsync";
                                default -> "Lambda " + method + " functions/*/" + sub;
                            };
                    };
                case "layers" ->
                    switch (n) {
                        case 2 -> "ListLayers";
                        case 4 -> method.equals("POST") ? "PublishLayerVersion" : "ListLayerVersions";
                        case 5 -> method.equals("DELETE") ? "DeleteLayerVersion" : "GetLayerVersion";
                        default ->
                            switch (method) {
                                case "GET" -> "GetLayerVersionPolicy";
                                case "POST" -> "AddLayerVersionPermission";
                                case "DELETE" -> "RemoveLayerVersionPermission";
                                default -> "Lambda " + method + " layers";
                            };
                    };
                case "tags" ->
                    switch (method) {
                        case "GET" -> "ListTags";
                        case "POST" -> "TagResource";
                        case "DELETE" -> "UntagResource";
                        default -> "Lambda " + method + " tags";
                    };
                default -> "Lambda " + method + " " + resource;
            };
        }

        /** @return the function's name from a path segment holding a name, a partial or full ARN, with a qualifier */
        static String functionName(String rawSegment) {
            String s = URLDecoder.decode(rawSegment.replace("+", "%2B"), StandardCharsets.UTF_8);
            int marker = s.indexOf("function:");
            if (marker >= 0) {
                s = s.substring(marker + "function:".length());
            }
            int qualifier = s.indexOf(':');
            return qualifier >= 0 ? s.substring(0, qualifier) : s;
        }
    }

    /** Configures a {@link ThrottlingProxy}. */
    public static final class Builder {
        private @Nullable URI target;
        private final Map<String, Double> rates = new HashMap<>(Map.of(
                GET_FUNCTION, DEFAULT_GET_FUNCTION_RATE,
                CONTROL_PLANE, DEFAULT_CONTROL_PLANE_RATE));
        private final Map<String, Double> bursts = new HashMap<>();
        private Duration latency = Duration.ZERO;
        private Duration propagationDelay = Duration.ZERO;
        private Duration slowResponse = Duration.ofSeconds(2);
        private final Map<Fault, Double> faultRates = new EnumMap<>(Fault.class);
        private final Set<String> faultOnly = new java.util.HashSet<>();
        private long seed = 42;
        private long maxFaults = Long.MAX_VALUE;
        private Gate gate = request -> true;

        private Builder() {}

        /**
         * @param target the server to forward to; defaults to {@link Moto#endpoint()}
         * @return this
         */
        public Builder target(URI target) {
            this.target = target;
            return this;
        }

        /**
         * @param group {@link #GET_FUNCTION} or {@link #CONTROL_PLANE}
         * @param requestsPerSecond the bucket's refill rate
         * @return this
         */
        public Builder rate(String group, double requestsPerSecond) {
            requireGroup(group);
            if (!(requestsPerSecond > 0)) {
                throw new IllegalArgumentException("rate(" + group + ") must be positive, got " + requestsPerSecond);
            }
            rates.put(group, requestsPerSecond);
            return this;
        }

        /**
         * @param group {@link #GET_FUNCTION} or {@link #CONTROL_PLANE}
         * @param tokens how many requests the bucket lets through at once after a pause (default: one second's worth)
         * @return this
         */
        public Builder burst(String group, double tokens) {
            requireGroup(group);
            if (!(tokens >= 1)) {
                throw new IllegalArgumentException("burst(" + group + ") must be at least 1, got " + tokens);
            }
            bursts.put(group, tokens);
            return this;
        }

        /**
         * Turns rate limiting off: every request is forwarded (latency, propagation and faults still apply).
         *
         * @return this
         */
        public Builder unlimited() {
            rates.replaceAll((k, v) -> null);
            return this;
        }

        /**
         * @param latency added to every request before it is answered (default none)
         * @return this
         */
        public Builder latency(Duration latency) {
            this.latency = requireNonNegative("latency", latency);
            return this;
        }

        /**
         * @param delay how long a function's update stays {@code InProgress} after {@code UpdateFunctionConfiguration}
         *     (default none: moto's behaviour, updates finish at once)
         * @return this
         */
        public Builder propagationDelay(Duration delay) {
            this.propagationDelay = requireNonNegative("propagationDelay", delay);
            return this;
        }

        /**
         * @param fault a kind of fault
         * @param fraction the fraction of requests (0 to 1) that get it; the fractions of all kinds add up to 1 at most
         * @return this
         */
        public Builder fault(Fault fault, double fraction) {
            if (!(fraction >= 0 && fraction <= 1)) {
                throw new IllegalArgumentException("fault(" + fault + ") needs a fraction in [0, 1], got " + fraction);
            }
            faultRates.put(fault, fraction);
            if (faultRates.values().stream().mapToDouble(Double::doubleValue).sum() > 1 + 1e-9) {
                throw new IllegalArgumentException("The fault fractions add up to more than 1: " + faultRates);
            }
            return this;
        }

        /**
         * @param fraction the fraction of requests (0 to 1) that get a fault, shared evenly among {@code kinds}
         * @param kinds the kinds of fault, e.g. {@code Fault.values()}
         * @return this
         */
        public Builder faultEvenly(double fraction, Fault... kinds) {
            for (Fault kind : kinds) {
                fault(kind, fraction / kinds.length);
            }
            return this;
        }

        /**
         * Injects faults only into requests of these services (signing names, e.g. {@code ecs}, {@code iam}) or
         * operations (e.g. {@code RegisterTaskDefinition}); by default every request but moto's own may get one.
         *
         * @param servicesOrOperations service signing names or operation names
         * @return this
         */
        public Builder faultOnly(String... servicesOrOperations) {
            faultOnly.addAll(List.of(servicesOrOperations));
            return this;
        }

        /**
         * @param faults how many faults to inject at most (default: no limit), e.g. 1 to fail only the first
         *     matching request
         * @return this
         */
        public Builder maxFaults(long faults) {
            if (faults < 0) {
                throw new IllegalArgumentException("maxFaults must not be negative, got " + faults);
            }
            this.maxFaults = faults;
            return this;
        }

        /**
         * @param delay the extra delay of a {@link Fault#SLOW_RESPONSE} (default 2 s)
         * @return this
         */
        public Builder slowResponse(Duration delay) {
            this.slowResponse = requireNonNegative("slowResponse", delay);
            return this;
        }

        /**
         * @param gate decides, before any fault, whether each request goes on (default: every one does)
         * @return this
         */
        public Builder gate(Gate gate) {
            this.gate = gate;
            return this;
        }

        /**
         * @param seed the seed of the random choice of faulted requests (default 42), for repeatable runs
         * @return this
         */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /**
         * Starts the proxy on a free loopback port.
         *
         * @return the running proxy; close it when done
         */
        public ThrottlingProxy start() {
            try {
                return new ThrottlingProxy(this);
            } catch (IOException e) {
                throw new UncheckedIOException("Cannot start the throttling proxy: " + e.getMessage(), e);
            }
        }

        private static void requireGroup(String group) {
            if (!group.equals(GET_FUNCTION) && !group.equals(CONTROL_PLANE)) {
                throw new IllegalArgumentException(
                        "Unknown quota group '" + group + "': use ThrottlingProxy.GET_FUNCTION or CONTROL_PLANE");
            }
        }

        private static Duration requireNonNegative(String name, Duration d) {
            if (d.isNegative()) {
                throw new IllegalArgumentException(name + " must not be negative, got " + d);
            }
            return d;
        }
    }
}
