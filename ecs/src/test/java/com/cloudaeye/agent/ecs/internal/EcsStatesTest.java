package com.cloudaeye.agent.ecs.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.spi.support.Json;
import com.fasterxml.jackson.databind.JsonNode;
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

        ServiceState state = ServiceState.fromJson(old);

        assertThat(Json.compact(state.toJson())).isEqualTo(Json.compact(old));
        assertThat(state.router()).isNotNull();
        assertThat(state.to()).isNull();
        assertThat(state.waitTimeout())
                .hasValueSatisfying(d -> assertThat(d.toMillis()).isEqualTo(5000));
    }

    @Test
    void serviceState_ofARollbackWithoutWaiting_leavesOutWhatItHasNot() throws Exception {
        JsonNode old = parse("{\"kind\":\"service\",\"operation\":\"rollback\",\"cluster\":\"c\",\"service\":\"s\","
                + "\"from\":\"" + TD + "\",\"to\":\"" + TD.replace(":3", ":2") + "\"}");

        ServiceState state = ServiceState.fromJson(old);

        assertThat(Json.compact(state.toJson())).isEqualTo(Json.compact(old));
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

        assertThat(Json.compact(RevisionState.fromJson(install).toJson())).isEqualTo(Json.compact(install));
        assertThat(Json.compact(RevisionState.fromJson(uninstall).toJson())).isEqualTo(Json.compact(uninstall));
        assertThat(RevisionState.fromJson(uninstall).removesRouter()).isTrue();
    }
}
