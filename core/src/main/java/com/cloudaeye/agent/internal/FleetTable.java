package com.cloudaeye.agent.internal;

import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.FleetPlan;
import com.cloudaeye.agent.FleetResult;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.ResourceResult;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SortedMap;
import java.util.function.Function;

/** Renders fleet plans and results as tables: one row per account and region, failures, then totals. */
public final class FleetTable {
    private static final String NOTHING_SELECTED = "Nothing selected by the ";
    private static final String NOTHING_SELECTED_END = " target here: ";
    private static final String ROLLED_BACK = "Rolled back before by the finished rollback journal ";

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
     * @param journal the location of a finished rollback's journal
     * @return the plan note of a fleet's account-region that this rollback already rolled back
     */
    public static String rolledBack(String journal) {
        return ROLLED_BACK + journal + ": nothing left to roll back here.";
    }

    /**
     * @param plan a fleet plan
     * @return its table, ending with the pacing in force: once when every account-region has the same, else per
     *     account-region
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
        return render(title, "CHANGES", rows, new String[] {"total", "", counts(plan.counts())}) + pacing(plan);
    }

    /**
     * @param result a fleet result
     * @return its table
     */
    public static String result(FleetResult result) {
        List<String[]> rows = new ArrayList<>();
        Map<ResourceResult.Outcome, Long> total = new EnumMap<>(ResourceResult.Outcome.class);
        Map<ApplyResult.Status, Integer> byStatus = new EnumMap<>(ApplyResult.Status.class);
        result.results()
                .forEach((account, regions) -> regions.forEach((region, r) -> {
                    Map<ResourceResult.Outcome, Long> counts = outcomes(r);
                    counts.forEach((outcome, n) -> total.merge(outcome, n, Long::sum));
                    byStatus.merge(r.status(), 1, Integer::sum);
                    String status = words(r.status());
                    rows.add(new String[] {
                        account, region, counts.isEmpty() ? status : status + ": " + join(counts, FleetTable::words)
                    });
                }));
        addFailures(rows, result.failures());
        // Account-regions whose apply failed and those where none could run both changed nothing: "failed".
        int failed = byStatus.getOrDefault(ApplyResult.Status.FAILED, 0) + size(result.failures());
        byStatus.remove(ApplyResult.Status.FAILED);
        List<String> parts = new ArrayList<>();
        byStatus.forEach((status, n) -> parts.add(n + " " + inTitle(status)));
        if (failed > 0) {
            parts.add(failed + " failed");
        }
        int all = size(result.results()) + size(result.failures());
        String title = "Fleet apply " + (result.isSuccess() ? "succeeded" : "did not fully succeed") + " in " + all
                + " account-region" + (all == 1 ? "" : "s") + (parts.isEmpty() ? "" : ": " + String.join(", ", parts));
        return render(title, "RESULT", rows, new String[] {
            "total",
            "",
            total.isEmpty() ? (failed > 0 ? "nothing applied" : "nothing to do") : join(total, FleetTable::words)
        });
    }

    /** @return how the title counts the account-regions that ended with this status */
    private static String inTitle(ApplyResult.Status status) {
        return switch (status) {
            case SUCCEEDED -> "applied";
            case NOTHING_TO_DO -> "had nothing to do";
            case PARTIAL -> "applied in part";
            case FAILED -> "failed";
        };
    }

    /** The pacing line of a fleet plan: the account-regions' plans' pacing, once when they agree. */
    private static String pacing(FleetPlan plan) {
        Map<String, List<String>> where = new LinkedHashMap<>();
        plan.plans()
                .forEach((account, regions) -> regions.forEach((region, p) -> p.pacing()
                        .ifPresent(pacing -> where.computeIfAbsent(pacing, k -> new ArrayList<>())
                                .add(account + " " + region))));
        StringBuilder s = new StringBuilder();
        if (where.size() == 1) {
            s.append("pacing: ").append(where.keySet().iterator().next()).append(System.lineSeparator());
        } else {
            where.forEach((pacing, accountRegions) -> s.append("pacing in ")
                    .append(String.join(", ", accountRegions))
                    .append(": ")
                    .append(pacing)
                    .append(System.lineSeparator()));
        }
        return s.toString();
    }

    private static Map<ResourceResult.Outcome, Long> outcomes(ApplyResult r) {
        Map<ResourceResult.Outcome, Long> counts = new EnumMap<>(ResourceResult.Outcome.class);
        for (ResourceResult rr : r.results()) {
            counts.merge(rr.outcome(), 1L, Long::sum);
        }
        return counts;
    }

    /** @return an enum constant in words, as the single installer's tables print it: {@code nothing to do} */
    private static String words(Enum<?> value) {
        return value.name().toLowerCase(Locale.ROOT).replace('_', ' ');
    }

    private static void addFailures(List<String[]> rows, SortedMap<String, SortedMap<String, String>> failures) {
        failures.forEach((account, regions) ->
                regions.forEach((region, why) -> rows.add(new String[] {account, region, "failed: " + why})));
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
        boolean rolledBack = plan.notes().stream().anyMatch(n -> n.startsWith(ROLLED_BACK));
        return counts(plan.counts())
                + (none.isEmpty() ? "" : " (nothing selected here by " + String.join(", ", none) + ")")
                + (rolledBack ? " (rolled back before)" : "");
    }

    private static String counts(Map<ChangeAction, Long> counts) {
        return counts.isEmpty() ? "no changes" : join(counts, ChangeAction::label);
    }

    /** @return e.g. {@code 2 update, 1 no-op}: the count first, as the single installer's plan title has it */
    private static <K> String join(Map<K, Long> counts, Function<K, String> name) {
        List<String> parts = new ArrayList<>();
        counts.forEach((k, n) -> parts.add(n + " " + name.apply(k)));
        return String.join(", ", parts);
    }

    private static int size(SortedMap<String, ? extends SortedMap<String, ?>> byAccount) {
        return byAccount.values().stream().mapToInt(Map::size).sum();
    }

    private static String render(String title, String column, List<String[]> rows, String[] total) {
        StringBuilder s = new StringBuilder(title).append(System.lineSeparator());
        List<String[]> all = new ArrayList<>();
        all.add(new String[] {"ACCOUNT", "REGION", column});
        all.addAll(rows);
        all.add(total);
        int w0 = 0;
        int w1 = 0;
        for (String[] r : all) {
            w0 = Math.max(w0, r[0].length());
            w1 = Math.max(w1, r[1].length());
        }
        for (String[] r : all) {
            s.append(String.format(Locale.ROOT, "%-" + w0 + "s  %-" + w1 + "s  %s", r[0], r[1], r[2])
                            .stripTrailing())
                    .append(System.lineSeparator());
        }
        return s.toString();
    }
}
