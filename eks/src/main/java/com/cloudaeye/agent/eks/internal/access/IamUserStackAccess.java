package com.cloudaeye.agent.eks.internal.access;

import com.cloudaeye.agent.AttributeChange;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.ConfigurationException;
import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.eks.AccessKey;
import com.cloudaeye.agent.eks.EksTarget;
import com.cloudaeye.agent.eks.internal.ClusterRef;
import com.cloudaeye.agent.eks.internal.Clusters;
import com.cloudaeye.agent.eks.internal.EksComponent;
import com.cloudaeye.agent.eks.internal.Waits;
import com.cloudaeye.agent.spi.ApplyContext;
import com.cloudaeye.agent.spi.CallScheduler;
import com.cloudaeye.agent.spi.JournaledChange;
import com.cloudaeye.agent.spi.TargetContext;
import com.cloudaeye.agent.spi.TargetPlan;
import com.cloudaeye.agent.spi.support.AwsFailures;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.cloudformation.model.Stack;
import software.amazon.awssdk.services.eks.model.Cluster;
import software.amazon.awssdk.services.iam.model.AccessKeyMetadata;

/**
 * CloudAEye's access as the original script made it: the CloudFormation stack {@code CloudAEyeServiceAccountStack}
 * with the IAM user {@code CloudAEyeServiceAccount} and the managed policy {@code CloudAEyeServiceAccountPolicy}
 * (read-only on this cluster's log group, attached through the policy's {@code Users}), and an access key created
 * through IAM whose secret goes only to the caller's sink. The stack has no outputs, so DescribeStacks never shows a
 * secret. {@link IamUserStackPlanner} plans it; this component applies the stack ({@link UserStackLifecycle}) and the
 * key ({@link UserAccessKeys}) from the changes' {@link StackState} and {@link KeyState}, and plans their rollback.
 *
 * <p>An uninstall (or the rollback of an install) deletes the user's keys first, then the stack. Before either, the
 * apply reads the stack again: termination protection turned on, or a stack operation started, since planning skips
 * both (a deleted key's secret cannot come back); keys that were not deleted leave the stack untouched.
 */
public final class IamUserStackAccess implements EksComponent {
    private static final Logger LOG = LoggerFactory.getLogger(IamUserStackAccess.class);

    /** The stack's name, as the original script. */
    public static final String STACK_NAME = "CloudAEyeServiceAccountStack";
    /** The IAM user's name, as the original script. */
    public static final String USER_NAME = "CloudAEyeServiceAccount";
    /** The managed policy's name, as the original script. */
    public static final String POLICY_NAME = "CloudAEyeServiceAccountPolicy";
    /** The resource type of the stack's changes. */
    public static final String STACK_TYPE = "AWS::CloudFormation::Stack";
    /** The resource type of the access key's changes (the resource id is the user's ARN). */
    public static final String KEY_TYPE = "AWS::IAM::AccessKey";
    /** IAM's limit of access keys per user. */
    public static final int KEY_LIMIT = 2;

    private final UserStackLifecycle stacks;
    private final UserAccessKeys keys;

    /**
     * @param sink where a new key goes; empty for the installer's {@code EksTarget.ACCESS_KEY_SINK} (without it,
     *     creating a key stops the apply before anything changes)
     * @param waits stack polling
     */
    public IamUserStackAccess(Optional<Consumer<AccessKey>> sink, Waits waits) {
        this.stacks = new UserStackLifecycle(waits);
        this.keys = new UserAccessKeys(sink);
    }

    @Override
    public Set<String> resourceTypes() {
        return Set.of(STACK_TYPE, KEY_TYPE);
    }

