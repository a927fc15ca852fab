package com.cloudaeye.agent.testing;

import com.sun.net.httpserver.HttpHandler;
import java.net.URI;
import java.time.Duration;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;

/**
 * The settings of a {@link ThrottlingProxy}: where it forwards, its rates, latency, Lambda's update propagation, and
 * the faults it injects. Set them on {@link ThrottlingProxy#builder()}; every setter returns that builder.
 *
 * @param <B> the builder type the setters return
 */
public abstract class ProxyOptions<B extends ProxyOptions<B>> {
    @Nullable
    URI target;

    @Nullable
    HttpHandler inProcess;

    final Map<String, Double> rates = new HashMap<>(Map.of(
            ThrottlingProxy.GET_FUNCTION, ThrottlingProxy.DEFAULT_GET_FUNCTION_RATE,
            ThrottlingProxy.CONTROL_PLANE, ThrottlingProxy.DEFAULT_CONTROL_PLANE_RATE));
    final Map<String, Double> bursts = new HashMap<>();
    boolean perAccountRegion;
    Duration latency = Duration.ZERO;
    Duration propagationDelay = Duration.ZERO;
    Duration slowResponse = Duration.ofSeconds(2);
    final Map<ThrottlingProxy.Fault, Double> faultRates = new EnumMap<>(ThrottlingProxy.Fault.class);
    final Set<String> faultOnly = new java.util.HashSet<>();
    java.util.function.Function<ThrottlingProxy.Request, ThrottlingProxy.@Nullable Fault> faultRule = request -> null;
    long seed = 42;
    long maxFaults = Long.MAX_VALUE;
    ThrottlingProxy.Gate gate = request -> true;

    ProxyOptions() {}

    /** @return this builder */
    abstract B self();

    /**
     * @param target the server to forward to; defaults to {@link Moto#endpoint()}
     * @return this
     */
    public B target(URI target) {
        this.target = target;
        this.inProcess = null;
        return self();
    }

    /**
     * Serves the requests from a handler in this JVM instead of forwarding them over HTTP: one HTTP hop (client to
     * proxy) instead of two, for benchmarks whose target is a stub and whose test bed should cost little CPU. Rates,
     * latency, Lambda's propagation, faults, the gate and every counter work as with {@link #target(URI)}; the
     * handler gets the request as received and answers on the exchange it is given, which the proxy reads back as the
     * target's answer (its status, headers and body).
     *
     * @param inProcess the handler that answers in place of a server
     * @return this
     */
    public B target(HttpHandler inProcess) {
        this.inProcess = Objects.requireNonNull(inProcess, "inProcess");
        this.target = null;
        return self();
    }

    /**
     * @param group {@link ThrottlingProxy#GET_FUNCTION} or {@link ThrottlingProxy#CONTROL_PLANE}
     * @param requestsPerSecond the bucket's refill rate
     * @return this
     */
    public B rate(String group, double requestsPerSecond) {
        requireGroup(group);
        if (!(requestsPerSecond > 0)) {
            throw new IllegalArgumentException("rate(" + group + ") must be positive, got " + requestsPerSecond);
        }
        rates.put(group, requestsPerSecond);
        return self();
    }

    /**
     * @param group {@link ThrottlingProxy#GET_FUNCTION} or {@link ThrottlingProxy#CONTROL_PLANE}
     * @param tokens how many requests the bucket lets through at once after a pause (default: one second's worth)
     * @return this
     */
    public B burst(String group, double tokens) {
        requireGroup(group);
        if (!(tokens >= 1)) {
            throw new IllegalArgumentException("burst(" + group + ") must be at least 1, got " + tokens);
        }
        bursts.put(group, tokens);
        return self();
    }

    /**
     * Turns rate limiting off: every request is forwarded (latency, propagation and faults still apply).
     *
     * @return this
     */
    public B unlimited() {
        rates.replaceAll((k, v) -> null);
        return self();
    }

    /**
     * Gives every account-region its own buckets, as AWS's quotas are per account and region (default: one set of
     * buckets for all requests, which suits a test of one account and region). A request's account is moto's {@code
     * x-moto-account-id} header when it has one, else its SigV4 credential's access key ID: one per assumed-role
     * session, so one per account of a fleet (credentials refreshed mid-run would start a new, full bucket); its
     * region is the SigV4 credential scope's. {@link ThrottlingProxy#requestsPerAccountRegion(String)} counts them.
     * Lambda updates in progress ({@link #propagationDelay(Duration)}) are kept per account-region too, so a function
     * of the same name in another account-region is another function.
     *
     * @return this
     */
    public B bucketsPerAccountRegion() {
        this.perAccountRegion = true;
        return self();
    }

    /**
     * @param latency added to every request before it is answered (default none)
     * @return this
     */
    public B latency(Duration latency) {
        this.latency = requireNonNegative("latency", latency);
        return self();
    }

