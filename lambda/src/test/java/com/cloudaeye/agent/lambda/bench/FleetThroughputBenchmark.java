package com.cloudaeye.agent.lambda.bench;

import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.FleetInstaller;
import com.cloudaeye.agent.FleetPlan;
import com.cloudaeye.agent.FleetResult;
import com.cloudaeye.agent.ResourceResult;
import com.cloudaeye.agent.Secret;
import com.cloudaeye.agent.lambda.LambdaTarget;
import com.cloudaeye.agent.testing.Moto;
import com.cloudaeye.agent.testing.ThrottlingProxy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.Architecture;
import software.amazon.awssdk.services.lambda.model.Runtime;

/**
 * The fleet benchmark (issue 17): a {@link FleetInstaller} over ACCOUNTS x REGIONS account-regions of FUNCTIONS
 * functions each, behind a {@link ThrottlingProxy} that gives every account-region its own 15 requests/s Lambda
 * control-plane bucket (and 100/s for {@code GetFunction}), with a fixed latency and updates that stay {@code
 * InProgress} for 700 ms. Prints one Markdown row: wall time (plan and apply) against the slowest single
 * account-region's floor (its shared-bucket calls, throttled ones left out, divided by 15), throttled calls, peak heap.
 * Not a test: it asserts nothing. Run it with {@code scripts/benchmark.sh fleet} (docs/BENCHMARKS.md).
 *
 * <p>Arguments: {@code moto-capacity SECONDS THREADS...}: how many Lambda requests per second one moto process answers
 * with that many concurrent callers (a mix of {@code GetFunction}, {@code ListAliases} and {@code
 * UpdateFunctionConfiguration}, straight to moto); {@code fleet ACCOUNTS REGIONS FUNCTIONS LATENCY_MS}: the fleet
 * against {@link LambdaStub}, a fast in-process stand-in for the calls the install makes, behind the proxy; {@code
 * proxy-capacity SECONDS THREADS...}: how many requests per second the proxy in front of the stub, and the stub
 * alone, answer here ({@link ProxyCapacity}).
 */
public final class FleetThroughputBenchmark {
    private static final double RATE = 15;
    private static final List<Region> REGIONS =
            List.of(Region.US_EAST_1, Region.EU_WEST_1, Region.AP_SOUTHEAST_2, Region.US_WEST_2, Region.EU_CENTRAL_1);

    private FleetThroughputBenchmark() {}

    /**
     * @param args see the class comment
     * @throws Exception on a setup failure
     */
    public static void main(String[] args) throws Exception {
        // The JDK's HTTP server (the proxy's and the stub's) writes an answer's headers and body in two writes; with
        // Nagle's algorithm on, the second waits for the client's delayed ACK, about 40 ms on Linux: two servers on
        // a request's way added about 80 ms to the 200 ms the proxy plays (measured: 50 ms against 1-3 ms per call
        // from one SDK client to the stub). AWS's latency is what the proxy plays, so the test bed turns Nagle off
        // (before either server's class is loaded), unless the command line says otherwise.
        if (System.getProperty("sun.net.httpserver.nodelay") == null) {
            System.setProperty("sun.net.httpserver.nodelay", "true");
        }
        if (args[0].equals("proxy-capacity")) {
            int seconds = Integer.parseInt(args[1]);
            for (int i = 2; i < args.length; i++) {
                for (ProxyCapacity.Path path : ProxyCapacity.Path.values()) {
                    ProxyCapacity.measure(seconds, Integer.parseInt(args[i]), path);
                }
            }
        } else if (args[0].equals("moto-capacity")) {
            int seconds = Integer.parseInt(args[1]);
            for (int i = 2; i < args.length; i++) {
                motoCapacity(seconds, Integer.parseInt(args[i]));
            }
        } else {
            fleet(
                    Integer.parseInt(args[1]),
                    Integer.parseInt(args[2]),
                    Integer.parseInt(args[3]),
                    Long.parseLong(args[4]));
        }
        System.exit(0);
    }

    private static void fleet(int accounts, int regions, int functions, long latencyMs) throws Exception {
        // -Dfleet.warmUp=true runs the same fleet once first, unmeasured, on its own stub and proxy: the measured run
        // then shows the fleet's scheduling and pacing without the JVM's class loading and compiling of the
        // installer's code paths, which a cold JVM pays in the first seconds (both are reported, in separate runs).
        if (Boolean.getBoolean("fleet.warmUp")) {
            fleet(accounts, regions, functions, latencyMs, false);
        }
        fleet(accounts, regions, functions, latencyMs, true);
    }

