package com.cloudaeye.agent;

import com.cloudaeye.agent.spi.support.ValueStyle;
import java.net.URI;
import java.util.Map;
import org.immutables.value.Value;

/**
 * Where the agent sends logs and how it authenticates: shared by every target. Build with
 * {@code AgentSettings.builder().logsEndpoint("https://...").apiToken(Secret.of(token)).build()}.
 *
 * <p>The endpoint must be {@code https}: the agent sends the token with every request. A local emulator of the logs
 * service may use {@code http} only with {@link #allowInsecureEndpoint()} set.
 */
@Value.Immutable
@ValueStyle
public abstract class AgentSettings {
    /** The agent's environment variable that tells it where to send logs, in every target. */
    public static final String ENDPOINT_VARIABLE = "CLOUDAEYE_LOGS_ENDPOINT";

    /** The agent's environment variable that holds the API token (a secret: always redacted in plans). */
    public static final String TOKEN_VARIABLE = "CLOUDAEYE_API_TOKEN";

    /** What every agent option's name starts with: the agent's own variables, never the application's. */
    private static final String OPTION_PREFIX = "CLOUDAEYE_";

    /** Where the Lambda target keeps a user's value it replaced (its own variables, never an option). */
    private static final String SAVED_PREFIX = "CLOUDAEYE_SAVED__";

    /** Where the Lambda target records the names of the variables an install added (its own, never an option). */
    private static final String INSTALLED_VARIABLES = "CLOUDAEYE_INSTALLED_VARIABLES";

    /** The longest endpoint accepted. */
    public static final int MAX_ENDPOINT_LENGTH = 2048;

    /** The longest API token accepted. */
    public static final int MAX_TOKEN_LENGTH = 1024;

    /**
     * @return the CloudAEye logs service endpoint, an {@code https} URL ({@code http} only with {@link
     *     #allowInsecureEndpoint()})
     */
    public abstract String logsEndpoint();

    /**
     * Accepts an {@code http} logs endpoint, over which the agent would send the token in cleartext: only for a local
     * emulator of the logs service, never for a real one.
     *
     * @return true to accept {@code http} (default false)
     */
    @Value.Default
    public boolean allowInsecureEndpoint() {
        return false;
    }

    /** @return the CloudAEye API token; never printed */
    public abstract Secret apiToken();

    /**
     * @return extra, non-secret agent options (for example {@code CLOUDAEYE_LOG_LEVEL=debug}) that every target
     *     passes to the agent: as environment variables for Lambda and ECS, as chart values for EKS (which sets them
     *     as the agent's environment variables). Each name starts with {@code CLOUDAEYE_} and is none of the
     *     variables the installer sets itself (the endpoint, the token and its reference)
     */
    public abstract Map<String, String> options();

    /** @return a new builder */
    public static Builder builder() {
        return new Builder();
    }

    @Value.Check
    void check() {
        String endpoint = logsEndpoint();
        if (endpoint.length() > MAX_ENDPOINT_LENGTH || hasControlCharacter(endpoint)) {
            throw new ConfigurationException("The agent's logsEndpoint (" + endpoint.length() + " characters) is"
                    + " longer than " + MAX_ENDPOINT_LENGTH + " characters or holds a control character (a newline?):"
                    + " pass the plain https URL of your CloudAEye logs service.");
        }
        URI uri;
        try {
            uri = URI.create(endpoint);
        } catch (IllegalArgumentException e) {
            throw new ConfigurationException(
                    "The agent's logsEndpoint '" + endpoint
                            + "' is not a URL: pass the https URL of your CloudAEye logs service.",
                    e);
        }
        boolean http = "http".equals(uri.getScheme());
        if ((!"https".equals(uri.getScheme()) && !http) || uri.getHost() == null) {
            throw new ConfigurationException("The agent's logsEndpoint '" + endpoint
                    + "' is not an https URL with a host: pass e.g. https://logs.example.cloudaeye.com.");
        }
        if (http && !allowInsecureEndpoint()) {
            throw new ConfigurationException("The agent's logsEndpoint '" + endpoint + "' is http: the agent would"
                    + " send the API token in cleartext. Use the https URL; for a local emulator of the logs service"
                    + " only, set allowInsecureEndpoint(true).");
        }
        // Never echo the token: say what is wrong with it, not what it is.
        String token = apiToken().reveal();
        if (token.length() > MAX_TOKEN_LENGTH) {
            throw new ConfigurationException("The agent's apiToken is " + token.length() + " characters, over the "
                    + MAX_TOKEN_LENGTH + " accepted: pass the CloudAEye API token itself, not a file or a document.");
        }
        if (hasControlCharacter(token) || !token.strip().equals(token)) {
            throw new ConfigurationException("The agent's apiToken holds a control character (a newline?) or"
                    + " leading or trailing white space: pass the token alone, e.g. read it with .strip().");
        }
        options().keySet().forEach(k -> {
            if (!k.matches("[A-Za-z][A-Za-z0-9_]*")) {
                throw new ConfigurationException("Agent option name '" + k
                        + "' is not a valid environment variable name: use letters, digits and underscores.");
            }
            // Options become environment variables of the user's functions and containers: any other name (such
            // as AWS_LAMBDA_EXEC_WRAPPER or JAVA_TOOL_OPTIONS) would overwrite the user's own, and uninstall would
            // then remove it.
            if (!k.startsWith(OPTION_PREFIX)) {
                throw new ConfigurationException("Agent option name '" + k + "' does not start with " + OPTION_PREFIX
                        + ": options are set as environment variables of every function and container, where '" + k
                        + "' would overwrite the application's own variable (and uninstall would remove it). Pass"
                        + " the agent's own option, e.g. " + OPTION_PREFIX + "LOG_LEVEL.");
            }
            if (k.equals(ENDPOINT_VARIABLE)
                    || k.startsWith(TOKEN_VARIABLE)
                    || k.startsWith(SAVED_PREFIX)
                    || k.equals(INSTALLED_VARIABLES)) {
                throw new ConfigurationException("Agent option name '" + k + "' is a variable the installer sets"
                        + " itself: pass the endpoint with logsEndpoint(...) and the token with apiToken(...) (or the"
                        + " target's token reference), not as an option.");
            }
        });
    }

    private static boolean hasControlCharacter(String s) {
        return s.chars().anyMatch(Character::isISOControl);
    }

    /** Builds {@link AgentSettings}. */
    public static final class Builder extends ImmutableAgentSettings.Builder {
        Builder() {}
    }
}