    /**
     * @param delay how long a function's update stays {@code InProgress} after {@code UpdateFunctionConfiguration}
     *     (default none: moto's behaviour, updates finish at once)
     * @return this
     */
    public B propagationDelay(Duration delay) {
        this.propagationDelay = requireNonNegative("propagationDelay", delay);
        return self();
    }

    /**
     * @param fault a kind of fault
     * @param fraction the fraction of requests (0 to 1) that get it; the fractions of all kinds add up to 1 at most
     * @return this
     */
    public B fault(ThrottlingProxy.Fault fault, double fraction) {
        if (!(fraction >= 0 && fraction <= 1)) {
            throw new IllegalArgumentException("fault(" + fault + ") needs a fraction in [0, 1], got " + fraction);
        }
        faultRates.put(fault, fraction);
        if (faultRates.values().stream().mapToDouble(Double::doubleValue).sum() > 1 + 1e-9) {
            throw new IllegalArgumentException("The fault fractions add up to more than 1: " + faultRates);
        }
        return self();
    }

    /**
     * @param fraction the fraction of requests (0 to 1) that get a fault, shared evenly among {@code kinds}
     * @param kinds the kinds of fault, e.g. {@code Fault.transientKinds()}
     * @return this
     */
    public B faultEvenly(double fraction, ThrottlingProxy.Fault... kinds) {
        for (ThrottlingProxy.Fault kind : kinds) {
            fault(kind, fraction / kinds.length);
        }
        return self();
    }

    /**
     * Injects faults only into requests of these services (signing names, e.g. {@code ecs}, {@code iam}) or
     * operations (e.g. {@code RegisterTaskDefinition}); by default every request but moto's own may get one.
     *
     * @param servicesOrOperations service signing names or operation names
     * @return this
     */
    public B faultOnly(String... servicesOrOperations) {
        faultOnly.addAll(List.of(servicesOrOperations));
        return self();
    }

    /**
     * Decides the fault of each request itself, before any drawn one: e.g. to lose the answer of the first mutating
     * call and deny every call after it. A request the rule gives no fault (null) may still get a drawn one. It is asked
     * once per request, in arrival order, after the {@link ThrottlingProxy.Gate}; its faults are counted but not
     * limited by {@link #maxFaults(long)}.
     *
     * @param rule the fault of a request, or null
     * @return this
     */
    public B faultRule(java.util.function.Function<ThrottlingProxy.Request, ThrottlingProxy.@Nullable Fault> rule) {
        this.faultRule = Objects.requireNonNull(rule, "rule");
        return self();
    }

    /**
     * A {@link #faultRule}: the first call of {@code lost} lands and loses its answer; from then on every call of the
     * {@code denied} operations is refused with {@link ThrottlingProxy.Fault#ACCESS_DENIED}. Name the lost operation
     * among them to have its retry refused, and a read to have the read-back refused too.
     *
     * @param lost an operation, without its service, e.g. {@code UpdateService}
     * @param denied operations, e.g. {@code UpdateService, DescribeServices}
     * @return this
     */
    public B lostThenDenied(String lost, String... denied) {
        AtomicBoolean first = new AtomicBoolean(true);
        List<String> refused = List.of(denied);
        return faultRule(r -> {
            String operation = r.action().substring(r.action().indexOf(':') + 1);
            if (lost.equals(operation) && first.getAndSet(false)) {
                return ThrottlingProxy.Fault.LOST_RESPONSE;
            }
            return !first.get() && refused.contains(operation) ? ThrottlingProxy.Fault.ACCESS_DENIED : null;
        });
    }

    /**
     * @param faults how many faults to inject at most (default: no limit), e.g. 1 to fail only the first
     *     matching request
     * @return this
     */
    public B maxFaults(long faults) {
        if (faults < 0) {
            throw new IllegalArgumentException("maxFaults must not be negative, got " + faults);
        }
        this.maxFaults = faults;
        return self();
    }

    /**
     * @param delay the extra delay of a {@link ThrottlingProxy.Fault#SLOW_RESPONSE} (default 2 s)
     * @return this
     */
    public B slowResponse(Duration delay) {
        this.slowResponse = requireNonNegative("slowResponse", delay);
        return self();
    }

    /**
     * @param gate decides, before any fault, whether each request goes on (default: every one does)
     * @return this
     */
    public B gate(ThrottlingProxy.Gate gate) {
        this.gate = gate;
        return self();
    }

    /**
     * @param seed the seed of the random choice of faulted requests (default 42), for repeatable runs
     * @return this
     */
    public B seed(long seed) {
        this.seed = seed;
        return self();
    }

    private static void requireGroup(String group) {
        if (!group.equals(ThrottlingProxy.GET_FUNCTION) && !group.equals(ThrottlingProxy.CONTROL_PLANE)) {
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
