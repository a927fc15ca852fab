package com.cloudaeye.agent.eks.internal.access;

import static com.cloudaeye.agent.eks.internal.access.CrossAccountRoleAccess.POLICY_NAME;
import static com.cloudaeye.agent.eks.internal.access.CrossAccountRoleAccess.ROLE_NAME;
import static com.cloudaeye.agent.eks.internal.access.CrossAccountRoleAccess.base;
import static com.cloudaeye.agent.eks.internal.access.CrossAccountRoleAccess.description;
import static com.cloudaeye.agent.eks.internal.access.CrossAccountRoleAccess.getRole;
import static com.cloudaeye.agent.eks.internal.access.CrossAccountRoleAccess.getRolePolicy;
import static com.cloudaeye.agent.eks.internal.access.CrossAccountRoleAccess.parse;

import com.cloudaeye.agent.AttributeChange;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.eks.internal.ClusterRef;
import com.cloudaeye.agent.eks.internal.ComponentPlanner;
import com.cloudaeye.agent.spi.TargetContext;
import com.cloudaeye.agent.spi.TargetPlan;
import com.cloudaeye.agent.spi.support.Json;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Optional;
import software.amazon.awssdk.services.eks.model.Cluster;
import software.amazon.awssdk.services.iam.model.Role;

/**
 * Plans CloudAEye's cross-account role ({@link CrossAccountRoleAccess}) from the target's settings: CloudAEye's account
 * and the external ID go into the trust policy the change's {@link RoleState} carries.
 */
public final class CrossAccountRolePlanner implements ComponentPlanner {
    private final String cloudAEyeAccount;
    private final String externalId;

    /**
     * @param cloudAEyeAccount CloudAEye's account id
     * @param externalId the external ID
     */
    public CrossAccountRolePlanner(String cloudAEyeAccount, String externalId) {
        this.cloudAEyeAccount = cloudAEyeAccount;
        this.externalId = externalId;
    }

    @Override
    public java.util.Set<String> resourceTypes() {
        return java.util.Set.of(CrossAccountRoleAccess.ROLE_TYPE);
    }

    @Override
    public TargetPlan plan(Cluster cluster, TargetContext context) {
        ClusterRef ref = ClusterRef.of(cluster);
        String roleArn = ref.iamArn("role/" + ROLE_NAME);
        ObjectNode trust = trustPolicy(ref, cloudAEyeAccount, externalId);
        ObjectNode policy = ReadOnlyPolicy.document(ref);
        Optional<Role> role = getRole(context);
        Change.Builder change = base(roleArn)
                .targetState(new RoleState(ref.name(), description(ref), write(trust), write(policy)).toJson());
        List<Permission> reads = List.of(Permission.of("iam:GetRole", roleArn));
        if (role.isEmpty()) {
            change.action(ChangeAction.CREATE)
                    .reason("Creates a role that CloudAEye's account " + cloudAEyeAccount + " may assume with your"
                            + " external ID, allowed only to read " + ref.logGroupName() + ".")
                    .addAttributes(AttributeChange.of("TrustedAccount", null, cloudAEyeAccount))
                    .addAttributes(AttributeChange.of("Policy.Resource", null, ref.logGroupArn()))
                    .addWarnings(TradeOff.ROLE_MODE)
                    .addPermissions(
                            Permission.of("iam:CreateRole", roleArn),
                            Permission.of("iam:PutRolePolicy", roleArn),
                            // Reads back the role and its policy when a call's answer is lost.
                            Permission.of("iam:GetRole", roleArn),
                            Permission.of("iam:GetRolePolicy", roleArn));
            return new TargetPlan(List.of(change.build()), reads, List.of(TradeOff.NOTE));
        }
        if (!description(ref).equals(role.get().description())) {
            change.action(ChangeAction.SKIP)
                    .reason("The role " + ROLE_NAME + " exists but was not made by this installer for this cluster"
                            + " (its description: '" + role.get().description() + "'): left alone. Delete it or"
                            + " use the IAM-user mode.");
            return new TargetPlan(List.of(change.build()), reads, List.of(TradeOff.NOTE));
        }
        reads = List.of(Permission.of("iam:GetRole", roleArn), Permission.of("iam:GetRolePolicy", roleArn));
        JsonNode currentTrust = parse(role.get().assumeRolePolicyDocument());
        JsonNode currentPolicy =
                getRolePolicy(context).map(CrossAccountRoleAccess::parse).orElse(null);
        boolean trustDiffers = !trust.equals(currentTrust);
        boolean policyDiffers = !policy.equals(currentPolicy);
        if (!trustDiffers && !policyDiffers) {
            change.action(ChangeAction.NO_OP).reason("The role exists with the same trust and read-only policy.");
        } else {
            // The role's trust and policy now are kept in the change, so that a rollback can put them back.
            change.action(ChangeAction.UPDATE)
                    .reason("Brings the role's trust and policy to this configuration.")
                    .targetState(new RoleState(
                                    ref.name(),
                                    description(ref),
                                    write(trust),
                                    write(policy),
                                    currentTrust == null ? null : write(currentTrust),
                                    currentPolicy == null ? null : write(currentPolicy))
                            .toJson());
            if (trustDiffers) {
                // The external ID is not a secret (AWS says so); the plan's table still does not repeat it.
                change.addAttributes(AttributeChange.of(
                                "AssumeRolePolicyDocument", "differs", "this account and" + " external ID"))
                        .addPermissions(Permission.of("iam:UpdateAssumeRolePolicy", roleArn));
            }
            if (policyDiffers) {
                change.addAttributes(AttributeChange.of(
                                "Policy." + POLICY_NAME,
                                currentPolicy == null ? null : "differs",
                                "read-only on " + ref.logGroupName()))
                        .addPermissions(Permission.of("iam:PutRolePolicy", roleArn));
            }
        }
        return new TargetPlan(List.of(change.build()), reads, List.of(TradeOff.NOTE));
    }

    @Override
    public TargetPlan planUninstall(Cluster cluster, TargetContext context) {
        return CrossAccountRoleAccess.planRemoval(ClusterRef.of(cluster), context);
    }

    /**
     * @param ref the cluster
     * @param account CloudAEye's account
     * @param externalId the external ID
     * @return the trust policy: CloudAEye's account may assume the role only with the external ID
     */
    static ObjectNode trustPolicy(ClusterRef ref, String account, String externalId) {
        ObjectNode statement = Json.object().put("Effect", "Allow");
        statement.putObject("Principal").put("AWS", "arn:" + ref.partition() + ":iam::" + account + ":root");
        statement.put("Action", "sts:AssumeRole");
        statement.putObject("Condition").putObject("StringEquals").put("sts:ExternalId", externalId);
        ObjectNode doc = Json.object().put("Version", "2012-10-17");
        doc.putArray("Statement").add(statement);
        return doc;
    }

    private static String write(JsonNode node) {
        return Json.compact(node);
    }
}
