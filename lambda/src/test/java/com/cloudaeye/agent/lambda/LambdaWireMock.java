package com.cloudaeye.agent.lambda;

import static com.cloudaeye.agent.lambda.LambdaWireMockTest.LAYER;
import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.AgentInstallerBuilder;
import com.cloudaeye.agent.Secret;
import com.cloudaeye.agent.testing.StsAnswers;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;

/** What every Lambda WireMock test starts from: a server standing in for AWS, and an installer pointed at it. */
final class LambdaWireMock {
    private LambdaWireMock() {}

    /**
     * Starts a server on a free port that answers planning's common reads: no aliases and no CloudFront distribution
     * ({@link LambdaWireMockTest#stubNoAliases}), {@code GetLayerVersion} of {@link LambdaWireMockTest#LAYER}
     * (version 3, x86_64), and STS's {@code GetCallerIdentity}: a user of account {@link LambdaWireMockTest#ACCOUNT}.
     *
     * @param compatibleRuntimes the layer's {@code CompatibleRuntimes}; none leaves the field out
     * @return the started server; the test stops it
     */
    static WireMockServer start(String... compatibleRuntimes) {
        WireMockServer aws = new WireMockServer(WireMockConfiguration.options().dynamicPort());
        aws.start();
        LambdaWireMockTest.stubNoAliases(aws);
        String runtimes = compatibleRuntimes.length == 0
                ? ""
                : Stream.of(compatibleRuntimes)
                        .map(r -> "\"" + r + "\"")
                        .collect(Collectors.joining(",", ",\"CompatibleRuntimes\":[", "]"));
        String layerName = LAYER.substring(0, LAYER.lastIndexOf(':'));
        aws.stubFor(get(urlPathEqualTo(
                        "/2018-10-31/layers/" + URLEncoder.encode(layerName, StandardCharsets.UTF_8) + "/versions/3"))
                .willReturn(okJson("{\"LayerVersionArn\":\"" + LAYER + "\",\"Version\":3,"
                        + "\"CompatibleArchitectures\":[\"x86_64\"]" + runtimes + "}")));
        stubCaller(aws, LambdaWireMockTest.ACCOUNT);
        return aws;
    }

    /**
     * Answers STS's {@code GetCallerIdentity} with a user of an account.
     *
     * @param aws the server
     * @param account the caller's account
     */
    static void stubCaller(WireMockServer aws, String account) {
        aws.stubFor(post(urlEqualTo("/"))
                .withRequestBody(containing(StsAnswers.GET_CALLER_IDENTITY))
                .willReturn(aResponse()
                        .withStatus(200)
                        .withHeader("Content-Type", StsAnswers.CONTENT_TYPE)
                        .withBody(StsAnswers.callerIdentity(account))));
    }

    /**
     * @param aws the server
     * @param logsEndpoint the agent's logs endpoint
     * @param token the agent's token
     * @return an installer builder for us-east-1 that sends every call to the server with static credentials, the
     *     agent set; the test adds the target and the rest
     */
    static AgentInstallerBuilder installer(WireMockServer aws, String logsEndpoint, String token) {
        return AgentInstaller.builder()
                .region(Region.US_EAST_1)
                .endpointOverride(URI.create(aws.baseUrl()))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("AKID", "secret")))
                .agent(a -> a.logsEndpoint(logsEndpoint).apiToken(Secret.of(token)));
    }
}