    /**
     * @param ref the cluster
     * @param context clients
     * @param why what removes it, for the reason
     * @return the removal of the stack (with its user and policy) and the user's keys, when the stack is this
     *     cluster's
     */
    static TargetPlan planRemoval(ClusterRef ref, TargetContext context, String why) {
        Optional<Stack> stack = UserStackLifecycle.describeStack(context, STACK_NAME);
        List<Permission> reads = List.of(
                Permission.of("cloudformation:DescribeStacks", ref.stackArnPattern(STACK_NAME)),
                Permission.of("iam:ListAccessKeys", ref.iamArn("user/" + USER_NAME)));
        Change.Builder stackChange = stackBase(ref, stack);
        if (stack.isEmpty()) {
            return new TargetPlan(
                    List.of(stackChange
                            .action(ChangeAction.NO_OP)
                            .reason("No stack " + STACK_NAME + ": nothing to" + " remove.")
                            .build()),
                    reads);
        }
        String owner = UserStackTemplate.clusterOf(stack.get());
        if (!ref.name().equals(owner)) {
            return new TargetPlan(
                    List.of(stackChange
                            .action(ChangeAction.SKIP)
                            .reason("The stack " + STACK_NAME + " belongs to the cluster '" + owner + "': left alone.")
                            .build()),
                    reads);
        }
        if (Boolean.TRUE.equals(stack.get().enableTerminationProtection())) {
            // CloudFormation would refuse DeleteStack; the user's keys stay too, as they are the stack's user's.
            return new TargetPlan(
                    List.of(stackChange
                            .action(ChangeAction.SKIP)
                            .reason("The stack " + STACK_NAME + " has termination protection enabled, so"
                                    + " CloudFormation refuses to delete it; its user's access keys are left too."
                                    + " Disable it (aws cloudformation update-termination-protection"
                                    + " --no-enable-termination-protection --stack-name " + STACK_NAME
                                    + "), then plan the " + why + " again.")
                            .build()),
                    reads);
        }
        String status = stack.get().stackStatusAsString();
        if (status.endsWith("_IN_PROGRESS")) {
            // Deleting under a running operation would race it; the keys stay with the stack they belong to.
            return new TargetPlan(
                    List.of(stackChange
                            .action(ChangeAction.SKIP)
                            .reason("The stack " + STACK_NAME + " is " + status + ": nothing is deleted while a"
                                    + " stack operation runs, and its user's access keys are left too: wait for it to"
                                    + " finish, then plan the " + why + " again.")
                            .build()),
                    reads);
        }
        List<Change> changes = new ArrayList<>();
        String userArn = ref.iamArn("user/" + USER_NAME);
        String policyArn = ref.iamArn("policy/" + POLICY_NAME);
        changes.add(stackChange
                .action(ChangeAction.DELETE)
                .reason("Deletes the stack (" + why + "), and with it the user " + USER_NAME + " and the policy "
                        + POLICY_NAME + ".")
                .addAttributes(AttributeChange.of("Status", stack.get().stackStatusAsString(), null))
                .addPermissions(
                        Permission.of("cloudformation:DeleteStack", ref.stackArnPattern(STACK_NAME)),
                        Permission.of("cloudformation:DescribeStacks", ref.stackArnPattern(STACK_NAME)),
                        // Failure events are read only when the deletion fails.
                        Permission.of("cloudformation:DescribeStackEvents", ref.stackArnPattern(STACK_NAME)),
                        // Detached by the installer first, so the user can be deleted on every implementation.
                        Permission.of("iam:DetachUserPolicy", userArn),
                        // Read after a DetachUserPolicy error, to see whether it landed, and when the deletion is
                        // refused at apply time, to tell whether an interrupted attempt detached the policy.
                        Permission.of("iam:ListAttachedUserPolicies", userArn),
                        // Only when DeleteStack is refused after the detach: the policy is attached again.
                        Permission.of("iam:AttachUserPolicy", userArn),
                        // CloudFormation deletes the stack's resources with the caller's credentials:
                        Permission.of("iam:DeleteUser", userArn),
                        Permission.of("iam:DeletePolicy", policyArn),
                        Permission.of("iam:ListPolicyVersions", policyArn),
                        // Read once the stack is deleted: a policy that outlived it is deleted too.
                        Permission.of("iam:GetPolicy", policyArn))
                .targetState(new StackState(ref.name(), null, stack.get().stackId(), policyArn).toJson())
                .build());
        List<AccessKeyMetadata> keys = UserAccessKeys.listKeys(context).orElse(List.of());
        if (!keys.isEmpty()) {
            List<String> ids =
                    keys.stream().map(AccessKeyMetadata::accessKeyId).sorted().collect(Collectors.toList());
            changes.add(Change.builder()
                    .target(EksTarget.NAME)
                    .resourceType(KEY_TYPE)
                    .resourceId(userArn)
                    .action(ChangeAction.DELETE)
                    .reason("Deletes the user's access keys (the user is deleted with the stack; IAM refuses to"
                            + " delete a user that still has keys).")
                    .addAttributes(AttributeChange.of(
                            "AccessKeys",
                            keys.stream()
                                    .map(AccessKeyMetadata::accessKeyId)
                                    .sorted()
                                    .collect(Collectors.joining(", ")),
                            null))
                    .addPermissions(Permission.of("iam:DeleteAccessKey", userArn))
                    .targetState(new KeyState(USER_NAME, null, ids, null).toJson())
                    .build());
        }
        return new TargetPlan(changes, reads);
    }

