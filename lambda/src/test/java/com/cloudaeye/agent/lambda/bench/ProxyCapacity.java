package com.cloudaeye.agent.lambda.bench;

import com.cloudaeye.agent.testing.ThrottlingProxy;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the fleet benchmark's test bed costs by itself: how many requests per second the {@link ThrottlingProxy} (its
 * buckets per account-region, unlimited, no latency) in front of {@link LambdaStub} answers on this machine (forwarding
 * over HTTP, or serving the stub in process), and the stub alone, with THREADS callers sending {@code GetFunction} of 60 account-regions' functions; and which threads of
 * a benchmark JVM used its CPU.
 */
final class ProxyCapacity {
    private ProxyCapacity() {}

    /** Which way the callers' requests reach the stub. */
    enum Path {
        /** Through the proxy, which forwards over HTTP to the stub's own port (two hops, the fleet's until session 10). */
        PROXY_OVER_HTTP("proxy in front of the stub, over HTTP"),
        /** Through the proxy, which calls the stub in its own thread (one hop: the fleet benchmark's test bed). */
        PROXY_IN_PROCESS("proxy serving the stub in process"),
        /** Straight to the stub's port. */
        STUB_ALONE("stub alone");

        final String label;

        Path(String label) {
            this.label = label;
        }
    }

    static void measure(int seconds, int threads, Path path) throws Exception {
        try (LambdaStub stub = new LambdaStub();
                ThrottlingProxy proxy = (path == Path.PROXY_IN_PROCESS
                                ? ThrottlingProxy.builder().target(stub)
                                : ThrottlingProxy.builder().target(stub.endpoint()))
                        .bucketsPerAccountRegion()
                        .unlimited()
                        .start()) {
            List<String> scopes = new ArrayList<>();
            for (int a = 1; a <= 20; a++) {
                for (String region : List.of("us-east-1", "eu-west-1", "ap-southeast-2")) {
                    String account = String.format("1000000%05d", a);
                    stub.createFunctions(account, region, 100);
                    scopes.add(account + "/" + region);
                }
            }
            URI endpoint = path == Path.STUB_ALONE ? stub.endpoint() : proxy.endpoint();
            HttpClient http =
                    HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            AtomicLong done = new AtomicLong();
            AtomicLong errors = new AtomicLong();
            Duration cpuBefore = cpu();
            long start = System.nanoTime();
            long end = start + Duration.ofSeconds(seconds).toNanos();
            List<Future<?>> running = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int first = t;
                running.add(pool.submit(() -> {
                    for (int k = first; System.nanoTime() < end; k += threads) {
                        String[] scope = scopes.get(k % scopes.size()).split("/");
                        HttpRequest request = HttpRequest.newBuilder(
                                        endpoint.resolve(String.format("/2015-03-31/functions/fn-%04d", k % 100)))
                                .GET()
                                .header(
                                        "Authorization",
                                        "AWS4-HMAC-SHA256 Credential=ASIA" + scope[0] + "/20261201/" + scope[1]
                                                + "/lambda/aws4_request, SignedHeaders=host, Signature=00")
                                .build();
                        try {
                            int status = http.send(request, HttpResponse.BodyHandlers.ofByteArray())
                                    .statusCode();
                            (status == 200 ? done : errors).incrementAndGet();
                        } catch (java.io.IOException e) {
                            errors.incrementAndGet();
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            return;
                        }
                    }
                }));
            }
            for (Future<?> f : running) {
                f.get();
            }
            double took = (System.nanoTime() - start) / 1e9;
            double cpu = cpu().minus(cpuBefore).toMillis() / 1e3;
            pool.shutdownNow();
            System.out.printf(
                    Locale.ROOT,
                    "| %s | %d callers | %d s | %d answered | %.0f requests/s | %d errors | %.0f s (%.2f cores) |"
                            + " %.2f ms CPU per request |%n",
                    path.label,
                    threads,
                    seconds,
                    done.get(),
                    done.get() / took,
                    errors.get(),
                    cpu,
                    cpu / took,
                    1e3 * cpu / Math.max(1, done.get()));
        }
    }

    /**
     * @return the CPU time of this JVM's live threads by owner: the proxy's (its handlers and its HTTP client), the
     *     stub's, the two servers' dispatchers, and the rest (the installer: SDK, scheduler); threads that ended are
     *     not counted, nor the JVM's own (GC, JIT), so the shares are lower bounds
     */
    static String cpuByThreads() {
        StringBuilder out = new StringBuilder("CPU of live threads (lower bounds):");
        cpuByOwner().forEach((owner, s) -> out.append(String.format(Locale.ROOT, " %s %.1f s", owner, s)));
        return out.toString();
    }

    /**
     * @return the CPU seconds of this JVM's live threads by owner ({@code installer}, {@code proxy}, {@code stub},
     *     {@code servers}), as {@link #cpuByThreads()} names them
     */
    static Map<String, Double> cpuByOwner() {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        Map<String, Double> seconds = new TreeMap<>();
        for (Map.Entry<Thread, StackTraceElement[]> e :
                Thread.getAllStackTraces().entrySet()) {
            long nanos = threads.getThreadCpuTime(e.getKey().getId());
            if (nanos <= 0) {
                continue;
            }
            String name = e.getKey().getName();
            String owner = name.startsWith("throttling-proxy") || name.startsWith("HttpClient")
                    ? "proxy"
                    : name.startsWith("lambda-stub")
                            ? "stub"
                            : name.startsWith("HTTP-Dispatcher") ? "servers" : "installer";
            seconds.merge(owner, nanos / 1e9, Double::sum);
        }
        return seconds;
    }

    private static Duration cpu() {
        return ProcessHandle.current().info().totalCpuDuration().orElse(Duration.ZERO);
    }
}
