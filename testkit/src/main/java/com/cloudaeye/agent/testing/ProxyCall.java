package com.cloudaeye.agent.testing;

import com.sun.net.httpserver.Headers;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * What a request to the {@link ThrottlingProxy} is: its operation, service and protocol, its quota group and, for
 * function calls, the function's name. Besides Lambda's REST paths, it names the operations of the other protocols
 * our targets use: AWS JSON 1.0/1.1 (ECS, CloudWatch Logs) by the {@code X-Amz-Target} header's suffix; rest-json
 * (EKS) from the path ({@code /clusters/{name}/update-config} is {@code UpdateClusterConfig}); query (IAM, STS,
 * CloudFormation) by the form body's {@code Action}. The service of a request is the signing name in its SigV4
 * {@code Authorization} header's credential scope ({@code ecs}, {@code eks}, {@code logs}, {@code iam}, ...).
 */
final class ProxyCall {
    /** The wire protocol of a request, which decides how its operation is named and how errors are shaped. */
    enum Protocol {
        /** Lambda's REST paths. */
        LAMBDA,
        /** AWS JSON 1.0 or 1.1: {@code X-Amz-Target}. */
        JSON,
        /** rest-json, e.g. EKS. */
        REST_JSON,
        /** The query protocol: {@code Action=} in a form body. */
        QUERY
    }

    private static final Pattern CREDENTIAL_SCOPE =
            Pattern.compile("Credential=([^/]+)/\\d{8}/([^/]+)/([^/]+)/aws4_request");
    private static final Pattern ACTION = Pattern.compile("(?:^|&)Action=([^&]+)");
    private static final Pattern CLOUDFRONT_DISTRIBUTIONS = Pattern.compile("/20\\d\\d-\\d\\d-\\d\\d/distribution/?");
    private static final Pattern LAMBDA_PATH =
            Pattern.compile("/\\d{4}-\\d{2}-\\d{2}/(functions|layers|tags|event-source-mappings|account-settings"
                    + "|code-signing-configs)(/.*)?");

    final String operation;
    final String service;
    final Protocol protocol;
    final @Nullable String group;
    final @Nullable String function;
    /** The resource the call is about, when its path names it: a Lambda function, an EKS cluster. */
    final @Nullable String resource;

    final boolean admin;

    private ProxyCall(
            String operation,
            String service,
            Protocol protocol,
            @Nullable String group,
            @Nullable String function,
            boolean admin) {
        this(operation, service, protocol, group, function, function, admin);
    }

    private ProxyCall(
            String operation,
            String service,
            Protocol protocol,
            @Nullable String group,
            @Nullable String function,
            @Nullable String resource,
            boolean admin) {
        this.operation = operation;
        this.service = service;
        this.protocol = protocol;
        this.group = group;
        this.function = function;
        this.resource = resource;
        this.admin = admin;
    }

    static ProxyCall of(String method, URI uri, Headers headers) {
        return of(method, uri, headers, new byte[0]);
    }

