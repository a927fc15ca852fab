package com.cloudaeye.agent;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Objects;

/**
 * A secret string (an API token, a secret access key). It prints as {@code ****} everywhere: {@link #toString()},
 * plans, journals, exceptions and logs; only {@link #reveal()} gives the value, for the single place that sends it.
 */
public final class Secret {
    /** What every redacted value prints as. */
    public static final String REDACTED = "****";

    private final String value;

    private Secret(String value) {
        this.value = value;
    }

    /**
     * Wraps a secret value.
     *
     * @param value the secret, not blank
     * @return the secret
     * @throws ConfigurationException if the value is null or blank
     */
    public static Secret of(String value) {
        if (value == null || value.isBlank()) {
            throw new ConfigurationException("A secret value is empty: pass the token or key itself, not an empty"
                    + " string (read it from an environment variable or a secrets manager).");
        }
        return new Secret(value);
    }

    /**
     * The value itself. Call it only where the value is sent to AWS or to the caller's sink, never to print it.
     *
     * @return the secret value
     */
    public String reveal() {
        return value;
    }

    /**
     * Whether this secret equals a value read from AWS, compared in constant time.
     *
     * @param other a value, may be null
     * @return true when equal
     */
    public boolean matches(String other) {
        return other != null
                && MessageDigest.isEqual(
                        value.getBytes(StandardCharsets.UTF_8), other.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * A short SHA-256 fingerprint that tells two secrets apart without revealing either.
     *
     * @return the first 12 hex digits of the SHA-256 of the value
     */
    public String fingerprint() {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.UTF_8));
            StringBuilder hex = new StringBuilder();
            for (int i = 0; i < 6; i++) {
                hex.append(String.format("%02x", digest[i]));
            }
            return hex.toString();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by every Java platform", e);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Secret other
                && MessageDigest.isEqual(
                        value.getBytes(StandardCharsets.UTF_8), other.value.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public int hashCode() {
        return Objects.hash(fingerprint());
    }

    @Override
    public String toString() {
        return REDACTED;
    }
}
