package com.cloudaeye.agent.eks.internal.access;

import com.cloudaeye.agent.AgentException;
import com.cloudaeye.agent.AttributeChange;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.Secret;
import com.cloudaeye.agent.eks.AccessKey;
import com.cloudaeye.agent.eks.EksTarget;
import com.cloudaeye.agent.eks.internal.ClusterRef;
import com.cloudaeye.agent.eks.internal.Clusters;
import com.cloudaeye.agent.eks.internal.EksComponent;
import com.cloudaeye.agent.eks.internal.EksQuotas;
import com.cloudaeye.agent.eks.internal.Waits;
import com.cloudaeye.agent.spi.ApplyContext;
import com.cloudaeye.agent.spi.CallScheduler;
import com.cloudaeye.agent.spi.TargetContext;
import com.cloudaeye.agent.spi.TargetPlan;
import com.cloudaeye.agent.spi.support.AwsFailures;
import com.cloudaeye.agent.spi.support.Json;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
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
import software.amazon.awssdk.services.eks.model.Cluster;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.iam.model.AccessKeyMetadata;
import software.amazon.awssdk.services.iam.model.CreateAccessKeyResponse;
import software.amazon.awssdk.services.iam.model.NoSuchEntityException;

/**
 * CloudAEye's access as the original script made it: the CloudFormation stack {@code CloudAEyeServiceAccountStack}
 * with the IAM user {@code CloudAEyeServiceAccount} and the managed policy {@code CloudAEyeServiceAccountPolicy}
 * (read-only on this cluster's log group, attached through the policy's {@code Users}), and an access key created
 * through IAM whose secret goes only to the caller's sink. The stack has no outputs, so DescribeStacks never shows a
 * secret.
 */
public final class IamUserStackAccess implements EksComponent {
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
    /** The key change's target state: the user's key ids when it was planned. */
    private static final String KEYS_BEFORE = "keysBefore";
    /** IAM's limit of access keys per user. */
    public static final int KEY_LIMIT = 2;

    private static final Logger LOG = LoggerFactory.getLogger(IamUserStackAccess.class);
    private static final String CLUSTER_PARAMETER = "ClusterName";

    private final @Nullable Consumer<AccessKey> sink;
    private final @Nullable String reuseKeyId;
    private final Waits waits;

    /**
     * @param sink where a new key goes; null when applying a saved plan without one (creating a key then fails)
     * @param reuseKeyId the id of a key the caller still holds, or null
     * @param waits stack polling
     */
    public IamUserStackAccess(@Nullable Consumer<AccessKey> sink, @Nullable String reuseKeyId, Waits waits) {
        this.sink = sink;
        this.reuseKeyId = reuseKeyId;
        this.waits = waits;
    }

    @Override
    public Set<String> resourceTypes() {
        return Set.of(STACK_TYPE, KEY_TYPE);
    }

    // ---------------------------------------------------------------- planning

