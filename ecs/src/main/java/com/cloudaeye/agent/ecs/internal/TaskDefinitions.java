package com.cloudaeye.agent.ecs.internal;

import com.cloudaeye.agent.AgentSettings;
import com.cloudaeye.agent.PlanningException;
import com.cloudaeye.agent.ecs.LogRouter;
import com.cloudaeye.agent.spi.support.Json;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.services.ecs.model.ContainerDefinition;
import software.amazon.awssdk.services.ecs.model.FirelensConfiguration;
import software.amazon.awssdk.services.ecs.model.FirelensConfigurationType;
import software.amazon.awssdk.services.ecs.model.KeyValuePair;
import software.amazon.awssdk.services.ecs.model.LogConfiguration;
import software.amazon.awssdk.services.ecs.model.TaskDefinition;

/**
 * Task definition surgery: adding, upgrading and removing the router, and reading back what an earlier install
 * recorded on the router's labels ({@link RevisionRequests} turns the result into a registration request).
 * Pure functions, no AWS calls.
 */
public final class TaskDefinitions {
    /** Docker label on the router: the hash of the settings it was made with. */
    public static final String SETTINGS_LABEL = "com.cloudaeye.agent.settings";
    /** Docker label on the router: the revision it was added to. */
    public static final String SOURCE_LABEL = "com.cloudaeye.agent.source-task-definition";
    /** Docker label on the router: each application container's log configuration before the install. */
    public static final String PREVIOUS_LOGS_LABEL = "com.cloudaeye.agent.previous-log-configurations";
    /** The router's environment variable that carries the API token. */
    public static final String TOKEN_VARIABLE = AgentSettings.TOKEN_VARIABLE;
    /** The router's environment variable that carries the logs endpoint. */
    public static final String ENDPOINT_VARIABLE = AgentSettings.ENDPOINT_VARIABLE;
    /**
     * The most containers a task definition takes (the ECS service quota "container definitions per task definition",
     * not adjustable): RegisterTaskDefinition refuses more, which moto does not check.
     */
    static final int MAX_CONTAINERS = 10;

    private TaskDefinitions() {}

    /**
     * @param td a revision
     * @param name a container name
     * @return the container of that name, if the revision has one
     */
    public static Optional<ContainerDefinition> container(TaskDefinition td, String name) {
        return td.containerDefinitions().stream()
                .filter(c -> name.equals(c.name()))
                .findFirst();
    }

    /**
     * @param c a container
     * @return whether it is a router this installer added (it carries our settings label)
     */
    public static boolean isOurs(ContainerDefinition c) {
        return c.hasDockerLabels() && c.dockerLabels().containsKey(SETTINGS_LABEL);
    }

    /**
     * @param td a revision
     * @return the router this installer added, whatever its name
     */
    public static Optional<ContainerDefinition> ourRouter(TaskDefinition td) {
        return td.containerDefinitions().stream()
                .filter(TaskDefinitions::isOurs)
                .findFirst();
    }

    /**
     * @param td a revision
     * @return a FireLens router that is not ours, if the revision has one (a task takes one router only)
     */
    public static Optional<ContainerDefinition> foreignRouter(TaskDefinition td) {
        return td.containerDefinitions().stream()
                .filter(c -> c.firelensConfiguration() != null && !isOurs(c))
                .findFirst();
    }

