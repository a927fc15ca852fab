package com.cloudaeye.agent;

/**
 * Hears about an apply as it runs. Every method has an empty default; implementations must be thread-safe and
 * quick (they are called from the installer's worker threads). Quiet by default: see {@link #console()}.
 *
 * <p>An apply refused before it starts calls none of these methods: a plan for another region or account
 * ({@link ConfigurationException}), or one that a target's check refuses before any change (an {@link ApplyException}
 * whose result counts every change as not attempted), throws from {@code apply} instead. Once {@link #started} is
 * called, the apply has begun.
 */
public interface ProgressListener {
    /** A listener that ignores everything. */
    ProgressListener NONE = new ProgressListener() {};

    /**
     * An apply starts.
     *
     * @param plan the plan being applied
     * @param total how many mutating changes it has
     */
    default void started(Plan plan, int total) {}

    /**
     * One change finished (applied, skipped or failed).
     *
     * @param result its result
     * @param progress counts so far
     */
    default void finished(ResourceResult result, Progress progress) {}

    /**
     * A handled fallback happened (e.g. AWS throttled and the call is retried).
     *
     * @param message what happened, never with a secret
     */
    default void warning(String message) {}

    /** @return a listener that prints one line per finished change and a rate/ETA summary to standard error */
    static ProgressListener console() {
        return new com.cloudaeye.agent.internal.ConsoleProgressListener(System.err);
    }

    /**
     * Counts of an apply in progress.
     *
     * @param done changes finished so far
     * @param total mutating changes in the plan
     * @param failed how many of the finished ones failed
     * @param elapsedMillis time since the apply started
     */
    record Progress(int done, int total, int failed, long elapsedMillis) {
        /** @return changes finished per second so far */
        public double ratePerSecond() {
            return elapsedMillis == 0 ? 0 : done * 1000.0 / elapsedMillis;
        }

        /** @return estimated milliseconds left at the current rate, or -1 when unknown */
        public long remainingMillis() {
            double rate = ratePerSecond();
            return rate == 0 ? -1 : (long) ((total - done) / rate * 1000);
        }
    }
}
