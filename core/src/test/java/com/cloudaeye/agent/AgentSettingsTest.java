package com.cloudaeye.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The agent settings refuse what would reach every function broken or leak the token, and never echo the token. */
class AgentSettingsTest {
    private static final String ENDPOINT = "https://logs.example.cloudaeye.com";

    private static AgentSettings settings(String endpoint, String token) {
        return AgentSettings.builder()
                .logsEndpoint(endpoint)
                .apiToken(Secret.of(token))
                .build();
    }

    @ParameterizedTest
    @ValueSource(strings = {"cae-tok\nX-Injected: 1", "cae-tok\r", "cae\u0000tok", "cae\u0007tok", "cae\u007ftok"})
    void apiToken_withAControlCharacter_isRefused_withoutEchoingIt(String token) {
        assertThatThrownBy(() -> settings(ENDPOINT, token))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("apiToken holds a control character")
                .hasMessageNotContaining("cae");
    }

    @Test
    void apiToken_withSurroundingWhiteSpace_isRefused() {
        assertThatThrownBy(() -> settings(ENDPOINT, " cae-tok"))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("white space");
    }

    @Test
    void apiToken_overTheLimit_isRefused_withoutEchoingIt() {
        String token = "t".repeat(AgentSettings.MAX_TOKEN_LENGTH + 1);
        assertThatThrownBy(() -> settings(ENDPOINT, token))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("1025 characters")
                .hasMessageNotContaining("tttt");
        assertThat(settings(ENDPOINT, "t".repeat(AgentSettings.MAX_TOKEN_LENGTH))
                        .apiToken()
                        .reveal())
                .hasSize(AgentSettings.MAX_TOKEN_LENGTH);
    }

    @Test
    void logsEndpoint_withAControlCharacterOrTooLong_isRefused() {
        assertThatThrownBy(() -> settings(ENDPOINT + "\n", "tok"))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("control character");
        assertThatThrownBy(() -> settings(ENDPOINT + "/" + "p".repeat(AgentSettings.MAX_ENDPOINT_LENGTH), "tok"))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("longer than 2048");
    }

    @Test
    void logsEndpoint_http_isRefused_sayingWhyAndHowToOptIn() {
        assertThatThrownBy(() -> settings("http://logs.example.cloudaeye.com", "tok"))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("'http://logs.example.cloudaeye.com' is http")
                .hasMessageContaining("cleartext")
                .hasMessageContaining("allowInsecureEndpoint(true)");
    }

    @Test
    void logsEndpoint_http_isAccepted_whenTheCallerOptsIn() {
        AgentSettings local = AgentSettings.builder()
                .logsEndpoint("http://127.0.0.1:4318")
                .apiToken(Secret.of("tok"))
                .allowInsecureEndpoint(true)
                .build();
        assertThat(local.logsEndpoint()).isEqualTo("http://127.0.0.1:4318");
        assertThat(settings(ENDPOINT, "tok").allowInsecureEndpoint()).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"AWS_LAMBDA_EXEC_WRAPPER", "JAVA_TOOL_OPTIONS", "NODE_OPTIONS", "LOG_LEVEL"})
    void option_notNamedCloudaeye_isRefused_namingItAndTheFix(String name) {
        assertThatThrownBy(() -> AgentSettings.builder()
                        .logsEndpoint(ENDPOINT)
                        .apiToken(Secret.of("t0k3n-value"))
                        .putOptions(name, "x")
                        .build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("'" + name + "' does not start with CLOUDAEYE_")
                .hasMessageContaining("overwrite the application's own variable")
                .hasMessageContaining("e.g. CLOUDAEYE_LOG_LEVEL")
                .hasMessageNotContaining("t0k3n-value");
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "CLOUDAEYE_API_TOKEN",
                "CLOUDAEYE_API_TOKEN_ARN",
                "CLOUDAEYE_LOGS_ENDPOINT",
                "CLOUDAEYE_SAVED__NODE_OPTIONS",
                "CLOUDAEYE_INSTALLED_VARIABLES"
            })
    void option_namedLikeAVariableTheInstallerSets_isRefused(String name) {
        assertThatThrownBy(() -> AgentSettings.builder()
                        .logsEndpoint(ENDPOINT)
                        .apiToken(Secret.of("t0k3n-value"))
                        .putOptions(name, "plain")
                        .build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("'" + name + "' is a variable the installer sets itself")
                .hasMessageContaining("apiToken(...)");
    }

    @Test
    void option_ofTheAgent_isAccepted() {
        assertThat(AgentSettings.builder()
                        .logsEndpoint(ENDPOINT)
                        .apiToken(Secret.of("tok"))
                        .putOptions("CLOUDAEYE_LOG_LEVEL", "debug")
                        .build()
                        .options())
                .containsEntry("CLOUDAEYE_LOG_LEVEL", "debug");
    }
}
