package com.cloudaeye.agent.testing;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The proxy's buckets per account-region ({@link ProxyOptions#bucketsPerAccountRegion()}), in front of a server that
 * answers every request with 200: one token per bucket, never refilled within the test.
 */
class ThrottlingProxyBucketsTest {
    private static final String LAYER = "/2018-10-31/layers/any/versions/1"; // GetLayerVersion: the shared bucket

    private final HttpClient http = HttpClient.newHttpClient();
    private HttpServer backend;

    @BeforeEach
    void startBackend() throws IOException {
        backend = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        backend.createContext("/", exchange -> {
            byte[] empty = "{}".getBytes(java.nio.charset.StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, empty.length);
            exchange.getResponseBody().write(empty);
            exchange.close();
        });
        backend.start();
    }

    @AfterEach
    void stopBackend() {
        backend.stop(0);
    }

    @Test
    void bucketsPerAccountRegion_giveEachAccessKeyAndRegion_andEachMotoAccount_itsOwnBucket() throws Exception {
        try (ThrottlingProxy proxy = proxy().bucketsPerAccountRegion().start()) {
            assertThat(status(proxy, "AKIDFIRST", "us-east-1", null)).isEqualTo(200);
            assertThat(status(proxy, "AKIDFIRST", "us-east-1", null))
                    .as("its one token is spent")
                    .isEqualTo(429);
            assertThat(status(proxy, "AKIDSECOND", "us-east-1", null))
                    .as("another account")
                    .isEqualTo(200);
            assertThat(status(proxy, "AKIDFIRST", "eu-west-1", null))
                    .as("another region")
                    .isEqualTo(200);
            assertThat(status(proxy, "AKIDFIRST", "us-east-1", "222222222222"))
                    .as("moto's account header names the account")
                    .isEqualTo(200);
            assertThat(status(proxy, "AKIDSECOND", "us-east-1", "222222222222"))
                    .as("the same account, whatever its key")
                    .isEqualTo(429);

            Map<String, Long> requests = proxy.requestsPerAccountRegion(ThrottlingProxy.CONTROL_PLANE);
            assertThat(requests).hasSize(4).containsEntry("222222222222/us-east-1", 2L);
            assertThat(requests.values()).containsExactlyInAnyOrder(2L, 1L, 1L, 2L);
            assertThat(requests.keySet()).as("an access key ID is never shown").noneMatch(k -> k.contains("AKID"));
            assertThat(proxy.throttledPerAccountRegion(ThrottlingProxy.CONTROL_PLANE)
                            .values())
                    .containsExactlyInAnyOrder(1L, 1L);
            assertThat(proxy.throttled()).isEqualTo(2);
        }
    }

    @Test
    void byDefault_allAccountsAndRegionsShareOneBucket() throws Exception {
        try (ThrottlingProxy proxy = proxy().start()) {
            assertThat(status(proxy, "AKIDFIRST", "us-east-1", null)).isEqualTo(200);
            assertThat(status(proxy, "AKIDSECOND", "eu-west-1", "222222222222")).isEqualTo(429);
            assertThat(proxy.requestsPerAccountRegion(ThrottlingProxy.CONTROL_PLANE))
                    .as("counted per account-region all the same")
                    .hasSize(2);
        }
    }

    /**
     * Every account-region of a fleet may have a function of the same name: an update in progress in one is no
     * conflict for the function of that name in another (it was, and sent each fleet function's update twice).
     */
    @Test
    void bucketsPerAccountRegion_keepEachAccountRegionsUpdatesInProgressApart() throws Exception {
        try (ThrottlingProxy proxy = ThrottlingProxy.builder()
                .target(URI.create("http://127.0.0.1:" + backend.getAddress().getPort()))
                .propagationDelay(java.time.Duration.ofMinutes(10))
                .bucketsPerAccountRegion()
                .start()) {
            assertThat(update(proxy, "AKIDFIRST", "us-east-1")).isEqualTo(200);
            assertThat(update(proxy, "AKIDFIRST", "us-east-1"))
                    .as("its own update is in progress")
                    .isEqualTo(409);
            assertThat(update(proxy, "AKIDSECOND", "us-east-1"))
                    .as("another account's function of that name")
                    .isEqualTo(200);
            assertThat(update(proxy, "AKIDFIRST", "eu-west-1"))
                    .as("another region's")
                    .isEqualTo(200);
        }
    }

    @Test
    void byDefault_aFunctionNameIsOneFunction() throws Exception {
        try (ThrottlingProxy proxy = ThrottlingProxy.builder()
                .target(URI.create("http://127.0.0.1:" + backend.getAddress().getPort()))
                .propagationDelay(java.time.Duration.ofMinutes(10))
                .start()) {
            assertThat(update(proxy, "AKIDFIRST", "us-east-1")).isEqualTo(200);
            assertThat(update(proxy, "AKIDSECOND", "eu-west-1")).isEqualTo(409);
        }
    }

    private int update(ThrottlingProxy proxy, String accessKeyId, String region)
            throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(
                        proxy.endpoint().resolve("/2015-03-31/functions/fn-0001/configuration"))
                .PUT(HttpRequest.BodyPublishers.ofString("{}"))
                .header(
                        "Authorization",
                        "AWS4-HMAC-SHA256 Credential=" + accessKeyId + "/20261201/" + region
                                + "/lambda/aws4_request, SignedHeaders=host, Signature=00")
                .build();
        return http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    private ThrottlingProxy.Builder proxy() {
        return ThrottlingProxy.builder()
                .target(URI.create("http://127.0.0.1:" + backend.getAddress().getPort()))
                .rate(ThrottlingProxy.CONTROL_PLANE, 0.001) // one token, then none for 1000 s
                .burst(ThrottlingProxy.CONTROL_PLANE, 1);
    }

    private int status(ThrottlingProxy proxy, String accessKeyId, String region, @Nullable String motoAccount)
            throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(proxy.endpoint().resolve(LAYER))
                .GET()
                .header(
                        "Authorization",
                        "AWS4-HMAC-SHA256 Credential=" + accessKeyId + "/20261201/" + region
                                + "/lambda/aws4_request, SignedHeaders=host, Signature=00");
        if (motoAccount != null) {
            request.header("x-moto-account-id", motoAccount);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.discarding())
                .statusCode();
    }
}
