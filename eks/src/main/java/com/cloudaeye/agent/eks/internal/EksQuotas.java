package com.cloudaeye.agent.eks.internal;

import com.cloudaeye.agent.spi.Quota;
import com.cloudaeye.agent.spi.support.AwsQuotas;

/**
 * The request-rate buckets of the EKS target's AWS calls. Override a rate with {@code
 * AgentInstaller.builder().rateLimit(name, perSecond)}.
 *
 * <p>Unlike ECS (whose per-category table is at
 * https://docs.aws.amazon.com/AmazonECS/latest/APIReference/request-throttling.html), EKS, CloudFormation and IAM
 * publish no per-action request rates: their quota pages list resource counts and sizes only. The rates below are
 * therefore conservative choices, not AWS numbers; each says so. This target makes a handful of these calls per
 * cluster, so a low rate costs nothing measurable.
 */
public final class EksQuotas {
    /**
     * The EKS control-plane API (DescribeCluster, UpdateClusterConfig, DescribeUpdate, TagResource, UntagResource). Not published:
     * "Amazon EKS service quotas" (https://docs.aws.amazon.com/eks/latest/userguide/service-quotas.html) lists only
     * resource quotas (clusters, node groups, Fargate profiles...). 10 per second is a conservative choice.
     */
    public static final Quota EKS = new Quota("eks.control-plane", 10);

    /**
     * CloudFormation's stack API (DescribeStacks, CreateStack, DeleteStack, DescribeStackEvents). Not published:
     * "CloudFormation quotas" (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html)
     * lists template and stack limits only, and AWS's "Rate exceeded" article advises backoff without a number. 5 per
     * second is a conservative choice that keeps stack waits on DescribeStacks well clear of throttling.
     */
    public static final Quota CLOUDFORMATION = new Quota("cloudformation", 5);

    /** IAM's account-wide control plane, the same quota core's permission preflight uses. */
    public static final Quota IAM = AwsQuotas.IAM;

    /**
     * CloudWatch Logs {@code DescribeLogGroups}, which has its own per-account, per-region TPS quota in "CloudWatch
     * Logs quotas" (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/cloudwatch_limits_cwl.html). The value
     * could not be re-read from a stored copy of that page (the archived copy predates the row); 10 per second is
     * kept as a conservative value. This target makes one such call per cluster.
     */
    public static final Quota LOGS_DESCRIBE_LOG_GROUPS = new Quota("logs.describe-log-groups", 10);

    private EksQuotas() {}
}
