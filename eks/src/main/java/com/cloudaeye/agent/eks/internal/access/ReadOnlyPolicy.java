package com.cloudaeye.agent.eks.internal.access;

import com.cloudaeye.agent.eks.internal.ClusterRef;
import com.cloudaeye.agent.spi.support.Json;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The IAM policy document that lets CloudAEye read exactly this cluster's control-plane log group and nothing else:
 * list its streams and read or filter their events.
 */
final class ReadOnlyPolicy {
    private ReadOnlyPolicy() {}

    /**
     * @param cluster the cluster
     * @return the policy document
     */
    static ObjectNode document(ClusterRef cluster) {
        ObjectNode statement =
                Json.object().put("Sid", "ReadEksControlPlaneLogs").put("Effect", "Allow");
        ArrayNode actions = statement.putArray("Action");
        actions.add("logs:DescribeLogStreams").add("logs:FilterLogEvents").add("logs:GetLogEvents");
        ArrayNode resources = statement.putArray("Resource");
        // The group itself, and its streams (log-group:NAME:log-stream:STREAM), which GetLogEvents is checked on.
        resources.add(cluster.logGroupArn()).add(cluster.logGroupArn() + ":*");
        ObjectNode doc = Json.object().put("Version", "2012-10-17");
        doc.putArray("Statement").add(statement);
        return doc;
    }
}
