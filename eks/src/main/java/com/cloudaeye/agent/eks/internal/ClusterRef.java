package com.cloudaeye.agent.eks.internal;

import com.cloudaeye.agent.PlanningException;
import software.amazon.awssdk.services.eks.model.Cluster;

/**
 * The cluster and the ARNs derived from it (partition, region and account come from the cluster's ARN, so no STS call
 * is needed).
 *
 * @param name the cluster's name
 * @param arn the cluster's ARN
 * @param partition e.g. {@code aws}
 * @param region e.g. {@code us-east-1}
 * @param account the 12-digit account id
 */
public record ClusterRef(String name, String arn, String partition, String region, String account) {
    /**
     * @param cluster as DescribeCluster returned it
     * @return its reference
     */
    public static ClusterRef of(Cluster cluster) {
        return ofArn(cluster.name(), cluster.arn());
    }

    /**
     * @param name the cluster's name
     * @param arn the cluster's ARN, {@code arn:aws:eks:us-east-1:123456789012:cluster/name}
     * @return its reference
     */
    public static ClusterRef ofArn(String name, String arn) {
        String[] parts = arn == null ? new String[0] : arn.split(":", 6);
        if (parts.length != 6 || !parts[0].equals("arn") || !parts[2].equals("eks")) {
            throw new PlanningException("DescribeCluster returned '" + arn + "' for cluster " + name
                    + ", which is not an EKS cluster ARN: check the endpoint the installer talks to.");
        }
        return new ClusterRef(name, arn, parts[1], parts[3], parts[4]);
    }

    /** @return the log group that EKS writes the control-plane logs to */
    public String logGroupName() {
        return "/aws/eks/" + name + "/cluster";
    }

    /** @return the log group's ARN (without the trailing {@code :*}) */
    public String logGroupArn() {
        return "arn:" + partition + ":logs:" + region + ":" + account + ":log-group:" + logGroupName();
    }

    /**
     * @param path e.g. {@code user/CloudAEyeServiceAccount}
     * @return the IAM ARN in this account
     */
    public String iamArn(String path) {
        return "arn:" + partition + ":iam::" + account + ":" + path;
    }

    /**
     * @param stackName a stack name
     * @return the ARN pattern of every stack of that name in this region ({@code stack/NAME/*})
     */
    public String stackArnPattern(String stackName) {
        return "arn:" + partition + ":cloudformation:" + region + ":" + account + ":stack/" + stackName + "/*";
    }

    /**
     * DescribeLogGroups is authorized against the account's log groups as a whole ({@code log-group:*}), not one log
     * group: AWS checks it on {@code log-group::log-stream:}, which only a wildcard matches.
     *
     * @return the resource for {@code logs:DescribeLogGroups}
     */
    public String describeLogGroupsResource() {
        return "arn:" + partition + ":logs:" + region + ":" + account + ":log-group:*";
    }
}
