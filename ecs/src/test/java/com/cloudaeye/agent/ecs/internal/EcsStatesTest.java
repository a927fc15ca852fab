package com.cloudaeye.agent.ecs.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.Journal;
import com.cloudaeye.agent.spi.JournaledChange;
import com.cloudaeye.agent.spi.support.Json;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The typed states of ECS changes read what plans and journals written before them hold, and write it back to the
 * letter: the same keys, in the same order, absent ones left out.
 */
class EcsStatesTest {
    private static final String ROUTER = "{\"apiTokenSecretArn\":null,\"configFile\":null,\"cpu\":64,"
            + "\"createLogGroup\":true,\"essential\":true,\"image\":\"public.ecr.aws/cloudaeye/log-router:1.4.0\","
            + "\"logGroup\":\"/ecs/cloudaeye-log-router\",\"logOptions\":{},\"memory\":128,"
            + "\"name\":\"cloudaeye-log-router\"}";
    private static final Path JOURNAL = Path.of("src/test/resources/fixtures/journal/ecs-journal-2026-12-01.jsonl");
    private static final String TD = "arn:aws:ecs:us-east-1:123456789012:task-definition/app:3";

    private static JsonNode parse(String json) throws Exception {
        return Json.parse(json);
    }

    @Test
    void serviceState_ofAnInstallPlannedBefore_writesTheSameJson() throws Exception {
        JsonNode old = parse("{\"kind\":\"service\",\"operation\":\"install\","
                + "\"cluster\":\"arn:aws:ecs:us-east-1:123456789012:cluster/prod\","
                + "\"service\":\"arn:aws:ecs:us-east-1:123456789012:service/prod/api\",\"from\":\"" + TD + "\","
                + "\"source\":\"" + TD + "\",\"routerSource\":\"" + TD + "\",\"router\":" + ROUTER + ","
                + "\"cpu\":\"512\",\"memory\":\"1024\",\"waitMillis\":5000,\"pollMillis\":10}");

        ServiceState state = EcsStates.serviceState(old);

        assertThat(Json.compact(EcsStates.toJson(state))).isEqualTo(Json.compact(old));
        assertThat(state.router()).isNotNull();
        assertThat(state.to()).isNull();
        assertThat(state.waitTimeout())
                .hasValueSatisfying(d -> assertThat(d.toMillis()).isEqualTo(5000));
    }

    @Test
    void serviceState_ofARollbackWithoutWaiting_leavesOutWhatItHasNot() throws Exception {
        JsonNode old = parse("{\"kind\":\"service\",\"operation\":\"rollback\",\"cluster\":\"c\",\"service\":\"s\","
                + "\"from\":\"" + TD + "\",\"to\":\"" + TD.replace(":3", ":2") + "\"}");

        ServiceState state = EcsStates.serviceState(old);

        assertThat(Json.compact(EcsStates.toJson(state))).isEqualTo(Json.compact(old));
        assertThat(state.waitTimeout()).isEmpty();
        assertThat(state.removesRouter()).isFalse();
    }

    @Test
    void revisionState_ofAnInstallAndAnUninstall_writesTheSameJson() throws Exception {
        JsonNode install = parse("{\"kind\":\"taskDefinition\",\"operation\":\"install\",\"source\":\"" + TD + "\","
                + "\"router\":" + ROUTER + ",\"previousLogConfigurations\":{\"api\":{\"logDriver\":\"awslogs\","
                + "\"options\":{\"awslogs-group\":\"****\"}}},\"cpu\":\"512\",\"memory\":\"1024\"}");
        JsonNode uninstall = parse("{\"kind\":\"taskDefinition\",\"operation\":\"uninstall\",\"source\":\"" + TD
                + "\",\"previousLogConfigurations\":{}}");

        assertThat(Json.compact(EcsStates.toJson(EcsStates.revisionState(install))))
                .isEqualTo(Json.compact(install));
        assertThat(Json.compact(EcsStates.toJson(EcsStates.revisionState(uninstall))))
                .isEqualTo(Json.compact(uninstall));
        assertThat(EcsStates.revisionState(uninstall).removesRouter()).isTrue();
    }

    @Test
    void journalOfTheFormerFormat_readsEveryChangesStates_andWritesTheAppliedStateBackAsItWas() {
        // An apply of main on 2026-12-01 (the demo's services on moto), cut to its ECS lines: its plan line is a
        // saved plan of that day.
        List<JournaledChange> sent = Journal.read(JOURNAL).sent();

        assertThat(sent).hasSize(5);
        for (JournaledChange j : sent) {
            JsonNode planned = j.change().targetState();
            JsonNode applied = j.state().orElseThrow();
            if (EcsPlanner.SERVICE_TYPE.equals(j.change().resourceType())) {
                ServiceState state = EcsStates.serviceState(planned);
                assertThat(Json.compact(EcsStates.toJson(state))).isEqualTo(Json.compact(planned));
                ServiceApplied done = EcsStates.serviceApplied(j).orElseThrow();
                assertThat(done.previousTaskDefinitionArn()).isEqualTo(state.from());
                assertThat(done.taskDefinitionArn()).endsWith(":2");
                assertThat(Json.compact(EcsStates.toJson(done))).isEqualTo(Json.compact(applied));
            } else {
                RevisionState state = EcsStates.revisionState(planned);
                assertThat(Json.compact(EcsStates.toJson(state))).isEqualTo(Json.compact(planned));
                assertThat(state.removesRouter()).isFalse();
                assertThat(Json.compact(EcsStates.toJson(new RevisionApplied(
                                applied.path("taskDefinitionArn").asText()))))
                        .isEqualTo(Json.compact(applied));
            }
        }
    }
}
