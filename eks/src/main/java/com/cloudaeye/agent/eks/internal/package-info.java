/** Internals of the EKS target: its components (control-plane logging, CloudAEye's access), quotas and ARNs. */
@NullMarked
package com.cloudaeye.agent.eks.internal;

import org.jspecify.annotations.NullMarked;
