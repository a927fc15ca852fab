package com.cloudaeye.agent.lambda;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.FleetInstaller;
import com.cloudaeye.agent.FleetInstallerBuilder;
import com.cloudaeye.agent.FleetPlan;
import com.cloudaeye.agent.FleetResult;
import com.cloudaeye.agent.PolicyDocument;
import com.cloudaeye.agent.Secret;
import com.cloudaeye.agent.internal.SignedCalls;
import com.cloudaeye.agent.spi.support.Json;
import com.cloudaeye.agent.testing.Moto;
import com.cloudaeye.agent.testing.StsAnswers;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.cloudformation.CloudFormationClient;
import software.amazon.awssdk.services.cloudformation.model.Capability;
import software.amazon.awssdk.services.cloudformation.model.Parameter;
import software.amazon.awssdk.services.cloudformation.model.StackStatus;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.Architecture;
import software.amazon.awssdk.services.lambda.model.FunctionConfiguration;
import software.amazon.awssdk.services.lambda.model.Layer;
import software.amazon.awssdk.services.lambda.model.Runtime;
import software.amazon.awssdk.services.sts.StsClient;
import software.amazon.awssdk.services.sts.auth.StsAssumeRoleCredentialsProvider;

/**
 * A fleet in moto: three accounts (reached by {@code sts:AssumeRole}, so each acts in its own account) times two
 * regions, three functions in each. Install, re-plan empty, uninstall; and an account whose role is missing.
 */
class FleetInstallIT {
    private static final List<String> ACCOUNTS = List.of("111111111111", "222222222222", "333333333333");
    private static final List<Region> REGIONS = List.of(Region.US_EAST_1, Region.EU_WEST_1);
    private static final String ROLE = "CloudAEyeInstaller";
    private static final List<String> FUNCTIONS = List.of("orders", "payments", "emails");

    @TempDir
    Path journals;

    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final Map<String, LambdaClient> lambdas = new HashMap<>();
    private final Map<String, String> layers = new HashMap<>();
    private final Map<String, StsAssumeRoleCredentialsProvider> admins = new HashMap<>();
    private StsClient sts;

