package com.cloudaeye.agent.eks.internal.helm;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.AgentException;
import com.cloudaeye.agent.spi.support.Json;
import com.cloudaeye.agent.spi.support.OutcomeUnknownException;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** What a failed Helm call is reported as, from the release read back after it (FAILED only when nothing changed). */
class ReleaseReadBackTest {
    private static final String OURS = ChartFiles.ID;
    private final AgentException error = new AgentException("Helm could not install release x/y");

    private static Optional<InstalledRelease> at(int revision, String status) {
        return Optional.of(
                new InstalledRelease(revision, status, "cloudaeye-agent-0.1.0", Optional.empty(), Optional.empty()));
    }

    @Test
    void aFirstInstallThatLeftNoRelease_keepsItsError() {
        assertThat(ReleaseApplier.readBack("x/y", Optional.empty(), 0, null, OURS, error))
                .isSameAs(error);
    }

    @Test
    void anUpgradeThatLeftTheReleaseAtItsRevision_keepsItsError() {
        assertThat(ReleaseApplier.readBack("x/y", at(3, "deployed"), 3, null, OURS, error))
                .isSameAs(error);
    }

    @Test
    void anInstallThatLeftARelease_isUnknown_andSaysWhatIsThere() {
        RuntimeException reported = ReleaseApplier.readBack("x/y", at(1, "failed"), 0, null, OURS, error);

        assertThat(reported).isInstanceOf(OutcomeUnknownException.class).hasCause(error);
        assertThat(reported.getMessage()).contains("at revision 1 (failed)").contains("was not installed");
    }

    @Test
    void anUpgradeThatLeftANewRevision_isUnknown() {
        assertThat(ReleaseApplier.readBack("x/y", at(4, "pending-upgrade"), 3, null, OURS, error))
                .isInstanceOf(OutcomeUnknownException.class)
                .hasMessageContaining("at revision 4 (pending-upgrade)");
    }

    @Test
    void anUpgradeThatHelmRolledBackToTheFormerValues_keepsItsError() {
        JsonNode former = Json.object().put("image", "agent:1");
        Optional<InstalledRelease> rolledBack = Optional.of(new InstalledRelease(
                5, "deployed", "cloudaeye-agent-0.1.0", Optional.empty(), Optional.of(former.deepCopy())));

        assertThat(ReleaseApplier.readBack("x/y", rolledBack, 3, former, OURS, error))
                .isSameAs(error);
        assertThat(ReleaseApplier.readBack("x/y", rolledBack, 3, Json.object().put("image", "agent:2"), OURS, error))
                .isInstanceOf(OutcomeUnknownException.class);
    }

    @Test
    void anUninstallWhoseReleaseIsGone_isUnknown() {
        assertThat(ReleaseApplier.readBack("x/y", Optional.empty(), 3, null, OURS, error))
                .isInstanceOf(OutcomeUnknownException.class)
                .hasMessageContaining("is now not installed where it was at revision 3");
    }

    @Test
    void anUpgradeWithTheSameValuesThatLandedAsTheNextRevision_isUnknown_notFailed() {
        // Same values (a token rotation, which values leave out, or a new chart): revision 4 = before + 1, deployed.
        // Helm's atomic rollback would have made revision 5; revision 4 deployed means the upgrade itself landed.
        JsonNode values = Json.object().put("image", "agent:1");
        Optional<InstalledRelease> landed = Optional.of(new InstalledRelease(
                4, "deployed", "cloudaeye-agent-0.2.0", Optional.empty(), Optional.of(values.deepCopy())));

        assertThat(ReleaseApplier.readBack("x/y", landed, 3, values, OURS, error))
                .as("revision 4 is deployed: FAILED would say nothing changed")
                .isInstanceOf(OutcomeUnknownException.class)
                .hasMessageContaining("is now at revision 4 (deployed) where it was at revision 3");
    }

    @Test
    void anUpgradeFromAnotherChart_putBackWithItsValuesOnOurChart_isUnknown_notFailed() {
        // Helm's atomic rollback restores the former chart too; the former values on our chart are another workload.
        JsonNode former = Json.object().put("image", "agent:1");
        Optional<InstalledRelease> ourChart = Optional.of(
                new InstalledRelease(5, "deployed", OURS, Optional.empty(), Optional.of(former.deepCopy())));
        Optional<InstalledRelease> theirChart = Optional.of(new InstalledRelease(
                5, "deployed", "cloudaeye-agent-9.9.9", Optional.empty(), Optional.of(former.deepCopy())));

        assertThat(ReleaseApplier.readBack("x/y", ourChart, 3, former, "cloudaeye-agent-9.9.9", error))
                .isInstanceOf(OutcomeUnknownException.class);
        assertThat(ReleaseApplier.readBack("x/y", theirChart, 3, former, "cloudaeye-agent-9.9.9", error))
                .isSameAs(error);
        assertThat(ReleaseApplier.readBack("x/y", theirChart, 3, former, null, error))
                .as("a plan that did not record the chart before cannot tell a rollback from another change")
                .isInstanceOf(OutcomeUnknownException.class);
    }
}
