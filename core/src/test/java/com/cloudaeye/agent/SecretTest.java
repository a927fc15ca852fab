package com.cloudaeye.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class SecretTest {
    private static final String TOKEN = "cae_live_7f3a9c2e51b84d06";

    @Test
    void toString_neverPrintsTheValue() {
        Secret secret = Secret.of(TOKEN);
        assertThat(secret.toString()).isEqualTo("****");
        assertThat(String.valueOf(secret)).doesNotContain(TOKEN);
        assertThat("token=" + secret).isEqualTo("token=****");
    }

    @Test
    void agentSettings_printedOrInAnException_neverShowTheToken() {
        AgentSettings settings = AgentSettings.builder()
                .logsEndpoint("https://logs.example.cloudaeye.com")
                .apiToken(Secret.of(TOKEN))
                .build();
        assertThat(settings.toString()).doesNotContain(TOKEN).contains("****");
    }

    @Test
    void reveal_givesTheValue() {
        assertThat(Secret.of(TOKEN).reveal()).isEqualTo(TOKEN);
    }

    @Test
    void matches_comparesWithAValueReadFromAws() {
        Secret secret = Secret.of(TOKEN);
        assertThat(secret.matches(TOKEN)).isTrue();
        assertThat(secret.matches(TOKEN + "x")).isFalse();
        assertThat(secret.matches("")).isFalse();
        assertThat(secret.matches(null)).isFalse();
    }

    @Test
    void fingerprint_isShortStableHex_andTellsSecretsApart() {
        Secret secret = Secret.of(TOKEN);
        assertThat(secret.fingerprint())
                .matches("[0-9a-f]{12}")
                .isEqualTo(Secret.of(TOKEN).fingerprint());
        assertThat(Secret.of("abc").fingerprint())
                .as("the first 6 bytes of SHA-256(\"abc\")")
                .isEqualTo("ba7816bf8f01");
        assertThat(secret.fingerprint()).isNotEqualTo(Secret.of(TOKEN + "x").fingerprint());
        assertThat(TOKEN).doesNotContain(secret.fingerprint());
    }

    @Test
    void equalsAndHashCode_followTheValue() {
        assertThat(Secret.of(TOKEN)).isEqualTo(Secret.of(TOKEN)).hasSameHashCodeAs(Secret.of(TOKEN));
        assertThat(Secret.of(TOKEN)).isNotEqualTo(Secret.of("other"));
    }

    @Test
    void of_blankOrNull_isAConfigurationErrorThatDoesNotEchoTheInput() {
        assertThatThrownBy(() -> Secret.of("   "))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("empty");
        assertThatThrownBy(() -> Secret.of(null)).isInstanceOf(ConfigurationException.class);
    }
}
