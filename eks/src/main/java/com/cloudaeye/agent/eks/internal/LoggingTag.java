package com.cloudaeye.agent.eks.internal;

import com.cloudaeye.agent.spi.CallScheduler;
import com.cloudaeye.agent.spi.support.ReadBack;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.services.eks.EksClient;
import software.amazon.awssdk.services.eks.model.Cluster;

/**
 * The installer's record on a cluster, the tag {@link ControlPlaneLogging#TAG}: sets or removes it, reading it back
 * after any error ({@link ReadBack}), since a retry of an attempt that landed may have been refused.
 */
final class LoggingTag {
    private final EksClient eks;
    private final CallScheduler scheduler;
    private final String cluster;
    private final String arn;

    /**
     * @param eks the EKS client
     * @param scheduler paces the calls
     * @param cluster the cluster's name
     * @param arn the cluster's ARN
     */
    LoggingTag(EksClient eks, CallScheduler scheduler, String cluster, String arn) {
        this.eks = eks;
        this.scheduler = scheduler;
        this.cluster = cluster;
        this.arn = arn;
    }

    /**
     * @param value the tag's value, or null to remove the tag
     * @return done once the cluster carries {@code value}; else failed with the call's error (the tag is as before) or
     *     an {@code OutcomeUnknownException} (it could not be read back)
     */
    CompletableFuture<Void> set(@Nullable String value) {
        CompletableFuture<?> call = value == null
                ? scheduler.submit(
                        EksQuotas.EKS,
                        () -> eks.untagResource(r -> r.resourceArn(arn).tagKeys(ControlPlaneLogging.TAG)))
                : scheduler.submit(
                        EksQuotas.EKS,
                        () -> eks.tagResource(r -> r.resourceArn(arn).tags(Map.of(ControlPlaneLogging.TAG, value))));
        return call.<Object>thenApply(r -> r)
                .exceptionallyCompose(error -> ReadBack.<Object>confirmAsync(
                        scheduler,
                        (value == null ? "UntagResource" : "TagResource") + " of cluster " + cluster,
                        error,
                        () -> carrying(value)))
                .thenApply(r -> null);
    }

    /** @return the cluster when its installer's tag is {@code value} (absent for null), else empty */
    private CompletableFuture<Optional<Cluster>> carrying(@Nullable String value) {
        return ReadBack.patiently(
                        scheduler,
                        () -> scheduler.submit(
                                EksQuotas.EKS,
                                () -> eks.describeCluster(r -> r.name(cluster)).cluster()),
                        5)
                .thenApply(c -> Optional.of(c)
                        .filter(x ->
                                Objects.equals(value, x.hasTags() ? x.tags().get(ControlPlaneLogging.TAG) : null)));
    }
}
