package com.cloudaeye.agent.testing;

import java.util.Random;
import java.util.stream.LongStream;

/**
 * Seeds for the randomized fault suites. {@code -Dfaults.seed=S} runs that one seed (to reproduce a failure);
 * otherwise {@code -Dfaults.seeds=N} seeds (the build's default, more under {@code -Psoak}) are drawn at random per
 * run, so every CI run explores new ones. A failure names its seed and the one command that runs it again; the proxy's
 * faults follow the seed, thread timing does not, so a rerun reproduces most but not every failure.
 */
public final class Seeds {
    /** Seeds per fault suite when the build passes none. */
    static final int DEFAULT_COUNT = 6;

    private Seeds() {}

    /** @return the seeds of this run */
    public static LongStream of() {
        String one = System.getProperty("faults.seed", "");
        if (!one.isBlank()) {
            return LongStream.of(Long.parseLong(one.trim()));
        }
        String count = System.getProperty("faults.seeds", "");
        int n = count.isBlank() ? DEFAULT_COUNT : Integer.parseInt(count.trim());
        return new Random().longs(n);
    }

    /** A suite's body for one seed. */
    @FunctionalInterface
    public interface Body {
        /**
         * @throws Exception what the body throws
         */
        void run() throws Exception;
    }

    /**
     * Runs a suite's body for one seed; a failure says the seed and how to run just it again.
     *
     * @param seed the seed
     * @param module the module of the suite, e.g. {@code ecs}
     * @param suite the suite's class name, e.g. {@code EcsFaultInjectionIT}
     * @param body the test
     * @throws Exception the body's failure, with the seed in its message
     */
    public static void run(long seed, String module, String suite, Body body) throws Exception {
        try {
            body.run();
        } catch (AssertionError | Exception e) {
            String repro = "scripts/test.sh -pl core," + module + " -Dtest=none -Dit.test=" + suite
                    + " -Dsurefire.failIfNoSpecifiedTests=false -Dfailsafe.failIfNoSpecifiedTests=false -Dfaults.seed="
                    + seed;
            System.out.println("FAILED with seed " + seed + "; reproduce with: " + repro);
            throw new AssertionError("seed " + seed + " failed (reproduce with: " + repro + "): " + e.getMessage(), e);
        }
    }
}
