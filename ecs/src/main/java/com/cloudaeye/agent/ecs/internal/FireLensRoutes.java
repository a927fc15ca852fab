package com.cloudaeye.agent.ecs.internal;

import com.cloudaeye.agent.ecs.LogRouter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.services.ecs.model.LogConfiguration;
import software.amazon.awssdk.services.ecs.model.LogDriver;
import software.amazon.awssdk.services.ecs.model.TaskDefinition;

/**
 * Where each application container's logs go once the router is in: the install tees, it never diverts.
 *
 * <p>A container's {@code awsfirelens} options define exactly one Fluent Bit output, matched to that container's
 * records only; the CloudAEye output lives in the router's own configuration and matches every record. Fluent Bit
 * gives a record to every output whose {@code Match} fits its tag, so a container whose options are the
 * {@code cloudwatch_logs} equivalent of its former {@code awslogs} configuration keeps writing to its log group and is
 * shipped to CloudAEye too. This needs no configuration file per task (Fargate reads FireLens configuration files only
 * from the image) and no change to the router image.
 *
 * <p>What cannot be reproduced keeps its driver and is not shipped to CloudAEye, with the reason: any other driver
 * ({@code splunk}, {@code gelf}, {@code syslog}, {@code fluentd} ...), an {@code awslogs} option without an equivalent,
 * a task without a task role (the router's {@code cloudwatch_logs} output writes with it), and router
 * {@link LogRouter#logOptions()} that define their own output. A container without a log configuration is shipped to
 * CloudAEye only. Pure functions, no AWS calls.
 */
public final class FireLensRoutes {
    /** The records' field that holds the container's log line (FireLens's Fluentd forward input). */
    private static final String LOG_KEY = "log";

    /** {@code awslogs} options that are Docker's generic delivery settings, not a destination. */
    private static final Set<String> DELIVERY_OPTIONS = Set.of("mode", "max-buffer-size");

    /** {@code awslogs} options that group lines into events; Fluent Bit does that in filters, not in outputs. */
    private static final Set<String> MULTILINE_OPTIONS = Set.of("awslogs-datetime-format", "awslogs-multiline-pattern");

    /** The {@code awslogs} options this class translates or warns about; any other keeps the container on awslogs. */
    private static final Set<String> AWSLOGS_OPTIONS = Set.of(
            "awslogs-group",
            "awslogs-region",
            "awslogs-stream-prefix",
            "awslogs-create-group",
            "awslogs-endpoint",
            "awslogs-format",
            "awslogs-datetime-format",
            "awslogs-multiline-pattern",
            "mode",
            "max-buffer-size");

    private FireLensRoutes() {}

    /**
     * Where one container's logs went and go.
     *
     * @param container the container's name
     * @param before its log configuration before the install
     * @param after its log configuration in the new revision
     * @param toCloudAEye whether the router receives its logs
     * @param warnings what the plan must say about it (a destination kept off the router, a setting not carried)
     */
    public record Route(
            String container,
            @Nullable LogConfiguration before,
            @Nullable LogConfiguration after,
            boolean toCloudAEye,
            List<String> warnings) {

        /** @return where the logs went, for the plan's table */
        public String beforeText() {
            return describe(before);
        }

        /** @return where the logs go, for the plan's table */
        public String afterText() {
            return toCloudAEye ? describe(after) : describe(after) + " (kept, not sent to CloudAEye)";
        }
    }

    /**
     * Routes one application container.
     *
     * @param container the container's name
     * @param original its log configuration before any install (the router's label keeps it across upgrades)
     * @param source the revision (its region and task role)
     * @param settings the router settings
     * @return the route
     */
    static Route route(
            String container, @Nullable LogConfiguration original, TaskDefinition source, LogRouter settings) {
        if (original == null) {
            return new Route(container, null, cloudAEyeOnly(settings), true, List.of());
        }
        String driver = original.logDriverAsString();
        if (LogDriver.AWSFIRELENS.toString().equals(driver)) {
            // Only reachable with our router in the task (planning skips a task with another router): the container
            // was pointed at it by its owner, with its own output or none, and the router ships its records already.
            return new Route(container, original, original, true, List.of());
        }
        if (!LogDriver.AWSLOGS.toString().equals(driver)) {
            return kept(
                    container,
                    original,
                    "the " + driver + " log driver cannot be reproduced through FireLens, so the container keeps it;"
                            + " send its logs to CloudAEye from that destination instead");
        }
        Map<String, String> options = original.hasOptions() ? original.options() : Map.of();
        List<String> unknown = new ArrayList<>();
        options.keySet().stream()
                .filter(k -> !AWSLOGS_OPTIONS.contains(k))
                .sorted()
                .forEach(unknown::add);
        if (!unknown.isEmpty()
                || (original.hasSecretOptions() && !original.secretOptions().isEmpty())) {
            return kept(
                    container,
                    original,
                    "its awslogs " + (unknown.isEmpty() ? "secretOptions" : "options " + unknown) + " have no"
                            + " FireLens equivalent, so it stays on awslogs rather than lose them");
        }
        String group = options.get("awslogs-group");
        if (group == null || group.isBlank()) {
            return kept(
                    container, original, "its awslogs configuration names no awslogs-group, so it stays on awslogs");
        }
        String outputName = outputName(settings);
        if (outputName != null) {
            return kept(
                    container,
                    original,
                    "the router's logOptions define the container's one FireLens output (Name=" + outputName
                            + "), so its awslogs group " + group + " could not keep receiving its logs; it stays on"
                            + " awslogs: put the CloudAEye output in the router's configFile instead");
        }
        if (source.taskRoleArn() == null) {
            return kept(
                    container,
                    original,
                    "the task has no task role, and the router writes to CloudWatch Logs with it, so the container"
                            + " stays on awslogs; add a taskRoleArn allowed logs:CreateLogStream and"
                            + " logs:PutLogEvents on " + group);
        }
        return new Route(container, original, teed(container, options, source, settings), true, warnings(options));
    }

