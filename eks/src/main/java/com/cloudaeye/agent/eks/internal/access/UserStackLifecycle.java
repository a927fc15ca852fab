package com.cloudaeye.agent.eks.internal.access;

import com.cloudaeye.agent.AgentException;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.eks.internal.EksQuotas;
import com.cloudaeye.agent.eks.internal.Waits;
import com.cloudaeye.agent.spi.ApplyContext;
import com.cloudaeye.agent.spi.TargetContext;
import com.cloudaeye.agent.spi.support.AwsFailures;
import com.cloudaeye.agent.spi.support.OutcomeUnknownException;
import com.cloudaeye.agent.spi.support.ReadBack;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.cloudformation.CloudFormationClient;
import software.amazon.awssdk.services.cloudformation.model.Capability;
import software.amazon.awssdk.services.cloudformation.model.CloudFormationException;
import software.amazon.awssdk.services.cloudformation.model.OnFailure;
import software.amazon.awssdk.services.cloudformation.model.Parameter;
import software.amazon.awssdk.services.cloudformation.model.ResourceStatus;
import software.amazon.awssdk.services.cloudformation.model.Stack;
import software.amazon.awssdk.services.cloudformation.model.StackEvent;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.iam.model.NoSuchEntityException;

/** The lifecycle of CloudAEye's stack: creating it (or finishing a creation an interrupted apply started), deleting it
 * with its user and policy, and waiting for either. */
final class UserStackLifecycle {
    private static final Logger LOG = LoggerFactory.getLogger(UserStackLifecycle.class);

    private final Waits waits;

    UserStackLifecycle(Waits waits) {
        this.waits = waits;
    }

    /**
     * The stable states of a stack whose resources exist as its template says. A rolled-back update or import leaves
     * the stack as it was before, so it is as usable as a created one; ROLLBACK_COMPLETE is a creation that failed
     * (nothing left but the stack), and the *_FAILED states need the user.
     */
    private static final Set<String> USABLE = Set.of(
            "CREATE_COMPLETE",
            "UPDATE_COMPLETE",
            "UPDATE_ROLLBACK_COMPLETE",
            "IMPORT_COMPLETE",
            "IMPORT_ROLLBACK_COMPLETE");

    /**
     * @param status a stack's status
     * @return whether the stack's user and policy exist and the stack accepts changes
     */
    static boolean isUsable(String status) {
        return USABLE.contains(status);
    }

