package com.cloudaeye.agent.lambda.bench;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.Pacing;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.Secret;
import com.cloudaeye.agent.lambda.LambdaTarget;
import com.cloudaeye.agent.testing.Moto;
import com.cloudaeye.agent.testing.ThrottlingProxy;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.retry.RetryMode;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.Architecture;
import software.amazon.awssdk.services.lambda.model.FunctionConfiguration;
import software.amazon.awssdk.services.lambda.model.LastUpdateStatus;
import software.amazon.awssdk.services.lambda.model.Runtime;

/**
 * The Lambda throughput benchmark (issue 3): the installer against moto behind a {@link ThrottlingProxy} that acts
 * like the Lambda control plane (token buckets answering 429, latency, updates that stay InProgress for a while).
 * Prints one Markdown row per scenario: wall time, the rate-limit floor (calls in the shared 15/s bucket divided by
 * 15), their ratio, calls per function, throttled responses, peak heap; and the same scenario with a naive
 * sequential loop. Run it with {@code scripts/benchmark.sh} (see docs/BENCHMARKS.md). Not a test: it asserts nothing.
 *
 * <p>Arguments: {@code install N LATENCY_MS PUBLISH [baseline|adaptive|documented|share=0.6]} for one install
 * scenario behind the proxy (the installer's default pacing unless named), {@code emulator N [ROUNDS]} for moto
 * without proxy, latency or throttling (the installer and the sequential loop on fresh functions, one after the other
 * in each of ROUNDS rounds, default 3, the first in alternate order so that a load that drifts during the run favours
 * neither; a check of every function; a row per round and the median of the rounds' ratios), or {@code plan N} for
 * the memory scenario (run it under {@code -Xmx256m}).
 */
public final class LambdaThroughputBenchmark {
    private static final double RATE = 15;
    private static final Duration PROPAGATION = Duration.ofMillis(700);

    private LambdaThroughputBenchmark() {}

    /**
     * @param args see the class comment
     * @throws Exception on a setup failure
     */
    public static void main(String[] args) throws Exception {
        String mode = args[0];
        int n = Integer.parseInt(args[1]);
        if (mode.equals("emulator")) {
            emulator(n, args.length > 2 ? Integer.parseInt(args[2]) : 3);
            System.exit(0);
        }
        Moto.reset();
        String layer = createFunctions(n);
        if (mode.equals("plan")) {
            plan(n, layer);
        } else {
            Duration latency = Duration.ofMillis(Long.parseLong(args[2]));
            boolean publish = Boolean.parseBoolean(args[3]);
            String variant = args.length > 4 ? args[4] : "default";
            if (variant.equals("baseline")) {
                baseline(n, layer, latency, publish);
            } else {
                install(n, layer, latency, publish, variant);
            }
        }
        System.exit(0);
    }

