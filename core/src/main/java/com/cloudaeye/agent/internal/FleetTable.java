package com.cloudaeye.agent.internal;

import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.FleetPlan;
import com.cloudaeye.agent.FleetResult;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.ResourceResult;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.Function;

/** Renders fleet plans and results as tables: one row per account and region, failures, then totals. */
public final class FleetTable {
    private static final String NOTHING_SELECTED = "Nothing selected by the ";
    private static final String NOTHING_SELECTED_END = " target here: ";

    private FleetTable() {}

    /**
     * @param target a target's name
     * @param why its {@code NothingSelectedException}'s message
     * @return the plan note of a fleet's account-region where the target selects nothing
     */
    public static String nothingSelected(String target, String why) {
        return NOTHING_SELECTED + target + NOTHING_SELECTED_END + why;
    }

    /**
     * @param plan a fleet plan
     * @return its table
     */
    public static String plan(FleetPlan plan) {
        List<String[]> rows = new ArrayList<>();
        plan.plans()
                .forEach((account, regions) ->
                        regions.forEach((region, p) -> rows.add(new String[] {account, region, changes(p)})));
        addFailures(rows, plan.failures());
        int planned = size(plan.plans());
        String title = "Fleet " + plan.kind().name().toLowerCase(Locale.ROOT) + " plan: " + planned
                + " account-regions planned, " + size(plan.failures()) + " failed";
        return render(title, rows, new String[] {"total", "", counts(plan.counts())});
    }

    /**
     * @param result a fleet result
     * @return its table
     */
    public static String result(FleetResult result) {
        List<String[]> rows = new ArrayList<>();
        Map<String, Long> total = new TreeMap<>();
        result.results()
                .forEach((account, regions) -> regions.forEach((region, r) -> {
                    Map<String, Long> counts = outcomes(r);
                    counts.forEach((outcome, n) -> total.merge(outcome, n, Long::sum));
                    rows.add(new String[] {
                        account,
                        region,
                        r.status().name().toLowerCase(Locale.ROOT) + " " + join(counts, Function.identity())
                    });
                }));
        addFailures(rows, result.failures());
        String title = "Fleet apply " + (result.isSuccess() ? "succeeded" : "did not fully succeed") + ": "
                + size(result.results()) + " account-regions applied, " + size(result.failures()) + " failed";
        return render(title, rows, new String[] {"total", "", join(total, Function.identity())});
    }

    private static Map<String, Long> outcomes(ApplyResult r) {
        Map<String, Long> counts = new TreeMap<>();
        for (ResourceResult rr : r.results()) {
            counts.merge(rr.outcome().name().toLowerCase(Locale.ROOT), 1L, Long::sum);
        }
        return counts;
    }

    private static void addFailures(List<String[]> rows, SortedMap<String, SortedMap<String, String>> failures) {
        failures.forEach((account, regions) ->
                regions.forEach((region, why) -> rows.add(new String[] {account, region, "FAILED: " + why})));
    }

    /** @return the plan's counts, and the targets that select nothing there */
    private static String changes(Plan plan) {
        List<String> none = new ArrayList<>();
        for (String note : plan.notes()) {
            int end = note.indexOf(NOTHING_SELECTED_END);
            if (note.startsWith(NOTHING_SELECTED) && end > 0) {
                none.add(note.substring(NOTHING_SELECTED.length(), end));
            }
        }
        return counts(plan.counts())
                + (none.isEmpty() ? "" : " (nothing selected here by " + String.join(", ", none) + ")");
    }

    private static String counts(Map<ChangeAction, Long> counts) {
        return counts.isEmpty() ? "no changes" : join(counts, a -> a.name().toLowerCase(Locale.ROOT));
    }

    private static <K> String join(Map<K, Long> counts, Function<K, String> name) {
        List<String> parts = new ArrayList<>();
        counts.forEach((k, n) -> parts.add(name.apply(k) + " " + n));
        return String.join(", ", parts);
    }

    private static int size(SortedMap<String, ? extends SortedMap<String, ?>> byAccount) {
        return byAccount.values().stream().mapToInt(Map::size).sum();
    }

    private static String render(String title, List<String[]> rows, String[] total) {
        StringBuilder s = new StringBuilder(title).append(System.lineSeparator());
        List<String[]> all = new ArrayList<>();
        all.add(new String[] {"ACCOUNT", "REGION", "CHANGES"});
        all.addAll(rows);
        all.add(total);
        int w0 = 0;
        int w1 = 0;
        for (String[] r : all) {
            w0 = Math.max(w0, r[0].length());
            w1 = Math.max(w1, r[1].length());
        }
        for (String[] r : all) {
            s.append(String.format(Locale.ROOT, "%-" + w0 + "s  %-" + w1 + "s  %s%n", r[0], r[1], r[2]));
        }
        return s.toString();
    }
}
