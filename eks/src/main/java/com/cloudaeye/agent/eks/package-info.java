/**
 * The Amazon EKS target: {@link com.cloudaeye.agent.eks.EksTarget} installs the agent DaemonSet from the Helm chart
 * this module ships ({@link com.cloudaeye.agent.eks.AgentDaemonSet}), enables the cluster's control-plane logging,
 * and gives CloudAEye read access to it, either through an IAM user with an access key ({@link
 * com.cloudaeye.agent.eks.CloudAEyeAccess.Mode#IAM_USER_STACK}) or a keyless cross-account role ({@link
 * com.cloudaeye.agent.eks.CloudAEyeAccess.Mode#CROSS_ACCOUNT_ROLE}).
 */
@NullMarked
package com.cloudaeye.agent.eks;

import org.jspecify.annotations.NullMarked;