    /**
     * The hash that tells whether a router is up to date: every setting that shapes the router, except the token
     * itself (compared separately, in constant time).
     *
     * @param router the router settings
     * @param agent the agent settings
     * @return a hex SHA-256 prefix
     */
    public static String settingsHash(LogRouter router, AgentSettings agent) {
        String canonical = String.join(
                "\n",
                router.name(),
                router.image(),
                Integer.toString(router.cpu()),
                Integer.toString(router.memory()),
                Boolean.toString(router.essential()),
                router.apiTokenSecretArn().orElse(""),
                router.configFile().orElse(""),
                new TreeMap<>(router.logOptions()).toString(),
                router.logGroup(),
                Boolean.toString(router.createLogGroup()),
                agent.logsEndpoint(),
                new TreeMap<>(agent.options()).toString());
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(canonical.getBytes(StandardCharsets.UTF_8));
            StringBuilder hex = new StringBuilder();
            for (int i = 0; i < 8; i++) {
                hex.append(String.format("%02x", digest[i]));
            }
            return hex.toString();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by every Java platform", e);
        }
    }

    /**
     * Whether a router of ours is exactly what the settings make.
     *
     * @param router the router container found
     * @param settings the router settings
     * @param agent the agent settings (its token is compared in constant time)
     * @return true when nothing would change
     */
    public static boolean isCurrent(ContainerDefinition router, LogRouter settings, AgentSettings agent) {
        if (!settingsHash(settings, agent).equals(router.dockerLabels().get(SETTINGS_LABEL))) {
            return false;
        }
        if (settings.apiTokenSecretArn().isPresent()) {
            return true;
        }
        return router.environment().stream()
                .anyMatch(kv ->
                        TOKEN_VARIABLE.equals(kv.name()) && agent.apiToken().matches(kv.value()));
    }

    /**
     * Whether a revision is exactly what an install with these settings makes: our router is current, logs where
     * it should, and every other container logs where {@link #install} routes it.
     *
     * @param td a revision
     * @param settings the router settings
     * @param agent the agent settings
     * @return true when an install would change nothing
     */
    public static boolean isInstalled(TaskDefinition td, LogRouter settings, AgentSettings agent) {
        Optional<ContainerDefinition> router = ourRouter(td);
        if (router.isEmpty() || !isCurrent(router.get(), settings, agent)) {
            return false;
        }
        Map<String, @Nullable LogConfiguration> wanted =
                logsByName(install(td, settings, agent).containers());
        return td.containerDefinitions().stream()
                .allMatch(c -> LogConfigs.toJson(wanted.get(c.name())).equals(LogConfigs.toJson(c.logConfiguration())));
    }

    /**
     * The application containers' log configurations before the install, as the router's label recorded them.
     *
     * @param router our router
     * @return by container name; a null value means the container had no log configuration
     */
    public static Map<String, @Nullable LogConfiguration> previousLogs(ContainerDefinition router) {
        String json = router.dockerLabels().get(PREVIOUS_LOGS_LABEL);
        Map<String, @Nullable LogConfiguration> out = new LinkedHashMap<>();
        if (json == null) {
            return out;
        }
        try {
            JsonNode node = Json.parse(json);
            node.properties().forEach(e -> out.put(e.getKey(), LogConfigs.fromJson(e.getValue())));
        } catch (JsonProcessingException e) {
            throw new PlanningException("The label " + PREVIOUS_LOGS_LABEL + " of the log router '" + router.name()
                    + "' is not valid JSON: someone edited it. Restore the application containers' logConfiguration"
                    + " by hand, then remove the router.");
        }
        return out;
    }

    /**
     * @param logs log configurations by container name
     * @return them as compact JSON, exactly, for the router's label in the task definition
     */
    public static ObjectNode logsJson(Map<String, @Nullable LogConfiguration> logs) {
        ObjectNode node = Json.object();
        new TreeMap<>(logs).forEach((name, config) -> node.set(name, LogConfigs.toJson(config)));
        return node;
    }

    /**
     * The containers of a revision with our router added (or replaced by an up-to-date one) and every other
     * container routed by {@link FireLensRoutes}: to the router, keeping its earlier destination, or left as it is
     * with the reason. Routes start from each container's configuration before the first install, which the
     * router's label keeps, so an upgrade routes as a first install would.
     *
     * @param source the revision
     * @param settings router settings
     * @param agent agent settings (the token goes into the router's environment unless a secret ARN is set)
     * @return the new container list, the log configurations the install replaced, and each container's route
     */
    public static Installed install(TaskDefinition source, LogRouter settings, AgentSettings agent) {
        Optional<ContainerDefinition> existing = ourRouter(source);
        Map<String, @Nullable LogConfiguration> previous =
                existing.map(TaskDefinitions::previousLogs).orElseGet(LinkedHashMap::new);
        List<ContainerDefinition> containers = new ArrayList<>();
        List<FireLensRoutes.Route> routes = new ArrayList<>();
        for (ContainerDefinition c : source.containerDefinitions()) {
            if (isOurs(c)) {
                continue;
            }
            if (!previous.containsKey(c.name())) {
                previous.put(c.name(), c.logConfiguration());
            }
            FireLensRoutes.Route route = FireLensRoutes.route(c.name(), previous.get(c.name()), source, settings);
            routes.add(route);
            containers.add(c.toBuilder().logConfiguration(route.after()).build());
        }
        String sourceArn = existing.map(r -> r.dockerLabels().get(SOURCE_LABEL)).orElse(source.taskDefinitionArn());
        // An upgrade keeps the size an earlier install raised the task from, so an uninstall can still restore it.
        String taskSize =
                existing.map(r -> r.dockerLabels().get(RecordedTaskSize.LABEL)).orElse(null);
        containers.add(
                router(settings, agent, sourceArn, previous, FireLensRoutes.routerLogs(source, settings), taskSize));
        return new Installed(containers, previous, routes);
    }

    /**
     * The result of {@link #install}.
     *
     * @param containers the new container definitions, our router last
     * @param previousLogs each application container's log configuration before the install
     * @param routes where each application container's logs went and go, in container order
     */
    public record Installed(
            List<ContainerDefinition> containers,
            Map<String, @Nullable LogConfiguration> previousLogs,
            List<FireLensRoutes.Route> routes) {

        /** @return whether any container's logs reach the router */
        public boolean routesAny() {
            return routes.stream().anyMatch(FireLensRoutes.Route::toCloudAEye);
        }
    }

    private static ContainerDefinition router(
            LogRouter settings,
            AgentSettings agent,
            String sourceArn,
            Map<String, @Nullable LogConfiguration> previous,
            @Nullable LogConfiguration logs,
            @Nullable String taskSize) {
        List<KeyValuePair> env = new ArrayList<>();
        env.add(KeyValuePair.builder()
                .name(ENDPOINT_VARIABLE)
                .value(agent.logsEndpoint())
                .build());
        new TreeMap<>(agent.options())
                .forEach((k, v) ->
                        env.add(KeyValuePair.builder().name(k).value(v).build()));
        ContainerDefinition.Builder router = ContainerDefinition.builder()
                .name(settings.name())
                .image(settings.image())
                .essential(settings.essential())
                .cpu(settings.cpu())
                .memoryReservation(settings.memory())
                .logConfiguration(logs)
                .firelensConfiguration(FirelensConfiguration.builder()
                        .type(FirelensConfigurationType.FLUENTBIT)
                        .options(settings.configFile()
                                .map(f -> Map.of("config-file-type", "file", "config-file-value", f))
                                .orElse(null))
                        .build())
                .dockerLabels(labels(
                        settingsHash(settings, agent),
                        sourceArn,
                        logsJson(previous).toString(),
                        taskSize));
        if (settings.apiTokenSecretArn().isPresent()) {
            router.secrets(software.amazon.awssdk.services.ecs.model.Secret.builder()
                    .name(TOKEN_VARIABLE)
                    .valueFrom(settings.apiTokenSecretArn().get())
                    .build());
        } else {
            env.add(KeyValuePair.builder()
                    .name(TOKEN_VARIABLE)
                    .value(agent.apiToken().reveal())
                    .build());
        }
        return router.environment(env).build();
    }

    private static Map<String, String> labels(
            String settingsHash, String sourceArn, String previousLogs, @Nullable String taskSize) {
        Map<String, String> labels = new TreeMap<>();
        labels.put(SETTINGS_LABEL, settingsHash);
        labels.put(SOURCE_LABEL, sourceArn);
        labels.put(PREVIOUS_LOGS_LABEL, previousLogs);
        if (taskSize != null) {
            labels.put(RecordedTaskSize.LABEL, taskSize);
        }
        return labels;
    }

    /**
     * The containers of a revision with our router removed and every application container's log configuration
     * restored to what it was before the install. Containers added after the install keep theirs.
     *
     * @param source a revision with our router
     * @return the new container list
     */
    public static List<ContainerDefinition> uninstall(TaskDefinition source) {
        ContainerDefinition router = ourRouter(source)
                .orElseThrow(() -> new IllegalArgumentException(source.taskDefinitionArn() + " has no router"));
        Map<String, @Nullable LogConfiguration> previous = previousLogs(router);
        List<ContainerDefinition> containers = new ArrayList<>();
        for (ContainerDefinition c : source.containerDefinitions()) {
            if (isOurs(c)) {
                continue;
            }
            containers.add(
                    previous.containsKey(c.name())
                            ? c.toBuilder()
                                    .logConfiguration(previous.get(c.name()))
                                    .build()
                            : c);
        }
        return containers;
    }

    /**
     * @param containers containers
     * @return their log configurations by name, in order
     */
    public static Map<String, @Nullable LogConfiguration> logsByName(List<ContainerDefinition> containers) {
        Map<String, @Nullable LogConfiguration> out = new HashMap<>();
        containers.forEach(c -> out.put(c.name(), c.logConfiguration()));
        return out;
    }

    /**
     * @param containers containers
     * @return their names, in order
     */
    public static List<String> names(List<ContainerDefinition> containers) {
        return containers.stream().map(ContainerDefinition::name).collect(Collectors.toList());
    }

    /**
     * @param arn a task definition ARN ({@code ...:task-definition/family:7})
     * @return {@code family:7}
     */
    public static String shortName(String arn) {
        int slash = arn.lastIndexOf('/');
        return slash < 0 ? arn : arn.substring(slash + 1);
    }

    /**
     * @param arn a task definition ARN
     * @return its family
     */
    public static String family(String arn) {
        String s = shortName(arn);
        int colon = s.lastIndexOf(':');
        return colon < 0 ? s : s.substring(0, colon);
    }
}
