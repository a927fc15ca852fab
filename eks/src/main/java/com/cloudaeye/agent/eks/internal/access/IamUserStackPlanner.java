package com.cloudaeye.agent.eks.internal.access;

import static com.cloudaeye.agent.eks.internal.access.IamUserStackAccess.KEY_LIMIT;
import static com.cloudaeye.agent.eks.internal.access.IamUserStackAccess.KEY_TYPE;
import static com.cloudaeye.agent.eks.internal.access.IamUserStackAccess.POLICY_NAME;
import static com.cloudaeye.agent.eks.internal.access.IamUserStackAccess.STACK_NAME;
import static com.cloudaeye.agent.eks.internal.access.IamUserStackAccess.USER_NAME;
import static com.cloudaeye.agent.eks.internal.access.IamUserStackAccess.stackBase;

import com.cloudaeye.agent.AttributeChange;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.eks.EksTarget;
import com.cloudaeye.agent.eks.internal.ClusterRef;
import com.cloudaeye.agent.eks.internal.ComponentPlanner;
import com.cloudaeye.agent.eks.internal.EksQuotas;
import com.cloudaeye.agent.spi.TargetContext;
import com.cloudaeye.agent.spi.TargetPlan;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.services.cloudformation.model.Stack;
import software.amazon.awssdk.services.eks.model.Cluster;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.iam.model.AccessKeyMetadata;
import software.amazon.awssdk.services.iam.model.NoSuchEntityException;

/**
 * Plans CloudAEye's IAM-user access ({@link IamUserStackAccess}): the stack with the user and its policy, then one
 * access key, unless the user holds the key the target says CloudAEye still has ({@code reuseAccessKey}), which the
 * key change's {@link KeyState} carries to the apply.
 */
public final class IamUserStackPlanner implements ComponentPlanner {
    private final @Nullable String reuseKeyId;

    /** @param reuseKeyId the id of a key CloudAEye still holds, if the target names one */
    public IamUserStackPlanner(Optional<String> reuseKeyId) {
        this.reuseKeyId = reuseKeyId.orElse(null);
    }

    @Override
    public java.util.Set<String> resourceTypes() {
        return java.util.Set.of(IamUserStackAccess.STACK_TYPE, KEY_TYPE);
    }

    @Override
    public TargetPlan plan(Cluster cluster, TargetContext context) {
        ClusterRef ref = ClusterRef.of(cluster);
        Optional<Stack> stack = UserStackLifecycle.describeStack(context, STACK_NAME);
        Optional<List<AccessKeyMetadata>> keys = UserAccessKeys.listKeys(context);
        List<Change> changes = new ArrayList<>();

        Change.Builder stackChange = stackBase(ref, stack);
        boolean userExists = keys.isPresent();
        if (stack.isEmpty()) {
            if (userExists) {
                stackChange
                        .action(ChangeAction.SKIP)
                        .reason(
                                "The IAM user " + USER_NAME + " exists but not through the stack " + STACK_NAME
                                        + ": the stack cannot create it. Delete the user (or use the cross-account role mode).");
            } else if (policyExists(context, ref)) {
                stackChange
                        .action(ChangeAction.SKIP)
                        .reason("The managed policy " + POLICY_NAME + " exists but not through the stack " + STACK_NAME
                                + ": the stack cannot create it. Delete the policy (aws iam delete-policy"
                                + " --policy-arn " + ref.iamArn("policy/" + POLICY_NAME) + ") and plan again.");
            } else {
                stackChange
                        .action(ChangeAction.CREATE)
                        .reason("Creates the IAM user " + USER_NAME + " and the managed policy " + POLICY_NAME
                                + ", which may only read " + ref.logGroupName() + ".")
                        .addAttributes(AttributeChange.of("User", null, ref.iamArn("user/" + USER_NAME)))
                        .addAttributes(AttributeChange.of("Policy", null, ref.iamArn("policy/" + POLICY_NAME)))
                        .addAttributes(AttributeChange.of("Policy.Resource", null, ref.logGroupArn()))
                        .addAllPermissions(UserStackTemplate.createPermissions(ref))
                        .addWarnings(TradeOff.USER_MODE)
                        .targetState(new StackState(ref.name(), UserStackTemplate.template(ref), null, null).toJson());
            }
        } else {
            String owner = UserStackTemplate.clusterOf(stack.get());
            String status = stack.get().stackStatusAsString();
            if (!ref.name().equals(owner)) {
                stackChange
                        .action(ChangeAction.SKIP)
                        .reason("The stack " + STACK_NAME + " gives CloudAEye access to the cluster '" + owner
                                + "', not this one: its user and policy names are fixed, so one account holds one."
                                + " Use the cross-account role mode for this cluster.");
            } else if (UserStackLifecycle.isUsable(status)
                    && userExists
                    && !UserStackLifecycle.policyAttached(context, ref.iamArn("policy/" + POLICY_NAME))) {
                String userArn = ref.iamArn("user/" + USER_NAME);
                String policyArn = ref.iamArn("policy/" + POLICY_NAME);
                stackChange
                        .action(ChangeAction.UPDATE)
                        .reason("The stack exists (" + status + "), but its policy " + POLICY_NAME + " is not attached"
                                + " to the user " + USER_NAME + " (an uninstall that stopped half-way detaches it"
                                + " first): attaches it again.")
                        .addAttributes(AttributeChange.of("User.AttachedPolicies", null, policyArn))
                        .addPermissions(
                                Permission.of("iam:AttachUserPolicy", userArn),
                                // Read back after an AttachUserPolicy error.
                                Permission.of("iam:ListAttachedUserPolicies", userArn))
                        .targetState(
                                new StackState(ref.name(), null, stack.get().stackId(), policyArn).toJson());
            } else if (UserStackLifecycle.isUsable(status)) {
                stackChange.action(ChangeAction.NO_OP).reason("The stack exists (" + status + ").");
            } else {
                stackChange.action(ChangeAction.SKIP).reason("The stack is " + status + ": " + fixOf(status));
            }
        }
        changes.add(stackChange.build());
        if (changes.get(0).action() != ChangeAction.SKIP) {
            changes.add(planKey(ref, keys.orElse(List.of()), userExists));
        }
        List<Permission> reads = new ArrayList<>(List.of(
                Permission.of("cloudformation:DescribeStacks", ref.stackArnPattern(STACK_NAME)),
                Permission.of("iam:ListAccessKeys", ref.iamArn("user/" + USER_NAME))));
        if (stack.isEmpty() && !userExists) {
            reads.add(Permission.of("iam:GetPolicy", ref.iamArn("policy/" + POLICY_NAME)));
        }
        if (stack.isPresent()
                && userExists
                && UserStackLifecycle.isUsable(stack.get().stackStatusAsString())) {
            reads.add(Permission.of("iam:ListAttachedUserPolicies", ref.iamArn("user/" + USER_NAME)));
        }
        return new TargetPlan(changes, reads, List.of(TradeOff.NOTE));
    }

