package com.cloudaeye.agent.eks;

import com.cloudaeye.agent.testing.ApiBaseline;
import org.junit.jupiter.api.Test;

/** The module's public API against its baseline, {@code src/test/resources/golden/public-api.txt}. */
class ApiBaselineTest {
    @Test
    void publicApi_whenComparedWithTheBaseline_isUnchanged() {
        ApiBaseline.assertMatchesBaseline();
    }
}
