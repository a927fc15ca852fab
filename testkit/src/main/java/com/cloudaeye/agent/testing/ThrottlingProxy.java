package com.cloudaeye.agent.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

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
 *       {@code {"Type":"User","message":"Rate exceeded"}}. The buckets are per proxy (one account and region), or
 *       per account-region with {@link ProxyOptions#bucketsPerAccountRegion()} (a fleet).
 *   <li><b>Latency.</b> Every request waits {@link ProxyOptions#latency(Duration)} before it is answered.
 *   <li><b>Asynchronous updates.</b> After a successful {@code UpdateFunctionConfiguration}
 *       ({@code PUT /2015-03-31/functions/{name}/configuration}), for {@link ProxyOptions#propagationDelay(Duration)}:
 *       its response, {@code GetFunction} and {@code GetFunctionConfiguration} of that function say
 *       {@code "LastUpdateStatus": "InProgress"}, and {@code UpdateFunctionConfiguration} or {@code PublishVersion}
 *       of it get HTTP 409 {@code ResourceConflictException}.
 *   <li><b>Faults.</b> A fraction of requests (drawn from a seeded {@link java.util.Random}, optionally only of some services
 *       or operations: {@link ProxyOptions#faultOnly(String...)}) is answered with a server error, a throttling error, a
 *       connection closed without an answer, a slow answer, or is forwarded and its answer lost (see {@link Fault}).
 * </ul>
 *
 * <p>Besides Lambda's REST paths, the proxy names the operations of the other protocols our targets use (AWS JSON
 * for ECS and CloudWatch Logs, rest-json for EKS, query for IAM, STS and CloudFormation) and answers injected errors
 * in each protocol's own shape, so that the SDK parses the right error code.
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
        LOST_RESPONSE,
        /**
         * The caller may not make the call: 403 {@code AccessDeniedException} (400 for AWS JSON services, {@code
         * AccessDenied} for query services); the request does not reach moto. No retry cures it, so a read that gets
         * it fails at once (e.g. a read-back after a lost answer).
         */
        ACCESS_DENIED;

        /**
         * @return the faults that retries get through, in declaration order: all but {@link #ACCESS_DENIED}, which
         *     only a test of denials wants
         */
        public static Fault[] transientKinds() {
            return new Fault[] {SERVER_ERROR, CONNECTION_RESET, SLOW_RESPONSE, THROTTLED, LOST_RESPONSE};
        }
    }

    private final ProxyHandler handler;
    private final ProxyCounters counters;

    private ThrottlingProxy(Builder b) throws IOException {
        this.handler = new ProxyHandler(b);
        this.counters = handler.counters;
    }

    /** @return a builder with AWS's default Lambda rates, no latency, no propagation delay and no faults */
    public static Builder builder() {
        return new Builder();
    }

    /** @return the proxy's URL, e.g. {@code http://127.0.0.1:41234}, for {@code endpointOverride} */
    public URI endpoint() {
        InetSocketAddress address = handler.server.getAddress();
        return URI.create("http://" + address.getAddress().getHostAddress() + ":" + address.getPort());
    }

    /** @return requests received per operation (e.g. {@code GetFunction}), including throttled and faulted ones */
    public Map<String, Long> requests() {
        Map<String, Long> copy = new TreeMap<>();
        counters.requests.forEach((k, v) -> copy.put(k, v.sum()));
        return copy;
    }

    /**
     * @param operation an operation name, e.g. {@code UpdateFunctionConfiguration}
     * @return how many requests of it arrived
     */
    public long requests(String operation) {
        LongAdder n = counters.requests.get(operation);
        return n == null ? 0 : n.sum();
    }

    /**
     * @param operation an operation name, e.g. {@code UpdateClusterConfig}
     * @param resource the resource its path names: a Lambda function's or an EKS cluster's name
     * @return how many requests of that operation on that resource arrived
     */
    public long requests(String operation, String resource) {
        LongAdder n = counters.requestsByResource.get(operation + " " + resource);
        return n == null ? 0 : n.sum();
    }

    /** @return requests of every operation, including throttled and faulted ones */
    public long totalRequests() {
        return counters.requests.values().stream().mapToLong(LongAdder::sum).sum();
    }

    /** @return how many requests were answered with 429 {@code TooManyRequestsException} */
    public long throttled() {
        return counters.throttledByGroup.values().stream()
                .mapToLong(LongAdder::sum)
                .sum();
    }

    /**
     * @param group {@link #GET_FUNCTION} or {@link #CONTROL_PLANE}
     * @return how many requests of that group were throttled
     */
    public long throttled(String group) {
        LongAdder n = counters.throttledByGroup.get(group);
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
        Queue<Long> arrivals = counters.arrivalsByGroup.get(group);
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

    /**
     * Requests of a quota group per account-region (see {@link ProxyOptions#bucketsPerAccountRegion()} for how a
     * request's account-region is named; counted whether or not the buckets are per account-region).
     *
     * @param group {@link #GET_FUNCTION} or {@link #CONTROL_PLANE}
     * @return per account-region, e.g. {@code key-1f2e3d4c/eu-west-1}: its requests, throttled ones included
     */
    public Map<String, Long> requestsPerAccountRegion(String group) {
        return perAccountRegion(counters.byAccountRegion, group);
    }

    /**
     * @param group {@link #GET_FUNCTION} or {@link #CONTROL_PLANE}
     * @return per account-region: its requests of that group that were throttled
     */
    public Map<String, Long> throttledPerAccountRegion(String group) {
        return perAccountRegion(counters.throttledByAccountRegion, group);
    }

    private static Map<String, Long> perAccountRegion(Map<String, LongAdder> counts, String group) {
        Map<String, Long> copy = new TreeMap<>();
        counts.forEach((k, v) -> {
            if (k.startsWith(group + " ")) {
                copy.put(k.substring(group.length() + 1), v.sum());
            }
        });
        return copy;
    }

    /** @return how many requests were answered with 409 {@code ResourceConflictException} (update in progress) */
    public long conflicts() {
        return counters.conflicts.sum();
    }

    /**
     * @return every request moto answered with a 2xx, in order: the calls that took effect, including those whose
     *     answer was lost or never reached a killed client
     */
    public List<Request> landedRequests() {
        return List.copyOf(counters.landed);
    }

    /**
     * Waits until no request is in the proxy, e.g. until a request held by a {@link Gate} has reached moto.
     *
     * @throws InterruptedException when waiting is interrupted
     */
    public void awaitIdle() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (counters.inFlight.get() > 0) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(counters.inFlight.get() + " requests still in the proxy after 60 s");
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
        return List.copyOf(counters.requestLog);
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
        counters.faults.forEach((k, v) -> copy.put(k, v.sum()));
        return copy;
    }

    /** @return how many faults were injected, of any kind */
    public long faultsInjected() {
        return counters.faults.values().stream().mapToLong(LongAdder::sum).sum();
    }

    /** @return the largest number of requests the proxy was handling at the same time */
    public int peakConcurrentRequests() {
        return counters.peakInFlight.get();
    }

    /** Sets every counter back to zero (the buckets and pending updates stay as they are). */
    public void resetCounters() {
        counters.reset();
    }

    /** Stops the proxy; requests in flight are cut off. */
    @Override
    public void close() {
        handler.stop();
    }

    @Override
    public String toString() {
        return "ThrottlingProxy " + endpoint() + " -> " + handler.target + ": " + totalRequests() + " requests, "
                + throttled() + " throttled, " + conflicts() + " conflicts, " + faultsInjected() + " faults, peak "
                + peakConcurrentRequests() + " concurrent";
    }

    /** Configures a {@link ThrottlingProxy}: the settings of {@link ProxyOptions}, then {@link #start()}. */
    public static final class Builder extends ProxyOptions<Builder> {
        private Builder() {}

        @Override
        Builder self() {
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
    }
}
