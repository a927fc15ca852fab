package com.cloudaeye.agent.internal;

import com.cloudaeye.agent.AttributeChange;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.Plan;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Renders a {@link Plan} as a fixed-width table for terminals and jshell. Every row's details start on the row
 * itself, one line each; a multi-line value (a Kubernetes manifest) is summarised on one line, and is in full in the
 * plan's JSON.
 */
public final class PlanTable {
    /** The most changed keys a summary of a multi-line value names. */
    private static final int MAX_KEYS = 3;

    private PlanTable() {}

    /**
     * @param plan the plan
     * @return the table; unchanged resources are counted, not listed
     */
    public static String render(Plan plan) {
        String nl = System.lineSeparator();
        StringBuilder out = new StringBuilder();
        Map<ChangeAction, Long> counts = plan.counts();
        out.append("Plan (")
                .append(plan.kind().name().toLowerCase(java.util.Locale.ROOT))
                .append(", ")
                .append(plan.region())
                .append("): ")
                .append(
                        counts.isEmpty()
                                ? "no resources selected"
                                : counts.entrySet().stream()
                                        .map(e ->
                                                e.getValue() + " " + e.getKey().label())
                                        .collect(Collectors.joining(", ")))
                .append(nl);
        plan.rollsBack()
                .ifPresent(journal -> out.append("Rolls back the run of the journal ")
                        .append(journal)
                        .append(nl));
        int width = plan.changes().stream()
                .filter(c -> c.action() != ChangeAction.NO_OP)
                .mapToInt(c -> c.resourceId().length())
                .max()
                .orElse(8);
        String row = "%-7s %-7s %-" + width + "s  %s";
        String indent = " ".repeat(7 + 1 + 7 + 1 + width + 2);
        boolean header = false;
        boolean summarised = false;
        for (Change c : plan.changes()) {
            if (c.action() == ChangeAction.NO_OP) {
                continue;
            }
            if (!header) {
                out.append(String.format(row, "ACTION", "TARGET", "RESOURCE", "DETAILS"))
                        .append(nl);
                header = true;
            }
            List<String> details = new ArrayList<>();
            if (c.action() == ChangeAction.SKIP) {
                c.reason().ifPresent(details::add);
            }
            for (AttributeChange a : c.attributes()) {
                Optional<String> summary = summary(a);
                summarised |= summary.isPresent();
                details.add(summary.orElseGet(a::toString));
            }
            if (c.action() != ChangeAction.SKIP) {
                c.reason().ifPresent(r -> details.add("note: " + r));
            }
            for (String w : c.warnings()) {
                details.add("warning: " + w);
            }
            String first = details.isEmpty() ? "" : details.get(0);
            out.append(String.format(row, c.action().label(), c.target(), c.resourceId(), first)
                            .stripTrailing())
                    .append(nl);
            for (String d : details.subList(Math.min(1, details.size()), details.size())) {
                out.append(indent).append(d).append(nl);
            }
        }
        if (summarised) {
            out.append("note: multi-line values (Kubernetes manifests) are summarised above; the plan's JSON")
                    .append(" (toJson()) has them in full.")
                    .append(nl);
        }
        for (String note : plan.notes()) {
            out.append("note: ").append(note).append(nl);
        }
        plan.pacing().ifPresent(p -> out.append("pacing: ").append(p).append(nl));
        return out.toString();
    }

    /**
     * One line for an attribute whose value spans lines (a manifest), which would otherwise break the table: created,
     * deleted, or which of its lines' keys changed.
     *
     * @return the summary, or empty when both values are one line
     */
    static Optional<String> summary(AttributeChange a) {
        if (a.before().filter(PlanTable::multiLine).isEmpty()
                && a.after().filter(PlanTable::multiLine).isEmpty()) {
            return Optional.empty();
        }
        if (a.before().isEmpty() || a.after().isEmpty()) {
            return a.after()
                    .map(v -> a.name() + ": created (" + count(lines(v).size(), "line") + ")")
                    .or(() -> a.before().map(v -> a.name() + ": deleted (" + count(lines(v).size(), "line") + ")"));
        }
        List<String> before = lines(a.before().get());
        List<String> after = lines(a.after().get());
        List<String> removed = without(before, after);
        List<String> added = without(after, before);
        Set<String> keys = new LinkedHashSet<>();
        removed.forEach(l -> keys.add(key(l)));
        added.forEach(l -> keys.add(key(l)));
        keys.remove("");
        String named = keys.isEmpty()
                ? ""
                : keys.stream().limit(MAX_KEYS).collect(Collectors.joining(", "))
                        + (keys.size() > MAX_KEYS ? " and " + (keys.size() - MAX_KEYS) + " more" : "")
                        + "; ";
        return Optional.of(a.name() + ": changed (" + named + count(removed.size(), "line") + " removed, "
                + added.size() + " added, of " + after.size() + ")");
    }

    private static String count(int n, String noun) {
        return n + " " + noun + (n == 1 ? "" : "s");
    }

    private static boolean multiLine(String value) {
        return value.strip().contains("\n");
    }

    private static List<String> lines(String value) {
        return value.strip().lines().collect(Collectors.toList());
    }

    /** @return the lines of {@code from} that {@code other} lacks, counting repeated lines */
    private static List<String> without(List<String> from, List<String> other) {
        Map<String, Integer> left = new HashMap<>();
        other.forEach(l -> left.merge(l, 1, Integer::sum));
        List<String> rest = new ArrayList<>();
        for (String l : from) {
            if (left.getOrDefault(l, 0) > 0) {
                left.merge(l, -1, Integer::sum);
            } else {
                rest.add(l);
            }
        }
        return rest;
    }

    /**
     * @return a changed line's key ({@code image} of {@code - image: x}), or empty for a line without one: only keys
     *     are named, never values
     */
    private static String key(String line) {
        String l = line.strip();
        if (l.startsWith("- ")) {
            l = l.substring(2).strip();
        }
        int colon = l.indexOf(':');
        if (colon <= 0 || l.startsWith("#")) {
            return "";
        }
        String k = l.substring(0, colon).strip();
        return k.length() > 40 ? k.substring(0, 40) + "..." : k;
    }
}
