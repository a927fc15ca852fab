package com.cloudaeye.agent.ecs;

import com.cloudaeye.agent.ConfigurationException;
import com.cloudaeye.agent.spi.support.ValueStyle;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import java.util.Map;
import java.util.Optional;
import org.immutables.value.Value;

/**
 * The CloudAEye log router sidecar: a FireLens ({@code fluentbit}) container that the application containers of a
 * task send their logs to. Only {@link #image()} is required:
 *
 * <pre>{@code
 * LogRouter.builder().image("public.ecr.aws/cloudaeye/log-router:1.4.0").build()
 * }</pre>
 *
 * <p>It holds no secret: the API token comes from the installer's agent settings, or, better, from a Secrets Manager
 * secret or SSM parameter named by {@link #apiTokenSecretArn()} that the task's execution role reads at start.
 */
@Value.Immutable
@ValueStyle
@JsonSerialize(as = ImmutableLogRouter.class)
@JsonDeserialize(as = ImmutableLogRouter.class)
public abstract class LogRouter {
    /** The default container name of the router. */
    public static final String DEFAULT_NAME = "cloudaeye-log-router";

    /** The default CloudWatch Logs group of the router's own logs. */
    public static final String DEFAULT_LOG_GROUP = "/ecs/cloudaeye-log-router";

    /** @return the router's container name, unique in the task (default {@value #DEFAULT_NAME}) */
    @Value.Default
    public String name() {
        return DEFAULT_NAME;
    }

    /** @return the router's container image, e.g. {@code public.ecr.aws/cloudaeye/log-router:1.4.0}; required */
    @Value.Default
    public String image() {
        return "";
    }

    /** @return the router's CPU units (1024 = one vCPU), counted against the task's size (default 64) */
    @Value.Default
    public int cpu() {
        return 64;
    }

    /** @return the router's memory reservation in MiB, counted against the task's size (default 128) */
    @Value.Default
    public int memory() {
        return 128;
    }

    /**
     * @return whether the task stops when the router stops (default true: no application runs without its logs
     *     being shipped)
     */
    @Value.Default
    public boolean essential() {
        return true;
    }

    /**
     * @return the ARN of a Secrets Manager secret or SSM parameter holding the CloudAEye API token; when set, the
     *     token reaches the router through the container's {@code secrets} and never appears in the task definition.
     *     It may belong to another account (a secret its resource and key policies share, or an SSM parameter shared
     *     through AWS RAM): only the task's execution role reads it, so the installer does not refuse it
     */
    public abstract Optional<String> apiTokenSecretArn();

    /**
     * @return a Fluent Bit configuration file inside the router image ({@code firelensConfiguration} options
     *     {@code config-file-type=file}), absent to use the image's default configuration
     */
    public abstract Optional<String> configFile();

    /**
     * @return the {@code awsfirelens} log driver options set on the application containers (default none). Options
     *     with a {@code Name} define each container's one FireLens output, which then cannot also keep the
     *     container's {@code awslogs} destination: such containers are left on {@code awslogs}, and the plan says so.
     *     Prefer the router's {@link #configFile()} for the CloudAEye output
     */
    public abstract Map<String, String> logOptions();

    /**
     * @return the CloudWatch Logs group of the router's own logs ({@code awslogs} driver, written with the task's
     *     execution role), so a router that fails can be debugged (default {@value #DEFAULT_LOG_GROUP})
     */
    @Value.Default
    public String logGroup() {
        return DEFAULT_LOG_GROUP;
    }

    /**
     * @return whether the router's log group is created when missing ({@code awslogs-create-group}, default true;
     *     the execution role then also needs {@code logs:CreateLogGroup})
     */
    @Value.Default
    public boolean createLogGroup() {
        return true;
    }

    /** @return a new builder */
    public static Builder builder() {
        return new Builder();
    }

    @Value.Check
    void check() {
        if (image().isBlank()) {
            throw new ConfigurationException("The ECS log router has no image: set it with"
                    + " .sidecar(s -> s.image(\"public.ecr.aws/cloudaeye/log-router:<version>\")).");
        }
        if (image().chars().anyMatch(Character::isWhitespace)) {
            throw new ConfigurationException(
                    "The ECS log router image '" + image() + "' contains whitespace: pass an image reference.");
        }
        if (!name().matches("[A-Za-z0-9_-]{1,255}")) {
            throw new ConfigurationException("The ECS log router name '" + name()
                    + "' is not a valid container name: use up to 255 letters, digits, hyphens and underscores.");
        }
        if (cpu() < 0 || cpu() > 16384) {
            throw new ConfigurationException(
                    "The ECS log router cpu " + cpu() + " is out of range: use 0 to 16384 CPU units.");
        }
        if (memory() < 6) {
            throw new ConfigurationException("The ECS log router memory " + memory()
                    + " MiB is below Docker's minimum: use at least 6 MiB (128 is a safe default).");
        }
        if (!logGroup().matches("[.\\-_/#A-Za-z0-9]{1,512}")) {
            throw new ConfigurationException("The ECS log router log group '" + logGroup() + "' is not a valid"
                    + " CloudWatch Logs group name: use up to 512 letters, digits and . - _ / #.");
        }
        apiTokenSecretArn().ifPresent(arn -> {
            if (!arn.matches(
                    "arn:[a-z-]+:(secretsmanager:[a-z0-9-]+:\\d{12}:secret:|ssm:[a-z0-9-]+:\\d{12}:parameter/).+")) {
                throw new ConfigurationException("The API token secret '" + arn + "' is not the ARN of a Secrets"
                        + " Manager secret or an SSM parameter: pass e.g."
                        + " arn:aws:secretsmanager:us-east-1:123456789012:secret:cloudaeye-token.");
            }
        });
    }

    /** Builds a {@link LogRouter}; validation happens in {@code build()}. */
    public static final class Builder extends ImmutableLogRouter.Builder {
        Builder() {}
    }
}