    CompletableFuture<Void> createStack(Change change, ApplyContext context) {
        CloudFormationClient cfn = context.client(CloudFormationClient.class, CloudFormationClient::builder);
        StackState state = StackState.fromJson(change.targetState());
        String template = String.valueOf(state.template());
        String cluster = state.cluster();
        // One token per apply: the scheduler's retries of a lost response then cannot create a second stack.
        String token = "cloudaeye-" + UUID.randomUUID();
        context.starting(change);
        LOG.info("Creating the stack {} for cluster {}", IamUserStackAccess.STACK_NAME, cluster);
        long deadline = waits.deadline();
        return context.scheduler()
                .submit(
                        EksQuotas.CLOUDFORMATION,
                        () -> cfn.createStack(r -> r.stackName(IamUserStackAccess.STACK_NAME)
                                .templateBody(template)
                                .parameters(Parameter.builder()
                                        .parameterKey(UserStackTemplate.CLUSTER_PARAMETER)
                                        .parameterValue(cluster)
                                        .build())
                                .capabilities(Capability.CAPABILITY_NAMED_IAM)
                                // A failed stack deletes itself, so a later apply can create it again.
                                .onFailure(OnFailure.DELETE)
                                .clientRequestToken(token)))
                .thenApply(r -> r.stackId())
                .exceptionallyCompose(e -> AwsFailures.hasCode(e, "AlreadyExistsException")
                        ? existing(context, cluster)
                        // Any other error, read back: a retry of an attempt that landed may have been refused.
                        : ReadBack.confirmAsync(
                                context.scheduler(),
                                "CreateStack " + IamUserStackAccess.STACK_NAME,
                                e,
                                () -> ours(context, cluster)))
                // Accepted: a failure to see it finish is no proof that it did not.
                .thenCompose(stackId -> waitForStack(context, stackId, deadline)
                        .exceptionallyCompose(e -> CompletableFuture.failedFuture(
                                AwsFailures.isOutcomeUnknown(e)
                                        ? AwsFailures.unwrap(e)
                                        : new OutcomeUnknownException(
                                                AwsFailures.OUTCOME_UNKNOWN + ": the stack "
                                                        + IamUserStackAccess.STACK_NAME
                                                        + " was accepted, but waiting for it failed ("
                                                        + AwsFailures.describe(e) + "); " + ReadBack.FIX,
                                                AwsFailures.unwrap(e)))))
                .thenCompose(stack -> {
                    // A stack an interrupted apply created may have been updated since (see existing).
                    if (isUsable(stack.stackStatusAsString())) {
                        return CompletableFuture.completedFuture(stack);
                    }
                    // A failed creation deletes itself (OnFailure.DELETE): only DELETE_COMPLETE says nothing is left.
                    boolean gone = "DELETE_COMPLETE".equals(stack.stackStatusAsString());
                    return failureEvents(context, stack).thenCompose(events -> {
                        String ended = "the stack ended " + stack.stackStatusAsString() + ": " + events;
                        return CompletableFuture.<Stack>failedFuture(
                                gone
                                        ? new AgentException(ended)
                                        : new OutcomeUnknownException(
                                                AwsFailures.OUTCOME_UNKNOWN + ": " + ended
                                                        + "; some of its resources may remain: " + ReadBack.FIX,
                                                new IllegalStateException(stack.stackStatusAsString())));
                    });
                })
                .handle((stack, error) -> {
                    if (error == null) {
                        context.applied(
                                change,
                                "stack created: " + stack.stackId(),
                                new StackState.Applied(stack.stackId()).toJson());
                    } else {
                        AwsFailures.report(
                                context,
                                change,
                                "Creating the stack " + IamUserStackAccess.STACK_NAME + " failed: "
                                        + AwsFailures.describe(error),
                                error);
                    }
                    return null;
                });
    }

    /**
     * The stack that already exists where this change would create it: an apply killed after {@code CreateStack}
     * made it, and its resume finishes the change (waits for the stack) instead of failing. A stack for another
     * cluster is not ours.
     */
    private static CompletableFuture<String> existing(ApplyContext context, String cluster) {
        return stack(context).thenCompose(stack -> {
            if (stack.isPresent() && cluster.equals(UserStackTemplate.clusterOf(stack.get()))) {
                LOG.debug("The stack {} for {} exists already: waiting for it", IamUserStackAccess.STACK_NAME, cluster);
                return CompletableFuture.completedFuture(stack.get().stackId());
            }
            return CompletableFuture.failedFuture(new AgentException("the stack " + IamUserStackAccess.STACK_NAME
                    + " was created since planning"
                    + stack.map(x -> " for the cluster '" + UserStackTemplate.clusterOf(x) + "'")
                            .orElse("")
                    + ": plan again"));
        });
    }

    /** @return the id of the stack this change creates, when it exists for {@code cluster} */
    private static CompletableFuture<Optional<String>> ours(ApplyContext context, String cluster) {
        return stack(context)
                .thenApply(stack -> stack.filter(x -> cluster.equals(UserStackTemplate.clusterOf(x)))
                        .map(Stack::stackId));
    }

    /** @return CloudAEye's stack unless it does not exist (or was deleted) */
    private static CompletableFuture<Optional<Stack>> stack(ApplyContext context) {
        CloudFormationClient cfn = context.client(CloudFormationClient.class, CloudFormationClient::builder);
        return context.scheduler().submit(EksQuotas.CLOUDFORMATION, () -> {
            try {
                return cfn.describeStacks(r -> r.stackName(IamUserStackAccess.STACK_NAME)).stacks().stream()
                        .filter(x -> !"DELETE_COMPLETE".equals(x.stackStatusAsString()))
                        .findFirst();
            } catch (CloudFormationException e) {
                if (isMissingStack(e)) {
                    return Optional.<Stack>empty();
                }
                throw e;
            }
        });
    }

