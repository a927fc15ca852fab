package com.cloudaeye.agent.lambda;

import static com.cloudaeye.agent.lambda.LambdaWireMockTest.ACCOUNT;
import static com.cloudaeye.agent.lambda.LambdaWireMockTest.LAYER;
import static com.cloudaeye.agent.lambda.LambdaWireMockTest.error;
import static com.cloudaeye.agent.lambda.LambdaWireMockTest.fn;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.cloudaeye.agent.AgentException;
import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.ConfigurationException;
import com.cloudaeye.agent.InsufficientPermissionsException;
import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.PlanningException;
import com.cloudaeye.agent.PolicyDocument;
import com.cloudaeye.agent.Secret;
import com.cloudaeye.agent.internal.CallRecorder;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.MappingBuilder;
import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import java.net.URI;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.lambda.model.Architecture;

/** Bad input gets a specific exception naming the resource and the fix, and no mutating call is made. */
class LambdaBadInputTest {
    private WireMockServer aws;

    @BeforeEach
    void start() {
        aws = new WireMockServer(WireMockConfiguration.options().dynamicPort());
        aws.start();
        aws.stubFor(get(urlPathMatching("/2018-10-31/layers/.*cloudaeye-x86/versions/3"))
                .willReturn(okJson("{\"LayerVersionArn\":\"" + LAYER + "\",\"Version\":3,"
                        + "\"CompatibleArchitectures\":[\"x86_64\"]}")));
        aws.stubFor(get(urlPathMatching("/2018-10-31/layers/.*/versions/9"))
                .willReturn(error(404, "ResourceNotFoundException", "Layer version not found")));
        aws.stubFor(get(urlPathMatching(fn("ghost")))
                .willReturn(error(404, "ResourceNotFoundException", "Function not found")));
        aws.stubFor(get(urlPathMatching(fn("arm-fn")))
                .willReturn(okJson(LambdaWireMockTest.getFunction("arm-fn", "r1", "Successful")
                        .replace("x86_64", "arm64"))));
        aws.stubFor(get(urlPathMatching("/2015-03-31/functions/?"))
                .willReturn(
                        okJson("{\"Functions\":[" + LambdaWireMockTest.function("orders", "r", "Successful") + "]}")));
    }

    @AfterEach
    void stop() {
        aws.stop();
    }

    static Stream<Arguments> badTargets() {
        String layer = LAYER;
        return Stream.of(
                bad("no selection", b -> b.layer(Architecture.X86_64, layer), ".functions(\"*\")"),
                bad("empty name", b -> b.functions("").layer(Architecture.X86_64, layer), "empty function name"),
                bad(
                        "malformed ARN",
                        b -> b.functions("arn:aws:lambda:us-east-1:12:function:x")
                                .layer(Architecture.X86_64, layer),
                        "not a Lambda function ARN"),
                bad(
                        "qualified ARN",
                        b -> b.functions("arn:aws:lambda:us-east-1:" + ACCOUNT + ":function:x:prod")
                                .layer(Architecture.X86_64, layer),
                        "unqualified ARN"),
                bad(
                        "invalid name",
                        b -> b.functions("my function!").layer(Architecture.X86_64, layer),
                        "not a Lambda function name"),
                bad(
                        "bad exclude",
                        b -> b.functions("*").exclude("a/b").layer(Architecture.X86_64, layer),
                        "not a function name glob"),
                bad("no layer", b -> b.functions("*"), ".layer(Architecture.X86_64"),
                bad(
                        "malformed layer",
                        b -> b.functions("*").layer(Architecture.X86_64, "cloudaeye:3"),
                        "not a layer version ARN"),
                bad(
                        "layer without version",
                        b -> b.functions("*")
                                .layer(Architecture.X86_64, "arn:aws:lambda:us-east-1:" + ACCOUNT + ":layer:x"),
                        "not a layer version ARN"),
                bad(
                        "empty tag",
                        b -> b.functions("*").tag("", "x").layer(Architecture.X86_64, layer),
                        "tag filter needs a key"));
    }

