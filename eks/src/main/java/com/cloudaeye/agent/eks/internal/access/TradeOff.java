package com.cloudaeye.agent.eks.internal.access;

/** What the reviewer should weigh between the two ways of giving CloudAEye access. */
final class TradeOff {
    static final String USER_MODE = "IAM-user mode (as the original script): a long-lived access key that never"
            + " expires; you hand its secret to CloudAEye, keep it safe and rotate it yourself. The keyless"
            + " crossAccountRole(...) mode avoids that.";

    static final String ROLE_MODE = "Cross-account role mode: no key exists, so none can leak or needs rotating;"
            + " CloudAEye assumes the role with your external ID and gets credentials that expire within an hour."
            + " CloudAEye's account must be the one named, and you can revoke access by deleting the role.";

    static final String NOTE = "CloudAEye access: the IAM-user mode creates a long-lived access key (secret handed"
            + " only to your accessKeySink; you rotate it); the cross-account role mode needs no key and gives"
            + " CloudAEye hour-long credentials through sts:AssumeRole with your external ID. Both grant only"
            + " logs:DescribeLogStreams, logs:FilterLogEvents and logs:GetLogEvents on this cluster's log group.";

    private TradeOff() {}
}