    private static void install(int n, String layer, Duration latency, boolean publish, String variant) {
        Pacing pacing = pacing(variant);
        try (ThrottlingProxy proxy = proxy(latency);
                AgentInstaller installer = installer(proxy.endpoint(), layer, publish, pacing)) {
            resetPeakHeap();
            SendTimes.clear();
            long start = System.nanoTime();
            Plan plan = installer.plan();
            Map<String, Long> planCalls = Map.copyOf(installer.calls());
            long planThrottledShared = proxy.throttled(ThrottlingProxy.CONTROL_PLANE);
            long planThrottledGet = proxy.throttled(ThrottlingProxy.GET_FUNCTION);
            ApplyResult result = installer.apply(plan);
            double wall = (System.nanoTime() - start) / 1e9;
            if (Boolean.getBoolean("bench.timeline")) {
                System.err.println("Shared calls started per second: " + SendTimes.startsPerSecond(start));
            }
            Map<String, Long> calls = installer.calls();
            long shared = calls.entrySet().stream()
                    .filter(e -> !e.getKey().equals("lambda:GetFunction"))
                    .mapToLong(Map.Entry::getValue)
                    .sum();
            long all = calls.values().stream().mapToLong(Long::longValue).sum();
            // The calls the work needs; a throttled call's retry is the pacing's cost, not the floor's.
            double floor = (shared - proxy.throttled(ThrottlingProxy.CONTROL_PLANE)) / (RATE * pacing.share());
            // The plan is done before the apply starts, and each has its slowest bucket: once the plan lists no
            // aliases, its tag reads (GetFunction, 100/s) bound it while the shared bucket has nothing to do.
            Map<String, Long> applyCalls = new java.util.HashMap<>(calls);
            planCalls.forEach((k, v) -> applyCalls.merge(k, -v, Long::sum));
            double phases = phaseFloor(planCalls, planThrottledShared, planThrottledGet, pacing.share())
                    + phaseFloor(
                            applyCalls,
                            proxy.throttled(ThrottlingProxy.CONTROL_PLANE) - planThrottledShared,
                            proxy.throttled(ThrottlingProxy.GET_FUNCTION) - planThrottledGet,
                            pacing.share());
            System.err.printf(
                    Locale.ROOT,
                    "Floor of plan then apply, each at its slowest bucket: %.1f s (wall/that floor %.3f); the plan's"
                            + " calls: %s%n",
                    phases,
                    wall / phases,
                    new java.util.TreeMap<>(planCalls));
            System.out.printf(
                    Locale.ROOT,
                    "| installer, %s | %d | %d ms | %s | %.1f s | %.1f s | %.3f | %.2f (%d shared + %d GetFunction) | %d"
                            + " (%.2f%%: %d shared, %d GetFunction) | %d | %d MB | %d (%s) | %s |%n",
                    variant,
                    n,
                    latency.toMillis(),
                    publish ? "yes" : "no",
                    wall,
                    floor,
                    wall / floor,
                    shared / (double) n,
                    shared,
                    all - shared,
                    proxy.throttled(),
                    100.0 * proxy.throttled() / proxy.totalRequests(),
                    proxy.throttled(ThrottlingProxy.CONTROL_PLANE),
                    proxy.throttled(ThrottlingProxy.GET_FUNCTION),
                    result.withOutcome(com.cloudaeye.agent.ResourceResult.Outcome.FAILED)
                            .size(),
                    peakHeapMb(),
                    proxy.maxRequestsInAnyWindow(ThrottlingProxy.CONTROL_PLANE, Duration.ofSeconds(1)),
                    SendTimes.summary(proxy),
                    perFunction(calls, n));
        }
    }

    /**
     * @return the time a phase's calls need at least: its shared calls at 15/s or its {@code GetFunction} calls at
     *     100/s (each at the share), whichever is slower; throttled retries left out
     */
    private static double phaseFloor(Map<String, Long> calls, long throttledShared, long throttledGet, double share) {
        long get = calls.getOrDefault("lambda:GetFunction", 0L);
        long shared = calls.values().stream().mapToLong(Long::longValue).sum() - get;
        return Math.max((shared - throttledShared) / (RATE * share), (get - throttledGet) / (100 * share));
    }

    /** @return each kind of call per function, e.g. {@code UpdateFunctionConfiguration 1.00, GetFunction 1.02} */
    private static String perFunction(Map<String, Long> calls, int n) {
        StringBuilder s = new StringBuilder();
        new java.util.TreeMap<>(calls)
                .forEach((action, count) -> s.append(s.length() == 0 ? "" : ", ")
                        .append(action.substring(action.indexOf(':') + 1))
                        .append(String.format(Locale.ROOT, " %.2f", count / (double) n)));
        return s.toString();
    }

    private static Pacing pacing(String variant) {
        if (variant.equals("default")) {
            return Pacing.adaptive(); // the builder's default; named so that the floor knows the share
        }
        if (variant.equals("adaptive")) {
            return Pacing.adaptive();
        }
        if (variant.equals("documented")) {
            return Pacing.documentedQuotas();
        }
        if (variant.startsWith("share=")) {
            return Pacing.share(Double.parseDouble(variant.substring("share=".length())));
        }
        throw new IllegalArgumentException("Unknown pacing " + variant + ": adaptive, documented or share=0.6");
    }

