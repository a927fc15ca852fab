package com.cloudaeye.agent.internal;

import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.http.SdkHttpRequest;

/**
 * Holds each request of a scheduled call until its quota lets it be sent ({@link RateLimitedScheduler#awaitSendTurn()}),
 * right before the SDK signs and sends it: a share's cap then counts requests where they leave, not where their calls
 * started. The SDK calls this hook once per call; {@link AwsClients} turns the SDK's own retries off, so each request
 * that leaves is one call of the scheduler (a retry is a call of its own) and passes here.
 */
final class SendGate implements ExecutionInterceptor {
    static final SendGate INSTANCE = new SendGate();

    private SendGate() {}

    @Override
    public SdkHttpRequest modifyHttpRequest(Context.ModifyHttpRequest context, ExecutionAttributes attributes) {
        RateLimitedScheduler.awaitSendTurn();
        return context.httpRequest();
    }
}
