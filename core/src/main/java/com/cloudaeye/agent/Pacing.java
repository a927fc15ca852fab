package com.cloudaeye.agent;

import java.math.BigDecimal;
import java.math.MathContext;
import org.jspecify.annotations.Nullable;

/**
 * How fast the installer calls AWS. Every call counts against a quota, a bucket of AWS's documented request rate per
 * account and region (Lambda's shared control plane: 15 requests/s); a pacing decides how the installer's rate moves
 * around that documented rate. Whatever the pacing, a throttled call is retried and slows its quota down.
 *
 * <ul>
 *   <li>{@link #adaptive()} (the default): starts at the documented rate and raises it while nothing is throttled,
 *       then backs off multiplicatively on a throttle. An emulator or an account with raised quotas runs as fast as
 *       it answers; on AWS the rate settles at the limit after a few throttled calls.
 *   <li>{@link #documentedQuotas()}: never faster than the documented rates.
 *   <li>{@link #share(double)}: at most a fraction of the documented rates, so that the account's own deployments
 *       keep the rest of the quota while the installer runs.
 * </ul>
 *
 * <p>A {@link AgentInstallerBuilder#rateLimit(String, double) rateLimit} override replaces a quota's documented rate
 * for every pacing. The plan and the console progress output name the pacing in force.
 */
public final class Pacing {
    private static final Pacing ADAPTIVE = new Pacing(true, 1.0);
    private static final Pacing DOCUMENTED = new Pacing(false, 1.0);
    /**
     * The smallest share: one call every 67 s of Lambda's 15/s, every 17 minutes of a 1/s quota. Smaller ones would
     * wait for years, past what the scheduler's nanosecond clock counts.
     */
    private static final double MIN_SHARE = 0.001;

    private final boolean adaptive;
    private final double share;

    private Pacing(boolean adaptive, double share) {
        this.adaptive = adaptive;
        this.share = share;
    }

    /** @return start at the documented rates, raise while nothing is throttled, back off on a throttle */
    public static Pacing adaptive() {
        return ADAPTIVE;
    }

    /** @return never faster than the documented rates (slower after a throttle) */
    public static Pacing documentedQuotas() {
        return DOCUMENTED;
    }

    /**
     * Leaves the rest of every quota to the account's other users.
     *
     * @param fraction the share of each documented rate to use at most, from 0.001 (0.1 %) to 1: {@code 0.6} for
     *     60 %
     * @return at most {@code fraction} of the documented rates (slower after a throttle)
     * @throws ConfigurationException when the fraction is below 0.001 or above 1
     */
    public static Pacing share(double fraction) {
        if (!(fraction >= MIN_SHARE && fraction <= 1)) {
            throw new ConfigurationException("Pacing.share(" + fraction + ") must be from " + MIN_SHARE + " ("
                    + percent(MIN_SHARE) + " % of each quota) to 1 (all of it): pass e.g. 0.6 to use at most 60 % of"
                    + " each quota.");
        }
        return fraction == 1 ? DOCUMENTED : new Pacing(false, fraction);
    }

    /** @return true when the rate may rise above the documented rates while nothing is throttled */
    public boolean raisesAboveQuota() {
        return adaptive;
    }

    /** @return the share of each documented rate the pacing starts at and, unless adaptive, never exceeds */
    public double share() {
        return share;
    }

    @Override
    public boolean equals(@Nullable Object o) {
        return o instanceof Pacing p && p.adaptive == adaptive && p.share == share;
    }

    @Override
    public int hashCode() {
        return Boolean.hashCode(adaptive) * 31 + Double.hashCode(share);
    }

    /** @return e.g. {@code at most 60 % of the documented quotas}, as the plan and the progress output print it */
    @Override
    public String toString() {
        if (adaptive) {
            return "adaptive (starts at the documented quotas, raises the rate while nothing is throttled, backs off"
                    + " on a throttle)";
        }
        if (share == 1) {
            return "documented quotas (never faster than AWS's documented rates)";
        }
        return "at most " + percent(share) + " % of the documented quotas";
    }

    /** @return the share in percent, to 3 significant digits without trailing zeros: {@code 60}, {@code 0.1} */
    private static String percent(double share) {
        return BigDecimal.valueOf(share)
                .movePointRight(2)
                .round(new MathContext(3))
                .stripTrailingZeros()
                .toPlainString();
    }
}
