package com.cloudaeye.agent.examples;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.put;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.cloudaeye.agent.AgentException;
import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.AgentInstallerBuilder;
import com.cloudaeye.agent.AgentSettings;
import com.cloudaeye.agent.ConfigurationException;
import com.cloudaeye.agent.InsufficientPermissionsException;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.PlanningException;
import com.cloudaeye.agent.Secret;
import com.cloudaeye.agent.ecs.EcsTarget;
import com.cloudaeye.agent.ecs.LogRouter;
import com.cloudaeye.agent.eks.AgentDaemonSet;
import com.cloudaeye.agent.eks.EksTarget;
import com.cloudaeye.agent.lambda.LambdaTarget;
import com.cloudaeye.agent.spi.Target;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.lambda.model.Architecture;

/**
 * Bad input across every target, in one table: each row gets a specific exception whose message names the resource
 * or setting and the fix, and the call recorder shows that no mutating call was made. Only the public API is used.
 * AWS is a WireMock server that knows no resource (an empty account), answering each service the way AWS does.
 */
class BadInputTableTest {
    private static final String LAYER = "arn:aws:lambda:us-east-1:111122223333:layer:cloudaeye-x86:3";
    private static final String IMAGE = "public.ecr.aws/cloudaeye/log-router:1.4.0";
    private static final String UPDATABLE = "{\"FunctionName\":\"updatable\",\"FunctionArn\":"
            + "\"arn:aws:lambda:us-east-1:111122223333:function:updatable\",\"Runtime\":\"python3.12\","
            + "\"PackageType\":\"Zip\",\"Architectures\":[\"x86_64\"],\"RevisionId\":\"r1\",\"State\":\"Active\","
            + "\"LastUpdateStatus\":\"Successful\",\"Layers\":[],\"Environment\":{\"Variables\":{}}}";
    private static WireMockServer aws;

    @BeforeAll
    static void emptyAccount() {
        aws = new WireMockServer(WireMockConfiguration.options().dynamicPort());
        aws.start();
        aws.stubFor(any(anyUrl()).willReturn(error(404, "ResourceNotFoundException", "Not found")));
        aws.stubFor(get(urlPathMatching("/2015-03-31/functions/?")).willReturn(okJson("{\"Functions\":[]}")));
        aws.stubFor(get(urlPathMatching("/2015-03-31/functions/expired.*"))
                .willReturn(error(
                        403, "ExpiredTokenException", "The security token included in the request is" + " expired")));
        aws.stubFor(get(urlPathMatching("/2015-03-31/functions/denied.*"))
                .willReturn(error(
                        403,
                        "AccessDeniedException",
                        "User: arn:aws:iam::111122223333:user/ci is not authorized to perform:"
                                + " lambda:GetFunction on resource: arn:aws:lambda:us-east-1:111122223333:function:denied"
                                + " because no identity-based policy allows the lambda:GetFunction action")));
        // One function the installer could update: rows that build, plan and apply reach AWS unless refused.
        aws.stubFor(get(urlPathMatching("/2015-03-31/functions/([^/]*%3A)?updatable"))
                .willReturn(okJson("{\"Configuration\":" + UPDATABLE + ",\"Tags\":{}}")));
        aws.stubFor(put(urlPathMatching("/2015-03-31/functions/([^/]*%3A)?updatable/configuration"))
                .willReturn(okJson(UPDATABLE)));
        aws.stubFor(get(urlPathMatching("/2015-03-31/functions/([^/]*%3A)?updatable/aliases"))
                .willReturn(okJson("{\"Aliases\":[]}")));
        aws.stubFor(get(urlPathMatching("/2020-05-31/distribution"))
                .willReturn(aResponse()
                        .withHeader("Content-Type", "text/xml")
                        .withBody("<DistributionList><IsTruncated>false</IsTruncated><Quantity>0</Quantity>"
                                + "</DistributionList>")));
        aws.stubFor(get(urlPathMatching("/2018-10-31/layers/.*"))
                .willReturn(okJson("{\"LayerVersionArn\":\"" + LAYER + "\",\"Version\":3}")));
        aws.stubFor(post(urlPathMatching("/"))
                .willReturn(aResponse()
                        .withStatus(400)
                        .withHeader("Content-Type", "application/x-amz-json-1.1")
                        .withBody("{\"__type\":\"ClusterNotFoundException\",\"message\":\"Cluster not found.\"}")));
    }

