package com.cloudaeye.agent.internal;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.awscore.client.builder.AwsClientBuilder;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.SdkClient;
import software.amazon.awssdk.core.client.builder.SdkSyncClientBuilder;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.utils.SdkAutoCloseable;

/**
 * Makes and owns the installer's SDK clients: one per type, configured alike (region, credentials, endpoint override,
 * the call recorder, no SDK retries because the scheduler retries, one HTTP client, the {@link SendGate}, that holds
 * each request until its quota lets it leave, one timer thread for the SDK's attempt timeouts). Clients that the
 * caller passed in are used as they are and never closed here.
 *
 * <p>The timer thread is ours, not the SDK's default, because the SDK cancels an attempt's timeout when the attempt
 * ends but its default executor keeps a cancelled timeout queued until it would have fired (the 60 s attempt timeout),
 * and the queued timeout holds the attempt's HTTP connection objects and buffers: at 20 x 3 account-regions that was
 * about 24,000 cancelled timeouts and their connections live at once (issue 17's fleet benchmark, a class histogram).
 * Ours drops a cancelled timeout at once.
 *
 * <p>The SDK closes a client's credentials provider when the client closes: the clients made here get a view of the
 * provider, so a provider the caller passed in stays open (it may serve other installers or the caller's own
 * clients); a provider the installer made itself is closed once, by {@link #close()} (see {@link #owning}).
 */
public final class AwsClients implements AutoCloseable {
    private final Region region;
    private final AwsCredentialsProvider credentials;
    /** What the clients get: a view of {@link #credentials} that the SDK cannot close. */
    private final AwsCredentialsProvider credentialsView;
    /** The installer's own provider, closed with the clients; null when the caller's. */
    private final @Nullable SdkAutoCloseable ownCredentials;

    private final @Nullable URI endpointOverride;
    private final CallRecorder recorder;
    private final Map<Class<?>, SdkClient> callerClients;
    private final Map<Class<?>, SdkClient> ownClients = new ConcurrentHashMap<>();
    private final SdkHttpClient httpClient;
    /** The SDK's attempt timeouts, removed as soon as they are cancelled (see the class comment). */
    private final ScheduledThreadPoolExecutor timers;

    /**
     * @param region the region
     * @param credentials the caller's credentials, never closed here
     * @param endpointOverride an endpoint for every service (a local emulator), or null for AWS
     * @param recorder the call recorder
     * @param callerClients clients the caller built, by their interface
     */
    public AwsClients(
            Region region,
            AwsCredentialsProvider credentials,
            @Nullable URI endpointOverride,
            CallRecorder recorder,
            Map<Class<?>, SdkClient> callerClients) {
        this(region, credentials, false, endpointOverride, recorder, callerClients);
    }

    /**
     * Clients with credentials the installer made itself (the default chain), closed by {@link #close()}.
     *
     * @param region the region
     * @param ownCredentials the installer's own credentials provider
     * @param endpointOverride an endpoint for every service (a local emulator), or null for AWS
     * @param recorder the call recorder
     * @param callerClients clients the caller built, by their interface
     * @return the clients
     */
    public static AwsClients owning(
            Region region,
            AwsCredentialsProvider ownCredentials,
            @Nullable URI endpointOverride,
            CallRecorder recorder,
            Map<Class<?>, SdkClient> callerClients) {
        return new AwsClients(region, ownCredentials, true, endpointOverride, recorder, callerClients);
    }

    private AwsClients(
            Region region,
            AwsCredentialsProvider credentials,
            boolean owned,
            @Nullable URI endpointOverride,
            CallRecorder recorder,
            Map<Class<?>, SdkClient> callerClients) {
        this.region = region;
        this.credentials = credentials;
        @SuppressWarnings("UnnecessaryMethodReference") // a new provider on purpose: one the SDK cannot close
        AwsCredentialsProvider view = credentials::resolveCredentials;
        this.credentialsView = view;
        this.ownCredentials = owned && credentials instanceof SdkAutoCloseable closeable ? closeable : null;
        this.endpointOverride = endpointOverride;
        this.recorder = recorder;
        this.callerClients = Map.copyOf(callerClients);
        this.httpClient = new SendGate(UrlConnectionHttpClient.builder()
                .connectionTimeout(Duration.ofSeconds(10))
                .socketTimeout(Duration.ofSeconds(60))
                .build());
        this.timers = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "cloudaeye-sdk-timer");
            t.setDaemon(true);
            return t;
        });
        timers.setRemoveOnCancelPolicy(true);
        // Ends when idle, like the scheduler's threads: a fleet's finished account-regions hold no thread.
        timers.setKeepAliveTime(RateLimitedScheduler.IDLE_THREAD_LIFETIME.toNanos(), TimeUnit.NANOSECONDS);
        timers.allowCoreThreadTimeOut(true);
    }

    /** @return the region */
    public Region region() {
        return region;
    }

    /** @return the credentials provider */
    public AwsCredentialsProvider credentials() {
        return credentials;
    }

    /** @return the endpoint override, or null */
    public @Nullable URI endpointOverride() {
        return endpointOverride;
    }

    /**
     * @param type client interface
     * @param builder makes a builder
     * @param <C> client type
     * @param <B> builder type
     * @return the caller's client of that type, or the one made here
     */
    public <C extends SdkClient, B extends AwsClientBuilder<B, C>> C client(Class<C> type, Supplier<B> builder) {
        SdkClient given = callerClients.get(type);
        if (given != null) {
            return type.cast(given);
        }
        return type.cast(
                ownClients.computeIfAbsent(type, t -> configure(builder.get()).build()));
    }

    /**
     * Applies the shared configuration to a builder, for clients that a target makes itself.
     *
     * @param builder a client builder
     * @param <B> builder type
     * @param <C> client type
     * @return the same builder
     */
    public <B extends AwsClientBuilder<B, C>, C> B configure(B builder) {
        builder.region(region)
                .credentialsProvider(credentialsView)
                .overrideConfiguration(o -> o.addExecutionInterceptor(recorder)
                        .retryStrategy(AwsRetryStrategy.doNotRetry())
                        .apiCallAttemptTimeout(Duration.ofSeconds(60))
                        .scheduledExecutorService(timers));
        if (endpointOverride != null) {
            builder.endpointOverride(endpointOverride);
        }
        if (builder instanceof SdkSyncClientBuilder<?, ?> sync) {
            sync.httpClient(httpClient);
        }
        return builder;
    }

    /** @return the SDK timer's threads alive now (none once it was idle for a while) */
    int timerThreads() {
        return timers.getPoolSize();
    }

    /** @return the SDK timeouts still queued: those of attempts in flight (cancelled ones are removed at once) */
    int queuedTimeouts() {
        return timers.getQueue().size();
    }

    @Override
    public void close() {
        List<RuntimeException> errors = new ArrayList<>();
        for (SdkClient c : ownClients.values()) {
            try {
                c.close();
            } catch (RuntimeException e) {
                errors.add(e);
            }
        }
        ownClients.clear();
        httpClient.close();
        timers.shutdownNow();
        if (ownCredentials != null) {
            try {
                ownCredentials.close();
            } catch (RuntimeException e) {
                errors.add(e);
            }
        }
        if (!errors.isEmpty()) {
            RuntimeException first = errors.get(0);
            errors.subList(1, errors.size()).forEach(first::addSuppressed);
            throw first;
        }
    }
}
