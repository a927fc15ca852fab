package com.cloudaeye.agent.eks;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * CloudFormation's termination protection in front of moto, which has none (moto 5.2.5 answers {@code
 * UpdateTerminationProtection} with a 500, and its {@code DeleteStack} ignores the flag): an in-process target for
 * the {@link com.cloudaeye.agent.testing.ThrottlingProxy} ({@code .target(HttpHandler)}) that forwards every request
 * to moto, except that, as AWS does, it
 *
 * <ul>
 *   <li>records {@code UpdateTerminationProtection} per stack name,
 *   <li>says {@code EnableTerminationProtection} true in {@code DescribeStacks} of a protected stack (by name or ARN),
 *   <li>refuses {@code DeleteStack} of a protected stack with 400 {@code ValidationError} "Stack [..] cannot be deleted
 *       while TerminationProtection is enabled".
 * </ul>
 */
final class TerminationProtection implements HttpHandler {
    private static final String CFN_XMLNS = "http://cloudformation.amazonaws.com/doc/2010-05-15/";
    private static final Set<String> RESTRICTED =
            Set.of("connection", "content-length", "expect", "host", "upgrade", "transfer-encoding");
    private static final Pattern STACK_ID = Pattern.compile("<StackId>([^<]+)</StackId>");

    private final URI moto;
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    /** The names of the stacks whose protection is on. */
    private final Set<String> protectedStacks = ConcurrentHashMap.newKeySet();

    TerminationProtection(URI moto) {
        this.moto = moto;
    }

    @Override
    public void handle(HttpExchange exchange) throws IOException {
        byte[] body = exchange.getRequestBody().readAllBytes();
        Map<String, String> form = form(new String(body, StandardCharsets.UTF_8));
        String action = form.getOrDefault("Action", "");
        String stack = form.getOrDefault("StackName", "");
        String scope = String.valueOf(exchange.getRequestHeaders().getFirst("Authorization"));
        boolean cloudFormation = scope.contains("/cloudformation/aws4_request");
        if (cloudFormation && action.equals("UpdateTerminationProtection")) {
            String stackId = stackId(exchange, stack);
            if (Boolean.parseBoolean(form.get("EnableTerminationProtection"))) {
                protectedStacks.add(stack);
            } else {
                protectedStacks.remove(stack);
            }
            answer(
                    exchange,
                    200,
                    "<UpdateTerminationProtectionResponse xmlns=\"" + CFN_XMLNS
                            + "\"><UpdateTerminationProtectionResult>"
                            + "<StackId>" + stackId + "</StackId></UpdateTerminationProtectionResult>"
                            + "<ResponseMetadata><RequestId>tp-1</RequestId></ResponseMetadata>"
                            + "</UpdateTerminationProtectionResponse>");
            return;
        }
        if (cloudFormation && action.equals("DeleteStack") && isProtected(stack)) {
            answer(
                    exchange,
                    400,
                    "<ErrorResponse xmlns=\"" + CFN_XMLNS + "\"><Error><Type>Sender</Type><Code>ValidationError</Code>"
                            + "<Message>Stack [" + stack + "] cannot be deleted while TerminationProtection is"
                            + " enabled</Message></Error><RequestId>tp-2</RequestId></ErrorResponse>");
            return;
        }
        HttpResponse<String> response = forward(exchange, body);
        String answer = response.body();
        if (cloudFormation && action.equals("DescribeStacks") && isProtected(stack) && response.statusCode() == 200) {
            answer = answer.contains("<EnableTerminationProtection>")
                    ? answer.replaceAll(
                            "<EnableTerminationProtection>[^<]*</EnableTerminationProtection>",
                            "<EnableTerminationProtection>true</EnableTerminationProtection>")
                    : answer.replace(
                            "<StackStatus>",
                            "<EnableTerminationProtection>true</EnableTerminationProtection><StackStatus>");
        }
        response.headers()
                .firstValue("Content-Type")
                .ifPresent(t -> exchange.getResponseHeaders().add("Content-Type", t));
        answer(exchange, response.statusCode(), answer);
    }

    /** @return whether {@code stack} (a name, or an ARN {@code ...:stack/<name>/<id>}) is protected */
    private boolean isProtected(String stack) {
        return protectedStacks.stream().anyMatch(n -> stack.equals(n) || stack.contains(":stack/" + n + "/"));
    }

    /** @return the stack's ARN, read from moto (the caller's signed headers do; moto does not check signatures) */
    private String stackId(HttpExchange exchange, String stack) throws IOException {
        String describe = "Action=DescribeStacks&Version=2010-05-15&StackName="
                + java.net.URLEncoder.encode(stack, StandardCharsets.UTF_8);
        Matcher id = STACK_ID.matcher(
                forward(exchange, describe.getBytes(StandardCharsets.UTF_8)).body());
        return id.find() ? id.group(1) : stack;
    }

    private HttpResponse<String> forward(HttpExchange exchange, byte[] body) throws IOException {
        URI in = exchange.getRequestURI();
        HttpRequest.Builder request = HttpRequest.newBuilder(
                        URI.create(moto.toString().replaceAll("/+$", "")
                                + in.getRawPath()
                                + (in.getRawQuery() == null ? "" : "?" + in.getRawQuery())))
                .timeout(Duration.ofSeconds(60))
                .method(exchange.getRequestMethod(), HttpRequest.BodyPublishers.ofByteArray(body));
        exchange.getRequestHeaders().forEach((name, values) -> {
            if (!RESTRICTED.contains(name.toLowerCase(Locale.ROOT))) {
                values.forEach(v -> request.header(name, v));
            }
        });
        try {
            return http.send(request.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while forwarding to moto", e);
        }
    }

    private static void answer(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        if (!exchange.getResponseHeaders().containsKey("Content-Type")) {
            exchange.getResponseHeaders().add("Content-Type", "text/xml");
        }
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
    }

    private static Map<String, String> form(String body) {
        return Arrays.stream(body.split("&"))
                .filter(p -> !p.isEmpty())
                .map(p -> p.split("=", 2))
                .collect(Collectors.toMap(
                        p -> URLDecoder.decode(p[0], StandardCharsets.UTF_8),
                        p -> p.length > 1 ? URLDecoder.decode(p[1], StandardCharsets.UTF_8) : "",
                        (a, b) -> b));
    }
}
