package com.cloudaeye.agent.ecs.internal;

import com.cloudaeye.agent.ecs.LogRouter;
import org.jspecify.annotations.Nullable;

/**
 * What a change registers from its source revision: a revision change's own state, or a service change's copy of it
 * (so that a resumed apply recognises the revision without the journal's line for it).
 */
interface RevisionSpec {
    /** @return what the change is part of */
    Operation operation();

    /** @return the router settings an install registers; null for an uninstall, or a plan from before they were kept */
    @Nullable
    LogRouter router();

    /** @return the raised task cpu, or null to keep the source's */
    @Nullable
    String cpu();

    /** @return the raised task memory, or null to keep the source's */
    @Nullable
    String memory();

    /** @return whether the change removes the router */
    default boolean removesRouter() {
        return operation() == Operation.UNINSTALL;
    }
}
