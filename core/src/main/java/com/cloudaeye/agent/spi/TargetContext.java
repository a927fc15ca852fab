package com.cloudaeye.agent.spi;

import com.cloudaeye.agent.AgentSettings;
import com.cloudaeye.agent.SinkKey;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Supplier;
import software.amazon.awssdk.awscore.client.builder.AwsClientBuilder;
import software.amazon.awssdk.core.SdkClient;
import software.amazon.awssdk.regions.Region;

/** What the installer gives a target: the region, the agent settings, AWS clients and the call scheduler. */
public interface TargetContext {
    /** @return the region every resource is in */
    Region region();

    /** @return the agent settings (endpoint, token, options) */
    AgentSettings agent();

    /**
     * The client of a type: the caller's, if the caller passed one, else one configured by the installer (region,
     * credentials, endpoint override, call recorder, no SDK retries since the scheduler retries) and closed with it.
     *
     * @param type the client interface, e.g. {@code LambdaClient.class}
     * @param builder makes a fresh builder, e.g. {@code LambdaClient::builder}
     * @param <C> the client type
     * @param <B> the builder type
     * @return the client, the same instance on every call
     */
    <C extends SdkClient, B extends AwsClientBuilder<B, C>> C client(Class<C> type, Supplier<B> builder);

    /** @return the scheduler that every AWS call goes through */
    CallScheduler scheduler();

    /**
     * A sink the caller gave the installer ({@code AgentInstallerBuilder.sink(key, sink)}) for what the target hands
     * over and MUST NOT write into a plan, journal, log or exception (e.g. a new access key's secret). A target that
     * needs one and finds none MUST refuse before it changes anything, naming the setting.
     *
     * @param key the sink's key
     * @param <T> what the sink receives
     * @return the sink, or empty when the caller gave none
     */
    default <T> Optional<Consumer<T>> sink(SinkKey<T> key) {
        return Optional.empty();
    }
}
