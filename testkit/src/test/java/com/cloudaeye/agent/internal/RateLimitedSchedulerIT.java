package com.cloudaeye.agent.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.spi.Quota;
import com.cloudaeye.agent.testing.Moto;
import com.cloudaeye.agent.testing.ThrottlingProxy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.ListFunctionsResponse;

/**
 * The scheduler against the throttling proxy: when the scheduler is configured faster than the proxy allows, AWS-style
 * 429s are retried until every call succeeds, and each one is counted. Correctness only; speed is the benchmark's job.
 */
class RateLimitedSchedulerIT {
    @BeforeEach
    void reset() {
        Moto.reset();
    }

    @Test
    void callsOverTheServersLimit_areRetriedUntilTheySucceed_andEveryThrottleIsCounted() throws Exception {
        try (ThrottlingProxy proxy = ThrottlingProxy.builder()
                        .target(Moto.endpoint())
                        .rate(ThrottlingProxy.CONTROL_PLANE, 4)
                        .burst(ThrottlingProxy.CONTROL_PLANE, 1)
                        .start();
                LambdaClient lambda = LambdaClient.builder()
                        .region(Moto.REGION)
                        .endpointOverride(proxy.endpoint())
                        .credentialsProvider(Moto.credentials())
                        .httpClient(UrlConnectionHttpClient.create())
                        .overrideConfiguration(o -> o.retryStrategy(AwsRetryStrategy.doNotRetry()))
                        .build();
                RateLimitedScheduler scheduler = new RateLimitedScheduler(Map.of(), 8, 30, Duration.ofMillis(50))) {
            Quota tooFast = new Quota("lambda.control-plane", 40);
            List<CompletableFuture<ListFunctionsResponse>> calls = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                calls.add(scheduler.submit(tooFast, lambda::listFunctions));
            }
            CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);

            assertThat(calls).allSatisfy(c -> assertThat(c).isCompleted().isNotCompletedExceptionally());
            assertThat(proxy.throttled())
                    .as("the proxy throttled the scheduler")
                    .isPositive();
            assertThat(scheduler.throttledCount()).isEqualTo(proxy.throttled());
            assertThat(proxy.requests("ListFunctions")).isEqualTo(12 + proxy.throttled());
            assertThat(scheduler.currentRate("lambda.control-plane")).isLessThan(40);
        }
    }
}
