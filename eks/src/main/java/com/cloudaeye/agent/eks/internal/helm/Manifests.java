package com.cloudaeye.agent.eks.internal.helm;

import com.cloudaeye.agent.AttributeChange;
import com.cloudaeye.agent.Secret;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The objects of a rendered or installed Helm manifest, by {@code Kind/name}, and their differences as plan
 * attributes. Secrets are compared but never shown: their attribute is {@link AttributeChange#redacted}, and the
 * checksum annotation that follows the token is masked in every other object.
 */
final class Manifests {
    private static final Pattern DOCUMENT_SEPARATOR = Pattern.compile("(?m)^---\\s*$");
    private static final Pattern KIND = Pattern.compile("(?m)^kind:\\s*(\\S+)\\s*$");
    private static final Pattern NAME =
            Pattern.compile("(?m)^metadata:\\s*\\n(?:  .*\\n)*?  name:\\s*\"?([^\"\\s]+)\"?");
    private static final Pattern SECRET_CHECKSUM = Pattern.compile("(checksum/secret:\\s*)\\S+");

    private final Map<String, String> objects;

    private Manifests(Map<String, String> objects) {
        this.objects = objects;
    }

    /**
     * @param manifest Helm's manifest: YAML documents separated by {@code ---}
     * @return its objects
     */
    static Manifests parse(String manifest) {
        Map<String, String> objects = new TreeMap<>();
        for (String document : DOCUMENT_SEPARATOR.split(manifest, -1)) {
            String body = document.lines()
                    .filter(l -> !l.startsWith("# Source:"))
                    .reduce(new StringBuilder(), (sb, l) -> sb.append(l).append('\n'), StringBuilder::append)
                    .toString()
                    .strip();
            if (body.isEmpty()) {
                continue;
            }
            Matcher kind = KIND.matcher(body);
            Matcher name = NAME.matcher(body + "\n");
            String key = (kind.find() ? kind.group(1) : "Unknown") + "/" + (name.find() ? name.group(1) : "unnamed");
            objects.put(key, body + "\n");
        }
        return new Manifests(objects);
    }

    /** @return the objects' {@code Kind/name}s, sorted */
    List<String> keys() {
        return List.copyOf(objects.keySet());
    }

    /**
     * @param key {@code Kind/name}
     * @return the object's YAML
     */
    Optional<String> get(String key) {
        return Optional.ofNullable(objects.get(key));
    }

    /**
     * @param before the installed objects, or null when nothing is installed
     * @return the attribute changes from {@code before} to these objects, Secrets redacted
     */
    List<AttributeChange> changesFrom(@Nullable Manifests before) {
        Map<String, String> old = before == null ? Map.of() : before.objects;
        TreeSet<String> keys = new TreeSet<>(old.keySet());
        keys.addAll(objects.keySet());
        List<AttributeChange> changes = new ArrayList<>();
        for (String key : keys) {
            String was = old.get(key);
            String now = objects.get(key);
            if (was != null && was.equals(now)) {
                continue;
            }
            if (key.startsWith("Secret/")) {
                changes.add(AttributeChange.redacted(key, was != null, now != null));
            } else {
                changes.add(AttributeChange.of(key, mask(was), mask(now)));
            }
        }
        return changes;
    }

    /**
     * @param yaml an object's YAML, may be null
     * @return the YAML with the Secret checksum masked, or null
     */
    static @Nullable String mask(@Nullable String yaml) {
        return yaml == null ? null : SECRET_CHECKSUM.matcher(yaml).replaceAll("$1" + Secret.REDACTED);
    }
}
