package com.cloudaeye.agent.internal;

import com.cloudaeye.agent.spi.support.AwsActions;
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
    private final Map<String, LongAdder> counts = new ConcurrentHashMap<>();

    @Override
    public void beforeExecution(Context.BeforeExecution context, ExecutionAttributes attributes) {
        String service = attributes.getAttribute(SdkExecutionAttribute.SERVICE_NAME);
        String operation = attributes.getAttribute(SdkExecutionAttribute.OPERATION_NAME);
        counts.computeIfAbsent(AwsActions.iamAction(service, operation), k -> new LongAdder())
                .increment();
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
