package com.cloudaeye.agent.internal;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.PlanningException;
import com.cloudaeye.agent.spi.ApplyContext;
import com.cloudaeye.agent.spi.JournaledChange;
import com.cloudaeye.agent.spi.Quota;
import com.cloudaeye.agent.spi.Target;
import com.cloudaeye.agent.spi.TargetContext;
import com.cloudaeye.agent.spi.TargetPlan;
import com.cloudaeye.agent.spi.TargetService;
import com.cloudaeye.agent.spi.support.AwsActions;
import com.github.tomakehurst.wiremock.WireMockServer;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.FunctionConfiguration;
import software.amazon.awssdk.utils.SdkAutoCloseable;

/**
 * The clients the installer gives targets: pointed at the endpoint override, seen by the call recorder, made once
 * per type, and without SDK retries (the scheduler retries), checked with a real Lambda client against WireMock.
 */
class AwsClientsTest {
    private static final Quota QUOTA = new Quota("lambda.control-plane", 1000);
    private static WireMockServer wireMock;

    @BeforeAll
    static void start() {
        wireMock = WireMockLambda.start();
    }

    @AfterAll
    static void stop() {
        wireMock.stop();
    }

    @BeforeEach
    void resetRequests() {
        wireMock.resetRequests();
    }

    /** Plans one no-op per function that ListFunctions returns; reads the broken function when asked to. */
    static final class ListingTarget implements Target, TargetService {
        private final String read;

        ListingTarget(String read) {
            this.read = read;
        }

        @Override
        public String name() {
            return "listing";
        }

        @Override
        public TargetPlan plan(TargetContext context) {
            LambdaClient lambda = context.client(LambdaClient.class, LambdaClient::builder);
            assertThat(context.client(LambdaClient.class, LambdaClient::builder))
                    .as("one client per type")
                    .isSameAs(lambda);
            List<FunctionConfiguration> functions =
                    context.scheduler().call(QUOTA, () -> lambda.listFunctions().functions());
            if (read != null) {
                context.scheduler().call(QUOTA, () -> lambda.getFunction(r -> r.functionName(read)));
            }
            return new TargetPlan(
                    functions.stream()
                            .<Change>map(f -> Change.builder()
                                    .target(name())
                                    .resourceType("AWS::Lambda::Function")
                                    .resourceId(f.functionArn())
                                    .action(ChangeAction.NO_OP)
                                    .reason("read only")
                                    .build())
                            .toList(),
                    List.of(Permission.of("lambda:ListFunctions", "*")));
        }

        @Override
        public TargetPlan planUninstall(TargetContext context) {
            return new TargetPlan(List.of(), List.of());
        }

        @Override
        public TargetService service() {
            return this;
        }

        @Override
        public TargetPlan planRollback(List<JournaledChange> journaled, TargetContext context) {
            return new TargetPlan(List.of(), List.of());
        }

        @Override
        public void apply(List<Change> changes, ApplyContext context) {}
    }