    static ProxyCall of(String method, URI uri, Headers headers, byte[] body) {
        String path = uri.getRawPath();
        if (path.startsWith("/moto-api")) {
            return new ProxyCall("moto-api", "moto", Protocol.REST_JSON, null, null, true);
        }
        String service = signingName(headers);
        Matcher m = LAMBDA_PATH.matcher(path);
        if (m.matches()) {
            String[] segments = path.substring(1).split("/");
            String operation = lambdaOperation(method, segments);
            if (operation.equals("Lambda GET functions/*/provisioned-concurrency")) {
                // One path for both: the query tells them apart.
                operation = String.valueOf(uri.getRawQuery()).contains("List=ALL")
                        ? "ListProvisionedConcurrencyConfigs"
                        : "GetProvisionedConcurrencyConfig";
            }
            String function =
                    segments.length >= 3 && segments[1].equals("functions") ? functionName(segments[2]) : null;
            String group = operation.equals("GetFunction")
                    ? ThrottlingProxy.GET_FUNCTION
                    : operation.startsWith("Invoke") ? null : ThrottlingProxy.CONTROL_PLANE;
            return new ProxyCall(operation, "lambda", Protocol.LAMBDA, group, function, false);
        }
        String target = headers.getFirst("X-Amz-Target");
        if (target != null) {
            return new ProxyCall(
                    target.substring(target.lastIndexOf('.') + 1), service, Protocol.JSON, null, null, false);
        }
        String contentType = String.valueOf(headers.getFirst("Content-Type")).toLowerCase(Locale.ROOT);
        if (contentType.startsWith("application/x-www-form-urlencoded")) {
            Matcher action = ACTION.matcher(new String(body, StandardCharsets.UTF_8));
            if (action.find()) {
                String operation = URLDecoder.decode(action.group(1), StandardCharsets.UTF_8);
                return new ProxyCall(operation, service, Protocol.QUERY, null, null, false);
            }
        }
        if (path.startsWith("/clusters")
                || (path.startsWith("/tags/") && (service.equals("eks") || service.equals("unknown")))) {
            String[] segments = path.substring(1).replaceAll("/+$", "").split("/", -1);
            String cluster = segments[0].equals("clusters") && segments.length >= 2
                    ? URLDecoder.decode(segments[1], StandardCharsets.UTF_8)
                    : null;
            return new ProxyCall(eksOperation(method, path), "eks", Protocol.REST_JSON, null, null, cluster, false);
        }
        if (method.equals("GET") && CLOUDFRONT_DISTRIBUTIONS.matcher(path).matches()) {
            // CloudFront (rest-xml): the Lambda target reads it once per plan for Lambda@Edge associations
            return new ProxyCall("ListDistributions", "cloudfront", Protocol.REST_JSON, null, null, false);
        }
        return new ProxyCall(method + " " + path, service, Protocol.REST_JSON, null, null, false);
    }

    /** @return the SigV4 signing name (e.g. {@code ecs}) from the Authorization header, or {@code unknown} */
    static String signingName(Headers headers) {
        String authorization = headers.getFirst("Authorization");
        if (authorization != null) {
            Matcher m = CREDENTIAL_SCOPE.matcher(authorization);
            if (m.find()) {
                return m.group(3);
            }
        }
        return "unknown";
    }

    /**
     * @param headers a request's headers
     * @return the account-region a request is signed for: moto's {@code x-moto-account-id} header when present, else
     *     a hash of the SigV4 credential's access key ID (one per assumed-role session, so one per account of a
     *     fleet; the ID itself is never kept), then the credential scope's region, e.g. {@code key-1f2e3d4c/eu-west-1};
     *     {@code unknown/unknown} for an unsigned request
     */
    static String accountRegion(Headers headers) {
        String account = headers.getFirst("x-moto-account-id");
        String region = "unknown";
        String authorization = headers.getFirst("Authorization");
        if (authorization != null) {
            Matcher m = CREDENTIAL_SCOPE.matcher(authorization);
            if (m.find()) {
                region = m.group(2);
                account = account != null
                        ? account
                        : "key-" + Integer.toHexString(m.group(1).hashCode());
            }
        }
        return (account == null ? "unknown" : account) + "/" + region;
    }

    /** @return the operation name of an EKS rest-json call, e.g. {@code UpdateClusterConfig} */
    static String eksOperation(String method, String rawPath) {
        String[] s = rawPath.replaceAll("/+$", "").substring(1).split("/", -1);
        int n = s.length;
        if (s[0].equals("tags")) {
            return switch (method) {
                case "GET" -> "ListTagsForResource";
                case "POST" -> "TagResource";
                case "DELETE" -> "UntagResource";
                default -> "EKS " + method + " tags";
            };
        }
        if (n == 1) {
            return method.equals("POST") ? "CreateCluster" : "ListClusters";
        }
        if (n == 2) {
            return switch (method) {
                case "DELETE" -> "DeleteCluster";
                default -> "DescribeCluster";
            };
        }
        String sub = s[2];
        if (sub.equals("update-config")) {
            return "UpdateClusterConfig";
        }
        if (sub.equals("updates")) {
            return n == 3 ? (method.equals("POST") ? "UpdateClusterVersion" : "ListUpdates") : "DescribeUpdate";
        }
        String noun = switch (sub) {
            case "fargate-profiles" -> "FargateProfile";
            case "node-groups" -> "Nodegroup";
            case "addons" -> "Addon";
            case "access-entries" -> "AccessEntry";
            default -> null;
        };
        if (noun == null) {
            return "EKS " + method + " clusters/*/" + sub;
        }
        if (sub.equals("access-entries") && n >= 5 && s[4].equals("access-policies")) {
            return switch (method) {
                case "POST" -> "AssociateAccessPolicy";
                case "DELETE" -> "DisassociateAccessPolicy";
                default -> "ListAssociatedAccessPolicies";
            };
        }
        if (n >= 5 && s[4].startsWith("update-")) {
            return "Update" + noun + (s[4].equals("update-version") ? "Version" : "Config");
        }
        if (n == 3) {
            return method.equals("POST")
                    ? "Create" + noun
                    : "List" + (noun.equals("AccessEntry") ? "AccessEntries" : noun + "s");
        }
        return switch (method) {
            case "DELETE" -> "Delete" + noun;
            case "POST" -> "Update" + noun;
            default -> "Describe" + noun;
        };
    }

