package com.cloudaeye.agent.lambda.internal;

import com.cloudaeye.agent.spi.JournaledChange;
import com.cloudaeye.agent.spi.support.Json;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.Optional;

/**
 * The one codec of the Lambda target's states: a change's {@link FunctionState} ({@code Change.targetState()}) and
 * what its apply did, {@link FunctionApplied} (the journal's {@code appliedState}), to and from the JSON that plans
 * and journals hold, through core's mapper ({@link Json}). The rest of the module handles the typed records only;
 * the JSON keeps the keys plans and journals had before these types, so earlier ones still apply and roll back.
 */
public final class LambdaStates {
    private LambdaStates() {}

    /**
     * @param state a planned change's state
     * @return it as JSON for {@code Change.targetState()}
     */
    public static JsonNode toJson(FunctionState state) {
        return Json.tree(state);
    }

    /**
     * @param applied what an apply did
     * @return it as JSON for the journal's {@code appliedState}
     */
    static JsonNode toJson(FunctionApplied applied) {
        return Json.tree(applied);
    }

    /**
     * @param targetState a Lambda change's {@code targetState}
     * @return the state
     */
    public static FunctionState functionState(JsonNode targetState) {
        return Json.convert(targetState, FunctionState.class);
    }

    /**
     * @param journaled a journaled Lambda change
     * @return what its apply did, when the journal recorded it
     */
    static Optional<FunctionApplied> applied(JournaledChange journaled) {
        return journaled.state().filter(JsonNode::isObject).map(s -> Json.convert(s, FunctionApplied.class));
    }
}
