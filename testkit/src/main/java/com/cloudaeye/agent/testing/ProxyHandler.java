package com.cloudaeye.agent.testing;

import com.cloudaeye.agent.spi.support.AwsActions;
import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
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
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * The {@link ThrottlingProxy}'s server: receives each request, names it ({@link ProxyCall}), passes it through the
 * gate, a drawn fault, the token bucket of its quota group and Lambda's propagation, and forwards it to the target.
 */
final class ProxyHandler {
    /** Request headers that {@link HttpClient} sets itself and refuses to copy. */
    private static final Set<String> RESTRICTED_REQUEST_HEADERS =
            Set.of("connection", "content-length", "expect", "host", "upgrade", "transfer-encoding");
    /** Response headers that {@link HttpServer} sets itself. */
    private static final Set<String> RESTRICTED_RESPONSE_HEADERS =
            Set.of("connection", "content-length", "transfer-encoding", "date", "keep-alive", "server");

    final URI target;
    final ProxyCounters counters = new ProxyCounters();
    private final Duration latency;
    private final Duration slowResponse;
    private final Map<ThrottlingProxy.Fault, Double> faultRates;
    private final Set<String> faultOnly;
    private final Function<ThrottlingProxy.Request, ThrottlingProxy.@Nullable Fault> faultRule;
    /** How many faults may still be injected; counts down from {@link ProxyOptions#maxFaults(long)}. */
    private final AtomicLong faultBudget;

    private final Random random;
    private final ThrottlingProxy.Gate gate;
    /** The rate and burst of each limited quota group. */
    private final Map<String, double[]> limits = new HashMap<>();
    /** The buckets: per quota group, or per quota group and account-region ({@link ProxyOptions#perAccountRegion}). */
    private final Map<String, TokenBucket> buckets = new ConcurrentHashMap<>();

    private final boolean perAccountRegion;
    private final LambdaPropagation propagation;

    final HttpServer server;
    private final ExecutorService executor;
    private final HttpClient http;
    /** The in-process target, when there is one ({@link ProxyOptions#target(HttpHandler)}): no second HTTP hop. */
    private final @Nullable HttpHandler inProcess;

    /** The target's answer: over HTTP, or from an in-process target. */
    static final class Forwarded {
        private final int statusCode;
        private final Map<String, List<String>> headers;
        private final byte[] body;

        Forwarded(int statusCode, Map<String, List<String>> headers, byte[] body) {
            this.statusCode = statusCode;
            this.headers = headers;
            this.body = body;
        }

        int statusCode() {
            return statusCode;
        }

        Map<String, List<String>> headers() {
            return headers;
        }

        /** @return the body (not a copy: the proxy's own) */
        byte[] body() {
            return body;
        }
    }

