package com.cloudaeye.agent.eks.internal.access;

import com.cloudaeye.agent.AttributeChange;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.eks.EksTarget;
import com.cloudaeye.agent.eks.internal.ClusterRef;
import com.cloudaeye.agent.eks.internal.Clusters;
import com.cloudaeye.agent.eks.internal.EksComponent;
import com.cloudaeye.agent.eks.internal.EksQuotas;
import com.cloudaeye.agent.spi.ApplyContext;
import com.cloudaeye.agent.spi.JournaledChange;
import com.cloudaeye.agent.spi.TargetContext;
import com.cloudaeye.agent.spi.TargetPlan;
import com.cloudaeye.agent.spi.support.Json;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.services.eks.model.Cluster;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.iam.model.NoSuchEntityException;
import software.amazon.awssdk.services.iam.model.Role;

/**
 * CloudAEye's keyless access: the IAM role {@code CloudAEyeServiceAccountRole} that CloudAEye's account may assume
 * only with the external ID, with the inline policy {@code CloudAEyeServiceAccountPolicy} (read-only on this
 * cluster's log group). Made and removed through IAM directly: no stack is needed for two calls. {@link
 * CrossAccountRolePlanner} plans it; this component applies ({@link RoleApplier}) and rolls back.
 */
public final class CrossAccountRoleAccess implements EksComponent {
    /** The role's name. */
    public static final String ROLE_NAME = "CloudAEyeServiceAccountRole";
    /** The role's inline policy's name. */
    public static final String POLICY_NAME = "CloudAEyeServiceAccountPolicy";
    /** The resource type of its changes. */
    public static final String ROLE_TYPE = "AWS::IAM::Role";

    /** The component: it applies and rolls back from the changes' {@link RoleState} alone. */
    public CrossAccountRoleAccess() {}

    @Override
    public Set<String> resourceTypes() {
        return Set.of(ROLE_TYPE);
    }

    /**
     * @param ref the cluster
     * @param context clients
     * @return the role's removal, when this installer made it for this cluster
     */
    static TargetPlan planRemoval(ClusterRef ref, TargetContext context) {
        String roleArn = ref.iamArn("role/" + ROLE_NAME);
        List<Permission> reads = List.of(Permission.of("iam:GetRole", roleArn));
        Optional<Role> role = getRole(context);
        Change.Builder change = base(roleArn);
        if (role.isEmpty()) {
            change.action(ChangeAction.NO_OP).reason("No role " + ROLE_NAME + ": nothing to remove.");
        } else if (!description(ref).equals(role.get().description())) {
            change.action(ChangeAction.SKIP)
                    .reason("The role " + ROLE_NAME + " was not made by this installer for this cluster: left alone.");
        } else {
            change.action(ChangeAction.DELETE)
                    .reason("Deletes the role, and so CloudAEye's access to the logs.")
                    .addAttributes(AttributeChange.of("Role", roleArn, null))
                    .addPermissions(
                            Permission.of("iam:DeleteRolePolicy", roleArn), Permission.of("iam:DeleteRole", roleArn));
        }
        return new TargetPlan(List.of(change.build()), reads);
    }

    @Override
    public TargetPlan planRollback(List<JournaledChange> journaled, TargetContext context) {
        List<Change> out = new ArrayList<>();
        List<Permission> reads = new ArrayList<>();
        for (JournaledChange j : journaled) {
            Change c = j.change();
            if (c.action() == ChangeAction.CREATE) {
                String name = RoleState.fromJson(c.targetState()).cluster();
                Cluster cluster = Clusters.describe(context, name);
                TargetPlan removal = planRemoval(ClusterRef.of(cluster), context);
                out.addAll(removal.changes());
                reads.addAll(removal.readPermissions());
            } else {
                TargetPlan restore = RoleRestore.plan(c, context);
                out.addAll(restore.changes());
                reads.addAll(restore.readPermissions());
            }
        }
        return new TargetPlan(out, reads);
    }

    @Override
    public void apply(List<Change> changes, ApplyContext context) {
        RoleApplier.apply(changes, context);
    }

    static Change.Builder base(String roleArn) {
        return Change.builder().target(EksTarget.NAME).resourceType(ROLE_TYPE).resourceId(roleArn);
    }

    static String description(ClusterRef ref) {
        return "CloudAEye reads the control-plane logs of EKS cluster " + ref.name() + " (made by the CloudAEye agent"
                + " installer)";
    }

    /** IAM returns policy documents URL-encoded; some emulators do not. */
    static @Nullable JsonNode parse(@Nullable String document) {
        if (document == null) {
            return null;
        }
        String text = document.trim().startsWith("{") ? document : URLDecoder.decode(document, StandardCharsets.UTF_8);
        try {
            return Json.parse(text);
        } catch (JsonProcessingException e) {
            return null;
        }
    }

    static Optional<Role> getRole(TargetContext context) {
        IamClient iam = context.client(IamClient.class, IamClient::builder);
        try {
            return Optional.of(context.scheduler()
                    .call(EksQuotas.IAM, () -> iam.getRole(r -> r.roleName(ROLE_NAME)))
                    .role());
        } catch (NoSuchEntityException e) {
            return Optional.empty();
        }
    }

    static Optional<String> getRolePolicy(TargetContext context) {
        IamClient iam = context.client(IamClient.class, IamClient::builder);
        try {
            return Optional.of(context.scheduler()
                    .call(
                            EksQuotas.IAM,
                            () -> iam.getRolePolicy(r -> r.roleName(ROLE_NAME).policyName(POLICY_NAME)))
                    .policyDocument());
        } catch (NoSuchEntityException e) {
            return Optional.empty();
        }
    }
}
