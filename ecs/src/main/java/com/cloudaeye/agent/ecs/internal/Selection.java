package com.cloudaeye.agent.ecs.internal;

import com.cloudaeye.agent.ManagedResources;
import com.cloudaeye.agent.ecs.LogRouter;
import java.time.Duration;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * What an {@code EcsTarget} selects and how it installs.
 *
 * @param cluster cluster name or ARN
 * @param services names, ARNs or glob patterns
 * @param excludes names or glob patterns to leave alone
 * @param router the log router settings
 * @param updateServices whether to roll services out to the new revisions
 * @param waitTimeout how long to wait for each rollout, null for no wait
 * @param pollInterval how often to poll a rollout
 * @param allowTaskResize whether too-small Fargate tasks may be raised to the next valid size
 * @param managedResources what to do with task definitions and services that infrastructure as code owns
 */
public record Selection(
        String cluster,
        List<String> services,
        List<String> excludes,
        LogRouter router,
        boolean updateServices,
        @Nullable Duration waitTimeout,
        Duration pollInterval,
        boolean allowTaskResize,
        ManagedResources managedResources) {

    @Override
    public String toString() {
        return "cluster " + cluster + ", services " + services + (excludes.isEmpty() ? "" : " except " + excludes);
    }
}
