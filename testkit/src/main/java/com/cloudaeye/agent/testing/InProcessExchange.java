package com.cloudaeye.agent.testing;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpContext;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpPrincipal;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The exchange the {@link ThrottlingProxy} hands an in-process target ({@link ProxyOptions#target(HttpHandler)}):
 * the proxied request as it arrived (method, URI, headers, the body the proxy already read), and an answer kept in
 * memory, which the proxy then treats as the target's answer over HTTP (Lambda's propagation, the landed log).
 */
final class InProcessExchange extends HttpExchange {
    private final HttpExchange received;
    private final InputStream requestBody;
    private final Headers responseHeaders = new Headers();
    private final ByteArrayOutputStream responseBody = new ByteArrayOutputStream();
    private int status = -1;

    private InProcessExchange(HttpExchange received, byte[] body) {
        this.received = received;
        this.requestBody = new ByteArrayInputStream(body);
    }

    /**
     * @param target the in-process target
     * @param received the request the proxy received
     * @param body its body, already read
     * @return the target's answer
     * @throws IOException when the target fails or answers nothing
     */
    static ProxyHandler.Forwarded forward(HttpHandler target, HttpExchange received, byte[] body) throws IOException {
        InProcessExchange exchange = new InProcessExchange(received, body);
        target.handle(exchange);
        if (exchange.status < 0) {
            throw new IOException("the in-process target sent no answer");
        }
        return new ProxyHandler.Forwarded(
                exchange.status, Map.copyOf(exchange.responseHeaders), exchange.responseBody.toByteArray());
    }

    @Override
    public Headers getRequestHeaders() {
        return received.getRequestHeaders();
    }

    @Override
    public Headers getResponseHeaders() {
        return responseHeaders;
    }

    @Override
    public URI getRequestURI() {
        return received.getRequestURI();
    }

    @Override
    public String getRequestMethod() {
        return received.getRequestMethod();
    }

    @Override
    public HttpContext getHttpContext() {
        return received.getHttpContext();
    }

    @Override
    public void close() {
        // The answer stays in memory; the proxy closes the exchange it received.
    }

    @Override
    public InputStream getRequestBody() {
        return requestBody;
    }

    @Override
    public OutputStream getResponseBody() {
        return responseBody;
    }

    @Override
    public void sendResponseHeaders(int rCode, long responseLength) {
        this.status = rCode;
    }

    @Override
    public InetSocketAddress getRemoteAddress() {
        return received.getRemoteAddress();
    }

    @Override
    public int getResponseCode() {
        return status;
    }

    @Override
    public InetSocketAddress getLocalAddress() {
        return received.getLocalAddress();
    }

    @Override
    public String getProtocol() {
        return received.getProtocol();
    }

    @Override
    public @Nullable Object getAttribute(String name) {
        return received.getAttribute(name);
    }

    @Override
    public void setAttribute(String name, @Nullable Object value) {
        received.setAttribute(name, value);
    }

    @Override
    public void setStreams(@Nullable InputStream i, @Nullable OutputStream o) {
        throw new UnsupportedOperationException("an in-process target's streams are the proxy's");
    }

    @Override
    public @Nullable HttpPrincipal getPrincipal() {
        return received.getPrincipal();
    }
}
