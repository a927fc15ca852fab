package com.cloudaeye.agent.spi;

import com.cloudaeye.agent.ConfigurationException;
import java.util.Set;
import java.util.TreeSet;
import software.amazon.awssdk.regions.Region;

/**
 * The account-regions of the {@code FleetInstaller} a target context belongs to ({@link TargetContext#fleet()}): every
 * member plans one account-region with the same targets, so a resource named by the ARN of another account-region the
 * fleet covers is that member's to plan, and a target leaves it out of this one instead of refusing it.
 *
 * @param accounts the fleet's accounts (12-digit IDs), resolved
 * @param regions the fleet's regions, or empty when the fleet plans every region enabled in each account
 */
public record FleetScope(Set<String> accounts, Set<Region> regions) {
    /**
     * @param accounts the fleet's accounts
     * @param regions the fleet's regions, or empty for every region enabled in each account
     */
    public FleetScope {
        accounts = Set.copyOf(accounts);
        regions = Set.copyOf(regions);
    }

    /**
     * @param accountId an account ID, e.g. from an ARN
     * @param region a region, e.g. from an ARN
     * @return true when the fleet has a member for that account and region (with every enabled region: for every
     *     region of one of its accounts, since a resource can only be in a region enabled in its account)
     */
    public boolean covers(String accountId, Region region) {
        return accounts.contains(accountId) && (regions.isEmpty() || regions.contains(region));
    }

    /**
     * The one check a target makes of an ARN of another account-region than its member's: it is that member's to plan
     * when the fleet covers it, and a configuration error otherwise (no member would ever plan it).
     *
     * @param resource what the ARN names, for the message: e.g. {@code "Function"} or {@code "The ECS target's
     *     service"}
     * @param arn an ARN ({@code arn:partition:service:region:account:...})
     * @return the ARN, when the fleet covers its account and region
     * @throws ConfigurationException naming the resource, the ARN, the fleet and the fix, when it does not
     * @throws IllegalArgumentException when {@code arn} is not an ARN with a region and an account
     */
    public String requireCovers(String resource, String arn) {
        String[] parts = arn.split(":", 6);
        if (parts.length < 6 || !parts[0].equals("arn") || parts[3].isEmpty() || parts[4].isEmpty()) {
            throw new IllegalArgumentException("Not an ARN with a region and an account: " + arn);
        }
        String region = parts[3];
        String account = parts[4];
        if (covers(account, Region.of(region))) {
            return arn;
        }
        throw new ConfigurationException(
                resource + " " + arn + " is in account " + account + ", region " + region
                        + ", which the fleet does not cover (" + this
                        + "): add the account and region to the FleetInstaller"
                        + " (.accounts(...), .regions(...)), or drop the ARN from the target's selection. Nothing was changed.");
    }

    /** @return the accounts and regions, sorted, for messages: e.g. {@code accounts [111..., 222...], regions [us-east-1]} */
    @Override
    public String toString() {
        TreeSet<String> regionIds = new TreeSet<>();
        regions.forEach(r -> regionIds.add(r.id()));
        return "accounts " + new TreeSet<>(accounts) + ", regions "
                + (regions.isEmpty() ? "every enabled region" : regionIds.toString());
    }
}
