package com.cloudaeye.agent.eks.internal.access;

import static com.cloudaeye.agent.eks.internal.access.CrossAccountRoleAccess.POLICY_NAME;
import static com.cloudaeye.agent.eks.internal.access.CrossAccountRoleAccess.ROLE_NAME;
import static com.cloudaeye.agent.eks.internal.access.CrossAccountRoleAccess.getRole;
import static com.cloudaeye.agent.eks.internal.access.CrossAccountRoleAccess.getRolePolicy;
import static com.cloudaeye.agent.eks.internal.access.CrossAccountRoleAccess.parse;

import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.eks.internal.EksQuotas;
import com.cloudaeye.agent.spi.ApplyContext;
import com.cloudaeye.agent.spi.support.AwsFailures;
import com.cloudaeye.agent.spi.support.OutcomeUnknownException;
import com.cloudaeye.agent.spi.support.ReadBack;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.iam.model.EntityAlreadyExistsException;
import software.amazon.awssdk.services.iam.model.NoSuchEntityException;
import software.amazon.awssdk.services.iam.model.Role;

/**
 * Applies the changes of {@link CrossAccountRoleAccess}: creates, updates or deletes the role and its inline policy.
 * After any error of a call that was sent, the role is read back ({@link ReadBack}): a change reported failed did not
 * land, and one whose first call landed before a later one failed is unknown, never failed.
 */
final class RoleApplier {
    private static final Logger LOG = LoggerFactory.getLogger(RoleApplier.class);

    private RoleApplier() {}

    static void apply(List<Change> changes, ApplyContext context) {
        IamClient iam = context.client(IamClient.class, IamClient::builder);
        for (Change change : changes) {
            if (context.shouldStop()) {
                return;
            }
            RoleState s = RoleState.fromJson(change.targetState());
            context.starting(change);
            try {
                switch (change.action()) {
                    case CREATE -> {
                        LOG.info("Creating the role {}", ROLE_NAME);
                        String made = "created the role " + ROLE_NAME;
                        try {
                            context.scheduler()
                                    .call(
                                            EksQuotas.IAM,
                                            () -> iam.createRole(r -> r.roleName(ROLE_NAME)
                                                    .description(s.description())
                                                    .assumeRolePolicyDocument(s.trustPolicy())
                                                    .maxSessionDuration(3600)));
                        } catch (RuntimeException e) {
                            // Planning found no role. If there is one now, made by this installer for this cluster,
                            // an earlier attempt created it (an apply killed after CreateRole, or an attempt whose
                            // answer was lost): go on with it. Someone else's role is left alone.
                            // Any error, not only a lost answer: a retry of an attempt that landed may be refused.
                            Optional<Role> role =
                                    ReadBack.confirm("CreateRole " + ROLE_NAME, e, () -> Optional.of(getRole(context)));
                            boolean ours = role.isPresent()
                                    && s.description().equals(role.get().description());
                            if (!ours && e instanceof EntityAlreadyExistsException) {
                                context.skipped(
                                        change,
                                        "The role " + ROLE_NAME + " was created by someone else since planning:"
                                                + " left alone. Plan again.");
                                continue;
                            }
                            if (!ours) {
                                throw e;
                            }
                            LOG.warn(
                                    "CreateRole of {} failed ({}), but the role exists, made by this installer",
                                    ROLE_NAME,
                                    AwsFailures.describe(e));
                            made = "the role " + ROLE_NAME + " existed (an earlier attempt created it); its policy is"
                                    + " set";
                        }
                        landedThen(made, () -> putPolicyOrConfirm(iam, context, s));
                        context.applied(change, made, null);
                    }
                    case UPDATE -> {
                        LOG.info("Updating the role {}", ROLE_NAME);
                        // The change's permissions say which calls it makes (a rollback's may delete the policy).
                        boolean trust = grants(change, "iam:UpdateAssumeRolePolicy");
                        if (trust) {
                            updateTrustOrConfirm(iam, context, s);
                        }
                        @Nullable
                        Runnable policy = grants(change, "iam:PutRolePolicy")
                                ? () -> putPolicyOrConfirm(iam, context, s)
                                : grants(change, "iam:DeleteRolePolicy")
                                        ? () -> deletePolicyOrConfirm(iam, context)
                                        : null;
                        if (policy != null && trust) {
                            landedThen("updated the trust policy of " + ROLE_NAME, policy);
                        } else if (policy != null) {
                            policy.run();
                        }
                        context.applied(change, "updated the role " + ROLE_NAME, null);
                    }
                    case DELETE -> {
                        LOG.info("Deleting the role {}", ROLE_NAME);
                        deletePolicyOrConfirm(iam, context);
                        try {
                            context.scheduler().call(EksQuotas.IAM, () -> iam.deleteRole(r -> r.roleName(ROLE_NAME)));
                        } catch (RuntimeException e) {
                            landedThen(
                                    "deleted the policy " + POLICY_NAME,
                                    () -> ReadBack.confirm(
                                            "DeleteRole " + ROLE_NAME, e, () -> absent(getRole(context))));
                        }
                        context.applied(change, "deleted the role " + ROLE_NAME, null);
                    }
                    default ->
                        context.skipped(
                                change,
                                "nothing to apply for " + change.action().label());
                }
            } catch (RuntimeException e) {
                AwsFailures.report(
                        context,
                        change,
                        "The role " + ROLE_NAME
                                + (AwsFailures.isOutcomeUnknown(e) ? " may have been " : " was not ")
                                + change.action().label() + "d: " + AwsFailures.describe(e),
                        e);
            }
        }
    }