    @BeforeEach
    void createFleet() {
        Moto.reset();
        sts = Moto.sts();
        closeables.add(sts);
        for (String account : ACCOUNTS) {
            StsAssumeRoleCredentialsProvider admin = Moto.adminOf(sts, account);
            closeables.add(admin);
            admins.put(account, admin);
            IamClient iam = IamClient.builder()
                    .endpointOverride(Moto.endpoint())
                    .region(Region.AWS_GLOBAL)
                    .credentialsProvider(admin)
                    .build();
            closeables.add(iam);
            String trust = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                    + "\"Principal\":{\"Service\":\"lambda.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"}]}";
            String roleArn = iam.createRole(r -> r.roleName("lambda-role").assumeRolePolicyDocument(trust))
                    .role()
                    .arn();
            assertThat(roleArn).as("moto acts in the assumed role's account").contains(":" + account + ":");
            for (Region region : REGIONS) {
                LambdaClient lambda = LambdaClient.builder()
                        .endpointOverride(Moto.endpoint())
                        .region(region)
                        .credentialsProvider(admin)
                        .build();
                closeables.add(lambda);
                lambdas.put(account + "/" + region.id(), lambda);
                layers.put(
                        account + "/" + region.id(),
                        lambda.publishLayerVersion(r -> r.layerName("cloudaeye-x86")
                                        .content(c -> c.zipFile(LambdaFixtures.zip()))
                                        .compatibleArchitectures(Architecture.X86_64)
                                        .compatibleRuntimes(Runtime.PYTHON3_12))
                                .layerVersionArn());
                for (String name : FUNCTIONS) {
                    lambda.createFunction(r -> r.functionName(name)
                            .runtime(Runtime.PYTHON3_12)
                            .role(roleArn)
                            .handler("index.handler")
                            .architectures(Architecture.X86_64)
                            .code(c -> c.zipFile(LambdaFixtures.zip())));
                }
            }
        }
    }

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : closeables) {
            c.close();
        }
    }

    private FleetInstallerBuilder fleet() {
        return FleetInstaller.builder()
                .accounts(ACCOUNTS.toArray(String[]::new))
                .regions(REGIONS.toArray(Region[]::new))
                .roleName(ROLE)
                .externalId("cloudaeye-ext-42")
                .sessionName("fleet-it")
                .credentialsProvider(Moto.credentials())
                .endpointOverride(Moto.endpoint())
                .agent(a -> a.logsEndpoint(LambdaFixtures.ENDPOINT).apiToken(Secret.of(LambdaFixtures.TOKEN)))
                // moto finds a layer only in the function's own account, so each account-region has its own.
                .target((account, region) -> LambdaTarget.builder()
                        .functions("*")
                        .layer(Architecture.X86_64, layers.get(account + "/" + region.id()))
                        .build())
                .journalDirectory(journals)
                .maxParallel(4);
    }

    @Test
    void install_replan_uninstall_overThreeAccountsAndTwoRegions() {
        try (FleetInstaller fleet = fleet().build()) {
            FleetPlan plan = fleet.plan();

            assertThat(plan.failures()).isEmpty();
            assertThat(plan.plans()).containsOnlyKeys(ACCOUNTS);
            plan.plans().forEach((account, regions) -> {
                assertThat(regions).containsOnlyKeys("eu-west-1", "us-east-1");
                regions.values().forEach(p -> assertThat(p.mutations()).hasSize(FUNCTIONS.size()));
            });
            for (String account : ACCOUNTS) {
                PolicyDocument policy = plan.requiredPolicy(account);
                String json = policy.toJson();
                assertThat(json)
                        .contains("arn:aws:lambda:us-east-1:" + account + ":function:orders")
                        .contains("arn:aws:lambda:eu-west-1:" + account + ":function:orders");
                ACCOUNTS.stream()
                        .filter(other -> !other.equals(account))
                        .forEach(other -> assertThat(json)
                                .as("an account's policy names only its own resources")
                                .doesNotContain(":" + other + ":function:"));
            }
            assertThat(plan.toString()).contains("6 account-regions planned, 0 failed");

            FleetResult installed = fleet.apply(plan);

            assertThat(installed.isSuccess()).as(installed.toString()).isTrue();
            installed
                    .results()
                    .values()
                    .forEach(regions -> regions.values()
                            .forEach(r -> assertThat(r.status()).isEqualTo(ApplyResult.Status.SUCCEEDED)));
            lambdas.forEach((key, lambda) -> FUNCTIONS.forEach(name -> assertThat(layerArns(config(lambda, name)))
                    .as(key + " " + name)
                    .containsExactly(layers.get(key))));
            assertThat(fleet.plan().isEmpty()).as("re-plan after apply").isTrue();

            FleetResult removed = fleet.uninstall();

            assertThat(removed.isSuccess()).as(removed.toString()).isTrue();
            lambdas.forEach((key, lambda) -> FUNCTIONS.forEach(name -> {
                FunctionConfiguration config = config(lambda, name);
                assertThat(layerArns(config)).as(key + " " + name).isEmpty();
                assertThat(
                                config.environment() == null
                                        ? Map.<String, String>of()
                                        : config.environment().variables())
                        .doesNotContainKey(LambdaTarget.ENDPOINT_VARIABLE);
            }));
            String everything = plan.toJson() + plan + installed.toJson() + installed + removed.toJson();
            assertThat(everything).doesNotContain(LambdaFixtures.TOKEN);
        }
        try (LambdaClient home = LambdaClient.builder()
                .endpointOverride(Moto.endpoint())
                .region(Moto.REGION)
                .credentialsProvider(Moto.credentials())
                .build()) {
            assertThat(home.listFunctions().functions())
                    .as("nothing lands in the caller's own account")
                    .isEmpty();
        }
    }

    /** A region that holds no function (only the layer) is an account-region with nothing to change, not a failure. */
    @Test
    void plan_andApply_whenARegionHoldsNoFunction_planNothingThere_andSucceed() {
        lambdas.forEach((key, lambda) -> {
            if (key.endsWith("/eu-west-1")) {
                FUNCTIONS.forEach(name -> lambda.deleteFunction(r -> r.functionName(name)));
            }
        });
        try (FleetInstaller fleet = fleet().build()) {
            FleetPlan plan = fleet.plan();

            assertThat(plan.failures()).as(plan.toString()).isEmpty();
            plan.plans().forEach((account, regions) -> {
                assertThat(regions.get("eu-west-1").isEmpty()).isTrue();
                assertThat(regions.get("eu-west-1").notes())
                        .anySatisfy(n -> assertThat(n).contains("No Lambda function in eu-west-1 matches"));
                assertThat(regions.get("us-east-1").mutations()).hasSize(FUNCTIONS.size());
            });
            assertThat(plan.toString()).contains("eu-west-1  no changes (nothing selected here by lambda)");

            FleetResult result = fleet.apply(plan);

            assertThat(result.isSuccess()).as(result.toString()).isTrue();
        }
    }

    /**
     * moto lets any role be assumed, so STS goes through a WireMock proxy that answers as AWS does for a role that
     * does not exist (AccessDenied) for the third account, and passes every other call on to moto.
     */
    @Test
    void plan_andApply_whenOneAccountsRoleIsMissing_reportThatAccountAndInstallTheOthers() {
        String missing = ACCOUNTS.get(2);
        String missingRole = "arn:aws:iam::" + missing + ":role/" + ROLE;
        WireMockServer proxy =
                new WireMockServer(WireMockConfiguration.options().dynamicPort());
        proxy.start();
        closeables.add(proxy::stop);
        proxy.stubFor(any(anyUrl())
                .atPriority(10)
                .willReturn(aResponse().proxiedFrom(Moto.endpoint().toString())));
        proxy.stubFor(post(urlEqualTo("/"))
                .atPriority(1)
                .withRequestBody(containing(StsAnswers.ASSUME_ROLE))
                .withRequestBody(containing(URLEncoder.encode(missingRole, StandardCharsets.UTF_8)))
                .willReturn(aResponse()
                        .withStatus(StsAnswers.ACCESS_DENIED_STATUS)
                        .withHeader("Content-Type", StsAnswers.CONTENT_TYPE)
                        .withBody(StsAnswers.assumeRoleDenied("arn:aws:iam::123456789012:user/ci", missingRole))));
        StsClient proxied = StsClient.builder()
                .endpointOverride(java.net.URI.create(proxy.baseUrl()))
                .region(Moto.REGION)
                .credentialsProvider(Moto.credentials())
                .build();
        closeables.add(proxied);

        try (FleetInstaller fleet = fleet().stsClient(proxied).build()) {
            FleetPlan plan = fleet.plan();

            assertThat(plan.plans()).containsOnlyKeys(ACCOUNTS.get(0), ACCOUNTS.get(1));
            assertThat(plan.failures()).containsOnlyKeys(missing);
            assertThat(plan.failures().get(missing).values())
                    .hasSize(2)
                    .allSatisfy(why -> assertThat(why)
                            .contains("AccessDenied")
                            .contains("create the role " + ROLE + " in account " + missing));

            FleetResult result = fleet.apply(plan);

            assertThat(result.isSuccess()).isFalse();
            assertThat(result.failures()).containsOnlyKeys(missing);
            assertThat(result.results()).containsOnlyKeys(ACCOUNTS.get(0), ACCOUNTS.get(1));
            result.results()
                    .values()
                    .forEach(regions -> regions.values()
                            .forEach(r -> assertThat(r.status()).isEqualTo(ApplyResult.Status.SUCCEEDED)));
        }
        lambdas.forEach((key, lambda) -> FUNCTIONS.forEach(name -> assertThat(layerArns(config(lambda, name)))
                .as(key + " " + name)
                .hasSize(key.startsWith(missing) ? 0 : 1)));
    }

    /**
     * The role template the fleet plan emits, deployed by CloudFormation in each member account (as a StackSet would),
     * is the role the fleet then installs through. moto lets any role be assumed, so the trust policy is checked as
     * IAM stores it; the permissions are the plan's, each account's naming only its own functions (its condition
     * creates its own managed policies).
     */
    @Test
    void installerRoleTemplate_deployedInEachMemberAccount_isTheRoleTheFleetInstallsThrough() throws Exception {
        FleetPlan plan;
        try (FleetInstaller fleet = fleet().build()) {
            plan = fleet.plan();
        }
        String template = plan.installerRoleTemplate();
        String caller = "arn:aws:iam::" + Moto.ACCOUNT + ":role/cloudaeye-backend";
        for (String account : ACCOUNTS) {
            try (CloudFormationClient cfn = CloudFormationClient.builder()
                            .endpointOverride(Moto.endpoint())
                            .region(Region.US_EAST_1)
                            .credentialsProvider(admins.get(account))
                            .build();
                    IamClient iam = IamClient.builder()
                            .endpointOverride(Moto.endpoint())
                            .region(Region.AWS_GLOBAL)
                            .credentialsProvider(admins.get(account))
                            .build()) {
                cfn.createStack(r -> r.stackName("cloudaeye-installer-role")
                        .templateBody(template)
                        .capabilities(Capability.CAPABILITY_NAMED_IAM)
                        .parameters(
                                parameter("RoleName", "CloudAEyeMember"),
                                parameter("TrustedPrincipalArn", caller),
                                parameter("ExternalId", "cloudaeye-ext-42")));
                assertThat(cfn.describeStacks(r -> r.stackName("cloudaeye-installer-role"))
                                .stacks()
                                .get(0)
                                .stackStatus())
                        .isEqualTo(StackStatus.CREATE_COMPLETE);

                String trust = URLDecoder.decode(
                        iam.getRole(r -> r.roleName("CloudAEyeMember")).role().assumeRolePolicyDocument(),
                        StandardCharsets.UTF_8);
                assertThat(trust)
                        .contains("\"AWS\": \"" + caller + "\"")
                        .contains("\"sts:ExternalId\": \"cloudaeye-ext-42\"");
                // The account's own calls are in managed policies that only its account's condition creates.
                StringBuilder attached = new StringBuilder();
                iam.listAttachedRolePolicies(r -> r.roleName("CloudAEyeMember"))
                        .attachedPolicies()
                        .forEach(p -> {
                            String version = iam.getPolicy(r -> r.policyArn(p.policyArn()))
                                    .policy()
                                    .defaultVersionId();
                            attached.append(URLDecoder.decode(
                                    iam.getPolicyVersion(r ->
                                                    r.policyArn(p.policyArn()).versionId(version))
                                            .policyVersion()
                                            .document(),
                                    StandardCharsets.UTF_8));
                        });
                String policy = attached.toString();
                assertThat(policy)
                        .contains("arn:aws:lambda:us-east-1:" + account + ":function:orders")
                        .contains("arn:aws:lambda:eu-west-1:" + account + ":function:orders")
                        .contains("lambda:UpdateFunctionConfiguration")
                        .doesNotContain("${AWS::AccountId}");
                ACCOUNTS.stream()
                        .filter(other -> !other.equals(account))
                        .forEach(other -> assertThat(policy).doesNotContain(":" + other + ":"));
            }
        }

        try (FleetInstaller member = fleet().roleName("CloudAEyeMember").build()) {
            FleetResult result = member.apply(FleetPlan.fromJson(plan.toJson()));

            assertThat(result.isSuccess()).as(result.toString()).isTrue();
        }
        lambdas.forEach((key, lambda) -> FUNCTIONS.forEach(name ->
                assertThat(layerArns(config(lambda, name))).as(key + " " + name).containsExactly(layers.get(key))));
    }

    /**
     * AWS denies Lambda in eu-west-1 (an SCP or a permissions boundary that allows one region): a WireMock proxy in
     * front of moto answers every Lambda call signed for eu-west-1 with AccessDeniedException.
     */
    @Test
    void plan_andApply_whenLambdaIsDeniedInOneRegion_installTheOtherRegionInEveryAccount() {
        WireMockServer proxy =
                new WireMockServer(WireMockConfiguration.options().dynamicPort());
        proxy.start();
        closeables.add(proxy::stop);
        proxy.stubFor(any(anyUrl())
                .atPriority(10)
                .willReturn(aResponse().proxiedFrom(Moto.endpoint().toString())));
        proxy.stubFor(any(anyUrl())
                .atPriority(1)
                .withHeader("Authorization", containing("/eu-west-1/lambda/"))
                .willReturn(aResponse()
                        .withStatus(403)
                        .withHeader("Content-Type", "application/json")
                        .withHeader("x-amzn-ErrorType", "AccessDeniedException")
                        .withBody("{\"Message\":\"User is not authorized to perform: lambda:ListFunctions with an"
                                + " explicit deny in a service control policy\"}")));

        try (FleetInstaller fleet =
                fleet().endpointOverride(java.net.URI.create(proxy.baseUrl())).build()) {
            FleetPlan plan = fleet.plan();

            assertThat(plan.failures()).containsOnlyKeys(ACCOUNTS);
            plan.failures()
                    .values()
                    .forEach(regions -> assertThat(regions)
                            .containsOnlyKeys("eu-west-1")
                            .allSatisfy((region, why) -> assertThat(why).contains("AccessDenied")));
            plan.plans().values().forEach(regions -> assertThat(regions).containsOnlyKeys("us-east-1"));

            FleetResult result = fleet.apply(plan);

            assertThat(result.isSuccess()).isFalse();
            assertThat(result.results()).containsOnlyKeys(ACCOUNTS);
            result.results()
                    .values()
                    .forEach(regions ->
                            assertThat(regions.get("us-east-1").status()).isEqualTo(ApplyResult.Status.SUCCEEDED));
        }
        lambdas.forEach((key, lambda) -> FUNCTIONS.forEach(name -> assertThat(layerArns(config(lambda, name)))
                .as(key + " " + name)
                .hasSize(key.endsWith("eu-west-1") ? 0 : 1)));
    }

    /** The fleet's accounts found in moto's AWS Organizations: every ACTIVE account, less the excluded. */
    @Test
    void accounts_areDiscoveredFromTheOrganization() {
        List<String> created = new ArrayList<>();
        try (SignedCalls org = new SignedCalls(Moto.endpoint())) {
            org.organizations(
                    Moto.credentials(),
                    Moto.REGION,
                    "CreateOrganization",
                    Json.object().put("FeatureSet", "ALL"));
            for (String name : List.of("alpha", "beta")) {
                org.organizations(
                        Moto.credentials(),
                        Moto.REGION,
                        "CreateAccount",
                        Json.object().put("AccountName", name).put("Email", name + "@example.com"));
            }
            org.organizations(Moto.credentials(), Moto.REGION, "ListAccounts", Json.object())
                    .path("Accounts")
                    .forEach(a -> created.add(a.path("Id").asText()));
        }
        assertThat(created).hasSize(3).contains(Moto.ACCOUNT); // the management account and the two new ones

        try (FleetInstaller fleet =
                fleet().accounts().organization().excludeAccounts(Moto.ACCOUNT).build()) {
            List<String> expected = new ArrayList<>(ACCOUNTS);
            created.stream().filter(a -> !a.equals(Moto.ACCOUNT)).forEach(expected::add);
            assertThat(fleet.accounts()).containsExactlyInAnyOrderElementsOf(expected);
        }
    }

    private static Parameter parameter(String key, String value) {
        return Parameter.builder().parameterKey(key).parameterValue(value).build();
    }

    private static FunctionConfiguration config(LambdaClient lambda, String name) {
        return lambda.getFunction(r -> r.functionName(name)).configuration();
    }

    private static List<String> layerArns(FunctionConfiguration config) {
        return config.layers().stream().map(Layer::arn).toList();
    }
}