    private static void fleet(int accounts, int regions, int functions, long latencyMs, boolean report)
            throws Exception {
        List<String> accountIds = new ArrayList<>();
        for (int i = 1; i <= accounts; i++) {
            accountIds.add(String.format("1000000%05d", i));
        }
        // -Dfleet.firstRegion=1 starts at eu-west-1: without us-east-1, whose plan reads CloudFront (Lambda@Edge).
        int first = Integer.getInteger("fleet.firstRegion", 0);
        List<Region> regionList = REGIONS.subList(first, first + regions);
        LambdaStub stub = new LambdaStub();
        StubTimeline timeline = new StubTimeline(stub);
        try (stub;
                ThrottlingProxy proxy = ThrottlingProxy.builder()
                        .target(timeline)
                        .bucketsPerAccountRegion()
                        .latency(Duration.ofMillis(latencyMs))
                        .propagationDelay(Duration.ofMillis(700))
                        .start()) {
            accountIds.forEach(a -> regionList.forEach(r -> stub.createFunctions(a, r.id(), functions)));
            try (FleetInstaller fleet = FleetInstaller.builder()
                    .accounts(accountIds.toArray(String[]::new))
                    .regions(regionList.toArray(Region[]::new))
                    .roleName("CloudAEyeInstaller")
                    .sessionName("fleet-benchmark")
                    .credentialsProvider(
                            StaticCredentialsProvider.create(AwsBasicCredentials.create("AKIDCALLER", "caller")))
                    .endpointOverride(proxy.endpoint())
                    .agent(a ->
                            a.logsEndpoint("https://logs.example.cloudaeye.com").apiToken(Secret.of("bench-token")))
                    .target((account, region) -> LambdaTarget.builder()
                            .functions("*")
                            .layer(Architecture.X86_64, layer(account, region))
                            .build())
                    .withoutJournal()
                    // -Dfleet.maxParallel=N runs at most N account-regions at once (default: all of them).
                    .maxParallel(Integer.getInteger("fleet.maxParallel", accounts * regions))
                    // -Dfleet.maxCallsInFlight=N bounds the fleet's calls in flight (default 512: 8 per account-region
                    // at 20 x 3; 1920 gives each its installer's 32, as before the bound).
                    .maxCallsInFlight(Integer.getInteger("fleet.maxCallsInFlight", 512))
                    .build()) {
                LambdaThroughputBenchmark.resetPeakHeap();
                LiveHeap.start();
                Map<String, Double> threadsBefore = ProxyCapacity.cpuByOwner();
                Duration cpuBefore = cpu();
                timeline.start();
                long start = System.nanoTime();
                FleetPlan plan = fleet.plan();
                long planEnd = System.nanoTime();
                PhaseCounts planCounts = PhaseCounts.of(proxy);
                double planned = (planEnd - start) / 1e9;
                FleetResult result = fleet.apply(plan);
                long applyEnd = System.nanoTime();
                double wall = (applyEnd - start) / 1e9;
                double cpu = cpu().minus(cpuBefore).toMillis() / 1e3;
                if (!report) {
                    System.out.printf(
                            Locale.ROOT,
                            "Warm-up run (not measured): %.1f s, %d failures.%n",
                            (applyEnd - start) / 1e9,
                            plan.failures().size() + result.failures().size());
                    return;
                }
                report(proxy, stub, plan, result, accountIds, regionList, functions, latencyMs, wall, cpu);
                double phases = planCounts.slowestPlanThenApply(PhaseCounts.of(proxy));
                System.out.printf(
                        Locale.ROOT,
                        "Floor of plan then apply, the slowest account-region's, each phase at its slowest bucket:"
                                + " %.1f s (wall/that floor %.3f).%n",
                        phases,
                        wall / phases);
                System.out.printf(Locale.ROOT, "The plan took %.1f s of the %.1f s.%n", planned, wall);
                System.out.println(timeline.summary(Map.of("plan returned", planEnd, "apply returned", applyEnd)));
                System.out.println(ProxyCapacity.cpuByThreads());
                System.out.println(cpuPerRequest(threadsBefore, cpu, proxy.totalRequests()));
                java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
                System.out.printf(
                        Locale.ROOT,
                        "Threads: at most %d alive at once, %d when the apply returned (the test bed's included).%n",
                        threads.getPeakThreadCount(),
                        threads.getThreadCount());
                System.out.println("Heap: " + LiveHeap.summary() + "; the table's peak heap sums each pool's peak,"
                        + " garbage included.");
            }
        }
    }

