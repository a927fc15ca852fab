package com.cloudaeye.agent.lambda;

import static com.cloudaeye.agent.lambda.LambdaWireMockTest.ACCOUNT;
import static com.cloudaeye.agent.lambda.LambdaWireMockTest.LAYER;
import static com.cloudaeye.agent.lambda.LambdaWireMockTest.error;
import static com.cloudaeye.agent.lambda.LambdaWireMockTest.fn;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.put;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.cloudaeye.agent.AgentException;
import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.ConfigurationException;
import com.cloudaeye.agent.InsufficientPermissionsException;
import com.cloudaeye.agent.NothingSelectedException;
import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.PlanningException;
import com.cloudaeye.agent.PolicyDocument;
import com.cloudaeye.agent.Secret;
import com.cloudaeye.agent.spi.support.AwsActions;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.MappingBuilder;
import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
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
        aws = LambdaWireMock.start();
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
                // A variable read with System.getenv that is not set, in a script: a clear error, not a
                // NullPointerException from inside build().
                bad(
                        "null function name",
                        b -> b.functions((String) null).layer(Architecture.X86_64, layer),
                        "An empty function name was given to .functions(...)"),
                bad(
                        "null alias to move",
                        b -> b.functions("*").moveAliases((String) null).layer(Architecture.X86_64, layer),
                        "given to .moveAliases(...) is not an alias name"),
                bad(
                        "null exclude",
                        b -> b.functions("*").exclude((String) null).layer(Architecture.X86_64, layer),
                        "An empty exclude was given to .exclude(...)"),
                bad(
                        "null pattern",
                        b -> b.functionsMatching(null).layer(Architecture.X86_64, layer),
                        "A null pattern was given to .functionsMatching(...)"),
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
                        "token reference that is no secret or parameter ARN",
                        b -> b.functions("*").layer(Architecture.X86_64, layer).apiTokenSecretArn("cloudaeye-token"),
                        "not the ARN of a Secrets Manager secret or an SSM parameter"),
                bad(
                        "no managed-resources setting",
                        b -> b.functions("*").layer(Architecture.X86_64, layer).managedResources(null),
                        "ManagedResources.warn(), .skip() or .template(format)"),
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
                        "No CloudAEye layer is configured for arm64 (functions arm-fn): add"
                                + " .layer(Architecture.ARM64, layerArn) for it, or exclude those functions."),
                Arguments.of(
                        "selection matching nothing",
                        target(b -> b.functions("payments-*")),
                        NothingSelectedException.class,
                        "No Lambda function in us-east-1 matches"),
                Arguments.of(
                        "everything excluded",
                        target(b -> b.functions("*").exclude("*")),
                        NothingSelectedException.class,
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
            assertThat(installer.calls().keySet()).allMatch(AwsActions::isReadOnly);
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
                        NothingSelectedException.class,
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
            assertThat(installer.calls().keySet()).allMatch(AwsActions::isReadOnly);
        }
    }

    @Test
    void plan_ofAFunctionArnOfAnotherAccount_isAConfigurationError_namingBothAccountsAndTheFix_withoutALambdaCall() {
        String other = "arn:aws:lambda:us-east-1:444455556666:function:orders";
        try (AgentInstaller installer = installer(target(b -> b.functions("orders", other)))) {
            assertThatThrownBy(installer::plan)
                    .isInstanceOf(ConfigurationException.class)
                    .hasMessageContaining(other)
                    .hasMessageContaining("account 444455556666")
                    .hasMessageContaining("act in account " + ACCOUNT)
                    .hasMessageContaining("credentials of account 444455556666")
                    .hasMessageContaining(".accounts(\"444455556666\")");
            assertThat(installer.calls()).containsOnlyKeys("sts:GetCallerIdentity");
        }
    }

    @Test
    void plan_whenEveryFunctionArnIsOfAnotherAccount_selectsNothingHere_whichAFleetNotesAsNothingToDo() {
        String other = "arn:aws:lambda:us-east-1:444455556666:function:orders";
        try (AgentInstaller installer = installer(target(b -> b.functions(other)))) {
            assertThatThrownBy(installer::plan)
                    .isInstanceOf(NothingSelectedException.class)
                    .hasMessageContaining(other)
                    .hasMessageContaining("act in account " + ACCOUNT);
            assertThat(installer.calls()).containsOnlyKeys("sts:GetCallerIdentity");
        }
    }

    @Test
    void plan_ofThisAccountsFunctionArn_withALayerOfAnotherAccount_isPlanned() {
        // CloudAEye publishes the layer from its own account: a layer ARN of another account is the normal case.
        String layer = "arn:aws:lambda:us-east-1:999988887777:layer:cloudaeye-x86:4";
        String layerName = layer.substring(0, layer.lastIndexOf(':'));
        aws.stubFor(get(urlPathMatching("/2018-10-31/layers/"
                        + java.net.URLEncoder.encode(layerName, java.nio.charset.StandardCharsets.UTF_8)
                        + "/versions/4"))
                .willReturn(okJson("{\"LayerVersionArn\":\"" + layer + "\",\"Version\":4,"
                        + "\"CompatibleArchitectures\":[\"x86_64\"]}")));
        aws.stubFor(get(urlPathMatching(fn("orders")))
                .willReturn(okJson(LambdaWireMockTest.getFunction("orders", "r1", "Successful"))));
        String mine = "arn:aws:lambda:us-east-1:" + ACCOUNT + ":function:orders";
        try (AgentInstaller installer = installer(LambdaTarget.builder()
                .functions(mine)
                .layer(Architecture.X86_64, layer)
                .build())) {
            assertThat(installer.plan().mutations()).hasSize(1);
        }
    }

    @Test
    void plan_byNameOnly_asksNoAccount() {
        aws.stubFor(get(urlPathMatching(fn("orders")))
                .willReturn(okJson(LambdaWireMockTest.getFunction("orders", "r1", "Successful"))));
        try (AgentInstaller installer = installer(target(b -> b.functions("*")))) {
            installer.plan();
            assertThat(installer.calls()).doesNotContainKey("sts:GetCallerIdentity");
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

    /**
     * Bad agent settings and selections, each tried as a whole install (build, plan, apply) in an account where the
     * same install with good input does update a function ({@link #positiveControl_goodInput_updatesTheFunction}):
     * so "no mutating call" means the input was refused, not that nothing could have been changed.
     */
    static Stream<Arguments> badInstalls() {
        Consumer<LambdaTarget.Builder> orders = b -> b.functions("orders");
        return Stream.of(
                install(
                        "token with a newline",
                        a -> a.apiToken(Secret.of("cae-tok\nX-Injected: 1")),
                        orders,
                        "apiToken holds a control character"),
                install(
                        "token with a control character",
                        a -> a.apiToken(Secret.of("cae-tok\u0007")),
                        orders,
                        "apiToken holds a control character"),
                install(
                        "token over 1024 characters",
                        a -> a.apiToken(Secret.of("c".repeat(1025))),
                        orders,
                        "1025 characters"),
                install(
                        "endpoint with a newline",
                        a -> a.logsEndpoint("https://logs.example.cloudaeye.com\nX: y"),
                        orders,
                        "control character"),
                install(
                        "http endpoint without the opt-in",
                        a -> a.logsEndpoint("http://logs.example.cloudaeye.com"),
                        orders,
                        "allowInsecureEndpoint(true)"),
                // The install's own record of the variables it added: as an option, every install would overwrite
                // it with the option's value (losing which variables uninstall may remove), and no re-plan is empty.
                install(
                        "option named as the install's record",
                        a -> a.putOptions(LambdaTarget.INSTALLED_VARIABLES, "CLOUDAEYE_LOG_LEVEL"),
                        orders,
                        "'" + LambdaTarget.INSTALLED_VARIABLES + "' is a variable the installer sets itself"),
                install("glob matching nothing", a -> {}, b -> b.functions("zzz-*"), "matches functions=[zzz-*]"));
    }

    private static Arguments install(
            String name,
            Consumer<com.cloudaeye.agent.AgentSettings.Builder> agent,
            Consumer<LambdaTarget.Builder> target,
            String message) {
        return Arguments.of(name, agent, target, message);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badInstalls")
    void install_withBadInput_isRefused_withoutAnyMutatingCall(
            String name,
            Consumer<com.cloudaeye.agent.AgentSettings.Builder> agent,
            Consumer<LambdaTarget.Builder> target,
            String message) {
        stubAnUpdatableFunction();
        assertThatThrownBy(() -> install(agent, target))
                .isInstanceOf(AgentException.class)
                .hasMessageContaining(message)
                .hasMessageNotContaining("cae-tok")
                .hasMessageNotContaining("\\Q");
        assertThat(mutatingRequests()).isZero();
    }

    @Test
    void positiveControl_goodInput_updatesTheFunction() {
        stubAnUpdatableFunction();
        install(a -> {}, b -> b.functions("orders"));
        assertThat(mutatingRequests()).isEqualTo(1);
    }

    static final String ARM_ONLY = "arn:aws:lambda:us-east-1:" + ACCOUNT + ":layer:cloudaeye-arm:4";
    static final String RUBY_ONLY = "arn:aws:lambda:us-east-1:" + ACCOUNT + ":layer:ruby-utils:2";

    /**
     * Plans are reviewed artifacts that may be edited: each row edits the plan JSON of an install that, unedited,
     * updates the function ({@link #positiveControl_goodInput_updatesTheFunction}), and the apply must refuse it
     * before any mutating call.
     */
    static Stream<Arguments> editedPlans() {
        return Stream.of(
                Arguments.of(
                        "an arm64-only layer swapped in for an x86_64 function",
                        (java.util.function.UnaryOperator<String>) json -> json.replace(LAYER, ARM_ONLY),
                        "built for [arm64], but the function is x86_64"),
                Arguments.of(
                        "a layer for another runtime swapped in",
                        (java.util.function.UnaryOperator<String>) json -> json.replace(LAYER, RUBY_ONLY),
                        "but the function runs python3.12"),
                Arguments.of(
                        "the function moved to another region",
                        (java.util.function.UnaryOperator<String>) json -> json.replace(
                                "us-east-1:" + ACCOUNT + ":function", "eu-west-1:" + ACCOUNT + ":function"),
                        "the function is in eu-west-1 but the installer is for us-east-1"),
                Arguments.of(
                        "a layer from another region",
                        (java.util.function.UnaryOperator<String>)
                                json -> json.replace(LAYER, LAYER.replace("us-east-1", "eu-west-1")),
                        "is in eu-west-1, not the function's us-east-1"),
                Arguments.of(
                        "a layer that is no layer version ARN",
                        (java.util.function.UnaryOperator<String>)
                                json -> json.replace(LAYER, LAYER.substring(0, LAYER.lastIndexOf(':'))),
                        "is not a layer version ARN"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("editedPlans")
    void apply_ofAnEditedPlan_isRefused_withoutAnyMutatingCall(
            String name, java.util.function.UnaryOperator<String> edit, String message) {
        stubAnUpdatableFunction();
        aws.stubFor(get(urlPathMatching("/2018-10-31/layers/.*cloudaeye-arm/versions/4"))
                .willReturn(okJson("{\"LayerVersionArn\":\"" + ARM_ONLY + "\",\"Version\":4,"
                        + "\"CompatibleArchitectures\":[\"arm64\"]}")));
        aws.stubFor(get(urlPathMatching("/2018-10-31/layers/.*ruby-utils/versions/2"))
                .willReturn(okJson("{\"LayerVersionArn\":\"" + RUBY_ONLY + "\",\"Version\":2,"
                        + "\"CompatibleArchitectures\":[\"x86_64\"],\"CompatibleRuntimes\":[\"ruby3.3\"]}")));
        try (AgentInstaller installer = installer(target(b -> b.functions("orders")))) {
            com.cloudaeye.agent.Plan edited = com.cloudaeye.agent.Plan.fromJson(
                    edit.apply(installer.plan().toJson()));
            String refusal;
            try {
                com.cloudaeye.agent.ApplyResult result = installer.apply(edited);
                assertThat(result.status()).isEqualTo(com.cloudaeye.agent.ApplyResult.Status.FAILED);
                refusal = result.results().get(0).message().orElseThrow();
            } catch (com.cloudaeye.agent.ApplyException e) {
                refusal = e.getMessage();
            }
            assertThat(refusal).contains(message).containsIgnoringCase("nothing was changed");
        }
        assertThat(mutatingRequests()).isZero();
    }

    private void stubAnUpdatableFunction() {
        aws.stubFor(get(urlPathMatching(fn("orders")))
                .willReturn(okJson(LambdaWireMockTest.getFunction("orders", "r", "Successful"))));
        aws.stubFor(put(urlPathMatching(fn("orders") + "/configuration"))
                .willReturn(okJson(LambdaWireMockTest.function("orders", "r2", "Successful"))));
    }

    private long mutatingRequests() {
        return aws.getAllServeEvents().stream()
                .filter(e -> !e.getRequest().getMethod().getName().equals("GET"))
                .count();
    }

    /** Builds an installer with good settings changed by {@code agent}, then plans and applies. */
    private void install(
            Consumer<com.cloudaeye.agent.AgentSettings.Builder> agent, Consumer<LambdaTarget.Builder> target) {
        try (AgentInstaller installer = AgentInstaller.builder()
                .region(Region.US_EAST_1)
                .endpointOverride(URI.create(aws.baseUrl()))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("a", "b")))
                .agent(a -> agent.accept(
                        a.logsEndpoint("https://logs.example.cloudaeye.com").apiToken(Secret.of("cae-tok-good"))))
                .target(target(target))
                .retries(2, java.time.Duration.ofMillis(1))
                .withoutJournal()
                .build()) {
            installer.apply(installer.plan());
        }
    }

    private AgentInstaller installer(LambdaTarget target) {
        return AgentInstaller.builder()
                .region(Region.US_EAST_1)
                .endpointOverride(URI.create(aws.baseUrl()))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("a", "b")))
                .agent(a -> a.logsEndpoint("https://logs.example.cloudaeye.com").apiToken(Secret.of("tok")))
                .target(target)
                .retries(2, java.time.Duration.ofMillis(1))
                .withoutJournal()
                .build();
    }
}
