/** The agent DaemonSet on EKS: the Helm chart, EKS tokens, and the component that installs the release. */
package com.cloudaeye.agent.eks.internal.helm;