    private static Route kept(String container, LogConfiguration original, String reason) {
        return new Route(
                container,
                original,
                original,
                false,
                List.of("Container '" + container + "' is not sent to CloudAEye: " + reason + "."));
    }

    /**
     * The {@code cloudwatch_logs} output equivalent to an {@code awslogs} configuration. {@code log_key} sends the
     * log line alone, as {@code awslogs} did, so metric filters and subscriptions see the same messages. Streams
     * are named {@code <prefix>/<container>/<FireLens tag>}: under the same {@code <prefix>/<container>/} as
     * {@code awslogs}'s {@code <prefix>/<container>/<task id>}, though the last part differs.
     */
    private static LogConfiguration teed(
            String container, Map<String, String> awslogs, TaskDefinition source, LogRouter settings) {
        Map<String, String> out = new TreeMap<>(settings.logOptions());
        out.put("Name", "cloudwatch_logs");
        out.put("region", awslogs.getOrDefault("awslogs-region", region(source)));
        out.put("log_group_name", awslogs.get("awslogs-group"));
        String prefix = awslogs.get("awslogs-stream-prefix");
        out.put("log_stream_prefix", (prefix == null ? "" : prefix + "/") + container + "/");
        out.put("log_key", LOG_KEY);
        String create = awslogs.get("awslogs-create-group");
        if (create != null) {
            out.put("auto_create_group", Boolean.toString(Boolean.parseBoolean(create.trim())));
        }
        String endpoint = awslogs.get("awslogs-endpoint");
        if (endpoint != null) {
            out.put("endpoint", endpoint);
        }
        String format = awslogs.get("awslogs-format");
        if (format != null) {
            out.put("log_format", format);
        }
        return LogConfiguration.builder()
                .logDriver(LogDriver.AWSFIRELENS)
                .options(out)
                .build();
    }

    private static List<String> warnings(Map<String, String> awslogs) {
        List<String> out = new ArrayList<>();
        List<String> multiline =
                MULTILINE_OPTIONS.stream().filter(awslogs::containsKey).sorted().toList();
        if (!multiline.isEmpty()) {
            out.add("Its awslogs " + multiline + " grouped lines into multi-line events (a stack trace as one event);"
                    + " FireLens outputs cannot group, so the log group receives each line as its own event.");
        }
        List<String> delivery =
                DELIVERY_OPTIONS.stream().filter(awslogs::containsKey).sorted().toList();
        if (!delivery.isEmpty()) {
            out.add("Its awslogs " + delivery + " are not carried: FireLens's driver delivers asynchronously and"
                    + " buffers up to log-driver-buffer-limit lines, and the router would reject them as output"
                    + " settings.");
        }
        return out;
    }

    private static LogConfiguration cloudAEyeOnly(LogRouter settings) {
        return LogConfiguration.builder()
                .logDriver(LogDriver.AWSFIRELENS)
                .options(settings.logOptions().isEmpty() ? null : new TreeMap<>(settings.logOptions()))
                .build();
    }

    /** The output a router's {@code logOptions} define, if they define one. */
    private static @Nullable String outputName(LogRouter settings) {
        return settings.logOptions().entrySet().stream()
                .filter(e -> e.getKey().equalsIgnoreCase("Name"))
                .map(Map.Entry::getValue)
                .findFirst()
                .orElse(null);
    }