    /** @return what the user does about a stack in {@code status}, which is not usable */
    private static String fixOf(String status) {
        if (status.endsWith("_IN_PROGRESS")) {
            return "wait for it to finish, then plan again.";
        }
        String delete = "delete it (aws cloudformation delete-stack --stack-name " + STACK_NAME + "), then plan again.";
        if (status.equals("UPDATE_ROLLBACK_FAILED")) {
            // Its resources are as before the update, but CloudFormation accepts no change until the rollback ends.
            return "finish its rollback (aws cloudformation continue-update-rollback --stack-name " + STACK_NAME
                    + ") or " + delete;
        }
        return delete;
    }

    private Change planKey(ClusterRef ref, List<AccessKeyMetadata> keys, boolean userExists) {
        String userArn = ref.iamArn("user/" + USER_NAME);
        Change.Builder change =
                Change.builder().target(EksTarget.NAME).resourceType(KEY_TYPE).resourceId(userArn);
        List<String> ids =
                keys.stream().map(AccessKeyMetadata::accessKeyId).sorted().collect(Collectors.toList());
        change.targetState(new KeyState(USER_NAME, ids, null, reuseKeyId).toJson());
        String idList = String.join(", ", ids);
        if (reuseKeyId != null && ids.contains(reuseKeyId)) {
            return change.action(ChangeAction.NO_OP)
                    .reason("Reuses the access key " + reuseKeyId + ", which CloudAEye still holds.")
                    .build();
        }
        if (ids.size() >= KEY_LIMIT) {
            return change.action(ChangeAction.SKIP)
                    .reason("The user already has " + ids.size() + " access keys (" + idList + "), IAM's limit, and"
                            + (reuseKeyId == null ? " none was named" : " neither is " + reuseKeyId) + ": pass"
                            + " reuseAccessKey(id) for the one CloudAEye holds, or delete one you no longer use"
                            + " (aws iam delete-access-key --user-name " + USER_NAME + " --access-key-id ID).")
                    .build();
        }
        if (!ids.isEmpty() && reuseKeyId == null) {
            return change.action(ChangeAction.SKIP)
                    .reason("The user already has the access key " + idList + ": pass reuseAccessKey(\"" + ids.get(0)
                            + "\") if CloudAEye still holds it; if its secret is lost, delete it (aws iam"
                            + " delete-access-key --user-name " + USER_NAME + " --access-key-id " + ids.get(0)
                            + ") and plan again for a new one.")
                    .build();
        }
        return change.action(ChangeAction.CREATE)
                .reason((userExists ? "" : "After the stack has created the user: ")
                        + "creates an access key; its secret goes only to the accessKeySink"
                        + (reuseKeyId == null ? "." : " (the key " + reuseKeyId + " is not the user's)."))
                .addAttributes(AttributeChange.of("AccessKeys", ids.isEmpty() ? null : idList, "+1 new key"))
                .addAttributes(AttributeChange.redacted("SecretAccessKey", false, true))
                .addPermissions(
                        Permission.of("iam:ListAccessKeys", userArn),
                        Permission.of("iam:CreateAccessKey", userArn),
                        // Only when a CreateAccessKey answer is lost: the key it made is deleted (see createKey).
                        Permission.of("iam:DeleteAccessKey", userArn))
                .build();
    }

    @Override
    public TargetPlan planUninstall(Cluster cluster, TargetContext context) {
        ClusterRef ref = ClusterRef.of(cluster);
        return IamUserStackAccess.planRemoval(ref, context, "uninstall");
    }

    private static boolean policyExists(TargetContext context, ClusterRef ref) {
        IamClient iam = context.client(IamClient.class, IamClient::builder);
        String arn = ref.iamArn("policy/" + POLICY_NAME);
        try {
            context.scheduler().call(EksQuotas.IAM, () -> iam.getPolicy(r -> r.policyArn(arn)));
            return true;
        } catch (NoSuchEntityException e) {
            return false;
        }
    }
}
