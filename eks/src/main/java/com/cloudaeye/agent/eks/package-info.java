/**
 * Amazon EKS: the options of the agent DaemonSet ({@link com.cloudaeye.agent.eks.AgentDaemonSet}), installed from
 * the Helm chart this module ships.
 */
package com.cloudaeye.agent.eks;