    ProxyHandler(ProxyOptions<?> b) throws IOException {
        this.inProcess = b.inProcess;
        this.target = b.inProcess != null
                ? URI.create("in-process:" + b.inProcess.getClass().getName())
                : b.target != null ? b.target : Moto.endpoint();
        this.latency = b.latency;
        this.slowResponse = b.slowResponse;
        this.faultRates = new EnumMap<>(b.faultRates);
        this.faultOnly = Set.copyOf(b.faultOnly);
        this.faultRule = b.faultRule;
        this.faultBudget = new AtomicLong(b.maxFaults);
        this.random = new Random(b.seed);
        this.gate = b.gate;
        this.propagation = new LambdaPropagation(b.propagationDelay);
        b.rates.forEach((group, rate) -> {
            if (rate != null) {
                limits.put(group, new double[] {rate, b.bursts.getOrDefault(group, Math.max(1, Math.ceil(rate)))});
            }
        });
        this.perAccountRegion = b.perAccountRegion;
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

    /** Stops the server; requests in flight are cut off. */
    void stop() {
        server.stop(0);
        executor.shutdownNow();
    }

    private void handle(HttpExchange exchange) throws IOException {
        // The arrival, for the rate windows: before the body is read, as close to the wire as the server lets us see.
        long arrivedAt = System.nanoTime();
        counters.enter();
        try {
            byte[] body = exchange.getRequestBody().readAllBytes();
            ProxyCall call = ProxyCall.of(
                    exchange.getRequestMethod(), exchange.getRequestURI(), exchange.getRequestHeaders(), body);
            counters.arrived(call);
            if (call.admin) {
                forwardAndRespond(exchange, call, "", body, null);
                return;
            }
            ThrottlingProxy.Request logged = new ThrottlingProxy.Request(
                    AwsActions.iamAction(call.service, call.operation),
                    exchange.getRequestMethod(),
                    exchange.getRequestURI().getRawPath(),
                    new String(body, StandardCharsets.UTF_8));
            counters.requestLog.add(logged);
            if (!gate.pass(logged)) {
                exchange.close();
                return;
            }
            String accountRegion = ProxyCall.accountRegion(exchange.getRequestHeaders());
            // Functions of the same name in two account-regions are two functions, where the proxy tells them apart.
            String scope = perAccountRegion ? accountRegion : "";
            if (call.group != null) {
                counters.arrivedInGroup(call.group, accountRegion, arrivedAt);
            }
            sleep(latency);
            ThrottlingProxy.Fault fault = faultRule.apply(logged);
            if (fault == null
                    && (faultOnly.isEmpty()
                            || faultOnly.contains(call.operation)
                            || faultOnly.contains(call.service))) {
                fault = drawFault();
            }
            if (fault != null) {
                counters.fault(fault);
                switch (fault) {
                    case SERVER_ERROR -> {
                        ProxyResponses.respondServerError(exchange, call);
                        return;
                    }
                    case THROTTLED -> {
                        ProxyResponses.respondThrottled(exchange, call);
                        return;
                    }
                    case LOST_RESPONSE -> {
                        forward(call, scope, exchange, body, logged);
                        exchange.close();
                        return;
                    }
                    case CONNECTION_RESET -> {
                        // Closing an exchange before its response headers closes the connection: the client sees
                        // the server hang up without an answer.
                        exchange.close();
                        return;
                    }
                    case ACCESS_DENIED -> {
                        ProxyResponses.respondAccessDenied(exchange, call);
                        return;
                    }
                    case SLOW_RESPONSE -> sleep(slowResponse);
                }
            }
            TokenBucket bucket = call.group == null ? null : bucket(call.group, accountRegion);
            if (call.group != null && bucket != null && !bucket.tryAcquire()) {
                counters.throttled(call.group, accountRegion);
                ProxyResponses.respondThrottled(exchange, call);
                return;
            }
            if (propagation.conflicts(call, scope)) {
                counters.conflicts.increment();
                ProxyResponses.respondError(
                        exchange,
                        call,
                        409,
                        "ResourceConflictException",
                        "The operation cannot be performed at this time. An update is in progress for resource: "
                                + call.function);
                return;
            }
            forwardAndRespond(exchange, call, scope, body, logged);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            exchange.close();
        } finally {
            counters.leave();
            exchange.close();
        }
    }

    private void forwardAndRespond(
            HttpExchange exchange, ProxyCall call, String scope, byte[] body, ThrottlingProxy.@Nullable Request logged)
            throws IOException, InterruptedException {
        Forwarded response;
        try {
            response = send(exchange, body);
        } catch (IOException e) {
            ProxyResponses.respondError(
                    exchange, call, 502, ProxyResponses.serverErrorCode(call), "moto did not answer the proxy: " + e);
            return;
        }
        recordLanded(logged, response);
        byte[] answer = propagation.afterForward(call, scope, response);
        Headers out = exchange.getResponseHeaders();
        response.headers().forEach((name, values) -> {
            String lower = name.toLowerCase(Locale.ROOT);
            if (!RESTRICTED_RESPONSE_HEADERS.contains(lower) && !lower.startsWith(":")) {
                out.put(name, List.copyOf(values));
            }
        });
        ProxyResponses.send(exchange, response.statusCode(), answer);
    }

    /** Forwards a request whose answer will be lost; moto's answer still updates the propagation state. */
    private void forward(
            ProxyCall call, String scope, HttpExchange exchange, byte[] body, ThrottlingProxy.Request logged)
            throws IOException, InterruptedException {
        Forwarded response = send(exchange, body);
        recordLanded(logged, response);
        propagation.afterForward(call, scope, response);
    }

    /** @return the target's answer to the request: the in-process target's, or the HTTP target's */
    private Forwarded send(HttpExchange exchange, byte[] body) throws IOException, InterruptedException {
        if (inProcess != null) {
            return InProcessExchange.forward(inProcess, exchange, body);
        }
        HttpResponse<byte[]> response =
                http.send(forwardRequest(exchange, body), HttpResponse.BodyHandlers.ofByteArray());
        return new Forwarded(response.statusCode(), response.headers().map(), response.body());
    }

    private void recordLanded(ThrottlingProxy.@Nullable Request logged, Forwarded response) {
        if (logged != null && response.statusCode() / 100 == 2) {
            counters.landed.add(logged);
        }
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

    private @Nullable TokenBucket bucket(String group, String accountRegion) {
        double[] limit = limits.get(group);
        if (limit == null) {
            return null;
        }
        return buckets.computeIfAbsent(
                perAccountRegion ? group + " " + accountRegion : group, k -> new TokenBucket(limit[0], limit[1]));
    }

    private ThrottlingProxy.@Nullable Fault drawFault() {
        if (faultRates.isEmpty()) {
            return null;
        }
        double x;
        synchronized (random) {
            x = random.nextDouble();
        }
        for (Map.Entry<ThrottlingProxy.Fault, Double> e : faultRates.entrySet()) {
            if (x < e.getValue()) {
                return faultBudget.getAndUpdate(n -> Math.max(0, n - 1)) > 0 ? e.getKey() : null;
            }
            x -= e.getValue();
        }
        return null;
    }

    private static void sleep(Duration d) throws InterruptedException {
        if (!d.isZero()) {
            TimeUnit.NANOSECONDS.sleep(d.toNanos());
        }
    }
}
