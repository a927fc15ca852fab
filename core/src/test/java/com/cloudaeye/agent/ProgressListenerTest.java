package com.cloudaeye.agent;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.internal.ConsoleProgressListener;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProgressListenerTest {
    @Test
    void progress_computesRateAndTimeLeft() {
        ProgressListener.Progress p = new ProgressListener.Progress(30, 120, 1, 2_000);
        assertThat(p.ratePerSecond()).isEqualTo(15.0);
        assertThat(p.remainingMillis()).isEqualTo(6_000);
    }

    @Test
    void progress_beforeAnyTimeOrWork_isUnknown() {
        assertThat(new ProgressListener.Progress(0, 10, 0, 0).ratePerSecond()).isZero();
        assertThat(new ProgressListener.Progress(0, 10, 0, 500).remainingMillis())
                .isEqualTo(-1);
    }

    @Test
    void console_printsOneLinePerChange_withCountsAndTheReason() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ConsoleProgressListener console =
                new ConsoleProgressListener(new PrintStream(bytes, true, StandardCharsets.UTF_8));

        console.started(Fixtures.plan(), 2);
        console.finished(
                ResourceResult.of(Fixtures.update("api"), ResourceResult.Outcome.FAILED, "AccessDenied"),
                new ProgressListener.Progress(1, 2, 1, 1_000));
        console.warning("throttled by AWS, retrying");

        List<String> lines = bytes.toString(StandardCharsets.UTF_8).lines().toList();
        assertThat(lines)
                .containsExactly(
                        "Applying 2 change(s) in us-east-1",
                        "[1/2] failed " + Fixtures.functionArn("api") + ": AccessDenied  (1.0/s, 1s left, 1 failed)",
                        "warning: throttled by AWS, retrying");
    }

    @Test
    void applyResult_statusFollowsTheOutcomes() {
        Change a = Fixtures.update("a");
        Change b = Fixtures.update("b");
        assertThat(result().status()).isEqualTo(ApplyResult.Status.NOTHING_TO_DO);
        assertThat(result(ResourceResult.of(a, ResourceResult.Outcome.APPLIED, null))
                        .status())
                .isEqualTo(ApplyResult.Status.SUCCEEDED);
        assertThat(result(
                                ResourceResult.of(a, ResourceResult.Outcome.APPLIED, null),
                                ResourceResult.of(b, ResourceResult.Outcome.NOT_ATTEMPTED, "stopped"))
                        .status())
                .isEqualTo(ApplyResult.Status.PARTIAL);
        assertThat(result(ResourceResult.of(b, ResourceResult.Outcome.SKIPPED, "changed since planning"))
                        .status())
                .as("nothing failed, but not everything was applied")
                .isEqualTo(ApplyResult.Status.PARTIAL);
        assertThat(result(
                                ResourceResult.of(a, ResourceResult.Outcome.FAILED, "AccessDenied"),
                                ResourceResult.of(b, ResourceResult.Outcome.SKIPPED, "changed since planning"))
                        .status())
                .isEqualTo(ApplyResult.Status.FAILED);
    }

    private static ApplyResult result(ResourceResult... results) {
        return ApplyResult.builder()
                .addResults(results)
                .duration(Duration.ofMillis(1500))
                .build();
    }
}
