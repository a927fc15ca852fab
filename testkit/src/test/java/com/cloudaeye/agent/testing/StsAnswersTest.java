package com.cloudaeye.agent.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sts.StsClient;
import software.amazon.awssdk.services.sts.model.AssumeRoleResponse;
import software.amazon.awssdk.services.sts.model.GetCallerIdentityResponse;
import software.amazon.awssdk.services.sts.model.StsException;

/** STS's answers as the AWS SDK reads them, served by a stub, and the requests they answer as the SDK sends them. */
class StsAnswersTest {
    private static final String ACCOUNT = "444455556666";
    private static final String ROLE = "arn:aws:iam::" + ACCOUNT + ":role/CloudAEyeInstaller";

    /** The form bodies of the requests the stub received. */
    private final List<String> requests = new CopyOnWriteArrayList<>();

    private HttpServer server;
    private int status;
    private String answer = "";

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            try (exchange) {
                requests.add(URLDecoder.decode(
                        new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8),
                        StandardCharsets.UTF_8));
                byte[] body = answer.getBytes(StandardCharsets.UTF_8);
                exchange.getResponseHeaders().set("Content-Type", StsAnswers.CONTENT_TYPE);
                exchange.sendResponseHeaders(status, body.length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(body);
                }
            }
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    @Test
    void callerIdentity_isReadAsTheDeployerUserOfTheAccount() {
        answer(200, StsAnswers.callerIdentity(ACCOUNT));
        try (StsClient sts = sts()) {
            GetCallerIdentityResponse caller = sts.getCallerIdentity();

            assertThat(caller.account()).isEqualTo(ACCOUNT);
            assertThat(caller.arn()).isEqualTo("arn:aws:iam::" + ACCOUNT + ":user/deployer");
        }
        assertThat(requests).singleElement().asString().contains(StsAnswers.GET_CALLER_IDENTITY);
    }

    @Test
    void assumeRole_isReadAsCredentialsOfTheRolesAccount_withTheGivenKeyAndExpiry() {
        Instant expiration = Instant.parse("2099-01-01T00:00:00Z");
        answer(200, StsAnswers.assumeRole(ACCOUNT, "ASIA" + ACCOUNT, expiration));
        try (StsClient sts = sts()) {
            AssumeRoleResponse assumed = sts.assumeRole(r -> r.roleArn(ROLE).roleSessionName("fleet"));

            assertThat(assumed.credentials().accessKeyId()).isEqualTo("ASIA" + ACCOUNT);
            assertThat(assumed.credentials().expiration()).isEqualTo(expiration);
            assertThat(assumed.assumedRoleUser().arn()).startsWith("arn:aws:sts::" + ACCOUNT + ":assumed-role/");
        }
        assertThat(requests)
                .singleElement()
                .asString()
                .contains(StsAnswers.ASSUME_ROLE)
                .doesNotContain(StsAnswers.GET_CALLER_IDENTITY);
    }

    @Test
    void assumeRoleDenied_isReadAsAccessDenied_namingTheCallerAndTheRole() {
        String caller = "arn:aws:iam::123456789012:user/ci";
        answer(StsAnswers.ACCESS_DENIED_STATUS, StsAnswers.assumeRoleDenied(caller, ROLE));
        try (StsClient sts = sts()) {
            StsException denied = catchThrowableOfType(
                    StsException.class,
                    () -> sts.assumeRole(r -> r.roleArn(ROLE).roleSessionName("fleet")));

            assertThat(denied).isNotNull();
            assertThat(denied.statusCode()).isEqualTo(403);
            assertThat(denied.awsErrorDetails().errorCode()).isEqualTo("AccessDenied");
            assertThat(denied.awsErrorDetails().errorMessage()).contains(caller).contains(ROLE);
        }
    }

    private void answer(int status, String body) {
        this.status = status;
        this.answer = body;
    }

    private StsClient sts() {
        return StsClient.builder()
                .endpointOverride(
                        URI.create("http://127.0.0.1:" + server.getAddress().getPort()))
                .region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("AKID", "SECRET")))
                .overrideConfiguration(o -> o.retryStrategy(AwsRetryStrategy.doNotRetry()))
                .build();
    }
}
