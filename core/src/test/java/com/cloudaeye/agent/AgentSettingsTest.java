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
}
