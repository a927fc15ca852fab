package com.cloudaeye.agent.lambda.internal;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.services.lambda.model.FunctionConfiguration;
import software.amazon.awssdk.services.lambda.model.GetLayerVersionResponse;
import software.amazon.awssdk.services.lambda.model.Layer;

/**
 * What planning read of each function it plans to update (its revision, architecture, runtime, layers and
 * variables), kept in memory by
 * the target so that an apply by the same installer can send the update at once, with the planned {@code RevisionId}
 * as its precondition, instead of reading the function again. Never written anywhere: the variables may hold user
 * secrets, which is why plans and journals carry operations instead. Each entry serves one update: a second apply,
 * a resume or a plan read from JSON reads the function first, as before.
 */
public final class PlannedFunctions {
    private final Map<String, FunctionConfiguration> byArn = new ConcurrentHashMap<>();
    /** Functions planned here that had no {@code RevisionId} (an emulator): the apply compares them live. */
    private final Set<String> unguarded = ConcurrentHashMap.newKeySet();
    /**
     * The layer versions planning read, by ARN. A layer version cannot change (its content, architectures and
     * runtimes are fixed when it is published; it can only be deleted), so an apply by the same installer checks its
     * changes against these instead of reading each layer again. A version deleted since fails its update with
     * Lambda's own error, which names it, and nothing changes.
     */
    private final Map<String, GetLayerVersionResponse> layers = new ConcurrentHashMap<>();
    /** How many functions the plan's {@code ListFunctions} held; -1 when it did not list. */
    private volatile int listed = -1;

    /**
     * Remembers a planned function, when it has a {@code RevisionId} to guard the update with.
     *
     * @param arn the function's unqualified ARN
     * @param config what planning read
     */
    void remember(String arn, FunctionConfiguration config) {
        if (config.revisionId() == null) {
            unguarded.add(arn); // without a precondition, the update must compare the live function first
            return;
        }
        List<Layer> layers = config.layers().stream()
                .map(l -> Layer.builder().arn(l.arn()).build())
                .toList();
        byArn.put(
                arn,
                FunctionConfiguration.builder()
                        .functionArn(arn)
                        .revisionId(config.revisionId())
                        .architecturesWithStrings(config.architecturesAsStrings())
                        .runtime(config.runtimeAsString())
                        .layers(layers)
                        .environment(config.environment()) // its variables, or Lambda's error reading them
                        .build());
    }

    /** @param arn a function the plan remembered but then chose not to update */
    void forget(String arn) {
        byArn.remove(arn);
        unguarded.remove(arn);
    }

    /**
     * @param arn a layer version's ARN
     * @param info what planning read of it
     */
    void rememberLayer(String arn, GetLayerVersionResponse info) {
        layers.put(arn, info);
    }

    /**
     * @param arn a layer version's ARN
     * @return what planning read of it, or null when no plan of this target read it
     */
    @Nullable
    GetLayerVersionResponse layer(String arn) {
        return layers.get(arn);
    }

    /** @param count how many functions the plan's {@code ListFunctions} held */
    void listed(int count) {
        listed = count;
    }

    /**
     * Whether the apply's live reads should be passes of {@code ListFunctions} ({@link LiveListing}) rather than one
     * {@code GetFunction} per function: when planning listed the functions (so the policy grants the listing), saw
     * no {@code RevisionId}, and plans at least two updates per page a pass reads.
     *
     * @return true to read the functions planned without a revision in passes of ListFunctions
     */
    boolean worthListing() {
        int count = listed;
        return count >= 0 && unguarded.size() >= 2 * Math.max(1, (count + 49) / 50);
    }

    /**
     * @param arn the function's unqualified ARN
     * @return true, once, when this target planned the function here and it had no {@code RevisionId}
     */
    boolean takeUnguarded(String arn) {
        return unguarded.remove(arn);
    }

    /**
     * Takes the function as planned, once.
     *
     * @param arn the function's unqualified ARN
     * @param revisionId the revision the change was planned against
     * @return the function as planned, or null when it was not planned here, or against another revision
     */
    @Nullable
    FunctionConfiguration take(String arn, @Nullable String revisionId) {
        FunctionConfiguration planned = byArn.remove(arn);
        return planned != null && revisionId != null && revisionId.equals(planned.revisionId()) ? planned : null;
    }
}
