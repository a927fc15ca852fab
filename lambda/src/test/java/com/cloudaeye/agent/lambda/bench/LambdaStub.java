package com.cloudaeye.agent.lambda.bench;

import com.cloudaeye.agent.testing.StsAnswers;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A fast in-process stand-in for the few calls a fleet's Lambda install makes, for the fleet benchmark where one moto
 * process cannot answer the aggregate rate: {@code sts:AssumeRole} (the credentials' access key ID is {@code ASIA}
 * plus the account, so later calls name their account), and per account-region {@code ListFunctions} (50 a page),
 * {@code GetLayerVersion}, {@code ListAliases} (none), {@code GetFunction} and {@code UpdateFunctionConfiguration}
 * (with {@code RevisionId}, checked as a precondition). Anything else is answered 404. Not a Lambda emulator: no
 * validation beyond what the benchmark needs. It serves on its own loopback port ({@link #endpoint()}) and, as an
 * {@link HttpHandler}, in the {@link com.cloudaeye.agent.testing.ThrottlingProxy}'s own process and hop ({@code
 * target(stub)}), which the fleet benchmark uses so that the test bed costs one HTTP hop, not two.
 */
final class LambdaStub implements HttpHandler, AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern CREDENTIAL =
            Pattern.compile("Credential=ASIA(\\d{12})/\\d{8}/([^/]+)/([^/]+)/aws4_request");
    private static final Pattern ROLE_ARN = Pattern.compile("RoleArn=arn%3Aaws%3Aiam%3A%3A(\\d{12})%3A");
    private static final Pattern FUNCTION =
            Pattern.compile("/2015-03-31/functions/([^/]+)(/aliases|/configuration)?/?");
    private static final Pattern LAYER = Pattern.compile("/2018-10-31/layers/([^/]+)/versions/(\\d+)");

    private final HttpServer server;
    private final ExecutorService executor;
    /** Per account-region ({@code account/region}): the functions by name, in creation order. */
    private final Map<String, Map<String, ObjectNode>> functions = new ConcurrentHashMap<>();

    LambdaStub() throws IOException {
        executor = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "lambda-stub");
            t.setDaemon(true);
            return t;
        });
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 512);
        server.setExecutor(executor);
        server.createContext("/", this);
        server.start();
    }

    URI endpoint() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    /** Creates {@code n} functions ({@code fn-0000}...) in an account-region, each with a {@code STAGE} variable. */
    void createFunctions(String account, String region, int n) {
        Map<String, ObjectNode> byName =
                functions.computeIfAbsent(account + "/" + region, k -> new ConcurrentHashMap<>());
        for (int i = 0; i < n; i++) {
            String name = String.format("fn-%04d", i);
            ObjectNode f = JSON.createObjectNode()
                    .put("FunctionName", name)
                    .put("FunctionArn", "arn:aws:lambda:" + region + ":" + account + ":function:" + name)
                    .put("Runtime", "python3.12")
                    .put("Role", "arn:aws:iam::" + account + ":role/lambda-role")
                    .put("Handler", "index.handler")
                    .put("CodeSize", 300)
                    .put("Timeout", 3)
                    .put("MemorySize", 128)
                    .put("Version", "$LATEST")
                    .put("PackageType", "Zip")
                    .put("State", "Active")
                    .put("LastUpdateStatus", "Successful")
                    .put("RevisionId", UUID.randomUUID().toString());
            f.putArray("Architectures").add("x86_64");
            f.putObject("Environment").putObject("Variables").put("STAGE", "prod");
            f.putArray("Layers");
            byName.put(name, f);
        }
    }

    /** @return per account-region, how many functions have exactly {@code layer} (with its account and region) */
    int installed(String account, String region, String layer) {
        int n = 0;
        for (ObjectNode f :
                functions.getOrDefault(account + "/" + region, Map.of()).values()) {
            JsonNode layers = f.path("Layers");
            if (layers.size() == 1 && layers.get(0).path("Arn").asText().equals(layer)) {
                n++;
            }
        }
        return n;
    }

    @Override
    public void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            byte[] body = exchange.getRequestBody().readAllBytes();
            String path = exchange.getRequestURI().getRawPath();
            String auth = String.valueOf(exchange.getRequestHeaders().getFirst("Authorization"));
            Matcher credential = CREDENTIAL.matcher(auth);
            if (exchange.getRequestMethod().equals("POST") && auth.contains("/sts/aws4_request")) {
                assumeRole(exchange, new String(body, StandardCharsets.UTF_8));
                return;
            }
            if (!credential.find()) {
                error(exchange, 403, "UnrecognizedClientException", "not a credential of this stub");
                return;
            }
            String account = credential.group(1);
            String region = credential.group(2);
            Map<String, ObjectNode> byName = functions.getOrDefault(account + "/" + region, Map.of());
            Matcher layer = LAYER.matcher(path);
            Matcher function = FUNCTION.matcher(path);
            if (path.equals("/2015-03-31/functions/") || path.equals("/2015-03-31/functions")) {
                listFunctions(exchange, byName);
            } else if (layer.matches()) {
                ObjectNode answer = JSON.createObjectNode()
                        .put("LayerArn", "arn:aws:lambda:" + region + ":" + account + ":layer:" + layer.group(1))
                        .put(
                                "LayerVersionArn",
                                "arn:aws:lambda:" + region + ":" + account + ":layer:" + layer.group(1) + ":"
                                        + layer.group(2))
                        .put("Version", Long.parseLong(layer.group(2)));
                answer.putArray("CompatibleArchitectures").add("x86_64");
                answer.putArray("CompatibleRuntimes").add("python3.12");
                answer.putObject("Content").put("CodeSize", 100);
                send(exchange, 200, answer);
            } else if (function.matches()) {
                String name = name(function.group(1));
                ObjectNode f = byName.get(name);
                if (f == null) {
                    error(exchange, 404, "ResourceNotFoundException", "Function not found: " + name);
                } else if ("/aliases".equals(function.group(2))) {
                    ObjectNode answer = JSON.createObjectNode();
                    answer.putArray("Aliases");
                    send(exchange, 200, answer);
                } else if ("/configuration".equals(function.group(2))
                        && exchange.getRequestMethod().equals("PUT")) {
                    update(exchange, f, JSON.readTree(body));
                } else {
                    ObjectNode answer = JSON.createObjectNode();
                    synchronized (f) {
                        answer.set("Configuration", f.deepCopy());
                    }
                    send(exchange, 200, answer);
                }
            } else {
                error(exchange, 404, "ResourceNotFoundException", "not stubbed: " + path);
            }
        }
    }

    private static void listFunctions(HttpExchange exchange, Map<String, ObjectNode> byName) throws IOException {
        String query = String.valueOf(exchange.getRequestURI().getRawQuery());
        Matcher marker = Pattern.compile("(?:^|&)Marker=([^&]+)").matcher(query);
        int from = marker.find() ? Integer.parseInt(marker.group(1)) : 0;
        List<String> names = new ArrayList<>(byName.keySet());
        names.sort(String::compareTo);
        ObjectNode answer = JSON.createObjectNode();
        ArrayNode page = answer.putArray("Functions");
        int to = Math.min(names.size(), from + 50);
        for (String name : names.subList(from, to)) {
            ObjectNode f = byName.get(name);
            synchronized (f) {
                page.add(f.deepCopy());
            }
        }
        if (to < names.size()) {
            answer.put("NextMarker", Integer.toString(to));
        }
        send(exchange, 200, answer);
    }

    private static void update(HttpExchange exchange, ObjectNode f, JsonNode request) throws IOException {
        ObjectNode answer;
        synchronized (f) {
            String expected = request.path("RevisionId").asText("");
            if (!expected.isEmpty() && !expected.equals(f.path("RevisionId").asText())) {
                error(exchange, 412, "PreconditionFailedException", "The RevisionId does not match");
                return;
            }
            if (request.has("Layers")) {
                ArrayNode layers = f.putArray("Layers");
                request.get("Layers")
                        .forEach(arn ->
                                layers.addObject().put("Arn", arn.asText()).put("CodeSize", 100));
            }
            if (request.has("Environment")) {
                f.set("Environment", request.get("Environment").deepCopy());
            }
            f.put("RevisionId", UUID.randomUUID().toString());
            answer = f.deepCopy();
        }
        send(exchange, 200, answer);
    }

    private static void assumeRole(HttpExchange exchange, String form) throws IOException {
        Matcher role = ROLE_ARN.matcher(form);
        if (!role.find()) {
            error(exchange, 400, "ValidationError", "no role ARN");
            return;
        }
        String account = role.group(1);
        String xml = StsAnswers.assumeRole(
                account,
                "ASIA" + account,
                Instant.now().plus(1, ChronoUnit.HOURS).truncatedTo(ChronoUnit.SECONDS));
        byte[] bytes = xml.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", StsAnswers.CONTENT_TYPE);
        exchange.sendResponseHeaders(200, bytes.length);
        exchange.getResponseBody().write(bytes);
    }

    private static String name(String segment) {
        String s = URLDecoder.decode(segment, StandardCharsets.UTF_8);
        int marker = s.indexOf("function:");
        s = marker >= 0 ? s.substring(marker + "function:".length()) : s;
        int qualifier = s.indexOf(':');
        return qualifier >= 0 ? s.substring(0, qualifier) : s;
    }

    private static void error(HttpExchange exchange, int status, String type, String message) throws IOException {
        exchange.getResponseHeaders().set("x-amzn-ErrorType", type);
        send(exchange, status, JSON.createObjectNode().put("Type", "User").put("message", message));
    }

    private static void send(HttpExchange exchange, int status, JsonNode answer) throws IOException {
        byte[] bytes = JSON.writeValueAsBytes(answer);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
