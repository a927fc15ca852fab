package com.cloudaeye.agent.internal;

import com.cloudaeye.agent.AgentException;
import com.cloudaeye.agent.InsufficientPermissionsException;
import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.PlanningException;
import com.cloudaeye.agent.PolicyDocument;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkException;

/**
 * The installer's side of the permission preflight: runs {@link Preflight} against a plan and turns what it finds, or
 * why it could not ask, into the exception the caller acts on (each saying that nothing was changed, and what to do).
 */
public final class PreflightCheck {
    private final Preflight preflight;

    /** @param preflight finds the caller and simulates its policies */
    public PreflightCheck(Preflight preflight) {
        this.preflight = preflight;
    }

    /**
     * @param plan the plan to check
     * @throws InsufficientPermissionsException when the caller lacks permissions, or may not simulate its own
     * @throws AgentException when IAM or AWS could not be asked
     */
    public void check(Plan plan) {
        List<Permission> needed = new ArrayList<>(plan.readPermissions());
        plan.mutations().forEach(c -> needed.addAll(c.permissions()));
        Preflight.Principal principal;
        SortedSet<Permission> missing;
        try {
            principal = preflight.principal();
            missing = preflight.missing(needed);
        } catch (AwsServiceException e) {
            if (e.statusCode() == 403) {
                String who = principalArnOrNull();
                PolicyDocument simulate = PolicyDocument.allowing(
                        List.of(Permission.of("iam:SimulatePrincipalPolicy", who == null ? "*" : who)));
                throw new InsufficientPermissionsException(
                        "The preflight itself was denied ("
                                + e.awsErrorDetails().errorCode() + "): the caller may not"
                                + " simulate its own policies. Nothing was changed. Grant it the policy below, or"
                                + " turn the preflight off with preflight(false).",
                        simulate);
            }
            throw new AgentException(
                    "The permission preflight could not ask IAM: " + e.getMessage()
                            + ". Nothing was changed. Retry, or turn the preflight off with preflight(false).",
                    e);
        } catch (SdkException e) {
            throw new AgentException(
                    "The permission preflight could not reach AWS: " + e.getMessage()
                            + ". Nothing was changed. Check the network and the credentials, then retry.",
                    e);
        }
        if (!missing.isEmpty()) {
            Set<String> actions = new TreeSet<>();
            missing.forEach(m -> actions.add(m.action()));
            throw new InsufficientPermissionsException(
                    principal.callerArn() + " lacks " + missing.size() + " of the " + new TreeSet<>(needed).size()
                            + " permissions this plan needs (" + String.join(", ", actions) + "), so nothing was"
                            + " changed. Attach the policy below to " + principal.arn() + ", then apply again.",
                    PolicyDocument.allowing(missing));
        }
    }

    private @Nullable String principalArnOrNull() {
        try {
            return preflight.principal().arn();
        } catch (SdkException e) {
            return null;
        }
    }

    /**
     * Adds what the preflight itself needs to a plan's read permissions.
     *
     * @param plan the plan being built
     * @throws PlanningException when the caller cannot be found
     */
    public void addPermissions(Plan.Builder plan) {
        try {
            plan.addAllReadPermissions(preflight.principal().permissions());
        } catch (SdkException e) {
            throw new PlanningException(
                    "Finding the caller for the permission preflight failed: " + e.getMessage()
                            + ". Check the credentials, or turn the preflight off with preflight(false).",
                    e);
        }
    }
}
