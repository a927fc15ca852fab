package com.cloudaeye.agent.testing;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.Headers;
import java.net.URI;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** How {@link ThrottlingProxy} names requests and picks their quota group, without a server. */
class ThrottlingProxyCallTest {
    private static ProxyCall call(String method, String path) {
        return ProxyCall.of(method, URI.create(path), new Headers());
    }

    @ParameterizedTest
    @CsvSource({
        "GET, /2015-03-31/functions/, ListFunctions, lambda.control-plane",
        "GET, /2015-03-31/functions, ListFunctions, lambda.control-plane",
        "POST, /2015-03-31/functions, CreateFunction, lambda.control-plane",
        "GET, /2015-03-31/functions/orders, GetFunction, lambda.get-function",
        "DELETE, /2015-03-31/functions/orders, DeleteFunction, lambda.control-plane",
        "GET, /2015-03-31/functions/orders/configuration, GetFunctionConfiguration, lambda.control-plane",
        "PUT, /2015-03-31/functions/orders/configuration, UpdateFunctionConfiguration, lambda.control-plane",
        "POST, /2015-03-31/functions/orders/versions, PublishVersion, lambda.control-plane",
        "GET, /2015-03-31/functions/orders/versions, ListVersionsByFunction, lambda.control-plane",
        "GET, /2015-03-31/functions/orders/policy, GetPolicy, lambda.control-plane",
        "GET, /2018-10-31/layers/cloudaeye/versions/3, GetLayerVersion, lambda.control-plane",
        "GET, /2017-03-31/tags/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Aorders, ListTags,"
                + " lambda.control-plane",
    })
    void lambdaRestPaths_mapToTheirOperationAndQuotaGroup(String method, String path, String operation, String group) {
        ProxyCall call = call(method, path);
        assertThat(call.operation).isEqualTo(operation);
        assertThat(call.group).isEqualTo(group);
    }

    @Test
    void invocations_areDataPlane_andNeverThrottled() {
        ProxyCall call = call("POST", "/2015-03-31/functions/orders/invocations");
        assertThat(call.operation).isEqualTo("Invoke");
        assertThat(call.group).isNull();
    }

    @Test
    void otherServices_andMotoAdmin_areNotLambda() {
        Headers ecs = new Headers();
        ecs.add("X-Amz-Target", "AmazonEC2ContainerServiceV20141113.DescribeServices");
        ProxyCall describe = ProxyCall.of("POST", URI.create("/"), ecs);
        assertThat(describe.operation).isEqualTo("DescribeServices");
        assertThat(describe.group).isNull();

        ProxyCall reset = call("POST", "/moto-api/reset");
        assertThat(reset.admin).isTrue();
        assertThat(reset.group).isNull();
    }

    private static Headers signedFor(String service) {
        Headers headers = new Headers();
        headers.add(
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/" + service
                        + "/aws4_request, SignedHeaders=host;x-amz-date, Signature=0");
        return headers;
    }

    @ParameterizedTest
    @CsvSource({
        "ecs, AmazonEC2ContainerServiceV20141113.RegisterTaskDefinition, RegisterTaskDefinition",
        "ecs, AmazonEC2ContainerServiceV20141113.UpdateService, UpdateService",
        "logs, Logs_20140328.DescribeLogGroups, DescribeLogGroups",
    })
    void awsJsonCalls_areNamedByTheirTargetHeader_andSignedService(String service, String target, String operation) {
        Headers headers = signedFor(service);
        headers.add("X-Amz-Target", target);
        headers.add("Content-Type", "application/x-amz-json-1.1");
        ProxyCall call = ProxyCall.of("POST", URI.create("/"), headers, "{}".getBytes(UTF_8));
        assertThat(call.operation).isEqualTo(operation);
        assertThat(call.service).isEqualTo(service);
        assertThat(call.protocol).isEqualTo(ProxyCall.Protocol.JSON);
        assertThat(call.group).as("only Lambda is rate limited").isNull();
    }