    private static void report(
            ThrottlingProxy proxy,
            LambdaStub stub,
            FleetPlan plan,
            FleetResult result,
            List<String> accounts,
            List<Region> regions,
            int functions,
            long latencyMs,
            double wall,
            double cpu) {
        Map<String, Long> shared = proxy.requestsPerAccountRegion(ThrottlingProxy.CONTROL_PLANE);
        Map<String, Long> throttled = proxy.throttledPerAccountRegion(ThrottlingProxy.CONTROL_PLANE);
        long most = 0;
        long least = Long.MAX_VALUE;
        for (Map.Entry<String, Long> e : shared.entrySet()) {
            long needed = e.getValue() - throttled.getOrDefault(e.getKey(), 0L);
            most = Math.max(most, needed);
            least = Math.min(least, needed);
        }
        double floor = most / RATE;
        long failed = 0;
        double slowestApply = 0;
        for (Map<String, ApplyResult> byRegion : result.results().values()) {
            for (ApplyResult r : byRegion.values()) {
                failed += r.withOutcome(ResourceResult.Outcome.FAILED).size();
                slowestApply = Math.max(slowestApply, r.duration().toMillis() / 1e3);
            }
        }
        int correct = 0;
        for (String a : accounts) {
            for (Region r : regions) {
                correct += stub.installed(a, r.id(), layer(a, r));
            }
        }
        int total = accounts.size() * regions.size() * functions;
        System.out.printf(
                Locale.ROOT,
                "| stub behind the proxy | %d x %d x %d | %d ms | %.1f s | %.1f s | **%.3f** | %d-%d | %d (%.2f%%) |"
                        + " %d | %s | %d MB | %d of %d | %.1f s | %d | %.0f s (%.2f cores) |%n",
                accounts.size(),
                regions.size(),
                functions,
                latencyMs,
                wall,
                floor,
                wall / floor,
                least,
                most,
                proxy.throttled(),
                100.0 * proxy.throttled() / proxy.totalRequests(),
                failed,
                plan.failures().size() + result.failures().size() == 0
                        ? "0"
                        : plan.failures() + " " + result.failures(),
                LambdaThroughputBenchmark.peakHeapMb(),
                correct,
                total,
                slowestApply,
                proxy.peakConcurrentRequests(),
                cpu,
                cpu / wall);
        StringBuilder perFunction = new StringBuilder("Requests per function, by operation (the proxy's count):");
        proxy.requests()
                .forEach((operation, n) ->
                        perFunction.append(String.format(Locale.ROOT, " %s %.2f", operation, n / (double) total)));
        System.out.println(perFunction);
    }

    /**
     * Each account-region's calls in the shared bucket and in {@code GetFunction}'s, throttled ones left out, at one
     * moment: taken after the plan and after the apply, they give each phase's floor.
     */
    private record PhaseCounts(Map<String, Long> shared, Map<String, Long> get) {
        static PhaseCounts of(ThrottlingProxy proxy) {
            return new PhaseCounts(
                    needed(proxy, ThrottlingProxy.CONTROL_PLANE), needed(proxy, ThrottlingProxy.GET_FUNCTION));
        }

        private static Map<String, Long> needed(ThrottlingProxy proxy, String group) {
            Map<String, Long> needed = new java.util.HashMap<>(proxy.requestsPerAccountRegion(group));
            proxy.throttledPerAccountRegion(group).forEach((k, v) -> needed.merge(k, -v, Long::sum));
            return needed;
        }

        /**
         * @param end the counts after the apply (this: after the plan)
         * @return the slowest account-region's floor of its plan then its apply, each at its slowest bucket (the
         *     shared one at 15/s, {@code GetFunction}'s at 100/s): the plan is complete before the apply starts
         */
        double slowestPlanThenApply(PhaseCounts end) {
            double slowest = 0;
            for (String accountRegion : end.shared().keySet()) {
                long planShared = shared.getOrDefault(accountRegion, 0L);
                long planGet = get.getOrDefault(accountRegion, 0L);
                double plan = Math.max(planShared / RATE, planGet / 100.0);
                double apply = Math.max(
                        (end.shared().getOrDefault(accountRegion, 0L) - planShared) / RATE,
                        (end.get().getOrDefault(accountRegion, 0L) - planGet) / 100.0);
                slowest = Math.max(slowest, plan + apply);
            }
            return slowest;
        }
    }