    /**
     * moto without the proxy (no latency, no throttling): the installer with its default pacing, then, on fresh
     * functions, the sequential loop; each function checked afterwards. Both first run once on {@link #WARM_UP}
     * functions, unmeasured, so that neither is timed while the JVM loads and compiles the SDK's classes for it
     * (whichever ran second would otherwise profit from the first).
     */
    private static void emulator(int n, int rounds) {
        emulatorInstaller(WARM_UP);
        emulatorLoop(WARM_UP);
        double[] ratios = new double[rounds];
        Measured[] last = new Measured[2];
        for (int round = 0; round < rounds; round++) {
            boolean oursFirst = round % 2 == 0;
            Measured loop = oursFirst ? null : emulatorLoop(n);
            Measured ours = emulatorInstaller(n);
            if (loop == null) {
                loop = emulatorLoop(n);
            }
            ratios[round] = ours.seconds() / loop.seconds();
            last[0] = ours;
            last[1] = loop;
            System.out.printf(
                    Locale.ROOT,
                    "| emulator, round %d (%s first) | %d | %.1f s | %d of %d | %s | %.1f s | %d of %d | **%.2f** |%n",
                    round + 1,
                    oursFirst ? "installer" : "loop",
                    n,
                    ours.seconds(),
                    ours.correct(),
                    n,
                    perFunction(ours.calls(), n),
                    loop.seconds(),
                    loop.correct(),
                    n,
                    ratios[round]);
        }
        java.util.Arrays.sort(ratios);
        System.out.printf(Locale.ROOT, "Median of the %d rounds' installer/loop: %.2f%n", rounds, ratios[rounds / 2]);
        // The best ratio this moto allows with these calls: the loop at what moto answers one caller, the installer at
        // what it answers the installer's 32 workers (moto answers one request at a time, so more callers gain little).
        double one = FleetThroughputBenchmark.motoCapacity(5, 1);
        double many = FleetThroughputBenchmark.motoCapacity(5, 32);
        System.out.printf(
                Locale.ROOT,
                "The best installer/loop this moto allows: the installer's %d requests at %.0f/s (32 callers) against"
                        + " the loop's %d at %.0f/s (1 caller): %.2f%n",
                last[0].requests(),
                many,
                last[1].requests(),
                one,
                (last[0].requests() / many) / (last[1].requests() / one));
    }

    /** Functions each side of the emulator scenario runs on first, unmeasured. */
    private static final int WARM_UP = 50;

    /** One side of the emulator scenario: its wall time, its correct functions, its calls by action, all its requests. */
    private record Measured(double seconds, int correct, Map<String, Long> calls, long requests) {}

    private static Measured emulatorInstaller(int n) {
        Moto.reset();
        String layer = createFunctionsUnchecked(n);
        try (AgentInstaller installer = AgentInstaller.builder()
                .region(Moto.REGION)
                .endpointOverride(Moto.endpoint())
                .credentialsProvider(Moto.credentials())
                .agent(a -> a.logsEndpoint("https://logs.example.cloudaeye.com").apiToken(Secret.of("bench-token")))
                .target(LambdaTarget.builder()
                        .functions("*")
                        .layer(Architecture.X86_64, layer)
                        .build())
                .withoutJournal()
                .build()) {
            long start = System.nanoTime();
            ApplyResult result = installer.apply(installer.plan());
            double seconds = (System.nanoTime() - start) / 1e9;
            if (result.results().size() != n) {
                throw new IllegalStateException("planned " + result.results().size() + " of " + n);
            }
            Map<String, Long> calls = installer.calls();
            long requests = calls.values().stream().mapToLong(Long::longValue).sum();
            return new Measured(seconds, correct(Moto.endpoint(), layer), calls, requests);
        }
    }

    private static Measured emulatorLoop(int n) {
        Moto.reset();
        String layer = createFunctionsUnchecked(n);
        AtomicLong requests = new AtomicLong();
        try (LambdaClient lambda = client(Moto.endpoint(), new ExecutionInterceptor() {
            @Override
            public void beforeTransmission(Context.BeforeTransmission context, ExecutionAttributes attributes) {
                requests.incrementAndGet();
            }
        })) {
            long start = System.nanoTime();
            sequentialLoop(lambda, layer, false);
            double seconds = (System.nanoTime() - start) / 1e9;
            return new Measured(seconds, correct(Moto.endpoint(), layer), Map.of(), requests.get());
        }
    }

