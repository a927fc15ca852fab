package com.cloudaeye.agent.testing;

import com.cloudaeye.agent.AgentSettings;
import com.cloudaeye.agent.Secret;
import com.cloudaeye.agent.spi.CallScheduler;
import com.cloudaeye.agent.spi.FleetScope;
import com.cloudaeye.agent.spi.Quota;
import com.cloudaeye.agent.spi.TargetContext;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.client.builder.AwsClientBuilder;
import software.amazon.awssdk.core.SdkClient;
import software.amazon.awssdk.regions.Region;

/**
 * For a target's unit tests: the context a {@code FleetInstaller} gives its member for one account-region (or, with no
 * fleet, a single installer's), in {@code us-east-1} over a stub endpoint (e.g. WireMock): every call runs at once on
 * the caller's thread, so a test sees exactly which calls a plan made. Shared by the platform modules' tests, which may
 * not depend on each other.
 */
public final class FleetMemberContext implements TargetContext, AutoCloseable {
    private final URI endpoint;
    private final String account;
    private final @Nullable FleetScope fleet;
    private final Map<Class<?>, SdkClient> clients = new ConcurrentHashMap<>();

    /**
     * @param endpoint the stub AWS endpoint
     * @param account the account the member's credentials act in
     * @param fleet the fleet, or null for a single installer
     */
    public FleetMemberContext(URI endpoint, String account, @Nullable FleetScope fleet) {
        this.endpoint = endpoint;
        this.account = account;
        this.fleet = fleet;
    }

    @Override
    public Region region() {
        return Region.US_EAST_1;
    }

    @Override
    public AgentSettings agent() {
        return AgentSettings.builder()
                .logsEndpoint("https://logs.example.cloudaeye.com")
                .apiToken(Secret.of("tok"))
                .build();
    }

    @Override
    public <C extends SdkClient, B extends AwsClientBuilder<B, C>> C client(Class<C> type, Supplier<B> builder) {
        return type.cast(clients.computeIfAbsent(
                type,
                t -> builder.get()
                        .region(region())
                        .endpointOverride(endpoint)
                        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("a", "b")))
                        .build()));
    }

    @Override
    public CallScheduler scheduler() {
        return new CallScheduler() {
            @Override
            public <T> CompletableFuture<T> submit(Quota quota, Supplier<T> call) {
                try {
                    return CompletableFuture.completedFuture(call.get());
                } catch (RuntimeException e) {
                    return CompletableFuture.failedFuture(e);
                }
            }

            @Override
            public CompletableFuture<Void> after(Duration delay) {
                return CompletableFuture.completedFuture(null);
            }

            @Override
            public long throttledCount() {
                return 0;
            }
        };
    }

    @Override
    public Optional<String> accountId() {
        return Optional.of(account);
    }

    @Override
    public Optional<FleetScope> fleet() {
        return Optional.ofNullable(fleet);
    }

    @Override
    public void close() {
        clients.values().forEach(SdkClient::close);
    }
}
