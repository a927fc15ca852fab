package com.cloudaeye.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PlanTest {
    private final Plan plan = Fixtures.plan();

    @Test
    void changes_areSortedByTargetTypeAndResource_whateverTheOrderAdded() {
        assertThat(plan.changes())
                .extracting(Change::resourceId)
                .containsExactly(
                        Fixtures.functionArn("api"),
                        Fixtures.functionArn("billing"),
                        Fixtures.functionArn("legacy"),
                        Fixtures.functionArn("orders"));
    }

    @Test
    void mutations_areOnlyCreatesUpdatesAndDeletes() {
        assertThat(plan.mutations())
                .extracting(Change::action)
                .containsOnly(ChangeAction.UPDATE)
                .hasSize(2);
        assertThat(plan.isEmpty()).isFalse();
        assertThat(plan.counts())
                .isEqualTo(Map.of(ChangeAction.UPDATE, 2L, ChangeAction.NO_OP, 1L, ChangeAction.SKIP, 1L));
    }

    @Test
    void isEmpty_whenOnlySkipsAndNoOps() {
        Plan nothing = Plan.builder()
                .kind(Plan.Kind.INSTALL)
                .region("us-east-1")
                .addChanges(Fixtures.noOp("a"), Fixtures.skip("b", "excluded by legacy-*"))
                .build();
        assertThat(nothing.isEmpty()).isTrue();
        assertThat(nothing.mutations()).isEmpty();
    }

    @Test
    void toJson_roundTrips() {
        assertThat(Plan.fromJson(plan.toJson())).isEqualTo(plan);
    }

    @Test
    void aRollbackPlan_keepsTheJournalItUndoesInItsJson_andSaysItInItsTable_whileOtherPlansLeaveItOut() {
        Plan rollback = Plan.builder()
                .kind(Plan.Kind.ROLLBACK)
                .region("eu-west-1")
                .addChanges(Fixtures.update("a"))
                .rollsBack("s3://journals/runs/1/install.jsonl")
                .rollsBackLines(7)
                .build();

        Plan read = Plan.fromJson(rollback.toJson());

        assertThat(read).isEqualTo(rollback);
        assertThat(read.rollsBack()).hasValue("s3://journals/runs/1/install.jsonl");
        assertThat(read.rollsBackLines()).hasValue(7);
        assertThat(rollback.toString())
                .contains("Rolls back the run of the journal s3://journals/runs/1/install.jsonl");
        assertThat(plan.toJson()).doesNotContain("rollsBack");
        assertThat(Plan.fromJson(plan.toJson()).rollsBack()).isEmpty();
    }

    @Test
    void toJson_matchesTheGoldenFile() {
        Golden.assertMatches(plan.toJson(), "plan.json");
    }

    @Test
    void toJson_neverHoldsASecretValue() {
        assertThat(plan.toJson()).contains(Secret.REDACTED).contains("\"sensitive\" : true");
    }

    @Test
    void fromJson_whenNotAPlan_saysWhatToPass() {
        assertThatThrownBy(() -> Plan.fromJson("{\"kind\": \"INSTALL\"}"))
                .isInstanceOf(AgentException.class)
                .hasMessageContaining("Plan")
                .hasMessageContaining("toJson()");
    }

    @Test
    void requiredPolicy_isTheReadsPlusTheMutationsPermissions_only() {
        Change skipWithPermission = Change.builder()
                .from(Fixtures.skip("legacy", "excluded"))
                .addPermissions(Permission.of("lambda:DeleteFunction", Fixtures.functionArn("legacy")))
                .build();
        Plan withSkip = Plan.builder().from(plan).addChanges(skipWithPermission).build();

        PolicyDocument policy = withSkip.requiredPolicy();

        assertThat(policy.actions())
                .containsExactly(
                        "lambda:GetLayerVersion", "lambda:ListFunctions", "lambda:UpdateFunctionConfiguration");
        assertThat(policy.allows(Permission.of("lambda:UpdateFunctionConfiguration", Fixtures.functionArn("api"))))
                .isTrue();
        assertThat(policy.allows(Permission.of("lambda:UpdateFunctionConfiguration", Fixtures.functionArn("orders"))))
                .isTrue();
        assertThat(policy.allows(Permission.of("lambda:UpdateFunctionConfiguration", Fixtures.functionArn("billing"))))
                .as("a no-op needs no permission")
                .isFalse();
        assertThat(policy.allows(Permission.of("lambda:DeleteFunction", Fixtures.functionArn("legacy"))))
                .as("a skip's permissions are not granted")
                .isFalse();
    }

    @Test
    void toString_showsUpdatesAndSkipsWithReasons_andHidesNoOps() {
        String table = plan.toString();

        assertThat(table)
                .startsWith("Plan (install, us-east-1): 2 update, 1 no-op, 1 skip")
                .contains("ACTION", "TARGET", "RESOURCE", "DETAILS")
                .contains(Fixtures.functionArn("orders"))
                .contains(Fixtures.functionArn("api"))
                .contains("Layers: [] -> [arn:aws:lambda:us-east-1:123456789012:layer:cloudaeye:3]")
                .contains("Environment.CLOUDAEYE_API_TOKEN: (absent) -> ****")
                .contains("note: 2 functions get the agent layer")
                .doesNotContain(Fixtures.functionArn("billing"));
        assertThat(table.lines().filter(l -> l.startsWith("skip")))
                .singleElement()
                .satisfies(l -> assertThat(l)
                        .contains(Fixtures.functionArn("legacy"))
                        .endsWith("image-package functions take no layers"));
        assertThat(table.lines().filter(l -> l.startsWith("update"))).hasSize(2);
    }

    @Test
    void toString_startsEachRowsDetailsOnTheRowItself() {
        String table = plan.toString();

        assertThat(table.lines().filter(l -> l.startsWith("update")))
                .hasSize(2)
                .allSatisfy(l -> assertThat(l).contains(" Layers: []"));
        assertThat(table.lines()).noneMatch(String::isBlank).noneMatch(l -> l.endsWith(" "));
    }

    @Test
    void toString_whenAValueIsAManifest_summarisesEachOnOneLine_andTheJsonKeepsItWhole() {
        String daemonSetBefore = """
                apiVersion: apps/v1
                kind: DaemonSet
                metadata:
                  name: cloudaeye-agent
                spec:
                  template:
                    spec:
                      containers:
                        - name: agent
                          image: public.ecr.aws/cloudaeye/agent:1.0.0
                """;
        String daemonSetAfter = daemonSetBefore.replace("agent:1.0.0", "agent:1.1.0");
        String configMap = """
                apiVersion: v1
                kind: ConfigMap
                metadata:
                  name: cloudaeye-agent
                data:
                  fluent-bit.conf: |
                    [OUTPUT]
                        Name http
                """;
        Change release = Change.builder()
                .target("eks")
                .resourceType("Helm::Release")
                .resourceId("arn:aws:eks:us-east-1:123456789012:cluster/prod/cloudaeye/cloudaeye-agent")
                .action(ChangeAction.UPDATE)
                .addAttributes(
                        AttributeChange.of("ConfigMap/cloudaeye-agent", null, configMap),
                        AttributeChange.of("DaemonSet/cloudaeye-agent", daemonSetBefore, daemonSetAfter),
                        AttributeChange.of("ServiceAccount/old-agent", "kind: ServiceAccount\nmetadata: {}\n", null),
                        AttributeChange.redacted("Secret/cloudaeye-agent", true, true))
                .build();
        Plan withRelease = Plan.builder().from(plan).addChanges(release).build();

        String table = withRelease.toString();

        assertThat(table.lines().filter(l -> l.startsWith("update  eks")))
                .singleElement()
                .satisfies(l -> assertThat(l).endsWith("ConfigMap/cloudaeye-agent: created (8 lines)"));
        assertThat(table)
                .contains("DaemonSet/cloudaeye-agent: changed (image; 1 line removed, 1 added, of 10)")
                .contains("ServiceAccount/old-agent: deleted (2 lines)")
                .contains("Secret/cloudaeye-agent: **** -> ****")
                .contains("note: multi-line values (Kubernetes manifests) are summarised above; the plan's JSON"
                        + " (toJson()) has them in full.")
                .doesNotContain("apiVersion", "agent:1.1.0", "[OUTPUT]");
        String detailsColumn = " "
                .repeat(table.lines()
                        .filter(l -> l.startsWith("ACTION"))
                        .findFirst()
                        .orElseThrow()
                        .indexOf("DETAILS"));
        assertThat(table.lines())
                .as("every line is the title, a row, a detail in the DETAILS column, a note or the pacing")
                .allMatch(l -> l.startsWith("Plan (")
                        || l.matches("^(ACTION|update|skip|create|delete) .*")
                        || (l.startsWith(detailsColumn)
                                && !l.substring(detailsColumn.length()).startsWith(" "))
                        || l.startsWith("note: ")
                        || l.startsWith("pacing: "));
        assertThat(Plan.fromJson(withRelease.toJson()).changes())
                .filteredOn(c -> c.target().equals("eks"))
                .singleElement()
                .satisfies(c -> assertThat(c.attributes().get(1).after()).hasValue(daemonSetAfter));
    }

    @Test
    void toString_whenNothingSelected_saysSo() {
        Plan empty =
                Plan.builder().kind(Plan.Kind.UNINSTALL).region("eu-west-1").build();
        assertThat(empty.toString())
                .isEqualTo("Plan (uninstall, eu-west-1): no resources selected" + System.lineSeparator());
    }

    @Test
    void change_skipWithoutReason_isRejected() {
        assertThatThrownBy(() -> Change.builder()
                        .target("lambda")
                        .resourceType("AWS::Lambda::Function")
                        .resourceId(Fixtures.functionArn("x"))
                        .action(ChangeAction.SKIP)
                        .build())
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("reason")
                .hasMessageContaining(Fixtures.functionArn("x"));
    }

    @Test
    void attributeChange_redacted_showsOnlyPresence() {
        AttributeChange c = AttributeChange.redacted("Environment.CLOUDAEYE_API_TOKEN", true, false);
        assertThat(c.before()).hasValue(Secret.REDACTED);
        assertThat(c.after()).isEmpty();
        assertThat(c.sensitive()).isTrue();
        assertThat(c.toString()).isEqualTo("Environment.CLOUDAEYE_API_TOKEN: **** -> (absent)");
    }

    @Test
    void changeAction_labels_andMutationFlags() {
        assertThat(List.of(ChangeAction.values()))
                .filteredOn(ChangeAction::isMutation)
                .containsExactly(ChangeAction.CREATE, ChangeAction.UPDATE, ChangeAction.DELETE);
        assertThat(ChangeAction.NO_OP.label()).isEqualTo("no-op");
    }
}
