package com.cloudaeye.agent.spi;

import com.cloudaeye.agent.Change;
import com.fasterxml.jackson.databind.JsonNode;
import org.jspecify.annotations.Nullable;

/**
 * The context of an apply: a {@link TargetContext} plus the sink for each change's outcome. Every method is
 * thread-safe. The journal is written by these calls, before and after each mutation.
 */
public interface ApplyContext extends TargetContext {
    /**
     * Journals that a change is about to be applied. Call it before the change's first mutating call.
     *
     * @param change the change
     */
    void starting(Change change);

    /**
     * The change was applied and confirmed.
     *
     * @param change the change
     * @param message a short note (e.g. "published version 7"), may be null
     * @param appliedState the target's data needed to roll back this change (e.g. new revision ids); may be null
     */
    void applied(Change change, @Nullable String message, @Nullable JsonNode appliedState);

    /**
     * The change was not applied on purpose (e.g. the resource changed since planning).
     *
     * @param change the change
     * @param reason why, naming the fix
     */
    void skipped(Change change, String reason);

    /**
     * The change failed.
     *
     * @param change the change
     * @param reason what failed, without secrets
     * @param cause the error, may be null
     */
    void failed(Change change, String reason, @Nullable Throwable cause);

    /** @return true when the failure policy asks targets to stop starting new changes */
    boolean shouldStop();
}
