package com.cloudaeye.agent.lambda.internal;

import static com.cloudaeye.agent.lambda.LambdaTarget.ENDPOINT_VARIABLE;
import static com.cloudaeye.agent.lambda.LambdaTarget.TOKEN_ARN_VARIABLE;
import static com.cloudaeye.agent.lambda.LambdaTarget.TOKEN_VARIABLE;

import com.cloudaeye.agent.AgentSettings;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.ManagedResources;
import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.spi.CallScheduler;
import com.cloudaeye.agent.spi.TargetContext;
import com.cloudaeye.agent.spi.support.IacOwners;
import com.cloudaeye.agent.spi.support.Json;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.FunctionConfiguration;
import software.amazon.awssdk.services.lambda.model.GetFunctionResponse;

/**
 * Applies {@link ManagedResources} to the functions a plan would change. A function's tags come from the
 * {@code GetFunction} that planning already made (functions named explicitly, or filtered by tag); a function found
 * through {@code ListFunctions}, which returns no tags, costs one {@code GetFunction} (Lambda's 100 requests/s quota,
 * not the 15/s one the updates share), and only when the plan would change it. That read starts as soon as the
 * planner knows the function's change is an update ({@link #readFor(Change)}), beside the alias listing in the shared
 * bucket, so that neither bucket waits for the other: read after every listing, 1,000 functions' tags kept the
 * shared bucket idle for 10 s at 100/s (17 s under a 60 % share). The Resource Groups Tagging API would answer in one
 * paged call, but its SDK client is not published at the SDK version we build with.
 *
 * <p>The same read holds the function's full configuration, with the {@code State} and {@code LastUpdateStatus} that
 * AWS's {@code ListFunctions} leaves out: the planner checks them there ({@link #configuration(String)}).
 */
final class IacOwnership {
    private static final String HINT = "Layers replaces the function's layer list (the fragment lists all of them, in"
            + " order); Environment.Variables adds to the variables the template has. A SAM AWS::Serverless::Function"
            + " takes the same properties.";

    private final TargetContext context;
    private final LambdaClient lambda;
    private final ManagedResources policy;
    private final @Nullable String tokenArn;
    private final Set<Permission> reads;
    /** Each function's GetFunction, read or being read; only the planning thread touches the map. */
    private final Map<String, CompletableFuture<GetFunctionResponse>> known = new HashMap<>();

    IacOwnership(TargetContext context, ManagedResources policy, @Nullable String tokenArn, Set<Permission> reads) {
        this.context = context;
        this.lambda = context.client(LambdaClient.class, LambdaClient::builder);
        this.policy = policy;
        this.tokenArn = tokenArn;
        this.reads = reads;
    }

    /** Remembers a GetFunction that planning made anyway, so the function is not read again. */
    void known(String arn, GetFunctionResponse read) {
        known.put(arn, CompletableFuture.completedFuture(read));
    }

    /**
     * Starts reading the tags of a function the change updates, unless they are known or being read: the review
     * needs them. Other changes read nothing (a change that becomes an update later is read by the review).
     *
     * @param change a planned change
     */
    void readFor(Change change) {
        String arn = change.resourceId();
        if (change.action() == ChangeAction.UPDATE && !known.containsKey(arn)) {
            reads.add(Permission.of("lambda:GetFunction", arn));
            known.put(
                    arn,
                    context.scheduler()
                            .submit(LambdaQuotas.GET_FUNCTION, () -> lambda.getFunction(r -> r.functionName(arn))));
        }
    }

    /**
     * Waits for the read of a function that {@link #readFor(Change)} or {@link #known} holds.
     *
     * @param arn a function's unqualified ARN
     * @return its configuration as GetFunction returned it, or null when it was not read
     */
    @Nullable
    FunctionConfiguration configuration(String arn) {
        CompletableFuture<GetFunctionResponse> read = known.get(arn);
        return read == null ? null : CallScheduler.join(read).configuration();
    }

    /**
     * @param changes the planned changes
     * @param install true for an install, false for an uninstall
     * @param notes receives one template fragment per owner ({@link ManagedResources.Action#TEMPLATE} installs)
     * @return the changes, owned functions' updates turned into what the policy asks for
     */
    List<Change> review(List<Change> changes, boolean install, List<String> notes) {
        changes.forEach(this::readFor);
        IacOwners.Fragments fragments = new IacOwners.Fragments();
        List<Change> out = new ArrayList<>();
        for (Change c : changes) {
            CompletableFuture<GetFunctionResponse> read = known.get(c.resourceId());
            Optional<IacOwners.Owner> owner = c.action() == ChangeAction.UPDATE && read != null
                    ? IacOwners.of(policy, tags(CallScheduler.join(read)))
                    : Optional.empty();
            if (owner.isEmpty()) {
                out.add(c);
                continue;
            }
            out.add(IacOwners.review(c, owner.get(), policy, install));
            if (install && policy.action() == ManagedResources.Action.TEMPLATE) {
                FunctionState state = LambdaStates.functionState(c.targetState());
                String name = c.resourceId().substring(c.resourceId().lastIndexOf(':') + 1);
                fragments.add(owner.get(), name, FunctionPlanner.RESOURCE_TYPE, properties(state), tokenArn == null);
            }
        }
        notes.addAll(fragments.notes(policy.format(), HINT));
        return out;
    }

    private static Map<String, String> tags(GetFunctionResponse read) {
        return read.tags() == null ? Map.of() : read.tags();
    }

    /** The properties an install sets: every layer in order, and the agent's variables (never the token's value). */
    private ObjectNode properties(FunctionState state) {
        ObjectNode properties = Json.object();
        state.layers().forEach(properties.putArray("Layers")::add);
        AgentSettings agent = context.agent();
        Map<String, String> variables = new LinkedHashMap<>();
        variables.put(ENDPOINT_VARIABLE, agent.logsEndpoint());
        if (tokenArn != null) {
            variables.put(TOKEN_ARN_VARIABLE, tokenArn);
        }
        variables.putAll(new TreeMap<>(agent.options()));
        ObjectNode env = properties.putObject("Environment").putObject("Variables");
        variables.forEach(env::put);
        if (tokenArn == null) {
            env.putObject(TOKEN_VARIABLE).put("Ref", IacOwners.TOKEN_PARAMETER);
        }
        return properties;
    }
}
