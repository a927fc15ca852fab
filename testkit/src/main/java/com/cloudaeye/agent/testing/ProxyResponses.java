package com.cloudaeye.agent.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * The proxy's own answers: injected errors in each protocol's shape, so that the SDK parses the right error code.
 * AWS JSON: {@code x-amzn-ErrorType} and {@code {"__type": code, "message": ...}}; rest-json (and Lambda):
 * {@code x-amzn-ErrorType} and {@code {"message": ...}}; query: XML {@code
 * <ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>}.
 */
final class ProxyResponses {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ProxyResponses() {}

    static void respondServerError(HttpExchange exchange, ProxyCall call) throws IOException {
        respondError(exchange, call, 500, serverErrorCode(call), "Injected fault: internal error");
    }

    static String serverErrorCode(ProxyCall call) {
        return switch (call.service) {
            case "lambda" -> "ServiceException";
            case "ecs", "eks" -> "ServerException";
            case "logs" -> "ServiceUnavailableException";
            default -> "InternalFailure";
        };
    }

    /** Answers with the service's own throttling error (see {@link ThrottlingProxy.Fault#THROTTLED}). */
    static void respondThrottled(HttpExchange exchange, ProxyCall call) throws IOException {
        switch (call.protocol) {
            case LAMBDA -> respondError(exchange, call, 429, "TooManyRequestsException", "Rate exceeded");
            case QUERY -> respondError(exchange, call, 400, "Throttling", "Rate exceeded");
            default ->
                respondError(
                        exchange, call, call.service.equals("eks") ? 429 : 400, "ThrottlingException", "Rate exceeded");
        }
    }

    /** Answers that the caller may not make the call (see {@link ThrottlingProxy.Fault#ACCESS_DENIED}). */
    static void respondAccessDenied(HttpExchange exchange, ProxyCall call) throws IOException {
        String message = "Injected fault: the caller is not authorized to perform this operation";
        switch (call.protocol) {
            case QUERY -> respondError(exchange, call, 403, "AccessDenied", message);
            case JSON -> respondError(exchange, call, 400, "AccessDeniedException", message);
            default -> respondError(exchange, call, 403, "AccessDeniedException", message);
        }
    }

    /** Answers an error in the shape of the call's protocol, so that the SDK parses {@code code} from it. */
    static void respondError(HttpExchange exchange, ProxyCall call, int status, String code, String message)
            throws IOException {
        Headers headers = exchange.getResponseHeaders();
        headers.set("x-amzn-RequestId", "proxy-" + Long.toHexString(System.nanoTime()));
        switch (call.protocol) {
            case LAMBDA -> {
                headers.set("Content-Type", "application/json");
                headers.set("x-amzn-ErrorType", code);
                ObjectNode body = JSON.createObjectNode()
                        .put("Type", status >= 500 ? "Service" : "User")
                        .put("message", message);
                send(exchange, status, JSON.writeValueAsBytes(body));
            }
            case JSON -> {
                headers.set("Content-Type", "application/x-amz-json-1.1");
                headers.set("x-amzn-ErrorType", code);
                ObjectNode body = JSON.createObjectNode().put("__type", code).put("message", message);
                send(exchange, status, JSON.writeValueAsBytes(body));
            }
            case REST_JSON -> {
                headers.set("Content-Type", "application/json");
                headers.set("x-amzn-ErrorType", code);
                send(
                        exchange,
                        status,
                        JSON.writeValueAsBytes(JSON.createObjectNode().put("message", message)));
            }
            case QUERY -> {
                headers.set("Content-Type", "text/xml");
                String xml = "<ErrorResponse><Error><Type>" + (status >= 500 ? "Receiver" : "Sender")
                        + "</Type><Code>" + code + "</Code><Message>" + xmlEscape(message)
                        + "</Message></Error><RequestId>" + headers.getFirst("x-amzn-RequestId")
                        + "</RequestId></ErrorResponse>";
                send(exchange, status, xml.getBytes(StandardCharsets.UTF_8));
            }
        }
    }

    private static String xmlEscape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }

    static void send(HttpExchange exchange, int status, byte[] body) throws IOException {
        boolean noBody =
                body.length == 0 || status == 204 || status == 304 || "HEAD".equals(exchange.getRequestMethod());
        exchange.sendResponseHeaders(status, noBody ? -1 : body.length);
        if (!noBody) {
            exchange.getResponseBody().write(body);
        }
    }
}
