/** The agent DaemonSet on EKS: the Helm chart, EKS tokens, and the component that installs the release. */
@NullMarked
package com.cloudaeye.agent.eks.internal.helm;

import org.jspecify.annotations.NullMarked;
