package com.cloudaeye.agent.eks.internal;

import com.cloudaeye.agent.eks.AgentDaemonSet;
import com.cloudaeye.agent.eks.LogType;
import com.cloudaeye.agent.eks.internal.access.CrossAccountRoleAccess;
import com.cloudaeye.agent.eks.internal.access.IamUserStackAccess;
import com.cloudaeye.agent.eks.internal.helm.HelmReleaseComponent;
import java.util.EnumSet;
import java.util.List;

/**
 * The registry of the EKS target's parts (control-plane logging, CloudAEye's access, the agent DaemonSet). A new
 * part adds its builder option to {@code EksTarget.Builder} and its unconfigured instance here, so that saved plans
 * and journals with its resource types can be applied by the {@link EksService} that {@link java.util.ServiceLoader}
 * makes.
 */
public final class EksComponents {
    private EksComponents() {}

    /**
     * @param waits how long to wait for asynchronous work
     * @return one instance of every part with no selection: they apply and roll back changes from their target
     *     state, and cannot plan
     */
    public static List<EksComponent> unconfigured(Waits waits) {
        return List.of(
                new ControlPlaneLogging(EnumSet.noneOf(LogType.class), waits),
                new IamUserStackAccess(null, null, waits),
                new CrossAccountRoleAccess(null, null),
                new HelmReleaseComponent(AgentDaemonSet.builder().build()));
    }
}