    /** @return how many functions have the layer and both variables, and kept their own variable */
    private static int correct(URI endpoint, String layer) {
        try (LambdaClient lambda = client(endpoint)) {
            int ok = 0;
            for (FunctionConfiguration f : lambda.listFunctionsPaginator().functions()) {
                Map<String, String> env =
                        f.environment() == null ? Map.of() : f.environment().variables();
                boolean hasLayer = f.layers().stream().anyMatch(l -> l.arn().equals(layer));
                if (hasLayer
                        && "https://logs.example.cloudaeye.com".equals(env.get(LambdaTarget.ENDPOINT_VARIABLE))
                        && "bench-token".equals(env.get(LambdaTarget.TOKEN_VARIABLE))
                        && "bench".equals(env.get("STAGE"))) {
                    ok++;
                }
            }
            return ok;
        }
    }

    private static LambdaClient client(URI endpoint, ExecutionInterceptor... interceptors) {
        return LambdaClient.builder()
                .endpointOverride(endpoint)
                .region(Moto.REGION)
                .credentialsProvider(Moto.credentials())
                .overrideConfiguration(
                        o -> o.retryStrategy(RetryMode.STANDARD).executionInterceptors(List.of(interceptors)))
                .build();
    }

    private static String createFunctionsUnchecked(int n) {
        try {
            return createFunctions(n);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** What a plain script does: one function at a time, the SDK's default retries, no scheduler. */
    private static void baseline(int n, String layer, Duration latency, boolean publish) {
        try (ThrottlingProxy proxy = proxy(latency);
                LambdaClient lambda = client(proxy.endpoint())) {
            long start = System.nanoTime();
            int failed = sequentialLoop(lambda, layer, publish);
            double wall = (System.nanoTime() - start) / 1e9;
            long shared = proxy.totalRequests() - proxy.requests("GetFunction");
            double floor = (1 + n * (publish ? 2.0 : 1.0)) / RATE;
            System.out.printf(
                    Locale.ROOT,
                    "| naive loop | %d | %d ms | %s | %.1f s | %.1f s | %.3f | %.2f | %d (%.2f%%) | %d | - | %d | - |%n",
                    n,
                    latency.toMillis(),
                    publish ? "yes" : "no",
                    wall,
                    floor,
                    wall / floor,
                    shared / (double) n,
                    proxy.throttled(),
                    100.0 * proxy.throttled() / proxy.totalRequests(),
                    failed,
                    proxy.maxRequestsInAnyWindow(ThrottlingProxy.CONTROL_PLANE, Duration.ofSeconds(1)));
        }
    }

    /**
     * One function at a time: list, then per function update, poll until not InProgress, publish when asked.
     *
     * @return how many functions failed
     */
    private static int sequentialLoop(LambdaClient lambda, String layer, boolean publish) {
        int failed = 0;
        List<FunctionConfiguration> functions = new ArrayList<>();
        String marker = null;
        do {
            String page = marker;
            var response = lambda.listFunctions(r -> r.marker(page));
            functions.addAll(response.functions());
            marker = response.nextMarker();
        } while (marker != null);
        for (FunctionConfiguration f : functions) {
            try {
                Map<String, String> env = new HashMap<>(
                        f.environment() == null ? Map.of() : f.environment().variables());
                env.put(LambdaTarget.ENDPOINT_VARIABLE, "https://logs.example.cloudaeye.com");
                env.put(LambdaTarget.TOKEN_VARIABLE, "bench-token");
                lambda.updateFunctionConfiguration(
                        r -> r.functionName(f.functionName()).layers(layer).environment(e -> e.variables(env)));
                while (lambda.getFunction(r -> r.functionName(f.functionName()))
                                .configuration()
                                .lastUpdateStatus()
                        == LastUpdateStatus.IN_PROGRESS) {
                    Thread.sleep(250);
                }
                if (publish) {
                    lambda.publishVersion(r -> r.functionName(f.functionName()));
                }
            } catch (RuntimeException e) {
                failed++;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return failed + 1;
            }
        }
        return failed;
    }

    private static void plan(int n, String layer) {
        try (AgentInstaller installer = installer(Moto.endpoint(), layer, false, Pacing.adaptive())) {
            resetPeakHeap();
            SendTimes.clear();
            long start = System.nanoTime();
            Plan plan = installer.plan();
            double wall = (System.nanoTime() - start) / 1e9;
            System.out.printf(
                    Locale.ROOT,
                    "| plan only | %d functions | %d changes | %.1f s | max heap %d MB | peak heap used %d MB |%n",
                    n,
                    plan.mutations().size(),
                    wall,
                    maxHeapMb(),
                    peakHeapMb());
        }
    }

    private static ThrottlingProxy proxy(Duration latency) {
        return ThrottlingProxy.builder()
                .target(Moto.endpoint())
                .latency(latency)
                .propagationDelay(PROPAGATION)
                .start();
    }

    private static AgentInstaller installer(URI endpoint, String layer, boolean publish, Pacing pacing) {
        return AgentInstaller.builder()
                .pacing(pacing)
                .region(Moto.REGION)
                .endpointOverride(endpoint)
                .credentialsProvider(Moto.credentials())
                .agent(a -> a.logsEndpoint("https://logs.example.cloudaeye.com").apiToken(Secret.of("bench-token")))
                .target(LambdaTarget.builder()
                        .functions("*")
                        .layer(Architecture.X86_64, layer)
                        .publishVersion(publish)
                        .build())
                .withoutJournal()
                .build();
    }

    /** Creates the functions directly in moto (no proxy), eight at a time. */
    private static String createFunctions(int n) throws Exception {
        try (LambdaClient lambda = LambdaClient.builder()
                        .endpointOverride(Moto.endpoint())
                        .region(Moto.REGION)
                        .credentialsProvider(Moto.credentials())
                        .build();
                IamClient iam = IamClient.builder()
                        .endpointOverride(Moto.endpoint())
                        .region(Region.AWS_GLOBAL)
                        .credentialsProvider(Moto.credentials())
                        .build()) {
            String role = iam.createRole(r -> r.roleName("bench")
                            .assumeRolePolicyDocument("{\"Version\":\"2012-10-17\",\"Statement\":[]}"))
                    .role()
                    .arn();
            SdkBytes zip = zip();
            String layer = lambda.publishLayerVersion(r -> r.layerName("cloudaeye-x86")
                            .content(c -> c.zipFile(zip))
                            .compatibleArchitectures(Architecture.X86_64))
                    .layerVersionArn();
            ExecutorService pool = Executors.newFixedThreadPool(8);
            List<Future<?>> created = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                String name = String.format(Locale.ROOT, "fn-%05d", i);
                created.add(pool.submit(() -> lambda.createFunction(r -> r.functionName(name)
                        .runtime(Runtime.PYTHON3_12)
                        .role(role)
                        .handler("index.handler")
                        .code(c -> c.zipFile(zip))
                        .environment(e -> e.variables(Map.of("STAGE", "bench"))))));
            }
            for (Future<?> f : created) {
                f.get();
            }
            pool.shutdown();
            return layer;
        }
    }

    static void resetPeakHeap() {
        System.gc();
        ManagementFactory.getMemoryPoolMXBeans().forEach(MemoryPoolMXBean::resetPeakUsage);
    }

    static long peakHeapMb() {
        long bytes = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                bytes += pool.getPeakUsage().getUsed();
            }
        }
        return bytes / (1024 * 1024);
    }

    private static long maxHeapMb() {
        return java.lang.Runtime.getRuntime().maxMemory() / (1024 * 1024);
    }

    static SdkBytes zip() {
        try (ByteArrayOutputStream bytes = new ByteArrayOutputStream();
                ZipOutputStream zip = new ZipOutputStream(bytes)) {
            zip.putNextEntry(new ZipEntry("index.py"));
            zip.write("def handler(e, c):\n    return 1\n".getBytes(StandardCharsets.UTF_8));
            zip.closeEntry();
            zip.finish();
            return SdkBytes.fromByteArray(bytes.toByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
