package com.cloudaeye.agent.eks.internal;

import com.cloudaeye.agent.spi.Quota;

/**
 * The request-rate buckets of the EKS target's AWS calls. Override a rate with {@code
 * AgentInstaller.builder().rateLimit(name, perSecond)}.
 */
public final class EksQuotas {
    /**
     * The EKS control-plane API (DescribeCluster, UpdateClusterConfig, DescribeUpdate). AWS publishes no per-action
     * rate for it; 10 per second is the common default of AWS control-plane APIs and far more than this target needs.
     */
    public static final Quota EKS = new Quota("eks.control-plane", 10);

    /**
     * CloudFormation's stack API (DescribeStacks, CreateStack, DeleteStack, DescribeStackEvents). Its throttling rate
     * is not published per action; 5 per second keeps waits on DescribeStacks well clear of it.
     */
    public static final Quota CLOUDFORMATION = new Quota("cloudformation", 5);

    /**
     * IAM, a global service whose whole account shares one control plane (documented only as "throttled"); 5 per
     * second leaves room for other tools in the account.
     */
    public static final Quota IAM = new Quota("iam", 5);

    /** CloudWatch Logs {@code DescribeLogGroups}: 10 transactions per second per account and region (AWS quota). */
    public static final Quota LOGS_DESCRIBE_LOG_GROUPS = new Quota("logs.describe-log-groups", 10);

    private EksQuotas() {}
}
