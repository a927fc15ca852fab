package com.cloudaeye.agent.testing;

import com.cloudaeye.agent.Permission;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The IAM (action, resource) pairs one recorded request needs, read from its path or body the way AWS authorizes it:
 * a Lambda function or layer version, an ECS service, an EKS cluster, a log group, an IAM role or user, a tagged ARN; {@code *} for
 * the actions AWS does not scope by resource (and for any this class does not know, so that a policy granting less
 * than {@code *} for them fails the contract until the mapping is added here).
 */
public final class CallResources {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern FUNCTION = Pattern.compile("/20\\d\\d-\\d\\d-\\d\\d/functions/([^/]+)(/.*)?");
    private static final Pattern ALIAS = Pattern.compile("/aliases/([^/]+)");
    private static final Pattern LAYER = Pattern.compile("/20\\d\\d-\\d\\d-\\d\\d/layers/([^/]+)/versions/(\\d+)");
    private static final Pattern TAGS = Pattern.compile("/(?:20\\d\\d-\\d\\d-\\d\\d/)?tags/(.+)");
    private static final Pattern CLUSTER = Pattern.compile("/clusters/([^/]+)(/.*)?");
    private static final Pattern FORM = Pattern.compile("(?:^|&)(RoleName|UserName|PolicyArn|StackName)=([^&]*)");
    /**
     * Attaching or detaching a managed policy is authorized on the user, role or group only: the policy's ARN is the
     * condition key {@code iam:PolicyARN}, not a resource (IAM's Service Authorization Reference).
     */
    private static final Pattern ATTACHMENTS = Pattern.compile("iam:(Attach|Detach)(User|Role|Group)Policy");

    private final String region;
    private final String account;

    /**
     * @param region the region of every resource
     * @param account the account of every resource
     */
    public CallResources(String region, String account) {
        this.region = region;
        this.account = account;
    }

    /**
     * @param r a recorded request
     * @return the permissions it needs, one per resource it names; none for {@code sts:GetCallerIdentity}
     */
    public List<Permission> of(ThrottlingProxy.Request r) {
        String action = r.action();
        if (action.equals("sts:GetCallerIdentity")) {
            return List.of(); // AWS allows it every caller, even under an explicit deny: no policy grants it
        }
        List<String> resources = new ArrayList<>();
        String path = r.path();
        Matcher layer = LAYER.matcher(path);
        Matcher tags = TAGS.matcher(path);
        Matcher function = FUNCTION.matcher(path);
        Matcher cluster = CLUSTER.matcher(path);
        if (action.startsWith("lambda:")) {
            if (layer.matches()) {
                String name = decode(layer.group(1));
                resources.add((name.startsWith("arn:") ? name : arn("lambda", "layer:" + name)) + ":" + layer.group(2));
            } else if (tags.matches()) {
                resources.add(decode(tags.group(1)));
            } else if (function.matches()) {
                String fn = decode(function.group(1));
                String qualified = fn.startsWith("arn:") ? fn : arn("lambda", "function:" + fn);
                // GetAlias, UpdateAlias: AWS authorizes the alias ARN (function ARN + ":" + alias).
                Matcher alias = ALIAS.matcher(String.valueOf(function.group(2)));
                resources.add(alias.matches() ? qualified + ":" + decode(alias.group(1)) : qualified);
            }
        } else if (action.startsWith("ecs:")) {
            JsonNode body = json(r.body());
            String clusterName = body.path("cluster").asText("default");
            if (body.has("service")) {
                resources.add(service(clusterName, body.get("service").asText()));
            }
            body.path("services").forEach(s -> resources.add(service(clusterName, s.asText())));
            if (body.has("resourceArn")) {
                resources.add(body.get("resourceArn").asText());
            }
            String clusterShort = clusterName.substring(clusterName.lastIndexOf('/') + 1);
            if (action.equals("ecs:ListTasks")) {
                // AWS authorizes ListTasks on container instances of the cluster (Service Authorization Reference:
                // resource type container-instance, condition key ecs:cluster), whatever the launch type.
                resources.add(arn("ecs", "container-instance/" + clusterShort + "/*"));
            }
            if (action.equals("ecs:DescribeTasks")) {
                body.path("tasks")
                        .forEach(t -> resources.add(
                                t.asText().startsWith("arn:")
                                        ? t.asText()
                                        : arn("ecs", "task/" + clusterShort + "/" + t.asText())));
            }
        } else if (action.startsWith("eks:")) {
            if (tags.matches()) {
                resources.add(decode(tags.group(1)));
            } else if (cluster.matches()) {
                resources.add(arn("eks", "cluster/" + decode(cluster.group(1))));
            }
        } else if (action.equals("logs:DescribeLogGroups")) {
            resources.add(arn("logs", "log-group:*")); // AWS authorizes it on every log group, whatever the prefix
        } else if (action.startsWith("logs:")) {
            JsonNode body = json(r.body());
            if (body.hasNonNull("logGroupName")) {
                resources.add(
                        arn("logs", "log-group:" + body.get("logGroupName").asText()));
            }
        } else if (action.startsWith("cloudformation:")) {
            Matcher m = FORM.matcher(r.body());
            while (m.find()) {
                String stack = decode(m.group(2));
                resources.add(stack.startsWith("arn:") ? stack : arn("cloudformation", "stack/" + stack + "/*"));
            }
        } else if (action.startsWith("iam:")) {
            Matcher m = FORM.matcher(r.body());
            while (m.find()) {
                String value = decode(m.group(2));
                switch (m.group(1)) {
                    case "RoleName" -> resources.add("arn:aws:iam::" + account + ":role/" + value);
                    case "UserName" -> resources.add("arn:aws:iam::" + account + ":user/" + value);
                    default -> {
                        if (!ATTACHMENTS.matcher(action).matches()) {
                            resources.add(value);
                        }
                    }
                }
            }
        }
        if (resources.isEmpty()) {
            resources.add("*");
        }
        return resources.stream().map(res -> Permission.of(action, res)).toList();
    }

    private String service(String cluster, String service) {
        if (service.startsWith("arn:")) {
            return service;
        }
        String clusterName = cluster.substring(cluster.lastIndexOf('/') + 1);
        return arn("ecs", "service/" + clusterName + "/" + service);
    }

    private String arn(String service, String resource) {
        return "arn:aws:" + service + ":" + region + ":" + account + ":" + resource;
    }

    private static String decode(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }

    private static JsonNode json(String body) {
        try {
            return body.isBlank() ? JSON.createObjectNode() : JSON.readTree(body);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
