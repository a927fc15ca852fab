package com.cloudaeye.agent.lambda.bench;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * When each kind of request reached the {@link LambdaStub} (after the proxy's latency and buckets), relative to a
 * start: the first and last time of each, and how many. For the fleet benchmark's one account-region row, to see
 * where the seconds above the floor go (before the first listing, between the plan's last read and the apply's first
 * update, after the last update).
 */
final class StubTimeline implements HttpHandler {
    private final HttpHandler stub;
    private final Map<String, long[]> byKind = new ConcurrentHashMap<>();
    private volatile long start = System.nanoTime();

    StubTimeline(HttpHandler stub) {
        this.stub = stub;
    }

    /** Starts the clock (the plan's start). */
    void start() {
        byKind.clear();
        start = System.nanoTime();
    }

    @Override
    public void handle(HttpExchange exchange) throws IOException {
        long now = System.nanoTime();
        byKind.compute(kind(exchange), (k, v) -> {
            if (v == null) {
                return new long[] {now, now, 1};
            }
            v[0] = Math.min(v[0], now);
            v[1] = Math.max(v[1], now);
            v[2]++;
            return v;
        });
        stub.handle(exchange);
    }

    /**
     * @param marks more instants to show, e.g. the plan's end
     * @return each kind's count and its first and last arrival in seconds from the start, in order of first arrival
     */
    String summary(Map<String, Long> marks) {
        Map<Long, String> ordered = new TreeMap<>();
        byKind.forEach((kind, v) -> ordered.put(
                v[0],
                String.format(
                        Locale.ROOT, "%s x%d %.2f-%.2f s", kind, v[2], (v[0] - start) / 1e9, (v[1] - start) / 1e9)));
        marks.forEach(
                (mark, at) -> ordered.put(at, String.format(Locale.ROOT, "[%s %.2f s]", mark, (at - start) / 1e9)));
        return "Timeline at the stub (after the proxy's latency): " + String.join(", ", ordered.values());
    }

    private static String kind(HttpExchange exchange) {
        String path = exchange.getRequestURI().getRawPath();
        String method = exchange.getRequestMethod();
        if (method.equals("POST") && path.equals("/")) {
            return "STS/query";
        }
        if (path.startsWith("/2015-03-31/functions/") && path.endsWith("/aliases")) {
            return "ListAliases";
        }
        if (path.startsWith("/2015-03-31/functions/") && path.endsWith("/configuration")) {
            return method.equals("PUT") ? "UpdateFunctionConfiguration" : "GetFunctionConfiguration";
        }
        if (path.equals("/2015-03-31/functions/") || path.equals("/2015-03-31/functions")) {
            return "ListFunctions";
        }
        if (path.startsWith("/2015-03-31/functions/")) {
            return "GetFunction";
        }
        if (path.startsWith("/2018-10-31/layers/")) {
            return "GetLayerVersion";
        }
        return method + " " + path.replaceAll("/[^/]*$", "/*");
    }
}
