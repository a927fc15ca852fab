package com.cloudaeye.agent.internal;

import com.cloudaeye.agent.ConfigurationException;
import java.util.regex.Pattern;
import software.amazon.awssdk.regions.Region;

/**
 * Checks that a region is named the way AWS names regions ({@code us-east-1}, {@code us-gov-west-1}, {@code
 * cn-north-1}, {@code eu-isoe-west-1}), so that a typo fails at {@code build()} instead of as an unknown host or a
 * misleading mismatch. Only the form is checked: a well-formed region the SDK does not list yet is accepted.
 */
public final class RegionNames {
    private static final Pattern REGION = Pattern.compile("[a-z]{2,4}(-[a-z]+)+-\\d{1,2}");

    private RegionNames() {}

    /**
     * @param region a region
     * @param where where it was set, for the message, e.g. {@code .region(...)}
     * @return the region
     * @throws ConfigurationException when its name is not of AWS's form
     */
    public static Region check(Region region, String where) {
        String id = region.id();
        if (REGION.matcher(id).matches() || Region.regions().contains(region)) {
            return region;
        }
        throw new ConfigurationException("'" + id + "' is not an AWS region name (e.g. us-east-1): fix " + where
                + ", e.g. Region.US_EAST_1 or Region.of(\"eu-west-1\"). Nothing was changed.");
    }
}