    /**
     * Reads the stack about to be deleted, at apply time, before anything of its deletion (its user's keys included) is
     * sent: someone may have turned on termination protection, or started a stack operation, since planning. Then
     * CloudFormation would refuse (or race) the DeleteStack after the keys were deleted (whose secrets cannot come
     * back) and the policy detached, so nothing may be deleted. A stack that is gone, or already being deleted (by an
     * interrupted apply of this change, whose resume waits for it), may be.
     *
     * @param context clients
     * @param stackId the stack's ARN, as planned
     * @return why the stack and its user's keys must not be deleted now, naming the fix; empty when they may be
     */
    static CompletableFuture<Optional<String>> refusal(ApplyContext context, String stackId) {
        return describe(context, stackId).thenApply(stack -> {
            if (stack == null || "DELETE_COMPLETE".equals(stack.stackStatusAsString())) {
                return Optional.<String>empty();
            }
            String status = stack.stackStatusAsString();
            String name = IamUserStackAccess.STACK_NAME;
            String kept = "nothing was deleted: the user " + IamUserStackAccess.USER_NAME + "'s access keys and its"
                    + " policy " + IamUserStackAccess.POLICY_NAME + " are left as they were";
            if (Boolean.TRUE.equals(stack.enableTerminationProtection())) {
                return Optional.of("The stack " + name + " (" + stackId + ", " + status + ") has termination"
                        + " protection enabled since planning, so CloudFormation would refuse to delete it; " + kept
                        + ". Disable it (aws cloudformation update-termination-protection"
                        + " --no-enable-termination-protection --stack-name " + name + "), then plan again.");
            }
            if (status.endsWith("_IN_PROGRESS") && !status.startsWith("DELETE_")) {
                return Optional.of("The stack " + name + " (" + stackId + ") is " + status + " since planning: a"
                        + " stack operation runs, and deleting the stack now would race it; " + kept + ": wait for"
                        + " it to finish (aws cloudformation describe-stacks --stack-name " + name
                        + "), then plan again.");
            }
            return Optional.<String>empty();
        });
    }

    /**
     * Detaches the stack's policy from its user, deletes the stack and waits for it. After an error of either call it
     * reads back ({@link ReadBack}): detached, or the stack gone or being deleted, is what the call was to do; a stack
     * still there after the detach landed is a change that landed in part, hence {@code UNKNOWN}, never {@code
     * FAILED}; so is a deletion that was accepted and then not seen to finish.
     */
    CompletableFuture<Void> deleteStack(Change change, ApplyContext context) {
        CloudFormationClient cfn = context.client(CloudFormationClient.class, CloudFormationClient::builder);
        IamClient iam = context.client(IamClient.class, IamClient::builder);
        StackState state = StackState.fromJson(change.targetState());
        String stackId = String.valueOf(state.stackId());
        String policyArn = String.valueOf(state.policyArn());
        String user = IamUserStackAccess.USER_NAME;
        context.starting(change);
        LOG.info("Deleting the stack {}", stackId);
        long deadline = waits.deadline();
        return context.scheduler()
                .submit(EksQuotas.IAM, () -> {
                    try {
                        // CloudFormation would detach it too; detaching first makes deletion work everywhere.
                        iam.detachUserPolicy(r -> r.userName(user).policyArn(policyArn));
                        return true;
                    } catch (NoSuchEntityException alreadyDetached) {
                        LOG.debug("The policy {} was not attached to {}", policyArn, user);
                        return false;
                    }
                })
                .exceptionallyCompose(e -> ReadBack.confirmAsync(
                        context.scheduler(),
                        "DetachUserPolicy of " + policyArn + " from the user " + user,
                        e,
                        () -> detached(context, policyArn)))
                .thenCompose(detached -> context.scheduler()
                        .submit(EksQuotas.CLOUDFORMATION, () -> cfn.deleteStack(r -> r.stackName(stackId)))
                        .thenApply(r -> stackId)
                        .exceptionallyCompose(e -> ReadBack.<String>confirmAsync(
                                context.scheduler(), "DeleteStack " + stackId, e, () -> deleting(context, stackId)))
                        .exceptionallyCompose(refused -> detached && !AwsFailures.isOutcomeUnknown(refused)
                                ? reattachAfterRefusal(context, policyArn, stackId, refused)
                                : CompletableFuture.failedFuture(
                                        detached
                                                ? landedInPart(refused, policyArn, stackId, null)
                                                : AwsFailures.unwrap(refused))))
                .thenCompose(r -> waitForStack(context, stackId, deadline)
                        .exceptionallyCompose(e -> CompletableFuture.failedFuture(new OutcomeUnknownException(
                                AwsFailures.OUTCOME_UNKNOWN + ": the deletion of the stack " + stackId
                                        + " was accepted, but waiting for it failed (" + AwsFailures.describe(e)
                                        + "); " + ReadBack.FIX,
                                AwsFailures.unwrap(e)))))
                .thenCompose(stack -> {
                    if (stack == null || "DELETE_COMPLETE".equals(stack.stackStatusAsString())) {
                        return leftPolicy(context, policyArn);
                    }
                    // Some of its resources (and the policy's attachment) may be gone: landed in part.
                    return failureEvents(context, stack)
                            .thenCompose(events ->
                                    CompletableFuture.<@Nullable Throwable>failedFuture(new OutcomeUnknownException(
                                            AwsFailures.OUTCOME_UNKNOWN + ": the stack ended "
                                                    + stack.stackStatusAsString() + ": " + events
                                                    + "; some of its resources may be deleted: fix the cause and"
                                                    + " resume (or uninstall again)",
                                            new IllegalStateException(stack.stackStatusAsString()))));
                })
                .handle((left, error) -> {
                    if (error == null && left == null) {
                        context.applied(change, "stack deleted with its user and policy", null);
                    } else if (error == null) {
                        // The stack is gone (it landed), so this is not FAILED: its policy is left behind.
                        context.unknown(
                                change,
                                "The stack " + IamUserStackAccess.STACK_NAME + " is deleted, but its managed policy "
                                        + policyArn + " is still there and could not be deleted: "
                                        + AwsFailures.describe(left) + ". Delete it (aws iam delete-policy"
                                        + " --policy-arn " + policyArn + ").",
                                left,
                                null);
                    } else {
                        AwsFailures.report(
                                context,
                                change,
                                "Deleting the stack " + IamUserStackAccess.STACK_NAME + " failed: "
                                        + AwsFailures.describe(error),
                                error);
                    }
                    return null;
                });
    }

