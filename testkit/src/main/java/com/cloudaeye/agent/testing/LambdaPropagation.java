package com.cloudaeye.agent.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Lambda's asynchronous updates, which moto finishes at once: after a successful {@code UpdateFunctionConfiguration},
 * for the propagation delay, its response, {@code GetFunction} and {@code GetFunctionConfiguration} of that function
 * say {@code "LastUpdateStatus": "InProgress"}, and the proxy answers its next update or {@code PublishVersion} with a
 * conflict.
 */
final class LambdaPropagation {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Duration delay;
    private final Map<String, Long> inProgressUntilNanos = new ConcurrentHashMap<>();

    LambdaPropagation(Duration delay) {
        this.delay = delay;
    }

    /**
     * @param scope where the function lives, as far as the proxy tells them apart: its account-region when the proxy
     *     keeps buckets per account-region (a fleet, where every account-region may have a function of the same
     *     name), else empty
     * @return true when the call is an update or publish of a function whose update is still in progress
     */
    boolean conflicts(ProxyCall call, String scope) {
        return call.function != null
                && (call.operation.equals("UpdateFunctionConfiguration") || call.operation.equals("PublishVersion"))
                && inProgress(scope + " " + call.function);
    }

    /** @return moto's answer, rewritten while a Lambda update is in progress (scope: as for {@link #conflicts}) */
    byte[] afterForward(ProxyCall call, String scope, ProxyHandler.Forwarded response) throws IOException {
        byte[] answer = response.body();
        if (call.function != null && response.statusCode() == 200) {
            String function = scope + " " + call.function;
            if (call.operation.equals("UpdateFunctionConfiguration") && !delay.isZero()) {
                inProgressUntilNanos.put(function, System.nanoTime() + delay.toNanos());
                answer = markInProgress(answer, false);
            } else if (call.operation.equals("GetFunction") && inProgress(function)) {
                answer = markInProgress(answer, true);
            } else if (call.operation.equals("GetFunctionConfiguration") && inProgress(function)) {
                answer = markInProgress(answer, false);
            }
        }
        return answer;
    }

    /** Rewrites a configuration (or, for GetFunction, its {@code Configuration} member) to an update in progress. */
    private static byte[] markInProgress(byte[] json, boolean nested) throws IOException {
        JsonNode root = JSON.readTree(json);
        JsonNode config = nested ? root.path("Configuration") : root;
        if (!(config instanceof ObjectNode object)) {
            return json;
        }
        object.put("LastUpdateStatus", "InProgress");
        object.put("LastUpdateStatusReason", "The function is being updated.");
        object.put("LastUpdateStatusReasonCode", "Updating");
        return JSON.writeValueAsBytes(root);
    }

    private boolean inProgress(String function) {
        Long until = inProgressUntilNanos.get(function);
        if (until == null) {
            return false;
        }
        if (System.nanoTime() - until >= 0) {
            inProgressUntilNanos.remove(function, until);
            return false;
        }
        return true;
    }
}
