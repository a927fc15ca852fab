package com.cloudaeye.agent.ecs.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.cloudaeye.agent.AgentSettings;
import com.cloudaeye.agent.Secret;
import com.cloudaeye.agent.ecs.LogRouter;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.ecs.EcsClient;
import software.amazon.awssdk.services.ecs.model.ContainerDefinition;
import software.amazon.awssdk.services.ecs.model.DescribeTaskDefinitionResponse;
import software.amazon.awssdk.services.ecs.model.KeyValuePair;
import software.amazon.awssdk.services.ecs.model.RegisterTaskDefinitionRequest;
import software.amazon.awssdk.services.ecs.model.Tag;
import software.amazon.awssdk.services.ecs.model.TaskDefinition;

class RequestSizeTest {
    private static final AgentSettings AGENT = AgentSettings.builder()
            .logsEndpoint("https://logs.example.cloudaeye.com")
            .apiToken(Secret.of("size-token"))
            .build();

    /** Stops a request just before it is sent, carrying the size of the body the SDK built. */
    private static final class Sent extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final transient int bytes;

        Sent(int bytes) {
            super("not sent");
            this.bytes = bytes;
        }
    }

    /** The size of the body the AWS SDK itself sends for this request. */
    private static int sdkBytes(RegisterTaskDefinitionRequest request) {
        AtomicInteger bytes = new AtomicInteger(-1);
        try (EcsClient ecs = EcsClient.builder()
                .region(Region.US_EAST_1)
                .endpointOverride(URI.create("http://127.0.0.1:9"))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("a", "b")))
                .overrideConfiguration(o -> o.addExecutionInterceptor(new ExecutionInterceptor() {
                    @Override
                    public void beforeTransmission(Context.BeforeTransmission context, ExecutionAttributes a) {
                        try (InputStream in = context.requestBody()
                                .orElseThrow()
                                .contentStreamProvider()
                                .newStream()) {
                            throw new Sent(in.readAllBytes().length);
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    }
                }))
                .build()) {
            assertThatThrownBy(() -> ecs.registerTaskDefinition(request))
                    .isInstanceOfSatisfying(Sent.class, s -> bytes.set(s.bytes));
        }
        return bytes.get();
    }

    private static DescribeTaskDefinitionResponse source(String environmentValue) {
        return DescribeTaskDefinitionResponse.builder()
                .taskDefinition(TaskDefinition.builder()
                        .taskDefinitionArn("arn:aws:ecs:us-east-1:123456789012:task-definition/app:3")
                        .family("app")
                        .revision(3)
                        .networkMode("awsvpc")
                        .requiresCompatibilities(software.amazon.awssdk.services.ecs.model.Compatibility.FARGATE)
                        .cpu("512")
                        .memory("1024")
                        .containerDefinitions(ContainerDefinition.builder()
                                .name("api")
                                .image("example/api:7 ü")
                                .essential(true)
                                .memoryReservation(256)
                                .environment(KeyValuePair.builder()
                                        .name("BIG")
                                        .value(environmentValue)
                                        .build())
                                .build())
                        .build())
                .tags(Tag.builder().key("team").value("payments").build())
                .build();
    }

    private static RegisterTaskDefinitionRequest install(String environmentValue) {
        LogRouter router = LogRouter.builder()
                .image("public.ecr.aws/cloudaeye/log-router:1.4.0")
                .build();
        return RevisionRequests.installRequest(source(environmentValue), router, AGENT, null, null);
    }

    @Test
    void bytes_ofAnInstallRequest_isTheSizeOfTheBodyTheSdkSends() {
        RegisterTaskDefinitionRequest request = install("value with \"quotes\", a tab\t and ünïcödé");

        assertThat(RequestSize.bytes(request)).isEqualTo(sdkBytes(request));
    }

    @Test
    void bytes_ofACopyOfARevisionWithItsTags_isTheSizeOfTheBodyTheSdkSends() {
        DescribeTaskDefinitionResponse source = source("x".repeat(1000));
        RegisterTaskDefinitionRequest request =
                RevisionRequests.copy(source.taskDefinition(), source.tags()).build();

        assertThat(RequestSize.bytes(request)).isEqualTo(sdkBytes(request));
    }

    @Test
    void bytes_whenTheRouterPushesALargeTaskDefinitionOverTheLimit_exceedsIt_thoughTheSourceFits() {
        RegisterTaskDefinitionRequest unchanged = RevisionRequests.copy(
                        source("x".repeat(RequestSize.MAX_REGISTER_BYTES - 700)).taskDefinition(), java.util.List.of())
                .build();
        RegisterTaskDefinitionRequest request = install("x".repeat(RequestSize.MAX_REGISTER_BYTES - 700));

        assertThat(RequestSize.bytes(unchanged)).isLessThanOrEqualTo(RequestSize.MAX_REGISTER_BYTES);
        assertThat(RequestSize.bytes(request))
                .isGreaterThan(RequestSize.MAX_REGISTER_BYTES)
                .isEqualTo(sdkBytes(request));
    }
}