    @AfterAll
    static void stop() {
        aws.stop();
    }

    static Stream<Arguments> badInputs() {
        return Stream.of(
                // Core: settings of the installer itself.
                row("core: blank API token", () -> Secret.of(" "), ConfigurationException.class, "secret"),
                row(
                        "core: endpoint without a scheme",
                        () -> AgentInstaller.builder()
                                .agent(a -> a.logsEndpoint("logs.example.com").apiToken(Secret.of("t"))),
                        ConfigurationException.class,
                        "logs.example.com"),
                row(
                        "core: API token with a newline, on an install that could update a function",
                        () -> install(a -> a.apiToken(Secret.of("tok\nX-Injected: 1")), "updatable"),
                        ConfigurationException.class,
                        "apiToken holds a control character"),
                row(
                        "core: http logs endpoint, on an install that could update a function",
                        () -> install(a -> a.logsEndpoint("http://logs.example.cloudaeye.com"), "updatable"),
                        ConfigurationException.class,
                        "allowInsecureEndpoint(true)"),
                row(
                        "core: agent option that is no variable name",
                        () -> AgentInstaller.builder()
                                .agent(a -> a.logsEndpoint("https://l.example.com")
                                        .apiToken(Secret.of("t"))
                                        .putOptions("LOG LEVEL", "x")),
                        ConfigurationException.class,
                        "LOG LEVEL"),
                row(
                        "core: missing token",
                        () -> AgentInstaller.builder().agent(a -> a.logsEndpoint("https://l.example.com")),
                        ConfigurationException.class,
                        "apiToken"),
                row(
                        "core: zero rate limit",
                        () -> AgentInstaller.builder().rateLimit("lambda.control-plane", 0),
                        ConfigurationException.class,
                        "lambda.control-plane"),
                row(
                        "core: zero concurrency",
                        () -> AgentInstaller.builder().maxConcurrency(0),
                        ConfigurationException.class,
                        "maxConcurrency"),
                row(
                        "core: no target",
                        () -> installer(null).plan(),
                        ConfigurationException.class,
                        ".target(LambdaTarget.builder()"),
                row(
                        "core: a plan that is not JSON",
                        () -> Plan.fromJson("not a plan"),
                        AgentException.class,
                        "Plan.toJson()"),
                // Lambda.
                row(
                        "lambda: nothing selected",
                        () -> LambdaTarget.builder()
                                .layer(Architecture.X86_64, LAYER)
                                .build(),
                        ConfigurationException.class,
                        ".functions(\"*\")"),
                row(
                        "lambda: malformed function ARN",
                        () -> lambda().functions("arn:aws:lambda:x").build(),
                        ConfigurationException.class,
                        "arn:aws:lambda:x"),
                row(
                        "lambda: qualified ARN",
                        () -> lambda().functions("arn:aws:lambda:us-east-1:111122223333:function:orders:prod")
                                .build(),
                        ConfigurationException.class,
                        "unqualified ARN"),
                row(
                        "lambda: name with spaces",
                        () -> lambda().functions("my orders").build(),
                        ConfigurationException.class,
                        "'my orders'"),
                row(
                        "lambda: name over 64 characters",
                        () -> lambda().functions("f".repeat(65)).build(),
                        ConfigurationException.class,
                        "1 to 64"),
                row(
                        "lambda: no layer",
                        () -> LambdaTarget.builder().functions("*").build(),
                        ConfigurationException.class,
                        ".layer(Architecture.X86_64"),
                row(
                        "lambda: layer without version",
                        () -> LambdaTarget.builder()
                                .functions("*")
                                .layer(Architecture.X86_64, "arn:aws:lambda:us-east-1:111122223333:layer:x")
                                .build(),
                        ConfigurationException.class,
                        "layer:x"),
                row(
                        "lambda: unknown function",
                        () -> installer(lambda().functions("ghost").build()).plan(),
                        PlanningException.class,
                        "Function ghost does not exist"),
                row(
                        "lambda: a glob matching nothing, shown as written",
                        () -> install(a -> {}, "zzz-*"),
                        PlanningException.class,
                        "matches functions=[zzz-*]"),
                row(
                        "lambda: a region with no functions",
                        () -> installer(lambda().functions("*").build()).plan(),
                        PlanningException.class,
                        "No Lambda function in us-east-1"),
                row(
                        "lambda: layer from another region",
                        () -> installer(LambdaTarget.builder()
                                        .functions("*")
                                        .layer(Architecture.X86_64, LAYER.replace("us-east-1", "eu-west-1"))
                                        .build())
                                .plan(),
                        ConfigurationException.class,
                        "eu-west-1"),
                row(
                        "lambda: expired credentials",
                        () -> installer(lambda().functions("expired").build()).plan(),
                        PlanningException.class,
                        "expired"),
                row(
                        "lambda: caller without permission",
                        () -> installer(lambda().functions("denied").build()).plan(),
                        InsufficientPermissionsException.class,
                        "lambda:GetFunction"),
                // ECS.
                row(
                        "ecs: no cluster",
                        () -> EcsTarget.builder().services("*").build(),
                        ConfigurationException.class,
                        "no cluster"),
                row(
                        "ecs: no service selected",
                        () -> EcsTarget.builder().cluster("prod").build(),
                        ConfigurationException.class,
                        "selects no service"),
                row(
                        "ecs: router without image",
                        () -> EcsTarget.builder().cluster("prod").services("*").sidecar(s -> s.cpu(128)),
                        ConfigurationException.class,
                        ".sidecar(s -> s.image("),
                row(
                        "ecs: router name that is no container name",
                        () -> LogRouter.builder().image(IMAGE).name("bad name").build(),
                        ConfigurationException.class,
                        "not a valid container name"),
                row(
                        "ecs: router memory below Docker's minimum",
                        () -> LogRouter.builder().image(IMAGE).memory(2).build(),
                        ConfigurationException.class,
                        "below Docker's minimum"),
                row(
                        "ecs: token reference that is no secret ARN",
                        () -> LogRouter.builder()
                                .image(IMAGE)
                                .apiTokenSecretArn("my-token")
                                .build(),
                        ConfigurationException.class,
                        "Secrets Manager"),
                row(
                        "ecs: unknown cluster",
                        () -> installer(EcsTarget.builder()
                                        .cluster("nowhere")
                                        .services("*")
                                        .sidecar(s -> s.image(IMAGE))
                                        .build())
                                .plan(),
                        PlanningException.class,
                        "nowhere"),
                // EKS.
                row(
                        "eks: cluster name that is no EKS name",
                        () -> EksTarget.builder()
                                .cluster("my cluster")
                                .controlPlaneLogging(true)
                                .build(),
                        ConfigurationException.class,
                        "my cluster"),
                row(
                        "eks: nothing to do",
                        () -> EksTarget.builder().cluster("prod-eks").build(),
                        ConfigurationException.class,
                        "controlPlaneLogging(true)"),
                row(
                        "eks: empty log types",
                        () -> EksTarget.builder().logTypes(),
                        ConfigurationException.class,
                        "controlPlaneLogging(false)"),
                row(
                        "eks: access without a mode",
                        () -> EksTarget.builder().cloudAEyeAccess(a -> a.reuseAccessKey("AKIAIOSFODNN7EXAMPLE")),
                        ConfigurationException.class,
                        "iamUserStack()"),
                row(
                        "eks: access key with no sink",
                        () -> EksTarget.builder().cloudAEyeAccess(a -> a.iamUserStack()),
                        ConfigurationException.class,
                        "accessKeySink"),
                row(
                        "eks: CloudAEye account that is not 12 digits",
                        () -> EksTarget.builder().cloudAEyeAccess(a -> a.crossAccountRole("1234", "tenant-1")),
                        ConfigurationException.class,
                        "12-digit"),
                row(
                        "eks: invalid chart value: namespace",
                        () -> AgentDaemonSet.builder().namespace("Logs_NS").build(),
                        ConfigurationException.class,
                        "namespace 'Logs_NS'"),
                row(
                        "eks: invalid chart value: image tag",
                        () -> AgentDaemonSet.builder().tag("1.0 beta").build(),
                        ConfigurationException.class,
                        "tag '1.0 beta'"),
                row(
                        "eks: invalid chart value: release name",
                        () -> AgentDaemonSet.builder()
                                .releaseName("a".repeat(54))
                                .build(),
                        ConfigurationException.class,
                        "53 characters"),
                row(
                        "eks: extra value replacing the whole cloudaeye map",
                        () -> AgentDaemonSet.builder()
                                .putExtraValues("cloudaeye", "x")
                                .build(),
                        ConfigurationException.class,
                        "extra value 'cloudaeye'"),
                row(
                        "eks: waits with a zero interval",
                        () -> EksTarget.builder().waits(Duration.ZERO, Duration.ofMinutes(1)),
                        ConfigurationException.class,
                        "poll interval"),
                row(
                        "eks: unknown cluster",
                        () -> installer(EksTarget.builder()
                                        .cluster("ghost-eks")
                                        .controlPlaneLogging(true)
                                        .build())
                                .plan(),
                        PlanningException.class,
                        "ghost-eks"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badInputs")
    void badInput_getsASpecificException_namingTheProblem_andChangesNothing(
            String name, Executable call, Class<? extends AgentException> type, String named) {
        int before = mutatingCalls();
        assertThatThrownBy(call::execute).isInstanceOf(type).hasMessageContaining(named);
        assertThat(mutatingCalls()).as("mutating calls made").isEqualTo(before);
    }

    @Test
    void theTable_hasAtLeastThirtyRows_coveringCoreAndEveryTarget() {
        List<String> names = badInputs().map(a -> (String) a.get()[0]).collect(Collectors.toList());
        assertThat(names).hasSizeGreaterThanOrEqualTo(30).doesNotHaveDuplicates();
        assertThat(names.stream().map(n -> n.substring(0, n.indexOf(':'))).distinct())
                .containsExactlyInAnyOrder("core", "lambda", "ecs", "eks");
    }

    @Test
    void positiveControl_theInstallOfTheRowsAbove_withGoodInput_updatesTheFunction() {
        int before = mutatingCalls();
        install(a -> {}, "updatable");
        assertThat(mutatingCalls()).as("mutating calls made").isEqualTo(before + 1);
    }

    /** Builds an installer with good agent settings changed by {@code agent}, plans a Lambda install and applies. */
    private static void install(Consumer<AgentSettings.Builder> agent, String functions) {
        try (AgentInstaller installer = AgentInstaller.builder()
                .region(Region.US_EAST_1)
                .endpointOverride(URI.create(aws.baseUrl()))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("AKID", "secret")))
                .agent(a -> agent.accept(
                        a.logsEndpoint("https://logs.example.cloudaeye.com").apiToken(Secret.of("tok"))))
                .target(lambda().functions(functions).build())
                .retries(1, Duration.ofMillis(1))
                .withoutJournal()
                .build()) {
            installer.apply(installer.plan());
        }
    }

    /** Requests other than reads (GET, and the JSON protocols' Describe/List/Get targets) that reached "AWS". */
    private static int mutatingCalls() {
        return (int) aws.getAllServeEvents().stream()
                .map(e -> e.getRequest())
                .filter(r -> !r.getMethod().getName().equals("GET"))
                .filter(r -> {
                    String target = r.getHeader("X-Amz-Target");
                    return target == null || !target.matches(".*\\.(Describe|List|Get)[A-Za-z]*");
                })
                .count();
    }

    private static AgentInstaller installer(Target target) {
        AgentInstallerBuilder b = AgentInstaller.builder()
                .region(Region.US_EAST_1)
                .endpointOverride(URI.create(aws.baseUrl()))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("AKID", "secret")))
                .agent(a -> a.logsEndpoint("https://logs.example.cloudaeye.com").apiToken(Secret.of("tok")))
                .retries(1, Duration.ofMillis(1))
                .withoutJournal();
        if (target != null) {
            b.target(target);
        }
        return b.build();
    }

    private static LambdaTarget.Builder lambda() {
        return LambdaTarget.builder().layer(Architecture.X86_64, LAYER);
    }

    private static Arguments row(String name, Executable call, Class<? extends AgentException> type, String named) {
        return Arguments.of(name, call, type, named);
    }

    private static ResponseDefinitionBuilder error(int status, String type, String message) {
        return aResponse()
                .withStatus(status)
                .withHeader("Content-Type", "application/json")
                .withHeader("x-amzn-ErrorType", type)
                .withBody("{\"Type\":\"User\",\"__type\":\"" + type + "\",\"message\":\"" + message + "\"}");
    }
}
