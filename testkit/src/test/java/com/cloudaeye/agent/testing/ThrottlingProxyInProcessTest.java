package com.cloudaeye.agent.testing;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * The proxy serving an in-process target ({@link ProxyOptions#target(HttpHandler)}): one HTTP hop, and the same
 * limits, Lambda propagation and counters as when it forwards over HTTP.
 */
class ThrottlingProxyInProcessTest {
    private static final String FUNCTION = "/2015-03-31/functions/fn-0001";

    private final HttpClient http = HttpClient.newHttpClient();
    /** What the target saw: method, path, the caller's header and body of each request. */
    private final List<String> seen = new CopyOnWriteArrayList<>();

    /** Answers every request 200 with a function configuration (nested for GetFunction) and a header of its own. */
    private final HttpHandler target = exchange -> {
        String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
        seen.add(exchange.getRequestMethod() + " " + exchange.getRequestURI().getRawPath() + " "
                + exchange.getRequestHeaders().getFirst("x-caller") + " " + body);
        String config = "{\"FunctionName\":\"fn-0001\",\"LastUpdateStatus\":\"Successful\"}";
        answer(
                exchange,
                200,
                exchange.getRequestMethod().equals("GET") ? "{\"Configuration\":" + config + "}" : config);
    };

    @Test
    void inProcessTarget_getsTheRequestAsReceived_andItsAnswerReachesTheCaller() throws Exception {
        try (ThrottlingProxy proxy = ThrottlingProxy.builder().target(target).start()) {
            HttpResponse<String> response = send(proxy, "PUT", FUNCTION + "/configuration", "{\"Timeout\":5}");

            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.headers().firstValue("x-target")).hasValue("in-process");
            assertThat(response.body()).contains("\"FunctionName\":\"fn-0001\"");
            assertThat(seen).containsExactly("PUT " + FUNCTION + "/configuration test {\"Timeout\":5}");
            assertThat(proxy.requests("UpdateFunctionConfiguration")).isEqualTo(1);
            assertThat(proxy.landedRequests()).hasSize(1);
        }
    }

    @Test
    void inProcessTarget_isThrottledAndKeptInProgress_likeAServer() throws Exception {
        try (ThrottlingProxy proxy = ThrottlingProxy.builder()
                .target(target)
                .rate(ThrottlingProxy.CONTROL_PLANE, 0.001) // two tokens, then none for 1000 s
                .burst(ThrottlingProxy.CONTROL_PLANE, 2)
                .propagationDelay(Duration.ofMinutes(10))
                .start()) {
            assertThat(send(proxy, "PUT", FUNCTION + "/configuration", "{}").body())
                    .as("the update's own answer")
                    .contains("\"LastUpdateStatus\":\"InProgress\"");
            assertThat(send(proxy, "GET", FUNCTION, "").body())
                    .as("GetFunction while the update is in progress")
                    .contains("\"LastUpdateStatus\":\"InProgress\"");
            assertThat(send(proxy, "PUT", FUNCTION + "/configuration", "{}").statusCode())
                    .as("a second update meanwhile")
                    .isEqualTo(409);
            assertThat(send(proxy, "PUT", "/2015-03-31/functions/fn-0002/configuration", "{}")
                            .statusCode())
                    .as("the shared bucket's two tokens are spent")
                    .isEqualTo(429);
            assertThat(seen)
                    .as("neither the conflict nor the throttled call reached the target")
                    .hasSize(2);
            assertThat(proxy.conflicts()).isEqualTo(1);
            assertThat(proxy.throttled()).isEqualTo(1);
        }
    }

    @Test
    void inProcessTargetThatAnswersNothing_isABadGateway() throws Exception {
        try (ThrottlingProxy proxy =
                ThrottlingProxy.builder().target(exchange -> {}).start()) {
            assertThat(send(proxy, "GET", FUNCTION, "").statusCode()).isEqualTo(502);
        }
    }

    private HttpResponse<String> send(ThrottlingProxy proxy, String method, String path, String body)
            throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(proxy.endpoint().resolve(path))
                .method(
                        method,
                        body.isEmpty()
                                ? HttpRequest.BodyPublishers.noBody()
                                : HttpRequest.BodyPublishers.ofString(body))
                .header("x-caller", "test")
                .header(
                        "Authorization",
                        "AWS4-HMAC-SHA256 Credential=AKIDTEST/20261201/us-east-1/lambda/aws4_request,"
                                + " SignedHeaders=host, Signature=00")
                .build();
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }

    private static void answer(HttpExchange exchange, int status, String json) throws IOException {
        byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("x-target", "in-process");
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
    }
}
