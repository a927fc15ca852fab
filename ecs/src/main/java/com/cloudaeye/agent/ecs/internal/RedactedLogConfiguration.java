package com.cloudaeye.agent.ecs.internal;

import com.cloudaeye.agent.Secret;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.services.ecs.model.LogConfiguration;

/**
 * A container's log configuration as plans and journals show it: option values print as {@code ****} (a
 * splunk-token is a credential); the exact ones stay in the task definition, which uninstall restores them from.
 * Its JSON is what plans and journals held before this type: no {@code options} or {@code secretOptions}
 * key when there are none.
 *
 * @param logDriver the log driver, e.g. {@code awslogs}
 * @param options the option names, each with {@link Secret#REDACTED}; null when there are none
 * @param secretOptions the secret options (references, not values); null when there are none
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
record RedactedLogConfiguration(
        String logDriver,
        @Nullable Map<String, String> options,
        @Nullable List<SecretOption> secretOptions) {

    /**
     * @param name the option's name
     * @param valueFrom the ARN of the secret or parameter that holds its value
     */
    record SecretOption(String name, String valueFrom) {}

    /**
     * @param config a container's log configuration
     * @return it redacted
     */
    static RedactedLogConfiguration of(LogConfiguration config) {
        Map<String, String> options = config.hasOptions() && !config.options().isEmpty()
                ? new TreeMap<>(
                        config.options().keySet().stream().collect(Collectors.toMap(k -> k, k -> Secret.REDACTED)))
                : null;
        List<SecretOption> secrets =
                config.hasSecretOptions() && !config.secretOptions().isEmpty()
                        ? config.secretOptions().stream()
                                .map(s -> new SecretOption(s.name(), s.valueFrom()))
                                .collect(Collectors.toList())
                        : null;
        return new RedactedLogConfiguration(config.logDriverAsString(), options, secrets);
    }

    /**
     * @param logs log configurations by container name, null for a container without one
     * @return them redacted, sorted by container name
     */
    static Map<String, @Nullable RedactedLogConfiguration> of(Map<String, @Nullable LogConfiguration> logs) {
        Map<String, @Nullable RedactedLogConfiguration> out = new TreeMap<>();
        logs.forEach((name, config) -> out.put(name, config == null ? null : of(config)));
        return out;
    }
}
