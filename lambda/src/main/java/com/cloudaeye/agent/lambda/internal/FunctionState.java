package com.cloudaeye.agent.lambda.internal;

import static com.cloudaeye.agent.lambda.LambdaTarget.SAVED_PREFIX;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;

/**
 * What a planned Lambda change does, kept in {@code Change.targetState()} ({@link LambdaStates} writes and reads it). The environment is described as
 * operations on the live variables, never as a copy of them, so no user value lands in a plan or journal. A
 * {@code null} value in {@link #set} stands for the API token, read from the agent settings at apply time.
 *
 * @param revisionId the function's RevisionId when planned; the update is sent only against it (null only from
 *     emulators that do not track revisions)
 * @param layers the complete layer list to send
 * @param layersBefore the layer list when planned (for rollback, and compared with the live list before the update)
 * @param set variables to set; a null value is the API token
 * @param remove variables to delete
 * @param save variables whose user value is copied to {@code CLOUDAEYE_SAVED__NAME} before {@link #set}
 * @param restore variables restored from {@code CLOUDAEYE_SAVED__NAME} (which is then deleted)
 * @param previous earlier non-secret values of the agent's own variables, for rollback of an upgrade
 * @param publish whether to publish a version after the update
 * @param tokenBefore a keyed hash ({@link TokenHash}) of the API token this change replaces or removes, so a
 *     rollback recognises the earlier token when the caller passes it; null when the change replaces none
 * @param presentBefore which of the variables this change touches (and their saved copies) the function had when
 *     planned, compared with the live function before the update; null in plans made before it was recorded
 * @param aliases aliases moved after the update (to the version it publishes, or back on rollback); null in plans
 *     made before aliases were moved
 */
public record FunctionState(
        @Nullable String revisionId,
        List<String> layers,
        List<String> layersBefore,
        Map<String, @Nullable String> set,
        List<String> remove,
        List<String> save,
        List<String> restore,
        Map<String, String> previous,
        boolean publish,
        @Nullable String tokenBefore,
        @Nullable List<String> presentBefore,
        @JsonInclude(JsonInclude.Include.NON_NULL) @Nullable List<AliasMove> aliases) {

    /** @return a builder of a state that moves no alias: empty lists and maps, no publish, nothing else set */
    static Builder builder() {
        return new Builder();
    }

    /** Builds a {@link FunctionState}; every field starts empty (or false, or null). */
    static final class Builder {
        private @Nullable String revisionId;
        private List<String> layers = List.of();
        private List<String> layersBefore = List.of();
        private Map<String, @Nullable String> set = Map.of();
        private List<String> remove = List.of();
        private List<String> save = List.of();
        private List<String> restore = List.of();
        private Map<String, String> previous = Map.of();
        private boolean publish;
        private @Nullable String tokenBefore;
        private @Nullable List<String> presentBefore;
        private @Nullable List<AliasMove> aliases;

        private Builder() {}

        Builder revisionId(@Nullable String value) {
            this.revisionId = value;
            return this;
        }

        Builder layers(List<String> value) {
            this.layers = value;
            return this;
        }

        Builder layersBefore(List<String> value) {
            this.layersBefore = value;
            return this;
        }

        Builder set(Map<String, @Nullable String> value) {
            this.set = value;
            return this;
        }

        Builder remove(List<String> value) {
            this.remove = value;
            return this;
        }

        Builder save(List<String> value) {
            this.save = value;
            return this;
        }

        Builder restore(List<String> value) {
            this.restore = value;
            return this;
        }

        Builder previous(Map<String, String> value) {
            this.previous = value;
            return this;
        }

        Builder publish(boolean value) {
            this.publish = value;
            return this;
        }

        Builder tokenBefore(@Nullable String value) {
            this.tokenBefore = value;
            return this;
        }

        Builder presentBefore(@Nullable List<String> value) {
            this.presentBefore = value;
            return this;
        }

        Builder aliases(@Nullable List<AliasMove> value) {
            this.aliases = value;
            return this;
        }

        FunctionState build() {
            return new FunctionState(
                    revisionId,
                    layers,
                    layersBefore,
                    set,
                    remove,
                    save,
                    restore,
                    previous,
                    publish,
                    tokenBefore,
                    presentBefore,
                    aliases);
        }
    }

    /** @return the aliases to move, empty when none */
    public List<AliasMove> aliasMoves() {
        return aliases == null ? List.of() : aliases;
    }

    /** @return whether the function's layers and variables stay as they are: a change that only moves aliases */
    boolean keepsConfiguration() {
        return layers.equals(layersBefore) && set.isEmpty() && remove.isEmpty() && save.isEmpty() && restore.isEmpty();
    }

    /**
     * @param publishNow whether to publish a version
     * @param moves the aliases to move after the update
     * @return this state with them
     */
    FunctionState withServing(boolean publishNow, List<AliasMove> moves) {
        return new FunctionState(
                revisionId,
                layers,
                layersBefore,
                set,
                remove,
                save,
                restore,
                previous,
                publishNow,
                tokenBefore,
                presentBefore,
                moves.isEmpty() ? null : List.copyOf(moves));
    }

    /**
     * @param env a function's variables
     * @return which of the variables this change touches, and their saved copies, {@code env} has, sorted
     */
    public List<String> presentIn(Map<String, String> env) {
        return present(env, set.keySet(), remove, save, restore);
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
