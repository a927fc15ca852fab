package com.cloudaeye.agent.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.cloudaeye.agent.spi.support.AwsActions;
import com.github.tomakehurst.wiremock.WireMockServer;
import java.net.URI;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.ServiceException;

class CallRecorderTest {
    private static WireMockServer wireMock;

    @BeforeAll
    static void startWireMock() {
        wireMock = WireMockLambda.start();
    }

    @AfterAll
    static void stopWireMock() {
        wireMock.stop();
    }

    @ParameterizedTest
    @CsvSource({
        "Lambda, ListFunctions, lambda:ListFunctions",
        "CloudWatchLogs, PutRetentionPolicy, logs:PutRetentionPolicy",
        "CloudWatch Logs, CreateLogGroup, logs:CreateLogGroup",
        "ECS, RegisterTaskDefinition, ecs:RegisterTaskDefinition",
        "EKS, DescribeCluster, eks:DescribeCluster",
        "IAM, CreateAccessKey, iam:CreateAccessKey",
        "STS, GetCallerIdentity, sts:GetCallerIdentity",
        "CloudFormation, CreateStack, cloudformation:CreateStack",
        "Service Quotas, GetServiceQuota, servicequotas:GetServiceQuota"
    })
    void iamAction_mapsTheSdkServiceNameToTheIamPrefix(String service, String operation, String expected) {
        assertThat(AwsActions.iamAction(service, operation)).isEqualTo(expected);
    }

    @ParameterizedTest
    @CsvSource({
        "lambda:GetFunction, true",
        "lambda:ListFunctions, true",
        "ecs:DescribeTaskDefinition, true",
        "iam:SimulatePrincipalPolicy, true",
        "sts:GetCallerIdentity, true",
        "lambda:UpdateFunctionConfiguration, false",
        "lambda:PublishVersion, false",
        "ecs:RegisterTaskDefinition, false",
        "eks:UpdateClusterConfig, false",
        "iam:PassRole, false",
        "logs:PutRetentionPolicy, false",
        "lambda:TagResource, false",
        "example:Listen, false",
        "example:Getaway, false"
    })
    void isReadOnly_followsAwsNamingOfReadOperations(String action, boolean readOnly) {
        assertThat(AwsActions.isReadOnly(action)).isEqualTo(readOnly);
    }

    @Test
    void counts_everyOperationARealClientMakes_byIamAction() {
        CallRecorder recorder = new CallRecorder();
        try (LambdaClient lambda = lambda(recorder)) {
            lambda.listFunctions();
            lambda.listFunctions();
            lambda.getFunction(r -> r.functionName("orders"));

            assertThat(recorder.snapshot())
                    .containsExactly(Map.entry("lambda:GetFunction", 1L), Map.entry("lambda:ListFunctions", 2L));
        }
    }

    @Test
    void counts_failedCallsToo_onceEach() {
        CallRecorder recorder = new CallRecorder();
        try (LambdaClient lambda = lambda(recorder)) {
            assertThatThrownBy(() -> lambda.getFunction(r -> r.functionName("broken")))
                    .isInstanceOf(ServiceException.class);
            assertThat(recorder.snapshot()).containsExactly(Map.entry("lambda:GetFunction", 1L));
        }
    }

    @Test
    void since_givesOnlyTheCallsMadeAfterASnapshot() {
        CallRecorder recorder = new CallRecorder();
        try (LambdaClient lambda = lambda(recorder)) {
            lambda.listFunctions();
            Map<String, Long> before = recorder.snapshot();
            lambda.listFunctions();
            lambda.getFunction(r -> r.functionName("orders"));

            assertThat(recorder.since(before))
                    .containsExactly(Map.entry("lambda:GetFunction", 1L), Map.entry("lambda:ListFunctions", 1L));
            assertThat(recorder.since(recorder.snapshot())).isEmpty();
        }
    }

    @Test
    void snapshot_isACopy() {
        CallRecorder recorder = new CallRecorder();
        Map<String, Long> empty = recorder.snapshot();
        try (LambdaClient lambda = lambda(recorder)) {
            lambda.listFunctions();
        }
        assertThat(empty).isEmpty();
    }

    private LambdaClient lambda(CallRecorder recorder) {
        return LambdaClient.builder()
                .region(Region.US_EAST_1)
                .endpointOverride(URI.create(wireMock.baseUrl()))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("AKID", "SECRET")))
                .httpClient(UrlConnectionHttpClient.create())
                .overrideConfiguration(
                        o -> o.addExecutionInterceptor(recorder).retryStrategy(AwsRetryStrategy.doNotRetry()))
                .build();
    }
}