    /** @return the operation name of a Lambda REST call; segments start with the API version */
    static String lambdaOperation(String method, String[] s) {
        String resource = s[1];
        int n = s.length;
        String sub = n >= 4 ? s[3] : "";
        return switch (resource) {
            case "functions" ->
                switch (n) {
                    case 2 -> method.equals("POST") ? "CreateFunction" : "ListFunctions";
                    case 3 ->
                        switch (method) {
                            case "DELETE" -> "DeleteFunction";
                            default -> "GetFunction";
                        };
                    default ->
                        switch (sub + " " + method) {
                            case "configuration GET" -> "GetFunctionConfiguration";
                            case "configuration PUT" -> "UpdateFunctionConfiguration";
                            case "code PUT" -> "UpdateFunctionCode";
                            case "versions GET" -> "ListVersionsByFunction";
                            case "versions POST" -> "PublishVersion";
                            case "aliases GET" -> n == 4 ? "ListAliases" : "GetAlias";
                            case "aliases POST" -> "CreateAlias";
                            case "aliases PUT" -> "UpdateAlias";
                            case "aliases DELETE" -> "DeleteAlias";
                            case "policy GET" -> "GetPolicy";
                            case "policy POST" -> "AddPermission";
                            case "policy DELETE" -> "RemovePermission";
                            case "concurrency GET" -> "GetFunctionConcurrency";
                            case "concurrency PUT" -> "PutFunctionConcurrency";
                            case "concurrency DELETE" -> "DeleteFunctionConcurrency";
                            case "invocations POST" -> "Invoke";
                            case "invoke-async POST" -> "InvokeAsync";
                            default -> "Lambda " + method + " functions/*/" + sub;
                        };
                };
            case "layers" ->
                switch (n) {
                    case 2 -> "ListLayers";
                    case 4 -> method.equals("POST") ? "PublishLayerVersion" : "ListLayerVersions";
                    case 5 -> method.equals("DELETE") ? "DeleteLayerVersion" : "GetLayerVersion";
                    default ->
                        switch (method) {
                            case "GET" -> "GetLayerVersionPolicy";
                            case "POST" -> "AddLayerVersionPermission";
                            case "DELETE" -> "RemoveLayerVersionPermission";
                            default -> "Lambda " + method + " layers";
                        };
                };
            case "tags" ->
                switch (method) {
                    case "GET" -> "ListTags";
                    case "POST" -> "TagResource";
                    case "DELETE" -> "UntagResource";
                    default -> "Lambda " + method + " tags";
                };
            default -> "Lambda " + method + " " + resource;
        };
    }

    /** @return the function's name from a path segment holding a name, a partial or full ARN, with a qualifier */
    static String functionName(String rawSegment) {
        String s = URLDecoder.decode(rawSegment.replace("+", "%2B"), StandardCharsets.UTF_8);
        int marker = s.indexOf("function:");
        if (marker >= 0) {
            s = s.substring(marker + "function:".length());
        }
        int qualifier = s.indexOf(':');
        return qualifier >= 0 ? s.substring(0, qualifier) : s;
    }
}
