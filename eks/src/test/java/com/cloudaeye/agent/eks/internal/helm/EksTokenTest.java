package com.cloudaeye.agent.eks.internal.helm;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;

class EksTokenTest {
    private static final Instant NOW = Instant.parse("2026-11-27T10:15:30Z");
    private static final String ACCESS_KEY = "AKIDEXAMPLE";
    private static final String SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    private final MutableClock clock = new MutableClock(NOW);
    private final EksToken tokens = new EksToken(
            "prod-eks",
            Region.EU_WEST_1,
            StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY)),
            clock);

    @Test
    void token_isPrefixedUnpaddedBase64UrlOfPresignedGetCallerIdentity() {
        EksToken.Token token = tokens.current();

        assertThat(token.value()).startsWith("k8s-aws-v1.");
        String encoded = token.value().substring("k8s-aws-v1.".length());
        assertThat(encoded).doesNotContain("=").matches("[A-Za-z0-9_-]+");
        URI url = URI.create(new String(Base64.getUrlDecoder().decode(encoded), StandardCharsets.UTF_8));
        assertThat(url.getScheme()).isEqualTo("https");
        assertThat(url.getHost()).isEqualTo("sts.eu-west-1.amazonaws.com");
        assertThat(url.getPath()).isEqualTo("/");
        Map<String, String> query = query(url);
        assertThat(query)
                .containsEntry("Action", "GetCallerIdentity")
                .containsEntry("Version", "2011-06-15")
                .containsEntry("X-Amz-Algorithm", "AWS4-HMAC-SHA256")
                .containsEntry("X-Amz-Date", "20261127T101530Z")
                .containsEntry("X-Amz-Expires", "60")
                .containsEntry("X-Amz-Credential", ACCESS_KEY + "/20261127/eu-west-1/sts/aws4_request")
                .containsEntry("X-Amz-SignedHeaders", "host;x-k8s-aws-id")
                .doesNotContainKey("X-Amz-Security-Token");
        assertThat(query.get("X-Amz-Signature")).matches("[0-9a-f]{64}");
    }

    @Test
    void token_signatureMatchesSigV4ComputedIndependently() throws Exception {
        URI url = decode(tokens.current().value());
        Map<String, String> query = query(url);

        String signature = sigV4(query, url.getHost());

        assertThat(query.get("X-Amz-Signature")).isEqualTo(signature);
    }

    @Test
    void token_isValidFifteenMinutes_andReplacedAfterFourteen() {
        EksToken.Token first = tokens.current();
        assertThat(first.signedAt()).isEqualTo(NOW);
        assertThat(first.expiresAt()).isEqualTo(NOW.plus(Duration.ofMinutes(15)));

        clock.now = NOW.plus(Duration.ofMinutes(13)).plusSeconds(59);
        assertThat(tokens.current()).isSameAs(first);

        clock.now = NOW.plus(Duration.ofMinutes(14));
        EksToken.Token second = tokens.current();
        assertThat(second).isNotSameAs(first);
        assertThat(second.signedAt()).isEqualTo(clock.now);
        assertThat(query(decode(second.value()))).containsEntry("X-Amz-Date", "20261127T102930Z");
    }

    @Test
    void token_toString_hidesTheValue() {
        EksToken.Token token = tokens.current();
        assertThat(token.toString()).doesNotContain(token.value()).contains("****");
    }

    /** SigV4 query signing per the AWS documentation, with the empty payload's hash as aws-iam-authenticator uses. */
    private static String sigV4(Map<String, String> query, String host) throws Exception {
        TreeMap<String, String> signedQuery = new TreeMap<>(query);
        signedQuery.remove("X-Amz-Signature");
        StringBuilder canonicalQuery = new StringBuilder();
        signedQuery.forEach((k, v) -> canonicalQuery
                .append(canonicalQuery.length() == 0 ? "" : "&")
                .append(encode(k))
                .append('=')
                .append(encode(v)));
        String canonicalRequest = String.join(
                "\n",
                "GET",
                "/",
                canonicalQuery,
                "host:" + host + "\nx-k8s-aws-id:prod-eks\n",
                "host;x-k8s-aws-id",
                hex(MessageDigest.getInstance("SHA-256").digest(new byte[0])));
        String scope = "20261127/eu-west-1/sts/aws4_request";
        String stringToSign = String.join(
                "\n",
                "AWS4-HMAC-SHA256",
                query.get("X-Amz-Date"),
                scope,
                hex(MessageDigest.getInstance("SHA-256").digest(canonicalRequest.getBytes(StandardCharsets.UTF_8))));
        byte[] key = hmac(("AWS4" + SECRET_KEY).getBytes(StandardCharsets.UTF_8), "20261127");
        key = hmac(key, "eu-west-1");
        key = hmac(key, "sts");
        key = hmac(key, "aws4_request");
        return hex(hmac(key, stringToSign));
    }

    private static String encode(String s) {
        return java.net.URLEncoder.encode(s, StandardCharsets.UTF_8)
                .replace("+", "%20")
                .replace("*", "%2A")
                .replace("%7E", "~");
    }

    private static byte[] hmac(byte[] key, String data) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(key, "HmacSHA256"));
        return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
    }

    private static String hex(byte[] bytes) {
        return HexFormat.of().formatHex(bytes);
    }

    private static URI decode(String token) {
        return URI.create(new String(
                Base64.getUrlDecoder().decode(token.substring("k8s-aws-v1.".length())), StandardCharsets.UTF_8));
    }

    private static Map<String, String> query(URI url) {
        Map<String, String> query = new LinkedHashMap<>();
        for (String pair : url.getRawQuery().split("&")) {
            int eq = pair.indexOf('=');
            query.put(
                    URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
                    URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
        }
        return query;
    }

    private static final class MutableClock extends Clock {
        Instant now;

        MutableClock(Instant now) {
            this.now = now;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }
}
