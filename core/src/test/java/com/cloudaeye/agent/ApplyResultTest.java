package com.cloudaeye.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class ApplyResultTest {
    @Test
    void toString_namesTheStatusAndEachOutcomeInWords_notAsEnumNames() {
        ApplyResult nothing = ApplyResult.builder().duration(Duration.ZERO).build();
        ApplyResult partial = ApplyResult.builder()
                .duration(Duration.ofSeconds(1))
                .addResults(
                        ResourceResult.of(Fixtures.update("a"), ResourceResult.Outcome.APPLIED, null),
                        ResourceResult.of(
                                Fixtures.update("b"),
                                ResourceResult.Outcome.NOT_ATTEMPTED,
                                "the installer's maxFailures(1) was reached"))
                .build();

        assertThat(nothing.toString()).startsWith("Apply nothing to do in ").doesNotContain("_");
        assertThat(partial.toString())
                .contains("  not attempted " + Fixtures.functionArn("b") + ": the installer's maxFailures(1)")
                .doesNotContain("not_attempted");
    }
}
