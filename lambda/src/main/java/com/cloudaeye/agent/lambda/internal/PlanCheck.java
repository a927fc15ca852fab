package com.cloudaeye.agent.lambda.internal;

import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ConfigurationException;
import com.cloudaeye.agent.spi.CallScheduler;
import com.cloudaeye.agent.spi.support.AwsFailures;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.Architecture;
import software.amazon.awssdk.services.lambda.model.FunctionConfiguration;
import software.amazon.awssdk.services.lambda.model.GetLayerVersionResponse;
import software.amazon.awssdk.services.lambda.model.ResourceNotFoundException;

/**
 * Re-checks on apply what a plan says, since plans are reviewed and may be edited: every ARN's form, region and
 * account before any call ({@link #requireConsistent}), and, per function, that each layer the change adds is built
 * for the function's architecture and runtime ({@link #incompatibility}, one {@code GetLayerVersion} per layer that
 * no plan of this installer read).
 */
final class PlanCheck {
    private final LambdaClient lambda;
    private final CallScheduler scheduler;
    private final PlannedFunctions planned;
    private final Map<String, CompletableFuture<GetLayerVersionResponse>> layers = new ConcurrentHashMap<>();

    PlanCheck(LambdaClient lambda, CallScheduler scheduler, PlannedFunctions planned) {
        this.lambda = lambda;
        this.scheduler = scheduler;
        this.planned = planned;
    }

    /**
     * @param changes the Lambda changes of a plan
     * @param region the installer's region
     * @throws ConfigurationException naming the change when an ARN is malformed, qualified, in another region, or
     *     its function in another account than the plan's other functions
     */
    static void requireConsistent(List<Change> changes, String region) {
        String account = null;
        for (Change change : changes) {
            String arn = change.resourceId();
            Matcher m = Arns.FUNCTION.matcher(arn);
            if (!m.matches() || m.group(5) != null) {
                throw edited(arn, "its resource is not an unqualified Lambda function ARN");
            }
            if (!m.group(2).equals(region)) {
                throw edited(arn, "the function is in " + m.group(2) + " but the installer is for " + region);
            }
            if (account != null && !account.equals(m.group(3))) {
                throw edited(arn, "the function is in account " + m.group(3) + " but others are in " + account);
            }
            account = m.group(3);
            FunctionState state = LambdaStates.functionState(change.targetState());
            requireMovable(arn, state);
            for (String layer : state.layers()) {
                Matcher l = Arns.LAYER_VERSION.matcher(layer);
                if (!l.matches()) {
                    throw edited(arn, "'" + layer + "' is not a layer version ARN");
                }
                if (!l.group(2).equals(region)) {
                    throw edited(arn, "the layer " + layer + " is in " + l.group(2) + ", not the function's " + region);
                }
            }
        }
    }

    /**
     * The alias moves the apply makes after the update, each checked for what it needs, so that an edited plan is
     * refused before the update lands instead of failing half way (an alias without a version to move to).
     */
    private static void requireMovable(String arn, FunctionState state) {
        for (AliasMove move : state.aliasMoves()) {
            if (move == null || move.name() == null || move.name().isBlank()) {
                throw edited(arn, "it has an alias move without a name");
            }
            String alias = "alias " + move.name() + " of " + arn;
            if (move.toVersion() == null && !state.publish()) {
                throw edited(
                        arn,
                        alias + " has no toVersion, and the change publishes none for it (publish is false): set"
                                + " publish back to true or the alias's toVersion to a version");
            }
            if (move.fromVersion() == null) {
                throw edited(arn, alias + " has no fromVersion, the version it served when planned");
            }
            requireWeights(arn, alias, "fromWeights", move.fromWeights());
            requireWeights(arn, alias, "toWeights", move.toWeights());
        }
    }

    private static void requireWeights(String arn, String alias, String field, @Nullable Map<String, Double> weights) {
        if (weights == null) {
            throw edited(arn, alias + " has no " + field + " (an empty {} for none)");
        }
        if (weights.entrySet().stream().anyMatch(w -> w.getKey() == null || w.getValue() == null)) {
            throw edited(arn, alias + " has a null version or weight in " + field);
        }
    }

    private static ConfigurationException edited(String arn, String what) {
        return new ConfigurationException("The plan's change of " + arn + " cannot be applied: " + what
                + ". The plan was edited, or made for another region or account: plan again"
                + " with an installer for the functions' region and account.");
    }

    /**
     * @param live the function as read right before its update
     * @param state the planned change
     * @return why a layer the change adds does not fit the function, or null when every one does
     */
    CompletableFuture<@Nullable String> incompatibility(FunctionConfiguration live, FunctionState state) {
        CompletableFuture<@Nullable String> result = CompletableFuture.completedFuture(null);
        for (String layer : state.layers()) {
            if (state.layersBefore().contains(layer)) {
                continue; // already attached: Lambda accepted it for this function
            }
            result = result.thenCompose(wrong -> wrong != null
                    ? CompletableFuture.completedFuture(wrong)
                    : describe(layer)
                            .handle((info, error) -> error == null
                                    ? fit(live, layer, info)
                                    : missing(layer, AwsFailures.unwrap(error))));
        }
        return result;
    }

    private CompletableFuture<GetLayerVersionResponse> describe(String layer) {
        GetLayerVersionResponse read = planned.layer(layer);
        if (read != null) {
            return CompletableFuture.completedFuture(read); // a layer version never changes: no second read
        }
        return layers.computeIfAbsent(
                layer,
                l -> scheduler.submit(
                        LambdaQuotas.CONTROL_PLANE,
                        () -> lambda.getLayerVersion(
                                r -> r.layerName(Arns.layerName(l)).versionNumber(Arns.layerVersion(l)))));
    }

    private static @Nullable String missing(String layer, Throwable error) {
        if (error instanceof ResourceNotFoundException) {
            return "the layer " + layer + " does not exist (or this account may not use it): nothing was changed;"
                    + " plan again";
        }
        throw new java.util.concurrent.CompletionException(error);
    }

    private static @Nullable String fit(FunctionConfiguration live, String layer, GetLayerVersionResponse info) {
        Architecture arch = FunctionPlanner.architecture(live);
        if (!info.compatibleArchitectures().isEmpty()
                && !info.compatibleArchitectures().contains(arch)) {
            return "the plan adds the layer " + layer + ", built for " + info.compatibleArchitectures()
                    + ", but the function is " + arch + ": nothing was changed. The plan was edited or the layer"
                    + " is wrong: plan again with the " + arch + " layer";
        }
        String runtime = live.runtimeAsString();
        if (!info.compatibleRuntimesAsStrings().isEmpty()
                && runtime != null
                && !info.compatibleRuntimesAsStrings().contains(runtime)) {
            return "the plan adds the layer " + layer + ", built for the runtimes " + info.compatibleRuntimesAsStrings()
                    + ", but the function runs " + runtime + ": nothing was changed. Plan again";
        }
        return null;
    }
}