    /**
     * PutRolePolicy is idempotent; after any error (a retry of an attempt that landed may be refused) the policy is
     * read back ({@link ReadBack}): there is as planned, absent is the error, unreadable is unknown.
     */
    private static void putPolicyOrConfirm(IamClient iam, ApplyContext context, RoleState s) {
        try {
            putPolicy(iam, context, s);
        } catch (RuntimeException e) {
            ReadBack.confirm(
                    "PutRolePolicy " + POLICY_NAME,
                    e,
                    () -> getRolePolicy(context).filter(now -> Objects.equals(parse(now), parse(s.policy()))));
            LOG.warn(
                    "PutRolePolicy of {} failed ({}), but the role has the policy", ROLE_NAME, AwsFailures.describe(e));
        }
    }

    /** DeleteRolePolicy; a policy that is gone already is fine, and after any other error it is read back. */
    private static void deletePolicyOrConfirm(IamClient iam, ApplyContext context) {
        try {
            context.scheduler()
                    .call(
                            EksQuotas.IAM,
                            () -> iam.deleteRolePolicy(
                                    r -> r.roleName(ROLE_NAME).policyName(POLICY_NAME)));
        } catch (NoSuchEntityException gone) {
            LOG.debug("The role had no policy {}", POLICY_NAME);
        } catch (RuntimeException e) {
            ReadBack.confirm("DeleteRolePolicy " + POLICY_NAME, e, () -> absent(getRolePolicy(context)));
        }
    }

    private static boolean grants(Change change, String action) {
        return change.permissions().stream().anyMatch(p -> p.action().equals(action));
    }

    /** UpdateAssumeRolePolicy, read back after any error like {@link #putPolicyOrConfirm}. */
    private static void updateTrustOrConfirm(IamClient iam, ApplyContext context, RoleState s) {
        try {
            context.scheduler()
                    .call(
                            EksQuotas.IAM,
                            () -> iam.updateAssumeRolePolicy(
                                    r -> r.roleName(ROLE_NAME).policyDocument(s.trustPolicy())));
        } catch (RuntimeException e) {
            ReadBack.confirm(
                    "UpdateAssumeRolePolicy " + ROLE_NAME,
                    e,
                    () -> getRole(context)
                            .filter(role ->
                                    Objects.equals(parse(role.assumeRolePolicyDocument()), parse(s.trustPolicy()))));
            LOG.warn(
                    "UpdateAssumeRolePolicy of {} failed ({}), but the role has the trust policy",
                    ROLE_NAME,
                    AwsFailures.describe(e));
        }
    }

    /**
     * Runs the second call of a change whose first landed: its failure then is never FAILED (which says nothing
     * changed) but unknown, so that rollback and resume see the change.
     */
    private static void landedThen(String landed, Runnable next) {
        try {
            next.run();
        } catch (RuntimeException e) {
            if (AwsFailures.isOutcomeUnknown(e)) {
                throw e;
            }
            throw new OutcomeUnknownException(
                    AwsFailures.OUTCOME_UNKNOWN + ": " + landed + ", then " + AwsFailures.describe(e) + "; "
                            + ReadBack.FIX,
                    e);
        }
    }

    /** @return a value when {@code found} is empty (what a deletion leaves), else empty */
    private static Optional<Boolean> absent(Optional<?> found) {
        return found.isEmpty() ? Optional.of(true) : Optional.empty();
    }

    private static void putPolicy(IamClient iam, ApplyContext context, RoleState s) {
        context.scheduler()
                .call(
                        EksQuotas.IAM,
                        () -> iam.putRolePolicy(r ->
                                r.roleName(ROLE_NAME).policyName(POLICY_NAME).policyDocument(s.policy())));
    }
}
