package com.cloudaeye.agent.internal;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * A failure limit shared by several applies: a fleet's {@code maxFailures} over all its account-regions, or one
 * account's over its regions. Each apply counts its failed and unknown changes here and starts no new change once the
 * limit is reached; changes already in flight finish, so the total can pass the limit by the changes in flight.
 */
public final class FailureBudget {
    private final String name;
    private final int limit;
    private final AtomicInteger failures = new AtomicInteger();

    /**
     * @param name what the limit is, for messages, e.g. {@code "the fleet's maxFailures(10)"}
     * @param limit how many failures stop the applies sharing it
     */
    public FailureBudget(String name, int limit) {
        this.name = name;
        this.limit = limit;
    }

    /** Counts one failed or unknown change. */
    public void failed() {
        failures.incrementAndGet();
    }

    /** @return true once the limit is reached */
    public boolean exhausted() {
        return failures.get() >= limit;
    }

    /** @return why a change was not started because of this limit */
    public String whyNotStarted() {
        return "not started: " + failures.get() + " change(s) failed or had an unknown outcome under " + name;
    }
}
