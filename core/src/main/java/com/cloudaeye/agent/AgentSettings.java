package com.cloudaeye.agent;

import com.cloudaeye.agent.internal.ValueStyle;
import java.net.URI;
import java.util.Map;
import org.immutables.value.Value;

/**
 * Where the agent sends logs and how it authenticates: shared by every target. Build with
 * {@code AgentSettings.builder().logsEndpoint("https://...").apiToken(Secret.of(token)).build()}.
 */
@Value.Immutable
@ValueStyle
public abstract class AgentSettings {
    /** @return the CloudAEye logs service endpoint, an {@code https} URL */
    public abstract String logsEndpoint();

    /** @return the CloudAEye API token; never printed */
    public abstract Secret apiToken();

    /**
     * @return extra, non-secret agent options (for example {@code CLOUDAEYE_LOG_LEVEL=debug}) that every target
     *     passes to the agent: as environment variables for Lambda and ECS, as chart values for EKS
     */
    public abstract Map<String, String> options();

    /** @return a new builder */
    public static Builder builder() {
        return new Builder();
    }

    @Value.Check
    void check() {
        URI uri;
        try {
            uri = URI.create(logsEndpoint());
        } catch (IllegalArgumentException e) {
            throw new ConfigurationException(
                    "The agent's logsEndpoint '" + logsEndpoint()
                            + "' is not a URL: pass the https URL of your CloudAEye logs service.",
                    e);
        }
        if ((!"https".equals(uri.getScheme()) && !"http".equals(uri.getScheme())) || uri.getHost() == null) {
            throw new ConfigurationException("The agent's logsEndpoint '" + logsEndpoint()
                    + "' is not an http(s) URL with a host: pass e.g. https://logs.example.cloudaeye.com.");
        }
        options().keySet().forEach(k -> {
            if (!k.matches("[A-Za-z][A-Za-z0-9_]*")) {
                throw new ConfigurationException("Agent option name '" + k
                        + "' is not a valid environment variable name: use letters, digits and underscores.");
            }
        });
    }

    /** Builds {@link AgentSettings}. */
    public static final class Builder extends ImmutableAgentSettings.Builder {
        Builder() {}
    }
}
