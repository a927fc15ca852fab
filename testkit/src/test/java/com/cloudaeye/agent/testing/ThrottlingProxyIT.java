package com.cloudaeye.agent.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.cloudaeye.agent.internal.RateLimitedScheduler;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.awscore.client.builder.AwsClientBuilder;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.core.client.builder.SdkSyncClientBuilder;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.ecs.EcsClient;
import software.amazon.awssdk.services.ecs.model.EcsException;
import software.amazon.awssdk.services.eks.EksClient;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.iam.model.IamException;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.LambdaException;
import software.amazon.awssdk.services.lambda.model.LastUpdateStatus;
import software.amazon.awssdk.services.lambda.model.ResourceConflictException;
import software.amazon.awssdk.services.lambda.model.Runtime;
import software.amazon.awssdk.services.lambda.model.ServiceException;
import software.amazon.awssdk.services.lambda.model.TooManyRequestsException;
import software.amazon.awssdk.services.sts.StsClient;
import software.amazon.awssdk.services.sts.model.StsException;

/** Drives {@link ThrottlingProxy} with a real {@link LambdaClient} (no SDK retries) in front of moto. */
class ThrottlingProxyIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final SdkHttpClient HTTP = UrlConnectionHttpClient.create();

    private String roleArn;

    @BeforeAll
    static void resetMoto() {
        Moto.reset();
    }

    @AfterAll
    static void closeHttp() {
        HTTP.close();
    }

    @BeforeEach
    void createRole() {
        Moto.reset();
        try (IamClient iam = IamClient.builder()
                .region(Region.AWS_GLOBAL)
                .endpointOverride(Moto.endpoint())
                .credentialsProvider(Moto.credentials())
                .httpClient(HTTP)
                .build()) {
            roleArn = iam.createRole(
                            r -> r.roleName("fn-role")
                                    .assumeRolePolicyDocument(
                                            "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                                                    + "\"Principal\":{\"Service\":\"lambda.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"}]}"))
                    .role()
                    .arn();
        }
    }

    @Test
    void forwardsRequestsUnchanged_andCountsThemPerOperation() {
        try (ThrottlingProxy proxy =
                        ThrottlingProxy.builder().target(Moto.endpoint()).start();
                LambdaClient lambda = lambda(proxy.endpoint())) {
            createFunction(lambda, "alpha");
            createFunction(lambda, "beta");

            assertThat(lambda.listFunctions().functions())
                    .extracting(f -> f.functionName())
                    .containsExactlyInAnyOrder("alpha", "beta");
            assertThat(lambda.getFunction(r -> r.functionName("alpha"))
                            .configuration()
                            .runtime())
                    .isEqualTo(Runtime.PYTHON3_12);
            lambda.updateFunctionConfiguration(r -> r.functionName("beta").description("updated"));
            assertThat(lambda.getFunctionConfiguration(r -> r.functionName("beta"))
                            .description())
                    .isEqualTo("updated");

            assertThat(proxy.requests())
                    .containsEntry("CreateFunction", 2L)
                    .containsEntry("ListFunctions", 1L)
                    .containsEntry("GetFunction", 1L)
                    .containsEntry("UpdateFunctionConfiguration", 1L)
                    .containsEntry("GetFunctionConfiguration", 1L);
            assertThat(proxy.throttled()).isZero();
            assertThat(proxy.faultsInjected()).isZero();
            assertThat(proxy.peakConcurrentRequests()).isGreaterThanOrEqualTo(1);
        }
    }

    @Test
    void controlPlane_overLimit_isAnsweredLikeAws_withTooManyRequests() throws Exception {
        try (ThrottlingProxy proxy = ThrottlingProxy.builder()
                        .target(Moto.endpoint())
                        .rate(ThrottlingProxy.CONTROL_PLANE, 0.001) // one token, then none for 1000 s
                        .burst(ThrottlingProxy.CONTROL_PLANE, 1)
                        .start();
                LambdaClient lambda = lambda(proxy.endpoint())) {
            createFunction(lambda, "alpha"); // spends the only token

            assertThatThrownBy(() -> lambda.getFunctionConfiguration(r -> r.functionName("alpha")))
                    .isInstanceOfSatisfying(TooManyRequestsException.class, e -> {
                        assertThat(e.statusCode()).isEqualTo(429);
                        assertThat(e.isThrottlingException()).isTrue();
                        assertThat(e.awsErrorDetails().errorMessage()).isEqualTo("Rate exceeded");
                    });
            assertThatThrownBy(() -> lambda.listFunctions()).isInstanceOf(TooManyRequestsException.class);

            HttpResponse<String> raw = rawGet(proxy.endpoint().resolve("/2018-10-31/layers/any/versions/1"));
            assertThat(raw.statusCode()).isEqualTo(429);
            assertThat(raw.headers().firstValue("x-amzn-ErrorType")).hasValue("TooManyRequestsException");
            assertThat(JSON.readTree(raw.body()))
                    .isEqualTo(JSON.readTree("{\"Type\":\"User\",\"message\":\"Rate exceeded\"}"));

            assertThat(proxy.throttled()).isEqualTo(3);
            assertThat(proxy.throttled(ThrottlingProxy.CONTROL_PLANE)).isEqualTo(3);
            assertThat(proxy.requests("GetFunctionConfiguration")).isEqualTo(1);
            assertThat(proxy.requests("GetLayerVersion")).isEqualTo(1);
            assertThat(proxy.maxRequestsInAnyWindow(ThrottlingProxy.CONTROL_PLANE, Duration.ofMinutes(10)))
                    .as("the creation and the three throttled calls, counted in one window")
                    .isEqualTo(4);
            assertThat(proxy.maxRequestsInAnyWindow(ThrottlingProxy.CONTROL_PLANE, Duration.ofNanos(1)))
                    .isEqualTo(1);
            assertThat(proxy.maxRequestsInAnyWindow(ThrottlingProxy.GET_FUNCTION, Duration.ofMinutes(10)))
                    .isZero();
        }
    }

    @Test
    void getFunction_hasItsOwnBucket_soAnExhaustedControlPlaneDoesNotThrottleIt() {
        try (ThrottlingProxy proxy = ThrottlingProxy.builder()
                        .target(Moto.endpoint())
                        .rate(ThrottlingProxy.CONTROL_PLANE, 0.001)
                        .burst(ThrottlingProxy.CONTROL_PLANE, 1)
                        .rate(ThrottlingProxy.GET_FUNCTION, 0.001)
                        .burst(ThrottlingProxy.GET_FUNCTION, 5)
                        .start();
                LambdaClient lambda = lambda(proxy.endpoint())) {
            createFunction(lambda, "alpha");
            assertThatThrownBy(() -> lambda.getFunctionConfiguration(r -> r.functionName("alpha")))
                    .isInstanceOf(TooManyRequestsException.class);

            for (int i = 0; i < 5; i++) {
                assertThat(lambda.getFunction(r -> r.functionName("alpha"))
                                .configuration()
                                .functionName())
                        .isEqualTo("alpha");
            }
            assertThatThrownBy(() -> lambda.getFunction(r -> r.functionName("alpha")))
                    .isInstanceOf(TooManyRequestsException.class);

            assertThat(proxy.throttled(ThrottlingProxy.CONTROL_PLANE)).isEqualTo(1);
            assertThat(proxy.throttled(ThrottlingProxy.GET_FUNCTION)).isEqualTo(1);
            assertThat(proxy.requests("GetFunction")).isEqualTo(6);
        }
    }

    @Test
    void unlimited_neverThrottles() {
        try (ThrottlingProxy proxy = ThrottlingProxy.builder()
                        .target(Moto.endpoint())
                        .rate(ThrottlingProxy.CONTROL_PLANE, 0.001)
                        .burst(ThrottlingProxy.CONTROL_PLANE, 1)
                        .unlimited()
                        .start();
                LambdaClient lambda = lambda(proxy.endpoint())) {
            createFunction(lambda, "alpha");
            for (int i = 0; i < 5; i++) {
                lambda.getFunctionConfiguration(r -> r.functionName("alpha"));
            }
            assertThat(proxy.throttled()).isZero();
        }
    }

    @Test
    void update_isInProgressDuringThePropagationDelay_andConflictsWithUpdateAndPublish() {
        try (ThrottlingProxy proxy = ThrottlingProxy.builder()
                        .target(Moto.endpoint())
                        .propagationDelay(Duration.ofMinutes(10))
                        .start();
                LambdaClient lambda = lambda(proxy.endpoint())) {
            createFunction(lambda, "alpha");
            createFunction(lambda, "beta");

            assertThat(lambda.updateFunctionConfiguration(
                                    r -> r.functionName("alpha").description("v2"))
                            .lastUpdateStatus())
                    .isEqualTo(LastUpdateStatus.IN_PROGRESS);
            assertThat(lambda.getFunction(r -> r.functionName("alpha"))
                            .configuration()
                            .lastUpdateStatus())
                    .isEqualTo(LastUpdateStatus.IN_PROGRESS);
            String arn = lambda.getFunctionConfiguration(r -> r.functionName("alpha"))
                    .functionArn();
            assertThat(lambda.getFunctionConfiguration(r -> r.functionName(arn)).lastUpdateStatus())
                    .as("addressed by ARN")
                    .isEqualTo(LastUpdateStatus.IN_PROGRESS);

            assertThatThrownBy(() -> lambda.updateFunctionConfiguration(
                            r -> r.functionName("alpha").description("v3")))
                    .isInstanceOfSatisfying(
                            ResourceConflictException.class,
                            e -> assertThat(e.statusCode()).isEqualTo(409));
            assertThatThrownBy(() -> lambda.publishVersion(r -> r.functionName(arn)))
                    .isInstanceOf(ResourceConflictException.class);

            assertThat(lambda.getFunction(r -> r.functionName("beta"))
                            .configuration()
                            .lastUpdateStatus())
                    .as("another function is not affected")
                    .isNotEqualTo(LastUpdateStatus.IN_PROGRESS);
            lambda.publishVersion(r -> r.functionName("beta"));

            assertThat(proxy.conflicts()).isEqualTo(2);
            assertThat(lambda.getFunctionConfiguration(r -> r.functionName("alpha"))
                            .description())
                    .as("the conflicting update never reached moto")
                    .isEqualTo("v2");
        }
    }

    @Test
    void update_finishesAfterThePropagationDelay() throws Exception {
        try (ThrottlingProxy proxy = ThrottlingProxy.builder()
                        .target(Moto.endpoint())
                        .propagationDelay(Duration.ofMillis(300))
                        .start();
                LambdaClient lambda = lambda(proxy.endpoint())) {
            createFunction(lambda, "alpha");
            lambda.updateFunctionConfiguration(r -> r.functionName("alpha").description("v2"));

            Thread.sleep(600);

            assertThat(lambda.getFunction(r -> r.functionName("alpha"))
                            .configuration()
                            .lastUpdateStatus())
                    .isEqualTo(LastUpdateStatus.SUCCESSFUL);
            assertThat(lambda.publishVersion(r -> r.functionName("alpha")).version())
                    .isEqualTo("1");
        }
    }

    @Test
    void latency_delaysEveryAnswer() {
        try (ThrottlingProxy proxy = ThrottlingProxy.builder()
                        .target(Moto.endpoint())
                        .latency(Duration.ofMillis(200))
                        .start();
                LambdaClient lambda = lambda(proxy.endpoint())) {
            long start = System.nanoTime();
            lambda.listFunctions();
            lambda.listFunctions();
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(400));
        }
    }

    @Test
    void serverErrorFault_answers500ServiceException() {
        try (ThrottlingProxy proxy = ThrottlingProxy.builder()
                        .target(Moto.endpoint())
                        .fault(ThrottlingProxy.Fault.SERVER_ERROR, 1.0)
                        .start();
                LambdaClient lambda = lambda(proxy.endpoint())) {
            assertThatThrownBy(lambda::listFunctions)
                    .isInstanceOfSatisfying(
                            ServiceException.class,
                            e -> assertThat(e.statusCode()).isEqualTo(500));
            assertThat(proxy.faults()).containsEntry(ThrottlingProxy.Fault.SERVER_ERROR, 1L);
        }
    }

    @Test
    void connectionResetFault_closesWithoutAnswer() {
        try (ThrottlingProxy proxy = ThrottlingProxy.builder()
                        .target(Moto.endpoint())
                        .fault(ThrottlingProxy.Fault.CONNECTION_RESET, 1.0)
                        .start();
                LambdaClient lambda = lambda(proxy.endpoint())) {
            assertThatThrownBy(lambda::listFunctions)
                    .isInstanceOf(SdkClientException.class)
                    .isNotInstanceOf(LambdaException.class);
            // HttpURLConnection re-sends a GET once when the server hangs up, so count requests, not calls.
            assertThat(proxy.faults().get(ThrottlingProxy.Fault.CONNECTION_RESET))
                    .isPositive()
                    .isEqualTo(proxy.requests("ListFunctions"));
        }
    }

    @Test
    void slowResponseFault_answersCorrectlyButLate() {
        try (ThrottlingProxy proxy = ThrottlingProxy.builder()
                        .target(Moto.endpoint())
                        .fault(ThrottlingProxy.Fault.SLOW_RESPONSE, 1.0)
                        .slowResponse(Duration.ofMillis(300))
                        .start();
                LambdaClient lambda = lambda(proxy.endpoint())) {
            long start = System.nanoTime();
            assertThat(lambda.listFunctions().functions()).isEmpty();
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(300));
            assertThat(proxy.faults()).containsEntry(ThrottlingProxy.Fault.SLOW_RESPONSE, 1L);
        }
    }

    @Test
    void faults_followTheSeed_soRunsRepeat() {
        List<Boolean> first = faultPattern(7);
        List<Boolean> second = faultPattern(7);
        assertThat(second).isEqualTo(first);
        assertThat(first).contains(true, false);
    }

    private List<Boolean> faultPattern(long seed) {
        List<Boolean> failed = new ArrayList<>();
        try (ThrottlingProxy proxy = ThrottlingProxy.builder()
                        .target(Moto.endpoint())
                        .fault(ThrottlingProxy.Fault.SERVER_ERROR, 0.5)
                        .seed(seed)
                        .start();
                LambdaClient lambda = lambda(proxy.endpoint())) {
            for (int i = 0; i < 30; i++) {
                try {
                    lambda.listFunctions();
                    failed.add(false);
                } catch (ServiceException e) {
                    failed.add(true);
                }
            }
            assertThat(proxy.faultsInjected())
                    .isEqualTo(failed.stream().filter(f -> f).count());
            assertThat(proxy.requests("ListFunctions")).isEqualTo(30);
        }
        return failed;
    }

    @Test
    void peakConcurrentRequests_countsRequestsInFlightTogether() throws Exception {
        int n = 6;
        try (ThrottlingProxy proxy = ThrottlingProxy.builder()
                        .target(Moto.endpoint())
                        .unlimited()
                        .latency(Duration.ofSeconds(1))
                        .start();
                LambdaClient lambda = lambda(proxy.endpoint())) {
            ExecutorService pool = Executors.newFixedThreadPool(n);
            try {
                CountDownLatch ready = new CountDownLatch(n);
                List<Callable<Integer>> calls = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    calls.add(() -> {
                        ready.countDown();
                        ready.await();
                        return lambda.listFunctions().functions().size();
                    });
                }
                for (Future<Integer> f : pool.invokeAll(calls)) {
                    assertThat(f.get()).isZero();
                }
            } finally {
                pool.shutdownNow();
            }
            assertThat(proxy.peakConcurrentRequests()).isBetween(2, n);
            proxy.resetCounters();
            assertThat(proxy.requests()).isEqualTo(Map.of());
        }
    }

    @Test
    void throttledFault_isEachServicesOwnThrottlingError_whichTheSchedulerRetriesAsThrottling() {
        try (ThrottlingProxy proxy = ThrottlingProxy.builder()
                        .target(Moto.endpoint())
                        .fault(ThrottlingProxy.Fault.THROTTLED, 1.0)
                        .start();
                LambdaClient lambda = lambda(proxy.endpoint());
                EcsClient ecs = client(EcsClient.builder(), proxy.endpoint());
                EksClient eks = client(EksClient.builder(), proxy.endpoint());
                IamClient iam = client(IamClient.builder(), proxy.endpoint());
                StsClient sts = client(StsClient.builder(), proxy.endpoint())) {
            assertThatThrownBy(lambda::listFunctions)
                    .isInstanceOfSatisfying(TooManyRequestsException.class, e -> assertThrottling(e, 429));
            assertThatThrownBy(ecs::listClusters).isInstanceOfSatisfying(EcsException.class, e -> {
                assertThrottling(e, 400);
                assertThat(e.awsErrorDetails().errorCode()).isEqualTo("ThrottlingException");
            });
            assertThatThrownBy(eks::listClusters)
                    .isInstanceOfSatisfying(
                            software.amazon.awssdk.services.eks.model.ThrottlingException.class,
                            e -> assertThrottling(e, 429));
            assertThatThrownBy(() -> iam.getRole(r -> r.roleName("fn-role")))
                    .isInstanceOfSatisfying(IamException.class, e -> {
                        assertThrottling(e, 400);
                        assertThat(e.awsErrorDetails().errorCode()).isEqualTo("Throttling");
                    });
            assertThatThrownBy(sts::getCallerIdentity).isInstanceOfSatisfying(StsException.class, e -> {
                assertThrottling(e, 400);
                assertThat(e.awsErrorDetails().errorCode()).isEqualTo("Throttling");
            });
            assertThat(proxy.faults()).containsEntry(ThrottlingProxy.Fault.THROTTLED, 5L);
            assertThat(proxy.requests())
                    .containsEntry("ListFunctions", 1L)
                    .containsEntry("ListClusters", 2L) // ECS and EKS
                    .containsEntry("GetRole", 1L)
                    .containsEntry("GetCallerIdentity", 1L);
        }
    }

    private static void assertThrottling(AwsServiceException e, int status) {
        assertThat(e.statusCode()).isEqualTo(status);
        assertThat(e.isThrottlingException()).isTrue();
        assertThat(e.awsErrorDetails().errorMessage()).isEqualTo("Rate exceeded");
        assertThat(RateLimitedScheduler.isThrottling(e)).isTrue();
    }

    @Test
    void serverErrorFault_isEachServicesOwnServerError_whichTheSchedulerRetriesAsTransient() {
        try (ThrottlingProxy proxy = ThrottlingProxy.builder()
                        .target(Moto.endpoint())
                        .fault(ThrottlingProxy.Fault.SERVER_ERROR, 1.0)
                        .start();
                EcsClient ecs = client(EcsClient.builder(), proxy.endpoint());
                EksClient eks = client(EksClient.builder(), proxy.endpoint());
                IamClient iam = client(IamClient.builder(), proxy.endpoint())) {
            assertThatThrownBy(ecs::listClusters)
                    .isInstanceOfSatisfying(
                            software.amazon.awssdk.services.ecs.model.ServerException.class, e -> assertServerError(e));
            assertThatThrownBy(() -> eks.describeCluster(r -> r.name("prod")))
                    .isInstanceOfSatisfying(
                            software.amazon.awssdk.services.eks.model.ServerException.class, e -> assertServerError(e));
            assertThatThrownBy(() -> iam.getRole(r -> r.roleName("fn-role")))
                    .isInstanceOfSatisfying(IamException.class, e -> {
                        assertServerError(e);
                        assertThat(e.awsErrorDetails().errorCode()).isEqualTo("InternalFailure");
                    });
            assertThat(proxy.requests()).containsEntry("DescribeCluster", 1L);
        }
    }

    private static void assertServerError(AwsServiceException e) {
        assertThat(e.statusCode()).isEqualTo(500);
        assertThat(e.isThrottlingException()).isFalse();
        assertThat(e.awsErrorDetails().errorMessage()).isEqualTo("Injected fault: internal error");
        assertThat(RateLimitedScheduler.isTransient(e)).isTrue();
    }

    @Test
    void lostResponseFault_appliesTheChangeInMoto_butTheClientGetsNoAnswer() {
        try (ThrottlingProxy proxy = ThrottlingProxy.builder()
                        .target(Moto.endpoint())
                        .fault(ThrottlingProxy.Fault.LOST_RESPONSE, 1.0)
                        .start();
                IamClient iam = client(IamClient.builder(), proxy.endpoint());
                EcsClient ecs = client(EcsClient.builder(), proxy.endpoint());
                EcsClient direct = client(EcsClient.builder(), Moto.endpoint())) {
            assertThatThrownBy(() ->
                            iam.updateRoleDescription(r -> r.roleName("fn-role").description("changed")))
                    .isInstanceOf(SdkClientException.class)
                    .satisfies(
                            e -> assertThat(RateLimitedScheduler.isTransient(e)).isTrue());
            assertThatThrownBy(() -> ecs.createCluster(r -> r.clusterName("lost")))
                    .isInstanceOf(SdkClientException.class);

            assertThat(direct.describeClusters(r -> r.clusters("lost")).clusters())
                    .extracting(c -> c.status())
                    .containsExactly("ACTIVE");
            try (IamClient directIam = client(IamClient.builder(), Moto.endpoint())) {
                assertThat(directIam.getRole(r -> r.roleName("fn-role")).role().description())
                        .isEqualTo("changed");
            }
            // The SDK streams a POST body, so HttpURLConnection does not silently re-send it (as it does a GET).
            assertThat(proxy.requests("UpdateRoleDescription")).isEqualTo(1);
            assertThat(proxy.requests("CreateCluster")).isEqualTo(1);
            assertThat(proxy.faults()).containsEntry(ThrottlingProxy.Fault.LOST_RESPONSE, 2L);
        }
    }

    @Test
    void faultOnly_injectsFaultsIntoTheNamedServicesAndOperationsOnly() {
        try (ThrottlingProxy proxy = ThrottlingProxy.builder()
                        .target(Moto.endpoint())
                        .fault(ThrottlingProxy.Fault.SERVER_ERROR, 1.0)
                        .faultOnly("CreateCluster", "iam")
                        .start();
                EcsClient ecs = client(EcsClient.builder(), proxy.endpoint());
                IamClient iam = client(IamClient.builder(), proxy.endpoint())) {
            assertThat(ecs.listClusters().clusterArns()).isEmpty();
            assertThatThrownBy(() -> ecs.createCluster(r -> r.clusterName("x")))
                    .isInstanceOf(software.amazon.awssdk.services.ecs.model.ServerException.class);
            assertThatThrownBy(() -> iam.getRole(r -> r.roleName("fn-role"))).isInstanceOf(IamException.class);
            assertThat(proxy.faults()).containsEntry(ThrottlingProxy.Fault.SERVER_ERROR, 2L);
        }
    }

    private static <B extends AwsClientBuilder<B, C> & SdkSyncClientBuilder<B, C>, C> C client(
            B builder, URI endpoint) {
        return builder.region(Moto.REGION)
                .endpointOverride(endpoint)
                .credentialsProvider(Moto.credentials())
                .httpClient(HTTP)
                .overrideConfiguration(o -> o.retryStrategy(AwsRetryStrategy.doNotRetry()))
                .build();
    }

    private static LambdaClient lambda(URI endpoint) {
        return LambdaClient.builder()
                .region(Moto.REGION)
                .endpointOverride(endpoint)
                .credentialsProvider(Moto.credentials())
                .httpClient(HTTP)
                .overrideConfiguration(o -> o.retryStrategy(AwsRetryStrategy.doNotRetry()))
                .build();
    }

    private void createFunction(LambdaClient lambda, String name) {
        lambda.createFunction(r -> r.functionName(name)
                .runtime(Runtime.PYTHON3_12)
                .role(roleArn)
                .handler("index.handler")
                .code(c -> c.zipFile(SdkBytes.fromByteArray(zip()))));
    }

    private static byte[] zip() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            zip.putNextEntry(new ZipEntry("index.py"));
            zip.write("def handler(event, context):\n    return event\n"
                    .getBytes(java.nio.charset.StandardCharsets.UTF_8));
            zip.closeEntry();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    private static HttpResponse<String> rawGet(URI uri) throws IOException, InterruptedException {
        return HttpClient.newHttpClient()
                .send(HttpRequest.newBuilder(uri).GET().build(), HttpResponse.BodyHandlers.ofString());
    }
}
