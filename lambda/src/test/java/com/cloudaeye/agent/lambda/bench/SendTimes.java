package com.cloudaeye.agent.lambda.bench;

import com.cloudaeye.agent.testing.ThrottlingProxy;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttribute;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.interceptor.SdkExecutionAttribute;

/**
 * Where the calls of Lambda's shared control-plane bucket bunch up: the time each such call entered the SDK (right
 * after the scheduler let it start) and the time each attempt was handed to the HTTP stage (after marshalling and
 * signing, before the installer's send gate, its HTTP client, held it for its turn), to compare with the arrivals the
 * {@link com.cloudaeye.agent.testing.ThrottlingProxy} records. A global
 * SDK interceptor: {@code scripts/benchmark.sh} puts {@code lambda/src/test/bench-interceptors} on the benchmark's
 * class path only, so no test sees it.
 */
public final class SendTimes implements ExecutionInterceptor {
    static final Queue<Long> STARTS = new ConcurrentLinkedQueue<>();
    static final Queue<Long> SENDS = new ConcurrentLinkedQueue<>();
    /** The longest time from a call's start in the SDK to its first attempt's hand-over to the HTTP client. */
    static final AtomicLong MAX_START_TO_SEND = new AtomicLong();

    private static final ExecutionAttribute<Long> STARTED = new ExecutionAttribute<>("bench.started");

    @Override
    public void beforeExecution(Context.BeforeExecution context, ExecutionAttributes attributes) {
        if (shared(attributes)) {
            long now = System.nanoTime();
            attributes.putAttribute(STARTED, now);
            STARTS.add(now);
        }
    }

    @Override
    public void beforeTransmission(Context.BeforeTransmission context, ExecutionAttributes attributes) {
        if (shared(attributes)) {
            long now = System.nanoTime();
            SENDS.add(now);
            Long started = attributes.getAttribute(STARTED);
            if (started != null) {
                MAX_START_TO_SEND.accumulateAndGet(now - started, Math::max);
            }
        }
    }

    private static boolean shared(ExecutionAttributes attributes) {
        return "Lambda".equals(attributes.getAttribute(SdkExecutionAttribute.SERVICE_NAME))
                && !"GetFunction".equals(attributes.getAttribute(SdkExecutionAttribute.OPERATION_NAME));
    }

    /**
     * @param since the run's start ({@link System#nanoTime()})
     * @return how many shared calls started in each second of the run, e.g. {@code 0:15 1:16 2:31}: where a burst
     *     happened, to read beside the scheduler's debug log of its rates ({@code -Dbench.timeline=true})
     */
    static String startsPerSecond(long since) {
        java.util.TreeMap<Long, Integer> perSecond = new java.util.TreeMap<>();
        STARTS.forEach(t -> perSecond.merge((t - since) / 1_000_000_000L, 1, Integer::sum));
        StringBuilder s = new StringBuilder();
        perSecond.forEach(
                (second, count) -> s.append(second).append(':').append(count).append(' '));
        return s.toString().trim();
    }

    static void clear() {
        STARTS.clear();
        SENDS.clear();
        MAX_START_TO_SEND.set(0);
    }

    /**
     * @param times nanoTime values
     * @param window the window
     * @return the most values within any one window (sliding, starting at each value)
     */
    static int maxInAnyWindow(Queue<Long> times, Duration window) {
        long[] sorted = times.stream().mapToLong(Long::longValue).sorted().toArray();
        int max = 0;
        for (int i = 0; i < sorted.length; i++) {
            // the values in [sorted[i], sorted[i] + window): up to the first at or after its end
            int end = Arrays.binarySearch(sorted, i, sorted.length, sorted[i] + window.toNanos());
            end = end < 0 ? -end - 1 : end;
            while (end > i && sorted[end - 1] >= sorted[i] + window.toNanos()) {
                end--;
            }
            while (end < sorted.length && sorted[end] < sorted[i] + window.toNanos()) {
                end++;
            }
            max = Math.max(max, end - i);
        }
        return max;
    }

    /**
     * @return the most shared calls within one second as our side saw them (when started in the SDK, when handed to
     *     the HTTP client), the longest delay between the two, and how many the proxy received against how many we
     *     sent; empty without {@link SendTimes} on the class path
     */
    static String summary(ThrottlingProxy proxy) {
        if (STARTS.isEmpty()) {
            return "our side not recorded";
        }
        int received = proxy.maxRequestsInAnyWindow(ThrottlingProxy.CONTROL_PLANE, Duration.ofDays(1));
        return String.format(
                Locale.ROOT,
                "started %d, sent %d, start to send up to %d ms; %d sent, %d received",
                maxInAnyWindow(STARTS, Duration.ofSeconds(1)),
                maxInAnyWindow(SENDS, Duration.ofSeconds(1)),
                MAX_START_TO_SEND.get() / 1_000_000,
                SENDS.size(),
                received);
    }
}
