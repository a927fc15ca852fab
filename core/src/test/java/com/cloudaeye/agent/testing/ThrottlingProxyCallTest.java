package com.cloudaeye.agent.testing;

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
    private static ThrottlingProxy.Call call(String method, String path) {
        return ThrottlingProxy.Call.of(method, URI.create(path), new Headers());
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
        ThrottlingProxy.Call call = call(method, path);
        assertThat(call.operation).isEqualTo(operation);
        assertThat(call.group).isEqualTo(group);
    }

    @Test
    void invocations_areDataPlane_andNeverThrottled() {
        ThrottlingProxy.Call call = call("POST", "/2015-03-31/functions/orders/invocations");
        assertThat(call.operation).isEqualTo("Invoke");
        assertThat(call.group).isNull();
    }

    @Test
    void otherServices_andMotoAdmin_areNotLambda() {
        Headers ecs = new Headers();
        ecs.add("X-Amz-Target", "AmazonEC2ContainerServiceV20141113.DescribeServices");
        ThrottlingProxy.Call describe = ThrottlingProxy.Call.of("POST", URI.create("/"), ecs);
        assertThat(describe.operation).isEqualTo("DescribeServices");
        assertThat(describe.group).isNull();

        ThrottlingProxy.Call reset = call("POST", "/moto-api/reset");
        assertThat(reset.admin).isTrue();
        assertThat(reset.group).isNull();
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
        assertThat(ThrottlingProxy.Call.functionName(segment)).isEqualTo(name);
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
