package com.cloudaeye.agent.lambda.internal;

import com.cloudaeye.agent.spi.support.Globs;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/** Which functions a Lambda target selects: names, ARNs, globs, regular expressions, excludes and tags. */
public final class Selection {
    private final List<String> explicit = new ArrayList<>();
    private final List<Pattern> patterns = new ArrayList<>();
    private final List<Pattern> excludes = new ArrayList<>();
    private final Map<String, String> tags;
    /** What the caller wrote, for messages: names, globs and patterns as given, not their regular expressions. */
    private final String written;

    /**
     * @param names names, ARNs or globs
     * @param patterns regular expressions on names
     * @param excludes name globs to leave out
     * @param tags tags every selected function must carry
     */
    public Selection(List<String> names, List<Pattern> patterns, List<String> excludes, Map<String, String> tags) {
        for (String n : names) {
            if (Globs.isGlob(n)) {
                this.patterns.add(Globs.toPattern(n));
            } else {
                explicit.add(n);
            }
        }
        this.patterns.addAll(patterns);
        excludes.forEach(e -> this.excludes.add(Globs.toPattern(e)));
        this.tags = Map.copyOf(tags);
        List<String> selected = new ArrayList<>(names);
        patterns.forEach(p -> selected.add("/" + p.pattern() + "/"));
        this.written = "functions=" + selected + ", excludes=" + excludes + (tags.isEmpty() ? "" : ", tags=" + tags);
    }

    private Selection(Selection from, Collection<String> left) {
        from.explicit.stream().filter(n -> !left.contains(n)).forEach(explicit::add);
        patterns.addAll(from.patterns);
        excludes.addAll(from.excludes);
        tags = from.tags;
        written = from.written;
    }

    /**
     * @param left names or ARNs given explicitly that another installer plans (another member of a fleet)
     * @return this selection without them; its messages still name what the caller wrote
     */
    public Selection without(Collection<String> left) {
        return left.isEmpty() ? this : new Selection(this, left);
    }

    /** @return true when functions must be listed (a glob or pattern is used) */
    public boolean needsListing() {
        return !patterns.isEmpty();
    }

    /** @return names and ARNs given explicitly */
    public List<String> explicit() {
        return explicit;
    }

    /** @return tags that selected functions must carry */
    public Map<String, String> tags() {
        return tags;
    }

    /**
     * @param name a function name
     * @param arn its ARN
     * @return true when selected by name, ARN or pattern and not excluded
     */
    public boolean matches(String name, String arn) {
        if (excluded(name)) {
            return false;
        }
        if (explicit.contains(name) || explicit.contains(arn)) {
            return true;
        }
        return patterns.stream().anyMatch(p -> p.matcher(name).matches());
    }

    /**
     * @param name a function name
     * @return true when an exclude matches it
     */
    public boolean excluded(String name) {
        return excludes.stream().anyMatch(p -> p.matcher(name).matches());
    }

    @Override
    public String toString() {
        return written;
    }
}
