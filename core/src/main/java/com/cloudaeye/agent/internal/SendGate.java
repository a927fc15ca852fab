package com.cloudaeye.agent.internal;

import java.io.IOException;
import software.amazon.awssdk.http.ExecutableHttpRequest;
import software.amazon.awssdk.http.HttpExecuteRequest;
import software.amazon.awssdk.http.HttpExecuteResponse;
import software.amazon.awssdk.http.SdkHttpClient;

/**
 * The installer's HTTP client: holds each request of a scheduled call until its quota lets it be sent
 * ({@link RateLimitedScheduler#awaitSendTurn()}), after the SDK marshalled and signed it and every interceptor ran,
 * right before the connection is opened. A share's cap then counts requests where they leave, as late as our process
 * can, not where their calls started. {@link AwsClients} turns the SDK's own retries off, so each request that leaves
 * is one call of the scheduler (a retry is a call of its own) and passes here once.
 */
final class SendGate implements SdkHttpClient {
    private final SdkHttpClient delegate;

    /** @param delegate the HTTP client that sends */
    SendGate(SdkHttpClient delegate) {
        this.delegate = delegate;
    }

    @Override
    public ExecutableHttpRequest prepareRequest(HttpExecuteRequest request) {
        ExecutableHttpRequest prepared = delegate.prepareRequest(request);
        return new ExecutableHttpRequest() {
            @Override
            public HttpExecuteResponse call() throws IOException {
                RateLimitedScheduler.awaitSendTurn();
                return prepared.call();
            }

            @Override
            public void abort() {
                prepared.abort();
            }
        };
    }

    @Override
    public String clientName() {
        return delegate.clientName();
    }

    @Override
    public void close() {
        delegate.close();
    }
}
