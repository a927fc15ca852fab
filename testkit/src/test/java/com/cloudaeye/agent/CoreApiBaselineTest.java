package com.cloudaeye.agent;

import com.cloudaeye.agent.testing.ApiBaseline;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Core's public API against its baseline, {@code core/src/test/resources/golden/public-api.txt}. It runs here because
 * the check lives in the test kit, which depends on core (core's own tests cannot use it without a cycle). Accept an
 * intended change with {@code -pl testkit -am -Dtest=CoreApiBaselineTest -Dgolden.update=true}.
 */
class CoreApiBaselineTest {
    private static final Path CORE = Path.of("..", "core");

    @Test
    void corePublicApi_whenComparedWithTheBaseline_isUnchanged() {
        ApiBaseline.assertMatchesBaseline(
                CORE.resolve("target/classes"), CORE.resolve("src/test/resources/golden/public-api.txt"));
    }
}