    @ParameterizedTest
    @CsvSource({
        "GET, /clusters, ListClusters",
        "POST, /clusters, CreateCluster",
        "GET, /clusters/prod-eks, DescribeCluster",
        "DELETE, /clusters/prod-eks, DeleteCluster",
        "POST, /clusters/prod-eks/update-config, UpdateClusterConfig",
        "GET, /clusters/prod-eks/updates, ListUpdates",
        "POST, /clusters/prod-eks/updates, UpdateClusterVersion",
        "GET, /clusters/prod-eks/updates/0d1e2f, DescribeUpdate",
        "GET, /clusters/prod-eks/fargate-profiles, ListFargateProfiles",
        "GET, /clusters/prod-eks/fargate-profiles/default, DescribeFargateProfile",
        "GET, /clusters/prod-eks/node-groups, ListNodegroups",
        "POST, /clusters/prod-eks/node-groups/ng-1/update-config, UpdateNodegroupConfig",
        "GET, /clusters/prod-eks/access-entries, ListAccessEntries",
        "POST, /clusters/prod-eks/access-entries/arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fr/access-policies,"
                + " AssociateAccessPolicy",
        "GET, /tags/arn%3Aaws%3Aeks%3Aus-east-1%3A123456789012%3Acluster%2Fprod-eks, ListTagsForResource",
        "POST, /tags/arn%3Aaws%3Aeks%3Aus-east-1%3A123456789012%3Acluster%2Fprod-eks, TagResource",
        "DELETE, /tags/arn%3Aaws%3Aeks%3Aus-east-1%3A123456789012%3Acluster%2Fprod-eks, UntagResource",
    })
    void eksRestJsonPaths_mapToTheirOperation(String method, String path, String operation) {
        ProxyCall call = ProxyCall.of(method, URI.create(path), signedFor("eks"), new byte[0]);
        assertThat(call.operation).isEqualTo(operation);
        assertThat(call.service).isEqualTo("eks");
        assertThat(call.protocol).isEqualTo(ProxyCall.Protocol.REST_JSON);
        assertThat(call.group).isNull();
    }

    @Test
    void eksClusterPaths_nameTheirCluster_andLambdaPathsTheirFunction() {
        assertThat(ProxyCall.of("POST", URI.create("/clusters/prod-eks/update-config"), signedFor("eks"), new byte[0])
                        .resource)
                .isEqualTo("prod-eks");
        assertThat(ProxyCall.of("GET", URI.create("/clusters"), signedFor("eks"), new byte[0]).resource)
                .isNull();
        assertThat(call("PUT", "/2015-03-31/functions/orders/configuration").resource)
                .isEqualTo("orders");
    }

    @ParameterizedTest
    @CsvSource({
        "iam, Action=CreateRole&Version=2010-05-08&RoleName=cloudaeye, CreateRole",
        "sts, Version=2011-06-15&Action=GetCallerIdentity, GetCallerIdentity",
        "cloudformation, Action=DescribeStacks&StackName=cloudaeye-access&Version=2010-05-15, DescribeStacks",
    })
    void queryCalls_areNamedByTheActionInTheirFormBody(String service, String form, String operation) {
        Headers headers = signedFor(service);
        headers.add("Content-Type", "application/x-www-form-urlencoded; charset=utf-8");
        ProxyCall call = ProxyCall.of("POST", URI.create("/"), headers, form.getBytes(UTF_8));
        assertThat(call.operation).isEqualTo(operation);
        assertThat(call.service).isEqualTo(service);
        assertThat(call.protocol).isEqualTo(ProxyCall.Protocol.QUERY);
    }

    @Test
    void lambdaCalls_keepTheirProtocol_whateverTheHeaders() {
        ProxyCall call =
                ProxyCall.of("GET", URI.create("/2015-03-31/functions/orders"), signedFor("lambda"), new byte[0]);
        assertThat(call.protocol).isEqualTo(ProxyCall.Protocol.LAMBDA);
        assertThat(call.service).isEqualTo("lambda");
        assertThat(call.group).isEqualTo(ThrottlingProxy.GET_FUNCTION);
    }

    @ParameterizedTest
    @CsvSource({
        "orders, orders",
        "orders%3A7, orders",
        "arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Aorders, orders",
        "arn:aws:lambda:us-east-1:123456789012:function:orders:$LATEST, orders",
        "123456789012%3Afunction%3Aorders, orders"
    })
    void functionName_isFoundInNamesPartialAndFullArns(String segment, String name) {
        assertThat(ProxyCall.functionName(segment)).isEqualTo(name);
    }

    @Test
    void builder_rejectsImpossibleSettings() {
        assertThatThrownBy(() -> ThrottlingProxy.builder().rate("lambda.other", 5))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("GET_FUNCTION");
        assertThatThrownBy(() -> ThrottlingProxy.builder().rate(ThrottlingProxy.CONTROL_PLANE, 0))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ThrottlingProxy.builder()
                        .fault(ThrottlingProxy.Fault.SERVER_ERROR, 0.6)
                        .fault(ThrottlingProxy.Fault.CONNECTION_RESET, 0.6))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("more than 1");
        assertThatThrownBy(() -> ThrottlingProxy.builder().latency(Duration.ofMillis(-1)))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