    @Override
    public TargetPlan planRollback(List<JournaledChange> journaled, TargetContext context) {
        // Both the stack and its key are removed together: the key dies with the user anyway.
        for (JournaledChange j : journaled) {
            Change c = j.change();
            if (c.resourceType().equals(STACK_TYPE) && c.action() == ChangeAction.CREATE) {
                Cluster cluster = Clusters.describe(
                        context, StackState.fromJson(c.targetState()).cluster());
                return planRemoval(ClusterRef.of(cluster), context, "rollback of the install");
            }
        }
        // The stack existed before: only the key the install created goes (KeyRollback), never one the user had.
        List<Change> out = new ArrayList<>();
        for (JournaledChange j : journaled) {
            out.add(KeyRollback.plan(j, context));
        }
        List<Permission> reads = out.stream()
                .filter(c -> c.action() != ChangeAction.SKIP)
                .map(c -> Permission.of("iam:ListAccessKeys", c.resourceId()))
                .distinct()
                .toList();
        return new TargetPlan(out, reads);
    }

    // ---------------------------------------------------------------- applying

    @Override
    public void check(List<Change> changes, TargetContext context) {
        boolean createsKey =
                changes.stream().anyMatch(c -> c.resourceType().equals(KEY_TYPE) && c.action() == ChangeAction.CREATE);
        if (createsKey && !keys.hasSink(context)) {
            throw new ConfigurationException("The plan creates an access key for " + USER_NAME + ", whose secret AWS"
                    + " shows only once, and this installer has nowhere to hand it: build the installer with"
                    + " .sink(EksTarget.ACCESS_KEY_SINK, key -> ...) (an installer that applies a saved plan or a"
                    + " journal has no configured target), or apply with an EksTarget built with"
                    + " .cloudAEyeAccess(a -> a.iamUserStack().accessKeySink(...)).");
        }
    }

    @Override
    public void apply(List<Change> changes, ApplyContext context) {
        // Order matters: create the stack before the key; delete the keys before the stack (and its user).
        List<Change> ordered = new ArrayList<>(changes);
        ordered.sort(Comparator.comparingInt(IamUserStackAccess::rank));
        Optional<Change> stackDeletion = ordered.stream()
                .filter(c -> c.resourceType().equals(STACK_TYPE) && c.action() == ChangeAction.DELETE)
                .findFirst();
        if (stackDeletion.isPresent() && !context.shouldStop() && !deletable(stackDeletion.get(), ordered, context)) {
            // Every deletion is reported; nothing else is planned beside a stack's deletion.
            ordered.removeIf(IamUserStackAccess::isDeletion);
        }
        // The key deletion that did not land: the stack's user still has keys, so the stack is left alone.
        @Nullable Change keysLeft = null;
        for (Change change : ordered) {
            if (context.shouldStop()) {
                return;
            }
            if (change.resourceType().equals(STACK_TYPE)) {
                if (change.action() == ChangeAction.DELETE && keysLeft != null) {
                    context.notAttempted(
                            change,
                            keysLeft,
                            "Not started: deleting the access keys of " + USER_NAME + " did not land or could not be"
                                    + " confirmed (see that change), and CloudFormation cannot delete a user that"
                                    + " still has keys; the stack " + STACK_NAME + " was not touched (no"
                                    + " DetachUserPolicy, no DeleteStack). Fix the keys' failure, then plan again.");
                    continue;
                }
                CallScheduler.join(
                        switch (change.action()) {
                            case DELETE -> stacks.deleteStack(change, context);
                            case UPDATE -> stacks.reattachPolicy(change, context);
                            default -> stacks.createStack(change, context);
                        });
            } else if (change.action() == ChangeAction.DELETE) {
                if (!UserAccessKeys.deleteKeys(change, context)) {
                    keysLeft = change;
                }
            } else {
                keys.createKey(change, context);
            }
        }
    }