    /**
     * DeleteStack was refused (the stack is still there) after the policy's detach landed: re-attaches the policy, so
     * that the refusal leaves the user's access as it was and the change is FAILED; when the re-attach fails too, the
     * change landed in part.
     *
     * @return always a failed future: the refusal, or the outcome-unknown error naming the detached policy
     */
    private static CompletableFuture<String> reattachAfterRefusal(
            ApplyContext context, String policyArn, String stackId, Throwable refused) {
        Throwable cause = AwsFailures.unwrap(refused);
        return attachPolicy(context, policyArn).handle((v, reattachError) -> {
            if (reattachError != null) {
                throw new CompletionException(landedInPart(refused, policyArn, stackId, reattachError));
            }
            LOG.info("DeleteStack of {} was refused: re-attached the policy {} it had detached", stackId, policyArn);
            throw new CompletionException(new AgentException(
                    "DeleteStack was refused (" + AwsFailures.describe(cause) + "); the policy " + policyArn
                            + " it had detached first is attached again, so the stack " + stackId
                            + " and the user's access are as before: fix the cause and uninstall again",
                    cause));
        });
    }

    /**
     * DeleteStack refused (or not confirmed) after the policy's detach landed, and the policy not re-attached: the
     * uninstall changed something, so it is not FAILED.
     *
     * @param reattachError why re-attaching the policy failed; null when it was not tried
     * @return the refusal as an outcome-unknown error naming the detached policy (as it is when it already is one)
     */
    private static Throwable landedInPart(
            Throwable refused, String policyArn, String stackId, @Nullable Throwable reattachError) {
        if (AwsFailures.isOutcomeUnknown(refused)) {
            return AwsFailures.unwrap(refused);
        }
        return new OutcomeUnknownException(
                AwsFailures.OUTCOME_UNKNOWN + ": the policy " + policyArn + " was detached from the user "
                        + IamUserStackAccess.USER_NAME + ", but DeleteStack was refused ("
                        + AwsFailures.describe(refused) + ") and the stack " + stackId + " is still there"
                        + (reattachError == null
                                ? ""
                                : "; re-attaching the policy failed (" + AwsFailures.describe(reattachError) + ")")
                        + ": fix the cause and resume (or uninstall again)",
                AwsFailures.unwrap(refused));
    }

