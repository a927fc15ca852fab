/** CloudAEye's read access to the control-plane logs: the IAM-user stack and the cross-account role. */
@NullMarked
package com.cloudaeye.agent.eks.internal.access;

import org.jspecify.annotations.NullMarked;
