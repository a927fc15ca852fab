package com.cloudaeye.agent.eks;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.ApplyException;
import com.cloudaeye.agent.ConfigurationException;
import com.cloudaeye.agent.ResourceResult;
import com.cloudaeye.agent.spi.support.AwsActions;
import org.assertj.core.api.AbstractThrowableAssert;
import org.jspecify.annotations.Nullable;

/** What the integration tests check of an apply or resume that was refused for its settings before any change. */
final class StoppedApply {
    private StoppedApply() {}

    /**
     * Asserts that the call was refused before any change: it threw {@code stopped}, which says nothing was changed,
     * whose result lists resources and attempted none of them, whose cause is a {@link ConfigurationException}, and
     * {@code installer} sent no mutating call.
     *
     * @param stopped what the apply or resume threw, or null when it threw nothing (which fails)
     * @param installer the installer that made the call
     * @param description what the test expected, shown when nothing was thrown
     * @return an assertion on the cause, for the message the test expects
     */
    static AbstractThrowableAssert<?, ? extends Throwable> assertStoppedBeforeAnyChange(
            @Nullable ApplyException stopped, AgentInstaller installer, String description) {
        assertThat(stopped).as(description).isNotNull();
        assertThat(stopped).hasMessageContaining("Nothing was changed");
        assertThat(stopped.result().results())
                .as(stopped.result().toString())
                .isNotEmpty()
                .allMatch(r -> r.outcome() == ResourceResult.Outcome.NOT_ATTEMPTED);
        assertThat(installer.calls().keySet()).as("no mutating call was sent").allMatch(AwsActions::isReadOnly);
        return assertThat(stopped.getCause())
                .as(stopped.result().toString())
                .isInstanceOf(ConfigurationException.class);
    }
}
