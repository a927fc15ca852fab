package com.cloudaeye.agent.spi.support;

import java.util.Locale;
import java.util.Map;

/**
 * The IAM action of an AWS SDK call, and whether it only reads: how the installer counts calls ({@link
 * com.cloudaeye.agent.AgentInstaller#calls()}) and how tests prove that planning mutates nothing and that a plan's
 * policy covers every call. AWS-bound: a service whose SDK name differs from its IAM prefix needs an entry here.
 */
public final class AwsActions {
    /** SDK service names (lower case, without spaces) whose IAM prefix differs or must be stated. */
    private static final Map<String, String> IAM_PREFIX_BY_SERVICE = Map.of(
            "cloudwatchlogs", "logs",
            "cloudformation", "cloudformation",
            "lambda", "lambda",
            "ecs", "ecs",
            "eks", "eks",
            "iam", "iam",
            "sts", "sts");

    private AwsActions() {}

    /**
     * @param service the SDK service name, e.g. {@code Lambda}, {@code CloudWatchLogs}
     * @param operation the SDK operation name, e.g. {@code ListFunctions}
     * @return the IAM action, e.g. {@code lambda:ListFunctions}
     */
    public static String iamAction(String service, String operation) {
        String key = service.toLowerCase(Locale.ROOT).replace(" ", "");
        return IAM_PREFIX_BY_SERVICE.getOrDefault(key, key) + ":" + operation;
    }

    /**
     * Whether an IAM action only reads. AWS's own naming: reads are Get, List, Describe, Head, Simulate, Lookup,
     * Search, Preview; everything else mutates.
     *
     * @param iamAction e.g. {@code lambda:ListFunctions}
     * @return true for read-only actions
     */
    public static boolean isReadOnly(String iamAction) {
        String operation = iamAction.substring(iamAction.indexOf(':') + 1);
        return operation.matches("(Get|List|Describe|Head|Simulate|Lookup|Search|Preview)[A-Z].*");
    }
}
