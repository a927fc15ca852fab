package com.cloudaeye.agent.spi.support;

import com.cloudaeye.agent.spi.Quota;

/** Quotas shared by every target and core, for AWS services whose control plane the whole account shares. */
public final class AwsQuotas {
    /**
     * IAM, a global service whose whole account shares one control plane. Not published: "IAM and AWS STS quotas"
     * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html) limits object counts and sizes
     * only, and AWS's IAM/STS throttling article gives no rate. 5 per second is a conservative choice that leaves
     * room for other tools in the account.
     */
    public static final Quota IAM = new Quota("iam", 5);

    private AwsQuotas() {}
}