    /**
     * @param before the live threads' CPU by owner before the plan
     * @param cpu the JVM's CPU seconds over the plan and the apply
     * @param requests the requests the proxy received
     * @return the CPU per request of the library (the installer's threads: SDK, scheduler, planner, applier), of the
     *     test bed (the proxy's, the stub's and the servers' threads) and of the rest (the JVM's GC and JIT threads,
     *     and threads that ended, which are not told apart)
     */
    private static String cpuPerRequest(Map<String, Double> before, double cpu, long requests) {
        Map<String, Double> after = ProxyCapacity.cpuByOwner();
        double library = after.getOrDefault("installer", 0.0) - before.getOrDefault("installer", 0.0);
        double testBed = 0;
        for (String owner : List.of("proxy", "stub", "servers")) {
            testBed += after.getOrDefault(owner, 0.0) - before.getOrDefault(owner, 0.0);
        }
        double rest = cpu - library - testBed;
        return String.format(
                Locale.ROOT,
                "CPU per request over the plan and apply (%d requests): library %.2f ms (%.1f s), test bed %.2f ms"
                        + " (%.1f s), JVM GC/JIT and ended threads %.2f ms (%.1f s), all %.2f ms (%.1f s)",
                requests,
                1e3 * library / requests,
                library,
                1e3 * testBed / requests,
                testBed,
                1e3 * rest / requests,
                rest,
                1e3 * cpu / requests,
                cpu);
    }

    /** @return the CPU time this JVM used so far: the installer's, the proxy's and the stub's together */
    private static Duration cpu() {
        return ProcessHandle.current().info().totalCpuDuration().orElse(Duration.ZERO);
    }

    private static String layer(String account, Region region) {
        return "arn:aws:lambda:" + region.id() + ":" + account + ":layer:cloudaeye-x86:1";
    }

    /**
     * Straight to moto: THREADS callers, each on its own function, for SECONDS; prints requests per second.
     *
     * @return the requests per second
     */
    static double motoCapacity(int seconds, int threads) {
        Moto.reset();
        String role;
        try (IamClient iam = IamClient.builder()
                .endpointOverride(Moto.endpoint())
                .region(Region.AWS_GLOBAL)
                .credentialsProvider(Moto.credentials())
                .build()) {
            role = iam.createRole(r -> r.roleName("bench-role")
                            .assumeRolePolicyDocument("{\"Version\":\"2012-10-17\",\"Statement\":[]}"))
                    .role()
                    .arn();
        }
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        AtomicLong done = new AtomicLong();
        AtomicLong errors = new AtomicLong();
        try (LambdaClient lambda = LambdaClient.builder()
                .endpointOverride(Moto.endpoint())
                .region(Moto.REGION)
                .credentialsProvider(Moto.credentials())
                .httpClient(UrlConnectionHttpClient.create())
                .build()) {
            for (int i = 0; i < threads; i++) {
                String name = "cap-" + i;
                lambda.createFunction(r -> r.functionName(name)
                        .runtime(Runtime.PYTHON3_12)
                        .role(role)
                        .handler("index.handler")
                        .code(c -> c.zipFile(LambdaThroughputBenchmark.zip())));
            }
            long start = System.nanoTime();
            long end = start + Duration.ofSeconds(seconds).toNanos();
            List<Future<?>> running = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                String name = "cap-" + i;
                running.add(pool.submit(() -> {
                    for (int k = 0; System.nanoTime() < end; k++) {
                        try {
                            switch (k % 4) {
                                case 0, 2 -> lambda.getFunction(r -> r.functionName(name));
                                case 1 -> lambda.listAliases(r -> r.functionName(name));
                                default ->
                                    lambda.updateFunctionConfiguration(
                                            r -> r.functionName(name).description("k" + System.nanoTime()));
                            }
                            done.incrementAndGet();
                        } catch (RuntimeException e) {
                            errors.incrementAndGet();
                        }
                    }
                }));
            }
            for (Future<?> f : running) {
                try {
                    f.get();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                } catch (java.util.concurrent.ExecutionException e) {
                    throw new IllegalStateException(e.getCause());
                }
            }
            double took = (System.nanoTime() - start) / 1e9;
            System.out.printf(
                    Locale.ROOT,
                    "| moto alone | %d callers | %d s | %d answered | %.0f requests/s | %d errors |%n",
                    threads,
                    seconds,
                    done.get(),
                    done.get() / took,
                    errors.get());
            return done.get() / took;
        } finally {
            pool.shutdownNow();
        }
    }
}
