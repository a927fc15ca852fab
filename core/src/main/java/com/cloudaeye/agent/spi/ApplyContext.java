package com.cloudaeye.agent.spi;

import com.cloudaeye.agent.Change;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * The context of an apply: a {@link TargetContext} plus the sink for each change's outcome. Every method is
 * thread-safe. Core journals each call, flushed to disk, before it returns.
 *
 * <p>A target's {@link TargetService} reports each change it was given exactly once, with exactly one of {@link
 * #applied}, {@link #skipped}, {@link #failed}, {@link #unknown} or {@link #notAttempted}; a change it never reports is
 * recorded as not attempted. The outcome MUST be true:
 *
 * <ul>
 *   <li>{@link #applied}: the change landed, as AWS answered or as read back.
 *   <li>{@link #skipped} and {@link #failed}: the change did not land; nothing of it was changed. After a mutating call
 *       was sent and its answer was an error that may hide its success (a lost answer, a 5xx, a timeout), the target
 *       MUST read the resource back first: landed is {@link #applied}; absent is {@link #failed}; could not be read, or
 *       partly landed, is {@link #unknown}.
 *   <li>{@link #unknown}: the change may have landed (wholly or partly) and that could not be confirmed. Rollback and
 *       resume include it and check it against the live state.
 * </ul>
 *
 * <p>Journal failures: {@link #starting} throws {@link com.cloudaeye.agent.JournalException} when it cannot journal
 * the start; the target MUST then not mutate that change, and need not report it (core records it as not attempted
 * and ignores a later report). The outcome methods never throw for a journal failure: core keeps the true outcome in
 * the result, makes {@link #shouldStop()} true, and raises the failure once the targets return.
 */
public interface ApplyContext extends TargetContext {
    /**
     * Journals that a change is about to be applied. MUST be called before the change's first mutating call. It
     * refuses, recording the change as not attempted, when the apply stops; a target that starts changes
     * concurrently uses {@link #start} instead, which also waits while the changes in flight could reach the failure
     * limit.
     *
     * @param change the change
     * @throws com.cloudaeye.agent.JournalException when the journal cannot be written: do not mutate the change
     * @throws NotStartedException when the apply stops (the failure limit is reached): do not mutate the change
     */
    void starting(Change change);

    /**
     * Asks to start a change, without holding a thread: completes when it may start, after {@link #starting} journaled
     * it. Core admits a change only while the failures so far plus the changes in flight stay below {@code
     * maxFailures}, so an apply never makes more failures than that, however many changes a target runs at once. It
     * completes exceptionally ({@link NotStartedException}, or a {@link com.cloudaeye.agent.JournalException}) when
     * the change must not start; core has then recorded it as not attempted, and the target MUST NOT mutate it.
     *
     * @param change the change
     * @return completes when the change may be mutated
     */
    default CompletableFuture<Void> start(Change change) {
        try {
            starting(change);
            return CompletableFuture.completedFuture(null);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /**
     * The change landed and was confirmed.
     *
     * @param change the change
     * @param message a short note (e.g. "published version 7"), may be null
     * @param appliedState the target's data needed to roll back this change (e.g. new revision ids); may be null. It
     *     reaches {@link TargetService#planRollback(java.util.List, TargetContext)}; never a secret
     */
    void applied(Change change, @Nullable String message, @Nullable JsonNode appliedState);

    /**
     * The change was not applied on purpose (e.g. the resource changed since planning); nothing was changed.
     *
     * @param change the change
     * @param reason why, naming the fix
     */
    void skipped(Change change, String reason);

    /**
     * The change did not land: nothing of it was changed (read back first when a mutating call was sent).
     *
     * @param change the change
     * @param reason what failed, without secrets
     * @param cause the error, may be null
     */
    void failed(Change change, String reason, @Nullable Throwable cause);

    /**
     * The change may have landed, wholly or partly, and that could not be confirmed (e.g. its answer was lost and the
     * read-back failed too; or it landed and its rollout then failed). The default, for contexts written before this
     * outcome existed, reports it failed with the reason saying the outcome is unknown.
     *
     * @param change the change
     * @param reason what is known, what could not be confirmed, and what to do (read it back, or roll back)
     * @param cause the error, may be null
     * @param appliedState what the target knows of what may have landed (e.g. a new revision id), for rollback; may
     *     be null
     */
    default void unknown(Change change, String reason, @Nullable Throwable cause, @Nullable JsonNode appliedState) {
        failed(change, reason, cause);
    }

    /**
     * The change was never started because another change of this apply that it needs did not land or could not be
     * confirmed (e.g. a service update whose new task definition revision failed to register): nothing of it was sent.
     * Core records it as not attempted and, when {@code cause} was reported failed, unknown, skipped or not attempted,
     * does not count it against the failure limit, so one root cause counts once however many changes depend on it. A
     * cause that landed or was not reported yet makes this change a failure of its own, counted. The default, for
     * contexts written before this method existed, reports it failed.
     *
     * @param change the change, never started
     * @param cause the change of this apply it needed, reported before this call
     * @param reason why it was not started, naming the cause, without secrets
     */
    default void notAttempted(Change change, Change cause, String reason) {
        failed(change, reason, null);
    }

    /**
     * @return true when the apply stops (the failure limit is reached, or the journal failed): a target MUST NOT start
     *     a change (call {@link #starting}) once it is true
     */
    boolean shouldStop();
}