    /**
     * The router's own log configuration: {@code awslogs} into {@link LogRouter#logGroup()}, with streams
     * {@code <family>/<router>/<task id>}. It is written with the execution role, so a task without one gets none
     * (Fargate refuses {@code awslogs} without an execution role).
     *
     * @param source the revision
     * @param settings the router settings
     * @return the configuration, or null for a task without an execution role
     */
    static @Nullable LogConfiguration routerLogs(TaskDefinition source, LogRouter settings) {
        if (source.executionRoleArn() == null) {
            return null;
        }
        Map<String, String> options = new TreeMap<>();
        options.put("awslogs-group", settings.logGroup());
        options.put("awslogs-region", region(source));
        options.put("awslogs-stream-prefix", source.family() == null ? "cloudaeye" : source.family());
        if (settings.createLogGroup()) {
            options.put("awslogs-create-group", "true");
        }
        return LogConfiguration.builder()
                .logDriver(LogDriver.AWSLOGS)
                .options(options)
                .build();
    }

    /**
     * What the customer's roles must allow for the logs to keep flowing, for the plan's notes: the execution role
     * writes the router's own logs, the task role the application logs the router keeps sending to CloudWatch Logs.
     * The roles are the customer's: the installer does not change them.
     *
     * @param source the revision
     * @param settings the router settings
     * @param routes the routes of its application containers
     * @return the notes, possibly none
     */
    static List<String> notes(TaskDefinition source, LogRouter settings, List<Route> routes) {
        List<String> out = new ArrayList<>();
        if (source.executionRoleArn() != null) {
            out.add("ECS: the execution role " + source.executionRoleArn() + " writes the log router's own logs:"
                    + " it needs logs:CreateLogStream and logs:PutLogEvents"
                    + (settings.createLogGroup() ? " (and logs:CreateLogGroup, which creates the group)" : "")
                    + " on " + groupArn(source, settings.logGroup()) + ".");
        }
        List<String> groups = new ArrayList<>();
        boolean create = false;
        for (Route r : routes) {
            LogConfiguration after = r.after();
            boolean teed = r.toCloudAEye()
                    && r.before() != null
                    && LogDriver.AWSLOGS.toString().equals(r.before().logDriverAsString());
            if (teed && after != null && after.hasOptions()) {
                String group = after.options().get("log_group_name");
                if (group != null && !groups.contains(group)) {
                    groups.add(group);
                }
                create |= "true".equals(after.options().get("auto_create_group"));
            }
        }
        if (!groups.isEmpty()) {
            List<String> arns =
                    groups.stream().sorted().map(g -> groupArn(source, g)).toList();
            out.add("ECS: the task role " + source.taskRoleArn() + " now writes the application logs that awslogs"
                    + " wrote with the execution role: it needs logs:CreateLogStream and logs:PutLogEvents"
                    + (create ? " (and logs:CreateLogGroup, for auto_create_group)" : "") + " on "
                    + String.join(", ", arns) + ".");
        }
        if (source.executionRoleArn() == null) {
            out.add(
                    "ECS: " + TaskDefinitions.shortName(source.taskDefinitionArn()) + " has no execution role, so the"
                            + " log router's own logs go nowhere (Fargate needs one for awslogs): add one to debug the router.");
        }
        return out;
    }

    private static String groupArn(TaskDefinition source, String group) {
        String[] arn = source.taskDefinitionArn().split(":", -1);
        String partition = arn.length > 1 ? arn[1] : "aws";
        String account = arn.length > 4 ? arn[4] : "*";
        return "arn:" + partition + ":logs:" + region(source) + ":" + account + ":log-group:" + group + ":*";
    }

    /** The region of a revision, from its ARN: its tasks run there. */
    static String region(TaskDefinition source) {
        String[] arn = source.taskDefinitionArn().split(":", -1);
        return arn.length > 3 ? arn[3] : "";
    }

    /**
     * @param config a log configuration
     * @return where it sends logs, in a few words: {@code awslogs /ecs/web}, {@code CloudWatch Logs /ecs/web
     *     (FireLens) + CloudAEye}, {@code splunk}; option values other than log group names are never shown, since
     *     they can hold credentials
     */
    static String describe(@Nullable LogConfiguration config) {
        if (config == null) {
            return "(none)";
        }
        String driver = config.logDriverAsString();
        Map<String, String> options = config.hasOptions() ? config.options() : Map.of();
        if (LogDriver.AWSLOGS.toString().equals(driver) && options.containsKey("awslogs-group")) {
            return "awslogs " + options.get("awslogs-group");
        }
        if (LogDriver.AWSFIRELENS.toString().equals(driver)) {
            String name = options.entrySet().stream()
                    .filter(e -> e.getKey().equalsIgnoreCase("Name"))
                    .map(Map.Entry::getValue)
                    .findFirst()
                    .orElse(null);
            if (name == null) {
                return "CloudAEye";
            }
            if (name.toLowerCase(Locale.ROOT).equals("cloudwatch_logs") && options.containsKey("log_group_name")) {
                return "CloudWatch Logs " + options.get("log_group_name") + " (FireLens) + CloudAEye";
            }
            return "FireLens output " + name + " + CloudAEye";
        }
        return driver;
    }
}
