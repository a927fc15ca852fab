package com.cloudaeye.agent.internal;

import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.interceptor.SdkExecutionAttribute;

/**
 * Sees every AWS operation that the installer's clients make and counts it by IAM action ({@code lambda:ListFunctions}).
 * Tests use it to prove that planning made no mutating call and that the emitted policy covers every call; apply
 * results report its counts. Only counts are kept, so memory does not grow with the number of calls.
 */
public final class CallRecorder implements ExecutionInterceptor {
    private static final Map<String, String> IAM_PREFIX_BY_SERVICE = Map.of(
            "cloudwatchlogs", "logs",
            "cloudformation", "cloudformation",
            "lambda", "lambda",
            "ecs", "ecs",
            "eks", "eks",
            "iam", "iam",
            "sts", "sts");

    private final Map<String, LongAdder> counts = new ConcurrentHashMap<>();

    @Override
    public void beforeExecution(Context.BeforeExecution context, ExecutionAttributes attributes) {
        String service = attributes.getAttribute(SdkExecutionAttribute.SERVICE_NAME);
        String operation = attributes.getAttribute(SdkExecutionAttribute.OPERATION_NAME);
        counts.computeIfAbsent(iamAction(service, operation), k -> new LongAdder())
                .increment();
    }

    /**
     * @param service the SDK service name, e.g. {@code Lambda}, {@code CloudWatchLogs}
     * @param operation the SDK operation name, e.g. {@code ListFunctions}
     * @return the IAM action, e.g. {@code lambda:ListFunctions}
     */
    public static String iamAction(String service, String operation) {
        String key = service.toLowerCase(Locale.ROOT).replace(" ", "");
        return IAM_PREFIX_BY_SERVICE.getOrDefault(key, key) + ":" + operation;
    }

    /**
     * Whether an IAM action only reads. AWS's own naming: reads are Get, List, Describe, Head, Simulate, Lookup,
     * Search, Preview; everything else mutates.
     *
     * @param iamAction e.g. {@code lambda:ListFunctions}
     * @return true for read-only actions
     */
    public static boolean isReadOnly(String iamAction) {
        String operation = iamAction.substring(iamAction.indexOf(':') + 1);
        return operation.matches("(Get|List|Describe|Head|Simulate|Lookup|Search|Preview)[A-Z].*");
    }

    /** @return calls made so far, per IAM action, sorted */
    public Map<String, Long> snapshot() {
        Map<String, Long> copy = new TreeMap<>();
        counts.forEach((k, v) -> copy.put(k, v.sum()));
        return copy;
    }

    /**
     * @param before an earlier {@link #snapshot()}
     * @return the calls made since then, per IAM action
     */
    public Map<String, Long> since(Map<String, Long> before) {
        Map<String, Long> diff = new TreeMap<>();
        snapshot().forEach((k, v) -> {
            long d = v - before.getOrDefault(k, 0L);
            if (d > 0) {
                diff.put(k, d);
            }
        });
        return diff;
    }
}