    private static AgentInstaller installer(String read, int maxAttempts) {
        return AgentInstaller.builder()
                .region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("AKID", "SECRET")))
                .endpointOverride(URI.create(wireMock.baseUrl()))
                .retries(maxAttempts, Duration.ofMillis(1))
                .withoutJournal()
                .target(new ListingTarget(read))
                .build();
    }

    @Test
    void clients_goToTheEndpointOverride_andTheRecorderSeesEveryCall() {
        try (AgentInstaller installer = installer("orders", 3)) {
            assertThat(installer.plan().changes())
                    .extracting(Change::resourceId)
                    .containsExactly("arn:aws:lambda:us-east-1:123456789012:function:orders");
            assertThat(installer.calls())
                    .isEqualTo(Map.of("lambda:GetFunction", 1L, "lambda:ListFunctions", 1L))
                    .allSatisfy((action, n) ->
                            assertThat(AwsActions.isReadOnly(action)).isTrue());
        }
    }

    @Test
    void clients_doNotRetryThemselves_soEachSchedulerAttemptIsOneRequest() {
        try (AgentInstaller installer = installer("broken", 3)) {
            assertThatThrownBy(installer::plan)
                    .isInstanceOf(PlanningException.class)
                    .hasMessageContaining("listing target")
                    .hasMessageContaining("read permissions");
            wireMock.verify(3, getRequestedFor(urlPathEqualTo("/2015-03-31/functions/broken")));
            assertThat(installer.calls()).containsEntry("lambda:GetFunction", 3L);
        }
    }

    @Test
    void aCallerBuiltClient_isUsedAsIs_andNotClosedByTheInstaller() {
        wireMock.stubFor(get(urlPathEqualTo("/2015-03-31/functions/caller"))
                .willReturn(aResponse()
                        .withStatus(200)
                        .withHeader("Content-Type", "application/json")
                        .withBody(WireMockLambda.fixture("get-function.json"))));
        LambdaClient own = LambdaClient.builder()
                .region(Region.US_EAST_1)
                .endpointOverride(URI.create(wireMock.baseUrl()))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("AKID", "SECRET")))
                .httpClient(software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient.create())
                .build();
        try {
            try (AgentInstaller installer = AgentInstaller.builder()
                    .region(Region.US_EAST_1)
                    .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("AKID", "SECRET")))
                    .client(LambdaClient.class, own)
                    .withoutJournal()
                    .target(new ListingTarget("caller"))
                    .build()) {
                installer.plan();
                assertThat(installer.calls())
                        .as("the caller's client has no recorder")
                        .isEmpty();
            }
            assertThat(own.getFunction(r -> r.functionName("caller"))
                            .configuration()
                            .functionName())
                    .as("still open after the installer closed")
                    .isEqualTo("orders");
        } finally {
            own.close();
        }
    }

    /**
     * The SDK cancels an attempt's timeout when the attempt ends; the SDK's own timer kept each cancelled one queued
     * for its 60 s, and with it the attempt's HTTP connection objects (about 24,000 at once in the fleet benchmark).
     */
    @Test
    void attemptTimeouts_ofEndedAttempts_areNotKeptQueued() {
        wireMock.stubFor(get(urlPathEqualTo("/2015-03-31/functions/caller"))
                .willReturn(aResponse()
                        .withStatus(200)
                        .withHeader("Content-Type", "application/json")
                        .withBody(WireMockLambda.fixture("get-function.json"))));
        try (AwsClients clients = new AwsClients(
                Region.US_EAST_1,
                StaticCredentialsProvider.create(AwsBasicCredentials.create("AKID", "SECRET")),
                URI.create(wireMock.baseUrl()),
                new CallRecorder(),
                Map.of())) {
            LambdaClient lambda = clients.client(LambdaClient.class, LambdaClient::builder);
            for (int i = 0; i < 5; i++) {
                assertThat(lambda.getFunction(r -> r.functionName("caller"))
                                .configuration()
                                .functionName())
                        .isEqualTo("orders");
            }
            assertThat(clients.queuedTimeouts())
                    .as("five attempts ended, none in flight")
                    .isZero();
            // The timer's thread ends when idle (after RateLimitedScheduler.IDLE_THREAD_LIFETIME), like the
            // scheduler's: a fleet's finished account-regions hold no thread.
            IdleThreadsTest.awaitZero(clients::timerThreads, "the SDK timer's thread");
        }
    }

    /** A provider that counts its closes, as the SDK's refreshing providers (STS, SSO, the default chain) close. */
    static final class ClosingProvider implements AwsCredentialsProvider, SdkAutoCloseable {
        final AtomicInteger closes = new AtomicInteger();

        @Override
        public AwsCredentials resolveCredentials() {
            if (closes.get() > 0) {
                throw new IllegalStateException("closed");
            }
            return AwsBasicCredentials.create("AKID", "SECRET");
        }

        @Override
        public void close() {
            closes.incrementAndGet();
        }
    }

    /** The SDK closes a client's provider with the client: the caller's provider may serve other installers. */
    @Test
    void aCallerGivenCredentialsProvider_staysOpen_whenTheInstallerCloses() {
        ClosingProvider callers = new ClosingProvider();
        try (AgentInstaller installer = AgentInstaller.builder()
                .region(Region.US_EAST_1)
                .credentialsProvider(callers)
                .endpointOverride(URI.create(wireMock.baseUrl()))
                .withoutJournal()
                .target(new ListingTarget("orders"))
                .build()) {
            installer.plan();
        }
        assertThat(callers.closes)
                .as("the caller's provider after the installer closed")
                .hasValue(0);
        assertThat(callers.resolveCredentials().accessKeyId()).isEqualTo("AKID");
    }

    @Test
    void theInstallersOwnCredentialsProvider_isClosedOnce_withTheClients() {
        ClosingProvider own = new ClosingProvider();
        AwsClients clients =
                AwsClients.owning(Region.US_EAST_1, own, URI.create(wireMock.baseUrl()), new CallRecorder(), Map.of());
        clients.client(LambdaClient.class, LambdaClient::builder).listFunctions();
        clients.close();
        assertThat(own.closes).hasValue(1);
    }
}