    @Override
    public TargetPlan plan(Cluster cluster, TargetContext context) {
        ClusterRef ref = ClusterRef.of(cluster);
        Optional<Stack> stack = describeStack(context, STACK_NAME);
        Optional<List<AccessKeyMetadata>> keys = listKeys(context);
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
                        .addAllPermissions(createPermissions(ref))
                        .addWarnings(TradeOff.USER_MODE)
                        .targetState(Json.object().put("cluster", ref.name()).put("template", template(ref)));
            }
        } else {
            String owner = clusterOf(stack.get());
            String status = stack.get().stackStatusAsString();
            if (!ref.name().equals(owner)) {
                stackChange
                        .action(ChangeAction.SKIP)
                        .reason("The stack " + STACK_NAME + " gives CloudAEye access to the cluster '" + owner
                                + "', not this one: its user and policy names are fixed, so one account holds one."
                                + " Use the cross-account role mode for this cluster.");
            } else if (status.endsWith("_COMPLETE") && !status.contains("ROLLBACK") && !status.startsWith("DELETE")) {
                stackChange.action(ChangeAction.NO_OP).reason("The stack exists (" + status + ").");
            } else {
                stackChange
                        .action(ChangeAction.SKIP)
                        .reason("The stack is " + status + ": "
                                + (status.endsWith("IN_PROGRESS")
                                        ? "wait for it to finish, then plan again."
                                        : "delete it (aws cloudformation delete-stack --stack-name " + STACK_NAME
                                                + "), then plan again."));
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
        return new TargetPlan(changes, reads, List.of(TradeOff.NOTE));
    }

    private Change planKey(ClusterRef ref, List<AccessKeyMetadata> keys, boolean userExists) {
        String userArn = ref.iamArn("user/" + USER_NAME);
        Change.Builder change = Change.builder()
                .target(EksTarget.NAME)
                .resourceType(KEY_TYPE)
                .resourceId(userArn)
                .targetState(Json.object().put("user", USER_NAME));
        List<String> ids =
                keys.stream().map(AccessKeyMetadata::accessKeyId).sorted().collect(Collectors.toList());
        ArrayNode before = Json.array();
        ids.forEach(before::add);
        ObjectNode state = Json.object().put("user", USER_NAME);
        state.set(KEYS_BEFORE, before);
        change.targetState(state);
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
        return planRemoval(ref, context, "uninstall");
    }

    private TargetPlan planRemoval(ClusterRef ref, TargetContext context, String why) {
        Optional<Stack> stack = describeStack(context, STACK_NAME);
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
        String owner = clusterOf(stack.get());
        if (!ref.name().equals(owner)) {
            return new TargetPlan(
                    List.of(stackChange
                            .action(ChangeAction.SKIP)
                            .reason("The stack " + STACK_NAME + " belongs to the cluster '" + owner + "': left alone.")
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
                        // CloudFormation deletes the stack's resources with the caller's credentials:
                        Permission.of("iam:DeleteUser", userArn),
                        Permission.of("iam:DeletePolicy", policyArn),
                        Permission.of("iam:ListPolicyVersions", policyArn))
                .targetState(Json.object()
                        .put("cluster", ref.name())
                        .put("stackId", stack.get().stackId())
                        .put("policyArn", policyArn))
                .build());
        List<AccessKeyMetadata> keys = listKeys(context).orElse(List.of());
        if (!keys.isEmpty()) {
            ArrayNode ids = Json.array();
            keys.stream().map(AccessKeyMetadata::accessKeyId).sorted().forEach(ids::add);
            ObjectNode state = Json.object().put("user", USER_NAME);
            state.set("keys", ids);
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
                    .targetState(state)
                    .build());
        }
        return new TargetPlan(changes, reads);
    }

    @Override
    public TargetPlan planRollback(List<Change> applied, TargetContext context) {
        // Both the stack and its key are removed together: the key dies with the user anyway.
        for (Change c : applied) {
            if (c.resourceType().equals(STACK_TYPE) && c.action() == ChangeAction.CREATE) {
                Cluster cluster = Clusters.describe(
                        context, c.targetState().path("cluster").asText());
                return planRemoval(ClusterRef.of(cluster), context, "rollback of the install");
            }
        }
        List<Change> skipped = new ArrayList<>();
        for (Change c : applied) {
            skipped.add(Change.builder()
                    .from(c)
                    .action(ChangeAction.SKIP)
                    .permissions(List.of())
                    .reason("The install only added an access key to an existing user, and which of the user's keys"
                            + " it made is not recorded in the plan: delete the key CloudAEye no longer needs with"
                            + " aws iam delete-access-key.")
                    .build());
        }
        return new TargetPlan(skipped, List.of());
    }

    // ---------------------------------------------------------------- applying

    @Override
    public void apply(List<Change> changes, ApplyContext context) {
        // Order matters: create the stack before the key; delete the keys before the stack (and its user).
        List<Change> ordered = new ArrayList<>(changes);
        ordered.sort(Comparator.comparingInt(IamUserStackAccess::rank));
        for (Change change : ordered) {
            if (context.shouldStop()) {
                return;
            }
            if (change.resourceType().equals(STACK_TYPE)) {
                CallScheduler.join(
                        change.action() == ChangeAction.DELETE
                                ? deleteStack(change, context)
                                : createStack(change, context));
            } else if (change.action() == ChangeAction.DELETE) {
                deleteKeys(change, context);
            } else {
                createKey(change, context);
            }
        }
    }

    private static int rank(Change c) {
        boolean stack = c.resourceType().equals(STACK_TYPE);
        if (c.action() == ChangeAction.DELETE) {
            return stack ? 1 : 0;
        }
        return stack ? 0 : 1;
    }

    private CompletableFuture<Void> createStack(Change change, ApplyContext context) {
        CloudFormationClient cfn = context.client(CloudFormationClient.class, CloudFormationClient::builder);
        String template = change.targetState().path("template").asText();
        String cluster = change.targetState().path("cluster").asText();
        // One token per apply: the scheduler's retries of a lost response then cannot create a second stack.
        String token = "cloudaeye-" + UUID.randomUUID();
        context.starting(change);
        LOG.info("Creating the stack {} for cluster {}", STACK_NAME, cluster);
        long deadline = waits.deadline();
        return context.scheduler()
                .submit(
                        EksQuotas.CLOUDFORMATION,
                        () -> cfn.createStack(r -> r.stackName(STACK_NAME)
                                .templateBody(template)
                                .parameters(Parameter.builder()
                                        .parameterKey(CLUSTER_PARAMETER)
                                        .parameterValue(cluster)
                                        .build())
                                .capabilities(Capability.CAPABILITY_NAMED_IAM)
                                // A failed stack deletes itself, so a later apply can create it again.
                                .onFailure(OnFailure.DELETE)
                                .clientRequestToken(token)))
                .thenApply(r -> r.stackId())
                .exceptionallyCompose(e -> AwsFailures.hasCode(e, "AlreadyExistsException")
                        ? existing(context, cluster)
                        : CompletableFuture.failedFuture(AwsFailures.unwrap(e)))
                .thenCompose(stackId -> waitForStack(context, stackId, deadline))
                .thenCompose(stack -> {
                    if ("CREATE_COMPLETE".equals(stack.stackStatusAsString())) {
                        return CompletableFuture.completedFuture(stack);
                    }
                    return failureEvents(context, stack)
                            .thenCompose(events -> CompletableFuture.failedFuture(new AgentException(
                                    "the stack ended " + stack.stackStatusAsString() + ": " + events)));
                })
                .handle((stack, error) -> {
                    if (error == null) {
                        context.applied(
                                change,
                                "stack created: " + stack.stackId(),
                                Json.object().put("stackId", stack.stackId()));
                    } else {
                        AwsFailures.report(
                                context,
                                change,
                                "Creating the stack " + STACK_NAME + " failed: " + AwsFailures.describe(error),
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
        CloudFormationClient cfn = context.client(CloudFormationClient.class, CloudFormationClient::builder);
        return context.scheduler()
                .submit(EksQuotas.CLOUDFORMATION, () -> {
                    try {
                        return cfn.describeStacks(r -> r.stackName(STACK_NAME)).stacks().stream()
                                .filter(x -> !"DELETE_COMPLETE".equals(x.stackStatusAsString()))
                                .findFirst();
                    } catch (CloudFormationException e) {
                        if (isMissingStack(e)) {
                            return Optional.<Stack>empty();
                        }
                        throw e;
                    }
                })
                .thenCompose(stack -> {
                    if (stack.isPresent() && cluster.equals(clusterOf(stack.get()))) {
                        LOG.debug("The stack {} for {} exists already: waiting for it", STACK_NAME, cluster);
                        return CompletableFuture.completedFuture(stack.get().stackId());
                    }
                    return CompletableFuture.failedFuture(new AgentException("the stack " + STACK_NAME
                            + " was created since planning"
                            + stack.map(x -> " for the cluster '" + clusterOf(x) + "'")
                                    .orElse("")
                            + ": plan again"));
                });
    }

    private CompletableFuture<Void> deleteStack(Change change, ApplyContext context) {
        CloudFormationClient cfn = context.client(CloudFormationClient.class, CloudFormationClient::builder);
        IamClient iam = context.client(IamClient.class, IamClient::builder);
        String stackId = change.targetState().path("stackId").asText();
        String policyArn = change.targetState().path("policyArn").asText();
        context.starting(change);
        LOG.info("Deleting the stack {}", stackId);
        long deadline = waits.deadline();
        return context.scheduler()
                .submit(EksQuotas.IAM, () -> {
                    try {
                        // CloudFormation would detach it too; detaching first makes deletion work everywhere.
                        iam.detachUserPolicy(r -> r.userName(USER_NAME).policyArn(policyArn));
                    } catch (NoSuchEntityException alreadyDetached) {
                        LOG.debug("The policy {} was not attached to {}", policyArn, USER_NAME);
                    }
                    return null;
                })
                .thenCompose(v -> context.scheduler()
                        .submit(EksQuotas.CLOUDFORMATION, () -> cfn.deleteStack(r -> r.stackName(stackId))))
                .thenCompose(r -> waitForStack(context, stackId, deadline))
                .thenCompose(stack -> {
                    if (stack == null || "DELETE_COMPLETE".equals(stack.stackStatusAsString())) {
                        return CompletableFuture.completedFuture((Void) null);
                    }
                    return failureEvents(context, stack)
                            .thenCompose(events -> CompletableFuture.<Void>failedFuture(new AgentException(
                                    "the stack ended " + stack.stackStatusAsString() + ": " + events)));
                })
                .handle((v, error) -> {
                    if (error == null) {
                        context.applied(change, "stack deleted with its user and policy", null);
                    } else {
                        AwsFailures.report(
                                context,
                                change,
                                "Deleting the stack " + STACK_NAME + " failed: " + AwsFailures.describe(error),
                                error);
                    }
                    return null;
                });
    }

    /** Polls DescribeStacks until the stack is no longer in progress; null when it no longer exists. */
    private CompletableFuture<@Nullable Stack> waitForStack(ApplyContext context, String stackId, long deadline) {
        CloudFormationClient cfn = context.client(CloudFormationClient.class, CloudFormationClient::builder);
        return context.scheduler()
                .submit(EksQuotas.CLOUDFORMATION, () -> {
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
                })
                .thenCompose(stack -> {
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

    private static CompletableFuture<String> failureEvents(ApplyContext context, Stack stack) {
        CloudFormationClient cfn = context.client(CloudFormationClient.class, CloudFormationClient::builder);
        return context.scheduler()
                .submit(EksQuotas.CLOUDFORMATION, () -> cfn.describeStackEvents(r -> r.stackName(stack.stackId())))
                .thenApply(r -> {
                    String failures = r.stackEvents().stream()
                            .filter(e -> isFailure(e.resourceStatus()))
                            .map(IamUserStackAccess::event)
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

    private void createKey(Change change, ApplyContext context) {
        Consumer<AccessKey> target = sink;
        if (target == null) {
            context.failed(
                    change,
                    "No accessKeySink is configured, so a new access key's secret would have nowhere"
                            + " to go: apply with an EksTarget built with .cloudAEyeAccess(a -> a.iamUserStack()"
                            + ".accessKeySink(...)).",
                    null);
            return;
        }
        IamClient iam = context.client(IamClient.class, IamClient::builder);
        List<AccessKeyMetadata> keys;
        try {
            keys = context.scheduler()
                    .call(
                            EksQuotas.IAM,
                            () -> iam.listAccessKeys(r -> r.userName(USER_NAME)).accessKeyMetadata());
        } catch (RuntimeException e) {
            context.failed(
                    change, "Listing the access keys of " + USER_NAME + " failed: " + AwsFailures.describe(e), e);
            return;
        }
        List<String> ids =
                keys.stream().map(AccessKeyMetadata::accessKeyId).sorted().collect(Collectors.toList());
        List<String> planned = keysBefore(change);
        boolean started = false;
        if (planned != null && !planned.containsAll(ids)) {
            // Only the installer adds keys to CloudAEye's user, and only through this change: a key made since
            // planning is this change's own, from an apply killed between CreateAccessKey and its answer (resumed
            // now). Its secret never reached the sink and never will: delete it and make the key the plan promised.
            context.starting(change);
            started = true;
            try {
                context.scheduler().call(EksQuotas.IAM, () -> deleteKeysNotIn(iam, planned));
            } catch (RuntimeException e) {
                AwsFailures.report(
                        context,
                        change,
                        "Deleting the access key an interrupted apply made for " + USER_NAME + " (its secret is lost)"
                                + " failed: " + AwsFailures.describe(e),
                        e);
                return;
            }
            ids.retainAll(planned);
        }
        if (reuseKeyId != null && ids.contains(reuseKeyId)) {
            context.skipped(change, "The user has the key " + reuseKeyId + " that CloudAEye holds: no new key.");
            return;
        }
        if (ids.size() >= KEY_LIMIT) {
            context.skipped(
                    change,
                    "The user has " + ids.size() + " access keys (" + String.join(", ", ids)
                            + ") since planning, IAM's limit: not creating a third.");
            return;
        }
        if (!ids.isEmpty() && reuseKeyId == null) {
            context.skipped(
                    change,
                    "The user got the access key " + String.join(", ", ids) + " since planning: plan"
                            + " again and say with reuseAccessKey(id) whether CloudAEye holds it.");
            return;
        }
        if (!started) {
            context.starting(change);
        }
        CreateAccessKeyResponse created;
        try {
            created = createKeyOnce(iam, context, ids);
        } catch (RuntimeException e) {
            AwsFailures.report(
                    context,
                    change,
                    "Creating an access key for " + USER_NAME + " failed: " + AwsFailures.describe(e),
                    e);
            return;
        }
        String keyId = created.accessKey().accessKeyId();
        LOG.info("Created the access key {} for {}", keyId, USER_NAME);
        AccessKey key = AccessKey.builder()
                .userName(USER_NAME)
                .accessKeyId(keyId)
                .secretAccessKey(Secret.of(created.accessKey().secretAccessKey()))
                .build();
        try {
            target.accept(key);
        } catch (RuntimeException e) {
            // The sink's exception may quote the key: neither its message nor the exception itself is passed on.
            context.failed(
                    change,
                    "The accessKeySink threw " + e.getClass().getName() + " while receiving the key "
                            + keyId
                            + ", whose secret AWS shows only once: delete it (aws iam delete-access-key --user-name "
                            + USER_NAME + " --access-key-id " + keyId + ") and apply again.",
                    null);
            return;
        }
        context.applied(
                change,
                "created the access key " + keyId + " and handed it to the accessKeySink",
                Json.object().put("accessKeyId", keyId));
    }

    /** @return the user's key ids when the change was planned; null for a plan made before they were recorded */
    private static @Nullable List<String> keysBefore(Change change) {
        JsonNode before = change.targetState().get(KEYS_BEFORE);
        if (before == null || !before.isArray()) {
            return null;
        }
        List<String> ids = new ArrayList<>();
        before.forEach(id -> ids.add(id.asText()));
        return ids;
    }

    /**
     * CreateAccessKey takes no idempotency token, and a key's secret is only in its answer: a key whose answer was
     * lost is of no use to anyone and takes one of the user's two key slots. So before a retry, and after a last
     * attempt that got no answer, the keys the user did not have just before this apply ({@code before}) are deleted:
     * the user belongs to CloudAEye's stack, and only this apply adds keys to it.
     */
    private static CreateAccessKeyResponse createKeyOnce(IamClient iam, ApplyContext context, List<String> before) {
        AtomicBoolean sent = new AtomicBoolean();
        try {
            return context.scheduler().call(EksQuotas.IAM, () -> {
                if (sent.getAndSet(true)) {
                    deleteKeysNotIn(iam, before);
                }
                return iam.createAccessKey(r -> r.userName(USER_NAME));
            });
        } catch (RuntimeException e) {
            if (!AwsFailures.isTransient(e)) {
                throw e;
            }
            try {
                context.scheduler().call(EksQuotas.IAM, () -> deleteKeysNotIn(iam, before));
            } catch (RuntimeException cleanup) {
                throw AwsFailures.outcomeUnknown(
                        "CreateAccessKey",
                        e,
                        cleanup,
                        "delete any key of " + USER_NAME + " other than "
                                + (before.isEmpty() ? "none" : String.join(", ", before))
                                + " (its secret is lost) and apply again");
            }
            throw e;
        }
    }

    /** @return the keys deleted: those of the user that are not in {@code keep} */
    private static List<String> deleteKeysNotIn(IamClient iam, List<String> keep) {
        List<String> deleted = new ArrayList<>();
        for (AccessKeyMetadata key :
                iam.listAccessKeys(r -> r.userName(USER_NAME)).accessKeyMetadata()) {
            String id = key.accessKeyId();
            if (!keep.contains(id)) {
                LOG.warn(
                        "Deleting the access key {} of {}: an attempt whose answer was lost created it, and its"
                                + " secret is gone",
                        id,
                        USER_NAME);
                iam.deleteAccessKey(r -> r.userName(USER_NAME).accessKeyId(id));
                deleted.add(id);
            }
        }
        return deleted;
    }

    private static void deleteKeys(Change change, ApplyContext context) {
        IamClient iam = context.client(IamClient.class, IamClient::builder);
        JsonNode ids = change.targetState().path("keys");
        context.starting(change);
        List<String> deleted = new ArrayList<>();
        try {
            for (JsonNode id : ids) {
                try {
                    context.scheduler()
                            .call(
                                    EksQuotas.IAM,
                                    () -> iam.deleteAccessKey(
                                            r -> r.userName(USER_NAME).accessKeyId(id.asText())));
                    LOG.info("Deleted the access key {} of {}", id.asText(), USER_NAME);
                } catch (NoSuchEntityException gone) {
                    LOG.debug("The access key {} was already deleted", id.asText());
                }
                deleted.add(id.asText());
            }
        } catch (RuntimeException e) {
            if (deleted.isEmpty()) {
                AwsFailures.report(
                        context,
                        change,
                        "Deleting the access keys of " + USER_NAME + " failed: " + AwsFailures.describe(e),
                        e);
            } else {
                context.unknown(
                        change,
                        "Deleting the access keys of " + USER_NAME + " failed after it deleted " + deleted + ": "
                                + AwsFailures.describe(e) + "; plan again to see where it stands",
                        e,
                        null);
            }
            return;
        }
        context.applied(change, "deleted the access keys " + String.join(", ", deleted), null);
    }

    // ---------------------------------------------------------------- helpers

    private static Change.Builder stackBase(ClusterRef ref, Optional<Stack> stack) {
        return Change.builder()
                .target(EksTarget.NAME)
                .resourceType(STACK_TYPE)
                // The stack's ARN once it exists; before that, the ARN pattern of its name.
                .resourceId(stack.map(Stack::stackId).orElse(ref.stackArnPattern(STACK_NAME)));
    }

    private static List<Permission> createPermissions(ClusterRef ref) {
        String stacks = ref.stackArnPattern(STACK_NAME);
        String userArn = ref.iamArn("user/" + USER_NAME);
        String policyArn = ref.iamArn("policy/" + POLICY_NAME);
        return List.of(
                Permission.of("cloudformation:CreateStack", stacks),
                Permission.of("cloudformation:DescribeStacks", stacks),
                // Failure events are read only when the creation fails.
                Permission.of("cloudformation:DescribeStackEvents", stacks),
                // CloudFormation creates the stack's resources with the caller's credentials:
                Permission.of("iam:CreateUser", userArn),
                Permission.of("iam:GetUser", userArn),
                Permission.of("iam:CreatePolicy", policyArn),
                Permission.of("iam:GetPolicy", policyArn),
                Permission.of("iam:AttachUserPolicy", userArn));
    }

    /**
     * @param ref the cluster
     * @return the stack template: the user and the managed policy, attached through the policy's {@code Users} (the
     *     one way moto honours), no outputs
     */
    static String template(ClusterRef ref) {
        ObjectNode t = Json.object().put("AWSTemplateFormatVersion", "2010-09-09");
        t.put(
                "Description",
                "CloudAEye's read-only access to the EKS control-plane logs of one cluster."
                        + " Made by the CloudAEye agent installer.");
        t.putObject("Parameters")
                .putObject(CLUSTER_PARAMETER)
                .put("Type", "String")
                .put("Description", "The EKS cluster whose control-plane logs CloudAEye reads");
        ObjectNode resources = t.putObject("Resources");
        resources
                .putObject("ServiceAccountUser")
                .put("Type", "AWS::IAM::User")
                .putObject("Properties")
                .put("UserName", USER_NAME);
        ObjectNode policy = resources
                .putObject("ServiceAccountPolicy")
                .put("Type", "AWS::IAM::ManagedPolicy")
                .putObject("Properties")
                .put("ManagedPolicyName", POLICY_NAME)
                .put("Description", "Read-only access to " + ref.logGroupName());
        policy.set("PolicyDocument", ReadOnlyPolicy.document(ref));
        policy.putArray("Users").addObject().put("Ref", "ServiceAccountUser");
        return Json.compact(t);
    }

    private static String clusterOf(Stack stack) {
        if (!stack.hasParameters()) {
            return "(unknown)";
        }
        return stack.parameters().stream()
                .filter(p -> CLUSTER_PARAMETER.equals(p.parameterKey()))
                .map(Parameter::parameterValue)
                .findFirst()
                .orElse("(unknown)");
    }

    private static Optional<Stack> describeStack(TargetContext context, String name) {
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

    /** @return the user's keys, or empty when the user does not exist */
    private static Optional<List<AccessKeyMetadata>> listKeys(TargetContext context) {
        IamClient iam = context.client(IamClient.class, IamClient::builder);
        try {
            return Optional.of(context.scheduler()
                    .call(EksQuotas.IAM, () -> iam.listAccessKeys(r -> r.userName(USER_NAME)))
                    .accessKeyMetadata());
        } catch (NoSuchEntityException e) {
            return Optional.empty();
        }
    }
}
