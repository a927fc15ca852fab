package com.cloudaeye.agent.ecs.internal;

import com.fasterxml.jackson.annotation.JsonProperty;

/** Which resource an ECS change's state describes, as its {@code kind} key says (the JSON keeps the earlier words). */
enum StateKind {
    /** A task definition change: {@link RevisionState}. */
    @JsonProperty("taskDefinition")
    TASK_DEFINITION,
    /** A service change: {@link ServiceState}. */
    @JsonProperty("service")
    SERVICE
}
