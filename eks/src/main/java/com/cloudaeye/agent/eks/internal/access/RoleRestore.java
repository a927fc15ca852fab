package com.cloudaeye.agent.eks.internal.access;

import static com.cloudaeye.agent.eks.internal.access.CrossAccountRoleAccess.POLICY_NAME;
import static com.cloudaeye.agent.eks.internal.access.CrossAccountRoleAccess.ROLE_NAME;
import static com.cloudaeye.agent.eks.internal.access.CrossAccountRoleAccess.base;
import static com.cloudaeye.agent.eks.internal.access.CrossAccountRoleAccess.getRole;
import static com.cloudaeye.agent.eks.internal.access.CrossAccountRoleAccess.getRolePolicy;
import static com.cloudaeye.agent.eks.internal.access.CrossAccountRoleAccess.parse;

import com.cloudaeye.agent.AttributeChange;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.spi.TargetContext;
import com.cloudaeye.agent.spi.TargetPlan;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.services.iam.model.Role;

/**
 * Plans the rollback of an install's update of CloudAEye's cross-account role (a role this installer made for the
 * cluster earlier, whose trust or policy the install changed, e.g. for a new external ID): puts back the trust and
 * policy the role had when the update was planned ({@link RoleState#trustBefore()}, {@link RoleState#policyBefore()}),
 * each only while the role still has what the install set; what someone changed since is left as it is.
 */
final class RoleRestore {
    private RoleRestore() {}

    /**
     * @param update the install's journaled update of the role
     * @param context clients
     * @return an UPDATE back to the before-state, a NO_OP when the role is gone or already as before, or a SKIP (a plan
     *     that recorded no before-state, a role that is no longer this installer's, or one changed since)
     */
    static TargetPlan plan(Change update, TargetContext context) {
        RoleState s = RoleState.fromJson(update.targetState());
        String roleArn = update.resourceId();
        Change.Builder change = base(roleArn);
        @Nullable String trustBeforeText = s.trustBefore();
        @Nullable JsonNode trustBefore = trustBeforeText == null ? null : parse(trustBeforeText);
        if (trustBeforeText == null || trustBefore == null) {
            change.action(ChangeAction.SKIP)
                    .reason("The install updated the role " + ROLE_NAME + ", but its plan recorded no earlier trust"
                            + " policy (a plan made before it was recorded): left as it is.");
            return new TargetPlan(List.of(change.build()), List.of());
        }
        List<Permission> reads =
                List.of(Permission.of("iam:GetRole", roleArn), Permission.of("iam:GetRolePolicy", roleArn));
        Optional<Role> role = getRole(context);
        if (role.isEmpty()) {
            change.action(ChangeAction.NO_OP).reason("The role " + ROLE_NAME + " is gone: nothing to put back.");
            return new TargetPlan(List.of(change.build()), reads);
        }
        if (!s.description().equals(role.get().description())) {
            change.action(ChangeAction.SKIP)
                    .reason("The role " + ROLE_NAME + " is no longer this installer's for " + s.cluster()
                            + " (its description: '" + role.get().description() + "'): left alone.");
            return new TargetPlan(List.of(change.build()), reads);
        }
        @Nullable String policyBeforeText = s.policyBefore();
        @Nullable JsonNode policyBefore = policyBeforeText == null ? null : parse(policyBeforeText);
        @Nullable JsonNode trustNow = parse(role.get().assumeRolePolicyDocument());
        @Nullable
        JsonNode policyNow =
                getRolePolicy(context).map(CrossAccountRoleAccess::parse).orElse(null);
        boolean trustAsBefore = trustBefore.equals(trustNow);
        boolean policyAsBefore = Objects.equals(policyBefore, policyNow);
        if (trustAsBefore && policyAsBefore) {
            change.action(ChangeAction.NO_OP)
                    .reason("The role " + ROLE_NAME + " has the trust and policy it had before the install.");
            return new TargetPlan(List.of(change.build()), reads);
        }
        // Only what is still as the install set it goes back: a later change by someone else is theirs.
        boolean trustBack = !trustAsBefore && Objects.equals(trustNow, parse(s.trustPolicy()));
        boolean policyBack = !policyAsBefore && Objects.equals(policyNow, parse(s.policy()));
        if (!trustBack && !policyBack) {
            change.action(ChangeAction.SKIP)
                    .reason("The role " + ROLE_NAME + "'s trust or policy was changed since the install by someone"
                            + " else: left as it is.");
            return new TargetPlan(List.of(change.build()), reads);
        }
        change.action(ChangeAction.UPDATE)
                .reason("Puts back the " + (trustBack ? policyBack ? "trust and policy" : "trust" : "policy")
                        + " the role " + ROLE_NAME + " had before the install.")
                // The applier writes the state's trustPolicy and policy: here, the ones from before the install.
                .targetState(new RoleState(
                                s.cluster(),
                                s.description(),
                                trustBack ? trustBeforeText : s.trustPolicy(),
                                policyBeforeText != null && policyBack ? policyBeforeText : s.policy())
                        .toJson());
        // Each call's read-back after an error (GetRole, GetRolePolicy) is granted with it.
        if (trustBack) {
            change.addAttributes(AttributeChange.of("AssumeRolePolicyDocument", "this installation's", "as before"))
                    .addPermissions(
                            Permission.of("iam:UpdateAssumeRolePolicy", roleArn),
                            Permission.of("iam:GetRole", roleArn));
        }
        if (policyBack) {
            change.addAttributes(AttributeChange.of(
                            "Policy." + POLICY_NAME, "this installation's", policyBefore == null ? null : "as before"))
                    .addPermissions(
                            Permission.of(policyBefore == null ? "iam:DeleteRolePolicy" : "iam:PutRolePolicy", roleArn),
                            Permission.of("iam:GetRolePolicy", roleArn));
        }
        return new TargetPlan(List.of(change.build()), reads);
    }
}
