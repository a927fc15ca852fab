package com.cloudaeye.agent.lambda.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.Journal;
import com.cloudaeye.agent.spi.JournaledChange;
import com.cloudaeye.agent.spi.support.Json;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The codec reads the journals and plans the installer wrote before the applied state was typed, and writes that
 * state back to the same JSON. The fixture is a journal an apply of main wrote on 2026-12-01 (the demo's functions
 * on moto, one alias moved), cut to its Lambda lines: its plan line is a saved plan of that day.
 */
class LambdaStatesTest {
    private static final Path JOURNAL = Path.of("src/test/resources/fixtures/journal/lambda-journal-2026-12-01.jsonl");

    @Test
    void journalOfTheFormerFormat_readsEveryChangesStates_andWritesTheAppliedStateBackAsItWas() {
        List<JournaledChange> sent = Journal.read(JOURNAL).sent();

        assertThat(sent).hasSize(10);
        for (JournaledChange j : sent) {
            FunctionState state = LambdaStates.functionState(j.change().targetState());
            assertThat(state.layers()).as(j.change().resourceId()).hasSize(1);
            FunctionApplied applied = LambdaStates.applied(j).orElseThrow();
            assertThat(Json.compact(LambdaStates.toJson(applied)))
                    .isEqualTo(Json.compact(j.state().orElseThrow()));
        }
        JournaledChange checkout = sent.stream()
                .filter(j -> j.change().resourceId().endsWith(":function:checkout"))
                .findFirst()
                .orElseThrow();
        assertThat(LambdaStates.functionState(checkout.change().targetState()).aliasMoves())
                .extracting(AliasMove::name)
                .containsExactly("live");
        FunctionApplied applied = LambdaStates.applied(checkout).orElseThrow();
        assertThat(applied.version()).isEqualTo("2");
        assertThat(applied.aliases())
                .containsExactly(Map.entry("live", new FunctionApplied.AliasBefore("1", Map.of())));
    }

    @Test
    void appliedState_ofAWeightedAliasMove_hasTheJournalsKeys_andReadsBack() {
        FunctionApplied applied =
                new FunctionApplied("r-2", "7", Map.of("live", new FunctionApplied.AliasBefore("3", Map.of("4", 0.1))));

        JsonNode json = LambdaStates.toJson(applied);

        assertThat(Json.compact(json))
                .isEqualTo("{\"revisionId\":\"r-2\",\"version\":\"7\","
                        + "\"aliases\":{\"live\":{\"version\":\"3\",\"weights\":{\"4\":0.1}}}}");
        Change change = Journal.read(JOURNAL).plan().changes().first();
        assertThat(LambdaStates.applied(new JournaledChange(change, Journal.Event.APPLIED, json)))
                .hasValue(applied);
        assertThat(LambdaStates.applied(new JournaledChange(change, Journal.Event.STARTING, null)))
                .isEmpty();
    }
}
