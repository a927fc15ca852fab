package com.cloudaeye.agent.eks.internal.helm;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;

/**
 * Decodes the protobuf core/v1 Secret that Helm's release storage sends (client-go's typed client) into JSON for the
 * CRUD mock. Wire format: {@code "k8s\0"} + runtime.Unknown{1: typeMeta{1: apiVersion, 2: kind}, 2: raw}, where raw is
 * a v1.Secret{1: metadata, 2: data map, 3: type}.
 */
final class ProtoSecret {
    private static final byte[] MAGIC = {'k', '8', 's', 0};

    private ProtoSecret() {}

    static boolean isProto(byte[] body) {
        return body.length >= 4 && Arrays.equals(Arrays.copyOf(body, 4), MAGIC);
    }

    /** @return the Secret as JSON, or null when the payload is not a v1 Secret */
    static String toJson(byte[] body) {
        Reader unknown = new Reader(body, 4, body.length);
        String kind = null;
        byte[] raw = null;
        while (unknown.more()) {
            long tag = unknown.varint();
            int field = (int) (tag >>> 3);
            int wire = (int) (tag & 7);
            if (field == 1 && wire == 2) {
                Reader typeMeta = unknown.sub();
                while (typeMeta.more()) {
                    long t = typeMeta.varint();
                    if ((t >>> 3) == 2) {
                        kind = typeMeta.string();
                    } else {
                        typeMeta.skip((int) (t & 7));
                    }
                }
            } else if (field == 2 && wire == 2) {
                raw = unknown.bytes();
            } else {
                unknown.skip(wire);
            }
        }
        if (!"Secret".equals(kind) || raw == null) {
            return null;
        }
        ObjectNode secret = JsonNodeFactory.instance.objectNode();
        secret.put("apiVersion", "v1").put("kind", "Secret");
        ObjectNode data = JsonNodeFactory.instance.objectNode();
        Reader s = new Reader(raw, 0, raw.length);
        while (s.more()) {
            long tag = s.varint();
            int field = (int) (tag >>> 3);
            int wire = (int) (tag & 7);
            if (field == 1 && wire == 2) {
                secret.set("metadata", metadata(s.sub()));
            } else if (field == 2 && wire == 2) {
                Reader entry = s.sub();
                String key = null;
                byte[] value = new byte[0];
                while (entry.more()) {
                    long t = entry.varint();
                    if ((t >>> 3) == 1) {
                        key = entry.string();
                    } else if ((t >>> 3) == 2) {
                        value = entry.bytes();
                    } else {
                        entry.skip((int) (t & 7));
                    }
                }
                data.put(key, Base64.getEncoder().encodeToString(value));
            } else if (field == 3 && wire == 2) {
                secret.put("type", s.string());
            } else {
                s.skip(wire);
            }
        }
        secret.set("data", data);
        return secret.toString();
    }

    private static ObjectNode metadata(Reader m) {
        ObjectNode meta = JsonNodeFactory.instance.objectNode();
        ObjectNode labels = JsonNodeFactory.instance.objectNode();
        ObjectNode annotations = JsonNodeFactory.instance.objectNode();
        while (m.more()) {
            long tag = m.varint();
            int field = (int) (tag >>> 3);
            switch (field) {
                case 1 -> putNonEmpty(meta, "name", m.string());
                case 2 -> putNonEmpty(meta, "generateName", m.string());
                case 3 -> putNonEmpty(meta, "namespace", m.string());
                case 5 -> putNonEmpty(meta, "uid", m.string());
                case 6 -> putNonEmpty(meta, "resourceVersion", m.string());
                case 11, 12 -> {
                    Reader e = m.sub();
                    String key = null;
                    String value = "";
                    while (e.more()) {
                        long t = e.varint();
                        if ((t >>> 3) == 1) {
                            key = e.string();
                        } else if ((t >>> 3) == 2) {
                            value = e.string();
                        } else {
                            e.skip((int) (t & 7));
                        }
                    }
                    (field == 11 ? labels : annotations).put(key, value);
                }
                default -> m.skip((int) (tag & 7));
            }
        }
        if (!labels.isEmpty()) {
            meta.set("labels", labels);
        }
        if (!annotations.isEmpty()) {
            meta.set("annotations", annotations);
        }
        return meta;
    }

    private static void putNonEmpty(ObjectNode node, String key, String value) {
        if (!value.isEmpty()) {
            node.put(key, value);
        }
    }

    private static final class Reader {
        private final byte[] b;
        private final int end;
        private int p;

        Reader(byte[] b, int offset, int end) {
            this.b = b;
            this.p = offset;
            this.end = end;
        }

        boolean more() {
            return p < end;
        }

        long varint() {
            long result = 0;
            for (int shift = 0; ; shift += 7) {
                int x = b[p++] & 0xff;
                result |= (long) (x & 0x7f) << shift;
                if (x < 0x80) {
                    return result;
                }
            }
        }

        Reader sub() {
            int length = (int) varint();
            Reader r = new Reader(b, p, p + length);
            p += length;
            return r;
        }

        byte[] bytes() {
            int length = (int) varint();
            byte[] out = Arrays.copyOfRange(b, p, p + length);
            p += length;
            return out;
        }

        String string() {
            return new String(bytes(), StandardCharsets.UTF_8);
        }

        void skip(int wire) {
            switch (wire) {
                case 0 -> varint();
                case 1 -> p += 8;
                case 2 -> {
                    int length = (int) varint(); // read before adding: "p += varint()" would lose its own bytes
                    p += length;
                }
                case 5 -> p += 4;
                default -> throw new IllegalStateException("Unknown protobuf wire type " + wire);
            }
        }
    }
}