    /**
     * Reads the stack once, before any deletion is sent ({@link UserStackLifecycle#refusal}): when it must not be
     * deleted now, or cannot be read, reports the stack's deletion and every key deletion, which then send nothing.
     *
     * @return true when the deletions may go on
     */
    private static boolean deletable(Change stack, List<Change> changes, ApplyContext context) {
        String stackId = String.valueOf(StackState.fromJson(stack.targetState()).stackId());
        List<Change> keyDeletions = changes.stream()
                .filter(c -> c.resourceType().equals(KEY_TYPE) && c.action() == ChangeAction.DELETE)
                .toList();
        Optional<String> refusal;
        try {
            refusal = CallScheduler.join(UserStackLifecycle.refusal(context, stackId));
        } catch (RuntimeException e) {
            context.failed(
                    stack,
                    "Reading the stack " + STACK_NAME + " (" + stackId + ") before deleting it failed: "
                            + AwsFailures.describe(e) + ". Nothing was sent: no access key, policy or stack was"
                            + " deleted. Fix the cause (the apply needs cloudformation:DescribeStacks on the stack),"
                            + " then apply again.",
                    e);
            for (Change k : keyDeletions) {
                context.notAttempted(
                        k,
                        stack,
                        "Not started: reading the stack " + STACK_NAME + " before deleting anything failed (see"
                                + " that change), so the access keys of " + USER_NAME + " were left as they were.");
            }
            return false;
        }
        if (refusal.isEmpty()) {
            return true;
        }
        LOG.info("Not deleting the stack {} nor its user's keys: {}", stackId, refusal.get());
        String policyArn =
                String.valueOf(StackState.fromJson(stack.targetState()).policyArn());
        String detachedBefore = detachedBefore(context, policyArn);
        if (detachedBefore == null) {
            context.skipped(stack, refusal.get());
        } else {
            // An earlier, interrupted attempt of this change detached the policy: this is not "nothing changed".
            context.unknown(stack, refusal.get() + " " + detachedBefore, null, null);
        }
        for (Change k : keyDeletions) {
            context.skipped(k, refusal.get());
        }
        return false;
    }

    /**
     * The stack's deletion is refused at apply time: whether an earlier, interrupted attempt of it (which deletes the
     * keys, then detaches the policy, then deletes the stack) left the policy detached.
     *
     * @return what to add to the refusal when the policy is not attached, or cannot be read; null when it is attached
     */
    private static @Nullable String detachedBefore(ApplyContext context, String policyArn) {
        String reattach = "re-attach it (aws iam attach-user-policy --user-name " + USER_NAME + " --policy-arn "
                + policyArn + ") to give the user its access back, or resume once the stack can be deleted.";
        try {
            return UserStackLifecycle.policyAttached(context, policyArn)
                    ? null
                    : "Yet the policy " + policyArn + " is not attached to the user " + USER_NAME + ": an earlier,"
                            + " interrupted attempt of this uninstall detached it (or someone did since planning): "
                            + reattach;
        } catch (RuntimeException e) {
            return "Whether the policy " + policyArn + " is still attached to the user " + USER_NAME + " could not be"
                    + " read (" + AwsFailures.describe(e) + "); an earlier, interrupted attempt of this uninstall"
                    + " may have detached it: if so, " + reattach;
        }
    }

    private static boolean isDeletion(Change c) {
        return c.action() == ChangeAction.DELETE;
    }

    private static int rank(Change c) {
        boolean stack = c.resourceType().equals(STACK_TYPE);
        if (c.action() == ChangeAction.DELETE) {
            return stack ? 1 : 0;
        }
        return stack ? 0 : 1;
    }

    static Change.Builder stackBase(ClusterRef ref, Optional<Stack> stack) {
        return Change.builder()
                .target(EksTarget.NAME)
                .resourceType(STACK_TYPE)
                // The stack's ARN once it exists; before that, the ARN pattern of its name.
                .resourceId(stack.map(Stack::stackId).orElse(ref.stackArnPattern(STACK_NAME)));
    }
}
