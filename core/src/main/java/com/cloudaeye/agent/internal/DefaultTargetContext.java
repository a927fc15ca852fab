package com.cloudaeye.agent.internal;

import com.cloudaeye.agent.AgentSettings;
import com.cloudaeye.agent.ConfigurationException;
import com.cloudaeye.agent.SinkKey;
import com.cloudaeye.agent.spi.CallScheduler;
import com.cloudaeye.agent.spi.FleetScope;
import com.cloudaeye.agent.spi.TargetContext;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.awscore.client.builder.AwsClientBuilder;
import software.amazon.awssdk.core.SdkClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sts.StsClient;

/** The {@link TargetContext} of one installer. */
public class DefaultTargetContext implements TargetContext {
    private final AwsClients clients;
    private final CallScheduler scheduler;
    private final @Nullable AgentSettings agent;
    private final Map<SinkKey<?>, Consumer<?>> sinks;
    private volatile @Nullable String account;
    private final @Nullable FleetScope fleet;

    /**
     * @param clients the clients
     * @param scheduler the scheduler
     * @param agent the agent settings, null when the installer was built without them
     * @param sinks the caller's sinks by key
     * @param account the account the credentials act in when known without a call (a fleet's assumed role), else
     *     null: found with {@code sts:GetCallerIdentity} when first asked
     * @param fleet the fleet this context is a member of, or null for a single installer
     */
    public DefaultTargetContext(
            AwsClients clients,
            CallScheduler scheduler,
            @Nullable AgentSettings agent,
            Map<SinkKey<?>, Consumer<?>> sinks,
            @Nullable String account,
            @Nullable FleetScope fleet) {
        this.clients = clients;
        this.scheduler = scheduler;
        this.agent = agent;
        this.sinks = Map.copyOf(sinks);
        this.account = account;
        this.fleet = fleet;
    }

    @Override
    public Optional<FleetScope> fleet() {
        return Optional.ofNullable(fleet);
    }

    @Override
    public Optional<String> accountId() {
        String known = account;
        if (known == null) {
            // Needs no permission (AWS allows it even under an explicit deny); a failure is the credentials' own and
            // surfaces as the planning error that names them. Two targets asking at once both call: same answer.
            StsClient sts = clients.client(StsClient.class, StsClient::builder);
            known = scheduler.call(Preflight.STS, sts::getCallerIdentity).account();
            account = known;
        }
        return Optional.of(known);
    }

    /** @return the caller's sinks by key */
    public Map<SinkKey<?>, Consumer<?>> sinks() {
        return sinks;
    }

    @Override
    @SuppressWarnings("unchecked") // AgentInstallerBuilder.sink pairs each key with a sink of its type
    public <T> Optional<Consumer<T>> sink(SinkKey<T> key) {
        Consumer<? super T> sink = (Consumer<? super T>) sinks.get(key);
        return sink == null ? Optional.empty() : Optional.of(sink::accept);
    }

    /** @return the clients */
    public AwsClients clients() {
        return clients;
    }

    /** @return the agent settings, or null when not configured */
    public @Nullable AgentSettings agentOrNull() {
        return agent;
    }

    @Override
    public Region region() {
        return clients.region();
    }

    @Override
    public AgentSettings agent() {
        if (agent == null) {
            throw new ConfigurationException("No agent settings: planning or applying an install needs them. Call"
                    + " .agent(a -> a.logsEndpoint(\"https://...\").apiToken(Secret.of(token))) on the builder.");
        }
        return agent;
    }

    @Override
    public <C extends SdkClient, B extends AwsClientBuilder<B, C>> C client(Class<C> type, Supplier<B> builder) {
        return clients.client(type, builder);
    }

    @Override
    public CallScheduler scheduler() {
        return scheduler;
    }
}
