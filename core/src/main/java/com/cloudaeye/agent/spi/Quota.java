package com.cloudaeye.agent.spi;

/**
 * A bucket of AWS's request-rate limits, per account and region, for example Lambda's shared control-plane bucket
 * of 15 requests per second. Calls made through the {@link CallScheduler} under one quota share its rate.
 *
 * @param name a unique name, e.g. {@code lambda.control-plane}; callers can override its rate by this name
 * @param requestsPerSecond AWS's documented default rate
 */
public record Quota(String name, double requestsPerSecond) {
    /** Validates the rate. */
    public Quota {
        if (!(requestsPerSecond > 0)) {
            throw new IllegalArgumentException("Quota " + name + " needs a positive rate, got " + requestsPerSecond);
        }
    }
}
