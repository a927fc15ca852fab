package com.cloudaeye.agent.lambda.internal;

import static com.cloudaeye.agent.lambda.LambdaTarget.SAVED_PREFIX;

import com.cloudaeye.agent.spi.support.ValueStyle;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.immutables.value.Value;
import org.jspecify.annotations.Nullable;

/**
 * What a planned Lambda change does, kept in {@code Change.targetState()} ({@link LambdaStates} writes and reads it). The environment is described as
 * operations on the live variables, never as a copy of them, so no user value lands in a plan or journal. A
 * {@code null} value in {@link #set} stands for the API token, read from the agent settings at apply time.
 *
 * <p>Built with {@link #builder()}; read from and written to JSON only by {@link LambdaStates}, whose JSON keeps
 * the keys of the record this class replaced, so earlier plans and journals still read.
 */
@Value.Immutable
@ValueStyle
@JsonSerialize(as = ImmutableFunctionState.class)
@JsonDeserialize(as = ImmutableFunctionState.class)
public abstract class FunctionState {
    /**
     * @return the function's RevisionId when planned; the update is sent only against it (null only from emulators
     *     that do not track revisions)
     */
    public abstract @Nullable String revisionId();

    /** @return the complete layer list to send */
    public abstract List<String> layers();

    /** @return the layer list when planned (for rollback, and compared with the live list before the update) */
    public abstract List<String> layersBefore();

    /**
     * @return variables to set; a null value is the API token. The values' nullness is stated by {@link AllowNulls}
     *     only: Immutables reads a type-use {@code @Nullable} inside the type as a nullable map, which then is null
     *     when a builder sets none
     */
    @AllowNulls
    public abstract Map<String, String> set();

    /** @return variables to delete */
    public abstract List<String> remove();

    /** @return variables whose user value is copied to {@code CLOUDAEYE_SAVED__NAME} before {@link #set} */
    public abstract List<String> save();

    /** @return variables restored from {@code CLOUDAEYE_SAVED__NAME} (which is then deleted) */
    public abstract List<String> restore();

    /** @return earlier non-secret values of the agent's own variables, for rollback of an upgrade */
    public abstract Map<String, String> previous();

    /** @return whether to publish a version after the update */
    @Value.Default
    public boolean publish() {
        return false;
    }

    /**
     * @return a keyed hash ({@link TokenHash}) of the API token this change replaces or removes, so a rollback
     *     recognises the earlier token when the caller passes it; null when the change replaces none
     */
    public abstract @Nullable String tokenBefore();

    /**
     * @return which of the variables this change touches (and their saved copies) the function had when planned,
     *     compared with the live function before the update; null in plans made before it was recorded
     */
    public abstract @Nullable List<String> presentBefore();

    /**
     * @return aliases moved after the update (to the version it publishes, or back on rollback); null when none,
     *     and in plans made before aliases were moved
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public abstract @Nullable List<AliasMove> aliases();

    /**
     * @return a builder of a state: every list and map starts empty, {@code publish} false, the nullable fields
     *     null
     */
    static Builder builder() {
        return new Builder();
    }

    /** Builds a {@link FunctionState}; the setters replace, the {@code add}/{@code put} methods append. */
    static final class Builder extends ImmutableFunctionState.Builder {}

    /** @return the aliases to move, empty when none */
    public List<AliasMove> aliasMoves() {
        List<AliasMove> moves = aliases();
        return moves == null ? List.of() : moves;
    }

    /** @return whether the function's layers and variables stay as they are: a change that only moves aliases */
    boolean keepsConfiguration() {
        return layers().equals(layersBefore())
                && set().isEmpty()
                && remove().isEmpty()
                && save().isEmpty()
                && restore().isEmpty();
    }

    /**
     * @param publishNow whether to publish a version
     * @param moves the aliases to move after the update
     * @return this state with them
     */
    FunctionState withServing(boolean publishNow, List<AliasMove> moves) {
        return ImmutableFunctionState.copyOf(this)
                .withPublish(publishNow)
                .withAliases(moves.isEmpty() ? null : List.copyOf(moves));
    }

    /**
     * @param env a function's variables
     * @return which of the variables this change touches, and their saved copies, {@code env} has, sorted
     */
    public List<String> presentIn(Map<String, String> env) {
        return present(env, set().keySet(), remove(), save(), restore());
    }

    /**
     * @param env a function's variables
     * @param names groups of variable names
     * @return the names, and their {@code CLOUDAEYE_SAVED__} copies, that {@code env} has, sorted
     */
    @SafeVarargs
    static List<String> present(Map<String, String> env, Collection<String>... names) {
        TreeSet<String> out = new TreeSet<>();
        for (Collection<String> group : names) {
            for (String n : group) {
                if (env.containsKey(n)) {
                    out.add(n);
                }
                if (env.containsKey(SAVED_PREFIX + n)) {
                    out.add(SAVED_PREFIX + n);
                }
            }
        }
        return new ArrayList<>(out);
    }
}
