package com.cloudaeye.agent.eks.internal.helm;

import com.cloudaeye.agent.spi.support.Json;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * Helm 3's release record as its Secret holds it, for tests that write one as Helm would: base64(gzip(JSON)) in
 * {@code data.release}, which the Kubernetes API (and fabric8's {@code getData()}) base64-encodes once more.
 */
final class HelmRecords {
    private HelmRecords() {}

    /**
     * @param data the Secret's {@code data.release}, as the API gives it
     * @return the release record
     */
    static JsonNode decode(String data) throws IOException {
        byte[] helmEncoded = Base64.getDecoder().decode(data);
        try (InputStream json =
                new GZIPInputStream(new ByteArrayInputStream(Base64.getDecoder().decode(helmEncoded)))) {
            return Json.parse(json);
        }
    }

    /**
     * @param record a release record
     * @return the Secret's {@code data.release} for it
     */
    static String encode(JsonNode record) throws IOException {
        ByteArrayOutputStream compressed = new ByteArrayOutputStream();
        try (GZIPOutputStream gzip = new GZIPOutputStream(compressed)) {
            gzip.write(record.toString().getBytes(StandardCharsets.UTF_8));
        }
        return Base64.getEncoder().encodeToString(Base64.getEncoder().encode(compressed.toByteArray()));
    }
}
