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
     * The account the installer's credentials act in, which is the account of every resource a target can change:
     * AWS lets no other account change a Lambda function's configuration or an ECS service, so a target refuses, before
     * any call, a resource named by the ARN of another account (naming both accounts and the fix) instead of letting AWS
     * answer with an access error that names neither. Resources that other accounts share on purpose (a Lambda layer
     * CloudAEye publishes, a secret a resource policy shares) stay allowed. Asked only when a target needs it: the
     * installer finds it with {@code sts:GetCallerIdentity} on first use (which AWS allows every caller, so it needs no
     * permission), or knows it without a call as a member of a {@code FleetInstaller}.
     *
     * @return the 12-digit account ID, or empty when this context cannot tell (the default, for contexts that do not
     *     implement it): a target then leaves the check to AWS
     */
    default Optional<String> accountId() {
        return Optional.empty();
    }

    /**
     * The fleet this context is one account-region of, when a {@code FleetInstaller} made it. Every member plans the
     * same targets in its own account-region, so a target given the ARN of a resource in another account-region the
     * fleet {@link FleetScope#covers covers} leaves it to that member (it plans nothing for it here), and refuses
     * before any call only an ARN of an account or region outside the fleet, naming the ARN, the fleet's accounts
     * and regions and the fix (add them to the fleet, or drop the ARN).
     *
     * @return the fleet's accounts and regions, or empty (the default) when this context is no fleet member: a target
     *     then refuses every ARN of another account or region, as a single installer cannot change it
     */
    default Optional<FleetScope> fleet() {
        return Optional.empty();
    }

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
