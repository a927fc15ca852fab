package com.cloudaeye.agent.internal;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/** A WireMock server that answers the Lambda reads of the fixtures under {@code fixtures/lambda/}. */
final class WireMockLambda {
    private WireMockLambda() {}

    /** @return a started server answering ListFunctions and GetFunction of {@code orders} */
    static WireMockServer start() {
        WireMockServer server =
                new WireMockServer(WireMockConfiguration.options().dynamicPort());
        server.start();
        server.stubFor(
                get(urlPathMatching("/2015-03-31/functions/?")).willReturn(json(200, fixture("list-functions.json"))));
        server.stubFor(get(urlPathEqualTo("/2015-03-31/functions/orders"))
                .willReturn(json(200, fixture("get-function.json"))));
        server.stubFor(get(urlPathEqualTo("/2015-03-31/functions/broken"))
                .willReturn(json(500, "{\"Type\":\"Service\",\"message\":\"boom\"}")
                        .withHeader("x-amzn-ErrorType", "ServiceException")));
        return server;
    }

    private static com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder json(int status, String body) {
        return aResponse()
                .withStatus(status)
                .withHeader("Content-Type", "application/json")
                .withBody(body);
    }

    /**
     * @param name a file under {@code fixtures/lambda/}
     * @return its text
     */
    static String fixture(String name) {
        try (InputStream in = WireMockLambda.class.getResourceAsStream("/fixtures/lambda/" + name)) {
            if (in == null) {
                throw new IllegalStateException("No fixture " + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
