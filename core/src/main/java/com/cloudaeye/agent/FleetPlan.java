package com.cloudaeye.agent;

import com.cloudaeye.agent.internal.FleetTable;
import com.cloudaeye.agent.internal.RoleTemplate;
import com.cloudaeye.agent.spi.support.Json;
import com.cloudaeye.agent.spi.support.ValueStyle;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import org.immutables.value.Value;

/**
 * The result of {@link FleetInstaller#plan()}, {@link FleetInstaller#planUninstall()} or {@link
 * FleetInstaller#planRollback()}: one {@link Plan} per account and region that could be planned, and per
 * account and region that could not, why. Print it for a table with totals, {@link #toJson()} for a deterministic
 * document, {@link #requiredPolicy(String)} for the IAM policy one account's installer role needs, then pass it to
 * {@link FleetInstaller#apply(FleetPlan)}.
 */
@Value.Immutable
@ValueStyle
@JsonSerialize(as = ImmutableFleetPlan.class)
@JsonDeserialize(as = ImmutableFleetPlan.class)
public abstract class FleetPlan {
    /** @return what the plans were made for; kept by {@link #toJson()} and {@link #fromJson(String)} */
    public abstract Plan.Kind kind();

    /** @return account ID to region to that account-region's plan, both sorted */
    @Value.NaturalOrder
    public abstract SortedMap<String, SortedMap<String, Plan>> plans();

    /**
     * The account-regions that could not be planned, with the reason and the fix: every region of an account whose
     * role could not be assumed, or one region whose planning failed. Nothing was planned or changed there.
     *
     * @return account ID to region to the reason, both sorted
     */
    @Value.NaturalOrder
    public abstract SortedMap<String, SortedMap<String, String>> failures();

    /** @return true when applying this plan would change nothing (failed account-regions change nothing either) */
    @JsonIgnore
    public boolean isEmpty() {
        return plans().values().stream().flatMap(m -> m.values().stream()).allMatch(Plan::isEmpty);
    }

    /** @return true when every account-region was planned */
    @JsonIgnore
    public boolean isComplete() {
        return failures().isEmpty();
    }

    /** @return the number of changes per action over the whole fleet */
    @JsonIgnore
    public Map<ChangeAction, Long> counts() {
        Map<ChangeAction, Long> counts = new TreeMap<>();
        plans().values()
                .forEach(regions -> regions.values()
                        .forEach(p -> p.counts().forEach((action, n) -> counts.merge(action, n, Long::sum))));
        return counts;
    }

    /**
     * The least-privilege IAM policy that the installer's role in one account needs for this plan: the reads and the
     * mutations of all of that account's regions.
     *
     * @param account a 12-digit account ID of this plan
     * @return a valid IAM policy document
     * @throws ConfigurationException when the account has no plan here
     */
    public PolicyDocument requiredPolicy(String account) {
        SortedMap<String, Plan> regions = plans().get(account);
        if (regions == null) {
            throw new ConfigurationException("Account " + account + " has no plan in this fleet plan (planned: "
                    + plans().keySet() + "): check the account ID, or see failures() for why it was not planned.");
        }
        List<Permission> all = new ArrayList<>();
        // The same permissions as each Plan#requiredPolicy, over all the account's regions.
        regions.values().forEach(p -> {
            all.addAll(p.readPermissions());
            p.mutations().forEach(c -> all.addAll(c.permissions()));
        });
        return PolicyDocument.allowing(all);
    }

    /** @return account ID to the policy its installer role needs ({@link #requiredPolicy(String)}), sorted */
    @JsonIgnore
    public SortedMap<String, PolicyDocument> requiredPolicies() {
        SortedMap<String, PolicyDocument> policies = new TreeMap<>();
        plans().keySet().forEach(account -> policies.put(account, requiredPolicy(account)));
        return policies;
    }

    /**
     * A CloudFormation template (JSON) for the installer role in the member accounts, ready for a StackSet: one
     * template for every account, yet each planned account's role may make exactly the calls this plan needs there
     * ({@link #requiredPolicy(String)}, plus {@code ec2:DescribeRegions} for {@link
     * FleetInstallerBuilder#allEnabledRegions()}): each planned account has a condition on {@code AWS::AccountId} and
     * its own managed policies under it, split where IAM's 6,144-character limit for one managed policy needs (a role
     * may have 10 managed policies unless the quota was raised). An account the plan did not reach (its role was
     * missing, or it joins the StackSet later) gets only the plan's reads, each ARN's account as {@code
     * ${AWS::AccountId}}, so the fleet can plan there; make the template again from that plan to apply there. Its
     * trust policy lets only the principal given as the {@code TrustedPrincipalArn} parameter assume it, and only
     * with the {@code ExternalId} parameter; the {@code RoleName} parameter (default {@code CloudAEyeInstaller}) is
     * the fleet's {@link FleetInstallerBuilder#roleName(String)}. Make the template from a plan of everything you
     * will install (an uninstall needs the same calls); re-deploy it when the plan grows. A template over 51,200 bytes
     * must be deployed from S3 ({@code TemplateURL}), as CloudFormation takes no larger template body.
     *
     * @return the template, deterministic JSON
     */
    public String installerRoleTemplate() {
        return RoleTemplate.render(this);
    }

    /** @return the fleet plan as deterministic, pretty-printed JSON (no secrets) */
    public String toJson() {
        return Json.write(this);
    }

    /**
     * Reads a fleet plan written by {@link #toJson()}, for example one that was reviewed before it is applied.
     *
     * @param json the fleet plan JSON
     * @return the fleet plan
     */
    public static FleetPlan fromJson(String json) {
        return Json.read(json, FleetPlan.class);
    }

    /** @return a new builder */
    public static Builder builder() {
        return new Builder();
    }

    /** @return a table: one row per account and region with its counts of changes or its failure, and totals */
    @Override
    public String toString() {
        return FleetTable.plan(this);
    }

    /** Builds a {@link FleetPlan}. */
    public static final class Builder extends ImmutableFleetPlan.Builder {
        Builder() {}
    }
}
