package com.cloudaeye.agent.eks.internal.helm;

import com.cloudaeye.agent.ConfigurationException;
import com.cloudaeye.agent.spi.support.Json;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * A kubeconfig resolved as kubectl resolves it: the files merged (for each cluster, user and context name, and for
 * {@code current-context}, the first file that sets it wins), the current context picked, its cluster and user looked
 * up, and their file references made absolute against the file that holds them. What is missing is named exactly.
 *
 * <p>Helm gets {@link #minified()}, a kubeconfig of the current context only, in memory: no copy of the caller's
 * credentials is written anywhere.
 */
final class Kubeconfig {
    private static final ObjectMapper YAML = new YAMLMapper();

    /** The user fields that name files, resolved like client-go's {@code ResolvePaths}. */
    private static final List<String> USER_FILES = List.of("client-certificate", "client-key", "tokenFile");

    private final String source;
    private final String context;
    private final String clusterName;
    private final ObjectNode cluster;
    private final @Nullable String userName;
    private final ObjectNode user;

    private Kubeconfig(
            String source,
            String context,
            String clusterName,
            ObjectNode cluster,
            @Nullable String userName,
            ObjectNode user) {
        this.source = source;
        this.context = context;
        this.clusterName = clusterName;
        this.cluster = cluster;
        this.userName = userName;
        this.user = user;
    }

    /**
     * Reads one kubeconfig file, as {@code kubectl --kubeconfig FILE} does.
     *
     * @param file the kubeconfig
     * @return its current context, resolved
     * @throws ConfigurationException naming the file and what is missing
     */
    static Kubeconfig load(Path file) {
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            throw new ConfigurationException("AgentDaemonSet kubeconfig " + file
                    + " is not a readable file: pass the path of a kubeconfig, or leave it out to use the EKS token.");
        }
        return merge(List.of(file), "kubeconfig " + file);
    }

    /**
     * Reads the kubeconfig kubectl reads without {@code --kubeconfig}: the files {@code KUBECONFIG} lists (separated
     * by the platform's path separator, missing ones skipped), else {@code ~/.kube/config}.
     *
     * @param kubeconfigVariable the value of {@code KUBECONFIG}, may be null
     * @param home the user's home directory
     * @return the merged kubeconfig's current context, resolved
     * @throws ConfigurationException when no file exists or a piece is missing
     */
    static Kubeconfig fromEnvironment(@Nullable String kubeconfigVariable, Path home) {
        if (kubeconfigVariable == null || kubeconfigVariable.isBlank()) {
            Path file = home.resolve(".kube").resolve("config");
            if (!Files.isRegularFile(file)) {
                throw new ConfigurationException("AgentDaemonSet uses the default kubeconfig, but KUBECONFIG is not"
                        + " set and " + file + " does not exist: set KUBECONFIG, pass kubeconfig(path), or leave"
                        + " both out to use the EKS token.");
            }
            return merge(List.of(file), "kubeconfig " + file);
        }
        LinkedHashSet<Path> files = new LinkedHashSet<>();
        for (String entry : kubeconfigVariable.split(File.pathSeparator, -1)) {
            if (!entry.isBlank()) {
                files.add(Path.of(entry));
            }
        }
        List<Path> existing = files.stream().filter(Files::isRegularFile).toList();
        if (existing.isEmpty()) {
            throw new ConfigurationException(
                    "AgentDaemonSet uses the default kubeconfig, but none of the files" + " KUBECONFIG lists exists ("
                            + kubeconfigVariable + "): fix KUBECONFIG or pass kubeconfig(path).");
        }
        return merge(existing, "KUBECONFIG " + kubeconfigVariable);
    }

    private static Kubeconfig merge(List<Path> files, String source) {
        String currentContext = null;
        Map<String, Entry> clusters = new LinkedHashMap<>();
        Map<String, Entry> users = new LinkedHashMap<>();
        Map<String, Entry> contexts = new LinkedHashMap<>();
        for (Path file : files) {
            JsonNode root = parse(file);
            if (currentContext == null
                    && !root.path("current-context").asText("").isEmpty()) {
                currentContext = root.path("current-context").asText();
            }
            collect(root, "clusters", "cluster", file, clusters);
            collect(root, "users", "user", file, users);
            collect(root, "contexts", "context", file, contexts);
        }
        if (currentContext == null) {
            throw new ConfigurationException(source + " has no current-context: choose one with 'kubectl config"
                    + " use-context NAME'" + among("contexts", contexts) + ".");
        }
        Entry context = contexts.get(currentContext);
        if (context == null) {
            throw new ConfigurationException(source + " has current-context '" + currentContext
                    + "' but no context of that name" + among("contexts", contexts) + ".");
        }
        String clusterName = context.body().path("cluster").asText("");
        if (clusterName.isEmpty()) {
            throw new ConfigurationException(
                    source + ": context '" + currentContext + "' names no cluster: set its 'cluster'.");
        }
        Entry cluster = clusters.get(clusterName);
        if (cluster == null) {
            throw new ConfigurationException(source + ": context '" + currentContext + "' names cluster '" + clusterName
                    + "', which is not defined" + among("clusters", clusters) + ".");
        }
        if (cluster.body().path("server").asText("").isEmpty()) {
            throw new ConfigurationException(
                    source + ": cluster '" + clusterName + "' has no server: set its API server URL.");
        }
        String userName = context.body().path("user").asText("");
        ObjectNode user = Json.object();
        if (!userName.isEmpty()) {
            Entry found = users.get(userName);
            if (found == null) {
                throw new ConfigurationException(source + ": context '" + currentContext + "' names user '" + userName
                        + "', which is not defined" + among("users", users) + ".");
            }
            user = found.body().deepCopy();
            Path dir = directoryOf(found.file());
            for (String field : USER_FILES) {
                absolute(user, field, dir);
            }
            if (user.path("exec") instanceof ObjectNode exec) {
                String command = exec.path("command").asText("");
                // Like client-go: a relative command with a path separator is relative to its kubeconfig.
                if (command.contains("/") && !Path.of(command).isAbsolute()) {
                    exec.put("command", dir.resolve(command).normalize().toString());
                }
            }
        }
        ObjectNode clusterBody = cluster.body().deepCopy();
        absolute(clusterBody, "certificate-authority", directoryOf(cluster.file()));
        return new Kubeconfig(
                source, currentContext, clusterName, clusterBody, userName.isEmpty() ? null : userName, user);
    }

    private static JsonNode parse(Path file) {
        try {
            JsonNode root = YAML.readTree(file.toFile());
            if (root == null || root.isMissingNode() || root.isNull()) {
                return Json.object();
            }
            if (!root.isObject()) {
                throw new ConfigurationException("kubeconfig " + file + " is not a kubeconfig (a YAML mapping).");
            }
            return root;
        } catch (JsonProcessingException e) {
            // Only the position: the parser's message quotes the line, which may hold a token.
            JsonLocation at = e.getLocation();
            throw new ConfigurationException("kubeconfig " + file + " is not valid YAML"
                    + (at == null ? "" : " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")")
                    + ": check it with 'kubectl config view --kubeconfig " + file + "'.");
        } catch (IOException e) {
            throw new ConfigurationException("kubeconfig " + file + " could not be read: " + e.getMessage(), e);
        }
    }

    private static void collect(JsonNode root, String list, String field, Path file, Map<String, Entry> into) {
        for (JsonNode item : root.path(list)) {
            String name = item.path("name").asText("");
            if (!name.isEmpty() && item.path(field) instanceof ObjectNode body) {
                into.putIfAbsent(name, new Entry(file, body));
            }
        }
    }

    private static void absolute(ObjectNode node, String field, Path dir) {
        String value = node.path(field).asText("");
        if (!value.isEmpty() && !Path.of(value).isAbsolute()) {
            node.put(field, dir.resolve(value).normalize().toString());
        }
    }

    private static Path directoryOf(Path file) {
        Path parent = file.toAbsolutePath().getParent();
        return parent == null ? Path.of("/") : parent;
    }

    private static String among(String what, Map<String, Entry> defined) {
        return defined.isEmpty()
                ? " (it defines no " + what + ")"
                : " (its " + what + ": " + String.join(", ", defined.keySet()) + ")";
    }

    /** @return where it was read from, for messages: {@code kubeconfig FILE} or {@code KUBECONFIG a:b} */
    String source() {
        return source;
    }

    /** @return the current context's name */
    String context() {
        return context;
    }

    /** @return the API server URL of the current context's cluster */
    String server() {
        return cluster.path("server").asText();
    }

    /** @return the current context's cluster entry (server, CA, TLS options), file references absolute */
    ObjectNode cluster() {
        return cluster;
    }

    /** @return the current context's user entry, empty for an anonymous context; file references absolute */
    ObjectNode user() {
        return user;
    }

    /** @return the name of the current context's user, empty for an anonymous context */
    Optional<String> userName() {
        return Optional.ofNullable(userName);
    }

    /**
     * @return a kubeconfig holding only the current context, its cluster and its user, as kubectl's {@code config view
     *     --minify} writes it (with absolute file references); it may hold credentials, so keep it in memory
     */
    String minified() {
        ObjectNode config = Json.object();
        config.put("apiVersion", "v1");
        config.put("kind", "Config");
        config.put("current-context", context);
        ObjectNode clusterEntry = config.putArray("clusters").addObject();
        clusterEntry.put("name", clusterName);
        clusterEntry.set("cluster", cluster);
        ObjectNode contextBody = Json.object();
        contextBody.put("cluster", clusterName);
        var usersList = config.putArray("users");
        if (userName != null) {
            contextBody.put("user", userName);
            ObjectNode userEntry = usersList.addObject();
            userEntry.put("name", userName);
            userEntry.set("user", user);
        }
        ObjectNode contextEntry = config.putArray("contexts").addObject();
        contextEntry.put("name", context);
        contextEntry.set("context", contextBody);
        return config.toString();
    }

    /** One named cluster, user or context, with the file it came from. */
    private record Entry(Path file, ObjectNode body) {}
}
