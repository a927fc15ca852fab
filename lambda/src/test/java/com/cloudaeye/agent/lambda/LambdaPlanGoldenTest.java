package com.cloudaeye.agent.lambda;

import static com.cloudaeye.agent.lambda.LambdaWireMockTest.ACCOUNT;
import static com.cloudaeye.agent.lambda.LambdaWireMockTest.LAYER;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.Plan;
import com.github.tomakehurst.wiremock.WireMockServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.lambda.model.Architecture;

/**
 * Golden files: a plan's JSON, its table and its policy are deterministic and reviewed as files. When an intended
 * change alters them, copy the actual output from {@code target/golden/} over {@code src/test/resources/golden/}.
 */
class LambdaPlanGoldenTest {
    private WireMockServer aws;

    @BeforeEach
    void start() {
        aws = LambdaWireMock.start("python3.12");
        String userLayer = "arn:aws:lambda:us-east-1:" + ACCOUNT + ":layer:user-utils:2";
        String upgrade = LambdaWireMockTest.function("payments", "rev-p", "Successful")
                .replace(
                        "\"Layers\":[]",
                        "\"Layers\":[{\"Arn\":\"" + userLayer + "\"},{\"Arn\":\"" + LAYER.replace(":3", ":2") + "\"}]")
                .replace(
                        "{\"STAGE\":\"prod\"}",
                        "{\"STAGE\":\"prod\",\"CLOUDAEYE_LOGS_ENDPOINT\":"
                                + "\"https://old.example.cloudaeye.com\",\"CLOUDAEYE_API_TOKEN\":\"tok-old\"}");
        String fresh = LambdaWireMockTest.function("orders", "rev-o", "Successful");
        String image = LambdaWireMockTest.function("image-fn", "rev-i", "Successful")
                .replace("\"PackageType\":\"Zip\"", "\"PackageType\":\"Image\"");
        String done = LambdaWireMockTest.function("done", "rev-d", "Successful")
                .replace("\"Layers\":[]", "\"Layers\":[{\"Arn\":\"" + LAYER + "\"}]")
                .replace(
                        "{\"STAGE\":\"prod\"}",
                        "{\"CLOUDAEYE_LOGS_ENDPOINT\":"
                                + "\"https://logs.example.cloudaeye.com\",\"CLOUDAEYE_API_TOKEN\":\"tok-123\"}");
        String legacy =
                LambdaWireMockTest.function("legacy-go", "rev-g", "Successful").replace("python3.12", "go1.x");
        aws.stubFor(get(urlPathMatching("/2015-03-31/functions/?"))
                .willReturn(okJson("{\"Functions\":["
                        + String.join(
                                ",",
                                upgrade,
                                fresh,
                                LambdaWireMockTest.version("orders", "4"),
                                LambdaWireMockTest.version("orders", "5"),
                                image,
                                done,
                                legacy)
                        + "]}")));
        // orders serves traffic through aliases (the listing shows its published versions, and only its aliases are
        // listed): live moves to the published version, canary (weighted) does not.
        aws.stubFor(get(urlPathMatching(LambdaWireMockTest.fn("orders") + "/aliases"))
                .willReturn(okJson("{\"Aliases\":[" + LambdaAliasWireMockTest.alias("canary", "4", "\"5\":0.1") + ","
                        + LambdaAliasWireMockTest.alias("live", "4", "")
                        + "]}")));
        aws.stubFor(get(urlPathMatching("/2019-09-30/functions/.*/provisioned-concurrency"))
                .willReturn(okJson("{\"ProvisionedConcurrencyConfigs\":[]}")));
        // The tags of the functions the plan changes: payments belongs to a CloudFormation stack.
        aws.stubFor(get(urlPathMatching(LambdaWireMockTest.fn("payments")))
                .willReturn(okJson("{\"Configuration\":" + upgrade + ",\"Tags\":{\"aws:cloudformation:stack-name\":"
                        + "\"payments-stack\",\"aws:cloudformation:logical-id\":\"PaymentsFn\"}}")));
        aws.stubFor(get(urlPathMatching(LambdaWireMockTest.fn("orders")))
                .willReturn(okJson(LambdaWireMockTest.getFunction("orders", "rev-o", "Successful"))));
    }

    @AfterEach
    void stop() {
        aws.stop();
    }

    @Test
    void plan_jsonTableAndPolicy_matchTheGoldenFiles() throws IOException {
        try (AgentInstaller installer = LambdaWireMock.installer(aws, "https://logs.example.cloudaeye.com", "tok-123")
                .target(LambdaTarget.builder()
                        .functions("*")
                        .layer(Architecture.X86_64, LAYER)
                        .publishVersion(true)
                        .moveAliases("live", "canary")
                        .build())
                .build()) {
            Plan plan = installer.plan();

            assertGolden("lambda-plan.json", plan.toJson());
            assertGolden("lambda-plan.txt", plan.toString());
            assertGolden("lambda-policy.json", plan.requiredPolicy().toJson());
            assertThat(Plan.fromJson(plan.toJson())).isEqualTo(plan);
            assertThat(plan.toJson() + plan).doesNotContain("tok-123").doesNotContain("tok-old");
        }
    }

    private static void assertGolden(String name, String actual) throws IOException {
        Path out = Path.of("target", "golden", name);
        Files.createDirectories(out.getParent());
        Files.writeString(out, actual, StandardCharsets.UTF_8);
        Path expected = Path.of("src", "test", "resources", "golden", name);
        assertThat(expected)
                .as("golden file " + expected + " (actual output is in " + out + ")")
                .exists();
        assertThat(actual.replace(System.lineSeparator(), "\n"))
                .as("golden file " + expected + " differs from " + out)
                .isEqualTo(Files.readString(expected, StandardCharsets.UTF_8));
    }
}
