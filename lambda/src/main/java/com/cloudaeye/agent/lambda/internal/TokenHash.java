package com.cloudaeye.agent.lambda.internal;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.jspecify.annotations.Nullable;

/**
 * Recognises an API token without keeping it: {@code hmac-sha256:<mac>}, an HMAC-SHA256 of the token keyed by the
 * function's ARN (a salt per function, so equal tokens hash differently and no table of hashes helps; the same
 * input gives the same plan). Journaled in place of a token an apply replaced, so that a rollback can tell whether
 * the token its caller passes is that earlier one. API tokens are long random strings: the hash cannot be turned
 * back into one.
 */
final class TokenHash {
    private static final String PREFIX = "hmac-sha256:";
    private static final HexFormat HEX = HexFormat.of();

    private TokenHash() {}

    /**
     * @param functionArn the function the token was read from
     * @param token a token value read from it
     * @return its hash
     */
    static String of(String functionArn, String token) {
        return PREFIX + HEX.formatHex(mac(functionArn, token));
    }

    /**
     * @param hash a hash from {@link #of}
     * @param functionArn the function it was made for
     * @param token a candidate token, may be null
     * @return true when the hash is of this token
     */
    static boolean matches(String hash, String functionArn, @Nullable String token) {
        if (token == null || !hash.startsWith(PREFIX)) {
            return false;
        }
        try {
            return MessageDigest.isEqual(HEX.parseHex(hash.substring(PREFIX.length())), mac(functionArn, token));
        } catch (IllegalArgumentException notHex) {
            return false;
        }
    }

    private static byte[] mac(String functionArn, String token) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(functionArn.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            return mac.doFinal(token.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is required by every Java platform", e);
        }
    }
}
