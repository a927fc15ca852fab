package com.cloudaeye.agent.ecs.internal;

import com.fasterxml.jackson.annotation.JsonProperty;

/** What an ECS change is part of, as its state's {@code operation} key says (the JSON keeps the earlier words). */
enum Operation {
    /** Registers revisions with the router and moves services to them. */
    @JsonProperty("install")
    INSTALL,
    /** Registers revisions without the router and moves services to them. */
    @JsonProperty("uninstall")
    UNINSTALL,
    /** Moves services back to the revision they ran before (services only). */
    @JsonProperty("rollback")
    ROLLBACK
}