    /**
     * Attaches the stack's policy to its user again (IAM accepts attaching an attached policy, so retries are safe).
     * After an error it reads back whether the policy is attached.
     */
    static CompletableFuture<Void> attachPolicy(ApplyContext context, String policyArn) {
        IamClient iam = context.client(IamClient.class, IamClient::builder);
        return context.scheduler()
                .submit(
                        EksQuotas.IAM,
                        () -> iam.attachUserPolicy(
                                r -> r.userName(IamUserStackAccess.USER_NAME).policyArn(policyArn)))
                .thenApply(r -> true)
                .exceptionallyCompose(e -> ReadBack.confirmAsync(
                        context.scheduler(),
                        "AttachUserPolicy of " + policyArn + " to the user " + IamUserStackAccess.USER_NAME,
                        e,
                        () -> detached(context, policyArn)
                                .thenApply(gone -> gone.isPresent() ? Optional.<Boolean>empty() : Optional.of(true))))
                .thenApply(attached -> null);
    }

    /**
     * Re-attaches the stack's policy to its user, which a half-done uninstall detached (the change {@link
     * IamUserStackPlanner} plans as an UPDATE of the stack).
     */
    CompletableFuture<Void> reattachPolicy(Change change, ApplyContext context) {
        String policyArn =
                String.valueOf(StackState.fromJson(change.targetState()).policyArn());
        context.starting(change);
        LOG.info("Re-attaching the policy {} to the user {}", policyArn, IamUserStackAccess.USER_NAME);
        return attachPolicy(context, policyArn).handle((v, error) -> {
            if (error == null) {
                context.applied(change, "policy attached to " + IamUserStackAccess.USER_NAME + " again", null);
            } else {
                AwsFailures.report(
                        context,
                        change,
                        "Re-attaching the policy " + policyArn + " failed: " + AwsFailures.describe(error),
                        error);
            }
            return null;
        });
    }

    /**
     * @param context clients
     * @param policyArn the stack's policy
     * @return whether the policy is attached to CloudAEye's user (false when the user does not exist)
     */
    static boolean policyAttached(TargetContext context, String policyArn) {
        IamClient iam = context.client(IamClient.class, IamClient::builder);
        try {
            return context
                    .scheduler()
                    .call(
                            EksQuotas.IAM,
                            () -> iam.listAttachedUserPolicies(r -> r.userName(IamUserStackAccess.USER_NAME)))
                    .attachedPolicies()
                    .stream()
                    .anyMatch(p -> policyArn.equals(p.policyArn()));
        } catch (NoSuchEntityException noUser) {
            return false;
        }
    }

    /** @return true (detached) when the user no longer has the policy attached or no longer exists, else empty */
    private static CompletableFuture<Optional<Boolean>> detached(ApplyContext context, String policyArn) {
        IamClient iam = context.client(IamClient.class, IamClient::builder);
        return context.scheduler().submit(EksQuotas.IAM, () -> {
            try {
                boolean attached = iam
                        .listAttachedUserPolicies(r -> r.userName(IamUserStackAccess.USER_NAME))
                        .attachedPolicies()
                        .stream()
                        .anyMatch(p -> policyArn.equals(p.policyArn()));
                return attached ? Optional.<Boolean>empty() : Optional.of(true);
            } catch (NoSuchEntityException noUser) {
                return Optional.of(true);
            }
        });
    }

    /** @return the stack's id when it is gone or being deleted (a DeleteStack landed), else empty */
    private static CompletableFuture<Optional<String>> deleting(ApplyContext context, String stackId) {
        return describe(context, stackId)
                .thenApply(stack -> stack == null || stack.stackStatusAsString().startsWith("DELETE_")
                        ? Optional.of(stackId)
                        : Optional.<String>empty());
    }

