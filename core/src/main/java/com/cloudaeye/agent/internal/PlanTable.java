package com.cloudaeye.agent.internal;

import com.cloudaeye.agent.AttributeChange;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.Plan;
import java.util.Map;
import java.util.stream.Collectors;

/** Renders a {@link Plan} as a fixed-width table for terminals and jshell. */
public final class PlanTable {
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
        int width = plan.changes().stream()
                .filter(c -> c.action() != ChangeAction.NO_OP)
                .mapToInt(c -> c.resourceId().length())
                .max()
                .orElse(8);
        String row = "%-7s %-7s %-" + width + "s  %s" + nl;
        boolean header = false;
        for (Change c : plan.changes()) {
            if (c.action() == ChangeAction.NO_OP) {
                continue;
            }
            if (!header) {
                out.append(String.format(row, "ACTION", "TARGET", "RESOURCE", "DETAILS"));
                header = true;
            }
            String first = c.action() == ChangeAction.SKIP ? c.reason().orElse("") : "";
            out.append(String.format(row, c.action().label(), c.target(), c.resourceId(), first));
            String indent = " ".repeat(7 + 1 + 7 + 1 + width + 2);
            for (AttributeChange a : c.attributes()) {
                out.append(indent).append(a).append(nl);
            }
            if (c.action() != ChangeAction.SKIP) {
                c.reason()
                        .ifPresent(r ->
                                out.append(indent).append("note: ").append(r).append(nl));
            }
            for (String w : c.warnings()) {
                out.append(indent).append("warning: ").append(w).append(nl);
            }
        }
        for (String note : plan.notes()) {
            out.append("note: ").append(note).append(nl);
        }
        plan.pacing().ifPresent(p -> out.append("pacing: ").append(p).append(nl));
        return out.toString();
    }
}
