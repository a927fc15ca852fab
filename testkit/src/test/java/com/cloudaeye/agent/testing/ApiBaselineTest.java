package com.cloudaeye.agent.testing;

import org.junit.jupiter.api.Test;

/** The test kit's public API against its baseline, {@code src/test/resources/golden/public-api.txt}. */
class ApiBaselineTest {
    @Test
    void publicApi_whenComparedWithTheBaseline_isUnchanged() {
        ApiBaseline.assertMatchesBaseline();
    }
}
