package com.cloudaeye.agent.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.Fixtures;
import com.cloudaeye.agent.FleetPlan;
import com.cloudaeye.agent.FleetResult;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.ResourceResult;
import java.time.Duration;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class FleetTableTest {
    private static final String ADAPTIVE = "adaptive (starts at the documented quotas, raises the rate while nothing"
            + " is throttled, backs off on a throttle)";

    @Test
    void plan_countsInWords_andEndsWithThePacing_onceWhenEveryAccountRegionHasTheSame() {
        FleetPlan plan = FleetPlan.builder()
                .kind(Plan.Kind.INSTALL)
                .plans(byAccount(
                        "111111111111", regions("eu-west-1", plan(ADAPTIVE, Fixtures.update("a"), Fixtures.noOp("b"))),
                        "222222222222", regions("us-east-1", plan(ADAPTIVE, Fixtures.noOp("c")))))
                .build();

        String table = plan.toString();

        assertThat(table.lines())
                .containsExactly(
                        "Fleet install plan: 2 account-regions planned, 0 failed",
                        "ACCOUNT       REGION     CHANGES",
                        "111111111111  eu-west-1  1 update, 1 no-op",
                        "222222222222  us-east-1  1 no-op",
                        "total                    1 update, 2 no-op",
                        "pacing: " + ADAPTIVE);
    }

    @Test
    void plan_whenAccountRegionsPaceDifferently_namesEachPacingWithWhereItIsInForce() {
        FleetPlan plan = FleetPlan.builder()
                .kind(Plan.Kind.INSTALL)
                .plans(byAccount(
                        "111111111111",
                        regions(
                                "eu-west-1", plan(ADAPTIVE, Fixtures.update("a")),
                                "us-east-1", plan("at most 60 % of the documented quotas", Fixtures.update("b"))),
                        "222222222222",
                        regions("us-east-1", plan(ADAPTIVE, Fixtures.update("c")))))
                .build();

        assertThat(plan.toString())
                .endsWith("pacing in 111111111111 eu-west-1, 222222222222 us-east-1: " + ADAPTIVE
                        + System.lineSeparator()
                        + "pacing in 111111111111 us-east-1: at most 60 % of the documented quotas"
                        + System.lineSeparator());
    }

    @Test
    void result_saysWhichAccountRegionsHadNothingToDo_inWords_withoutEmptyCellsOrTrailingSpaces() {
        FleetResult result = FleetResult.builder()
                .results(byAccount(
                        "111111111111", regions("eu-west-1", applied(), "us-east-1", applied()),
                        "222222222222", regions("eu-west-1", applied(ResourceResult.Outcome.NOT_ATTEMPTED))))
                .failures(byAccount("333333333333", regions("us-east-1", "Could not assume the role")))
                .build();

        assertThat(result.toString().lines())
                .containsExactly(
                        "Fleet apply did not fully succeed in 4 account-regions: 2 had nothing to do, 1 applied in"
                                + " part, 1 failed",
                        "ACCOUNT       REGION     RESULT",
                        "111111111111  eu-west-1  nothing to do",
                        "111111111111  us-east-1  nothing to do",
                        "222222222222  eu-west-1  partial: 1 not attempted",
                        "333333333333  us-east-1  failed: Could not assume the role",
                        "total                    1 not attempted");
    }

    @Test
    void result_whenEveryAccountRegionHadNothingToDo_saysSoInTheTotal() {
        FleetResult result = FleetResult.builder()
                .results(byAccount("111111111111", regions("eu-west-1", applied())))
                .build();

        assertThat(result.toString().lines())
                .containsExactly(
                        "Fleet apply succeeded in 1 account-region: 1 had nothing to do",
                        "ACCOUNT       REGION     RESULT",
                        "111111111111  eu-west-1  nothing to do",
                        "total                    nothing to do");
    }

    private static Plan plan(String pacing, com.cloudaeye.agent.Change... changes) {
        return Plan.builder()
                .kind(Plan.Kind.INSTALL)
                .region("us-east-1")
                .addChanges(changes)
                .pacing(pacing)
                .build();
    }

    private static ApplyResult applied(ResourceResult.Outcome... outcomes) {
        ApplyResult.Builder b = ApplyResult.builder().duration(Duration.ofSeconds(1));
        int i = 0;
        for (ResourceResult.Outcome o : outcomes) {
            b.addResults(ResourceResult.of(Fixtures.update("f" + i++), o, null));
        }
        return b.build();
    }

    private static <V> SortedMap<String, V> regions(Object... regionThenValue) {
        return byAccount(regionThenValue);
    }

    @SuppressWarnings("unchecked") // pairs of a key and a value of the map's type
    private static <V> SortedMap<String, V> byAccount(Object... keyThenValue) {
        SortedMap<String, V> map = new TreeMap<>();
        List<Object> pairs = List.of(keyThenValue);
        for (int i = 0; i < pairs.size(); i += 2) {
            map.put((String) pairs.get(i), (V) pairs.get(i + 1));
        }
        return map;
    }
}