    /**
     * Checks, once the stack is deleted, that the managed policy it made is gone too, and deletes it when it is not:
     * CloudFormation deletes it with the stack, but an emulator (moto) leaves it behind, and a later plan then refuses
     * to create the stack again over it. The policy is the stack's own: planning creates the stack only when no such
     * policy exists.
     *
     * @return null when the policy is gone; the error that kept it from being deleted otherwise
     */
    private static CompletableFuture<@Nullable Throwable> leftPolicy(ApplyContext context, String policyArn) {
        IamClient iam = context.client(IamClient.class, IamClient::builder);
        return context.scheduler()
                .submit(EksQuotas.IAM, () -> {
                    try {
                        iam.getPolicy(r -> r.policyArn(policyArn));
                    } catch (NoSuchEntityException gone) {
                        return false;
                    }
                    LOG.info("The stack's managed policy {} outlived the stack: deleting it", policyArn);
                    try {
                        iam.deletePolicy(r -> r.policyArn(policyArn));
                    } catch (NoSuchEntityException gone) {
                        LOG.debug("The policy {} was deleted meanwhile", policyArn);
                    }
                    return true;
                })
                .handle((deleted, error) -> error == null ? null : AwsFailures.unwrap(error));
    }

    /** Polls DescribeStacks until the stack is no longer in progress; null when it no longer exists. */
    private CompletableFuture<@Nullable Stack> waitForStack(ApplyContext context, String stackId, long deadline) {
        return describe(context, stackId).thenCompose(stack -> {
            if (stack == null || !stack.stackStatusAsString().endsWith("_IN_PROGRESS")) {
                return CompletableFuture.completedFuture(stack);
            }
            if (Waits.passed(deadline)) {
                return CompletableFuture.failedFuture(new AgentException("the stack was still "
                        + stack.stackStatusAsString() + " after " + waits.timeout()
                        + "; it may still finish: check it in the CloudFormation console, then plan again"));
            }
            return context.scheduler()
                    .after(waits.pollInterval())
                    .thenCompose(v -> waitForStack(context, stackId, deadline));
        });
    }

    /** @return the stack, DELETE_COMPLETE included; null when it does not exist */
    private static CompletableFuture<@Nullable Stack> describe(ApplyContext context, String stackId) {
        CloudFormationClient cfn = context.client(CloudFormationClient.class, CloudFormationClient::builder);
        return context.scheduler().submit(EksQuotas.CLOUDFORMATION, () -> {
            try {
                return cfn.describeStacks(r -> r.stackName(stackId)).stacks().stream()
                        .findFirst()
                        .orElse(null);
            } catch (CloudFormationException e) {
                if (isMissingStack(e)) {
                    return null;
                }
                throw e;
            }
        });
    }

    private static CompletableFuture<String> failureEvents(ApplyContext context, Stack stack) {
        CloudFormationClient cfn = context.client(CloudFormationClient.class, CloudFormationClient::builder);
        return context.scheduler()
                .submit(EksQuotas.CLOUDFORMATION, () -> cfn.describeStackEvents(r -> r.stackName(stack.stackId())))
                .thenApply(r -> {
                    String failures = r.stackEvents().stream()
                            .filter(e -> isFailure(e.resourceStatus()))
                            .map(UserStackLifecycle::event)
                            .collect(Collectors.joining("; "));
                    return failures.isEmpty()
                            ? Optional.ofNullable(stack.stackStatusReason()).orElse("no failure event")
                            : failures;
                });
    }

    private static boolean isFailure(@Nullable ResourceStatus status) {
        return status != null && status.toString().endsWith("_FAILED");
    }

    private static String event(StackEvent e) {
        return e.logicalResourceId() + " " + e.resourceStatusAsString()
                + (e.resourceStatusReason() == null ? "" : " (" + e.resourceStatusReason() + ")");
    }

    static Optional<Stack> describeStack(TargetContext context, String name) {
        CloudFormationClient cfn = context.client(CloudFormationClient.class, CloudFormationClient::builder);
        try {
            return context
                    .scheduler()
                    .call(EksQuotas.CLOUDFORMATION, () -> cfn.describeStacks(r -> r.stackName(name)))
                    .stacks()
                    .stream()
                    .filter(s -> !"DELETE_COMPLETE".equals(s.stackStatusAsString()))
                    .findFirst();
        } catch (CloudFormationException e) {
            if (isMissingStack(e)) {
                return Optional.empty();
            }
            throw e;
        }
    }

    private static boolean isMissingStack(Throwable e) {
        return AwsFailures.hasCode(e, "ValidationError")
                && String.valueOf(e.getMessage()).contains("does not exist");
    }
}