    private static Arguments bad(String name, Consumer<LambdaTarget.Builder> config, String message) {
        return Arguments.of(name, config, message);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badTargets")
    void build_rejectsBadTargetSettings(String name, Consumer<LambdaTarget.Builder> config, String message) {
        LambdaTarget.Builder builder = LambdaTarget.builder();
        config.accept(builder);
        assertThatThrownBy(builder::build)
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining(message);
    }

    static Stream<Arguments> badPlans() {
        return Stream.of(
                Arguments.of(
                        "unknown function",
                        target(b -> b.functions("ghost")),
                        PlanningException.class,
                        "Function ghost does not exist in us-east-1"),
                Arguments.of(
                        "layer that does not exist",
                        target(b -> b.functions("*").layer(Architecture.X86_64, LAYER.replace(":3", ":9"))),
                        PlanningException.class,
                        "does not exist"),
                Arguments.of(
                        "layer for the wrong architecture",
                        target(b -> b.functions("*").layer(Architecture.ARM64, LAYER)),
                        ConfigurationException.class,
                        "is built for [x86_64], not arm64"),
                Arguments.of(
                        "no layer for the function's architecture",
                        target(b -> b.functions("arm-fn")),
                        ConfigurationException.class,
                        "No CloudAEye layer is configured for arm64 (functions arm-fn"),
                Arguments.of(
                        "selection matching nothing",
                        target(b -> b.functions("payments-*")),
                        PlanningException.class,
                        "No Lambda function in us-east-1 matches"),
                Arguments.of(
                        "everything excluded",
                        target(b -> b.functions("*").exclude("*")),
                        PlanningException.class,
                        "No Lambda function"),
                Arguments.of(
                        "layer from another region",
                        target(b ->
                                b.functions("*").layer(Architecture.ARM64, LAYER.replace("us-east-1", "eu-west-1"))),
                        ConfigurationException.class,
                        "needs a layer from the function's own region"),
                Arguments.of(
                        "function from another region",
                        target(b -> b.functions("arn:aws:lambda:eu-west-1:" + ACCOUNT + ":function:x")),
                        ConfigurationException.class,
                        "one installer per region"));
    }

    private static LambdaTarget target(Consumer<LambdaTarget.Builder> config) {
        LambdaTarget.Builder b = LambdaTarget.builder().layer(Architecture.X86_64, LAYER);
        config.accept(b);
        return b.build();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badPlans")
    void plan_rejectsBadInput_beforeAnyMutatingCall(
            String name, LambdaTarget target, Class<? extends AgentException> type, String message) {
        try (AgentInstaller installer = installer(target)) {
            assertThatThrownBy(installer::plan).isInstanceOf(type).hasMessageContaining(message);
            assertThat(installer.calls().keySet()).allMatch(CallRecorder::isReadOnly);
        }
    }

    /** Accounts and callers that cannot be planned: each case stubs AWS's answer and picks the credentials. */
    static Stream<Arguments> badAccounts() {
        AwsCredentialsProvider valid = StaticCredentialsProvider.create(AwsBasicCredentials.create("a", "b"));
        String denied = "User: arn:aws:iam::" + ACCOUNT + ":user/reader is not authorized to perform: ";
        return Stream.of(
                Arguments.of(
                        "expired session token",
                        stub(
                                get(urlPathMatching("/2015-03-31/functions/?")),
                                error(
                                        403,
                                        "ExpiredTokenException",
                                        "The security token included in the request is" + " expired")),
                        valid,
                        PlanningException.class,
                        "credentials have expired (ExpiredTokenException)"),
                Arguments.of(
                        "unknown access key",
                        stub(
                                get(urlPathMatching("/2015-03-31/functions/?")),
                                error(
                                        403,
                                        "UnrecognizedClientException",
                                        "The security token included in the" + " request is invalid.")),
                        valid,
                        PlanningException.class,
                        "AWS rejected the credentials (UnrecognizedClientException"),
                Arguments.of(
                        "no credentials anywhere",
                        stub(get(urlPathMatching("/2015-03-31/functions/?")), okJson("{\"Functions\":[]}")),
                        (AwsCredentialsProvider) () -> {
                            throw SdkClientException.create(
                                    "Unable to load credentials from any of the providers in the chain");
                        },
                        PlanningException.class,
                        "No AWS credentials were found for planning the lambda target: set AWS_PROFILE"),
                Arguments.of(
                        "caller may not list functions",
                        stub(
                                get(urlPathMatching("/2015-03-31/functions/?")),
                                error(
                                        403,
                                        "AccessDeniedException",
                                        denied + "lambda:ListFunctions on resource: *"
                                                + " because no identity-based policy allows the lambda:ListFunctions"
                                                + " action")),
                        valid,
                        InsufficientPermissionsException.class,
                        "user/reader may not lambda:ListFunctions on *"),
                Arguments.of(
                        "caller may not read the layer",
                        stub(
                                get(urlPathMatching("/2018-10-31/layers/.*cloudaeye-x86/versions/3")),
                                error(
                                        403,
                                        "AccessDeniedException",
                                        denied + "lambda:GetLayerVersion on resource: " + LAYER
                                                + " because no resource-based policy allows it")),
                        valid,
                        InsufficientPermissionsException.class,
                        "may not lambda:GetLayerVersion on " + LAYER),
                Arguments.of(
                        "a region without functions",
                        stub(get(urlPathMatching("/2015-03-31/functions/?")), okJson("{\"Functions\":[]}")),
                        valid,
                        PlanningException.class,
                        "No Lambda function in us-east-1 matches"));
    }

    private static Consumer<WireMockServer> stub(MappingBuilder request, ResponseDefinitionBuilder response) {
        return server -> server.stubFor(request.willReturn(response));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badAccounts")
    void plan_inABadAccountOrWithBadCredentials_throwsAClearAgentException_beforeAnyMutatingCall(
            String name,
            Consumer<WireMockServer> stubs,
            AwsCredentialsProvider credentials,
            Class<? extends AgentException> type,
            String message) {
        stubs.accept(aws);
        try (AgentInstaller installer = AgentInstaller.builder()
                .region(Region.US_EAST_1)
                .endpointOverride(URI.create(aws.baseUrl()))
                .credentialsProvider(credentials)
                .agent(a ->
                        a.logsEndpoint("https://logs.example.cloudaeye.com").apiToken(Secret.of("cae-secret-7f3a9b")))
                .target(target(b -> b.functions("*")))
                .retries(2, java.time.Duration.ofMillis(1))
                .build()) {
            assertThatThrownBy(installer::plan)
                    .isInstanceOf(type)
                    .hasMessageContaining(message)
                    .hasMessageNotContaining("cae-secret-7f3a9b");
            assertThat(installer.calls().keySet()).allMatch(CallRecorder::isReadOnly);
        }
    }

    @Test
    void plan_whenTheCallerMayNotList_carriesAPolicyOfExactlyThatPermission() {
        aws.stubFor(get(urlPathMatching("/2015-03-31/functions/?"))
                .willReturn(error(
                        403,
                        "AccessDeniedException",
                        "User: arn:aws:iam::" + ACCOUNT + ":user/reader is not authorized to perform:"
                                + " lambda:ListFunctions on resource: * because no identity-based policy allows"
                                + " the lambda:ListFunctions action")));
        try (AgentInstaller installer = installer(target(b -> b.functions("*")))) {
            InsufficientPermissionsException e =
                    catchThrowableOfType(InsufficientPermissionsException.class, installer::plan);
            assertThat(e.missing())
                    .isEqualTo(PolicyDocument.allowing(List.of(Permission.of("lambda:ListFunctions", "*"))));
        }
    }

    @Test
    void plan_withoutAgentSettings_namesTheMissingSetting() {
        try (AgentInstaller installer = AgentInstaller.builder()
                .region(Region.US_EAST_1)
                .endpointOverride(URI.create(aws.baseUrl()))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("a", "b")))
                .target(target(b -> b.functions("*")))
                .build()) {
            assertThatThrownBy(installer::plan)
                    .isInstanceOf(ConfigurationException.class)
                    .hasMessageContaining(".agent(a -> a.logsEndpoint(");
        }
    }

    @Test
    void agentSettings_rejectABadEndpointAndAnEmptyToken() {
        assertThatThrownBy(() -> AgentInstaller.builder()
                        .agent(a -> a.logsEndpoint("logs.example.com").apiToken(Secret.of("t"))))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("logs.example.com");
        assertThatThrownBy(() -> Secret.of(" ")).isInstanceOf(ConfigurationException.class);
        assertThatThrownBy(() -> AgentInstaller.builder().agent(a -> a.logsEndpoint("https://x.example.com")))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("apiToken");
    }

    private AgentInstaller installer(LambdaTarget target) {
        return AgentInstaller.builder()
                .region(Region.US_EAST_1)
                .endpointOverride(URI.create(aws.baseUrl()))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("a", "b")))
                .agent(a -> a.logsEndpoint("https://logs.example.cloudaeye.com").apiToken(Secret.of("tok")))
                .target(target)
                .retries(2, java.time.Duration.ofMillis(1))
                .build();
    }
}
