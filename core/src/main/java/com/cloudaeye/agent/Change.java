package com.cloudaeye.agent;

import com.cloudaeye.agent.spi.support.ValueStyle;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.util.List;
import java.util.Optional;
import org.immutables.value.Value;

/**
 * What a plan does to one resource: the action, each attribute's before and after (secrets redacted), the IAM
 * permissions the action needs, and, for skips and no-ops, the reason.
 */
@Value.Immutable
@ValueStyle
@JsonSerialize(as = ImmutableChange.class)
@JsonDeserialize(as = ImmutableChange.class)
public abstract class Change implements Comparable<Change> {
    /** @return the name of the target that planned this change and applies it, e.g. {@code lambda} */
    public abstract String target();

    /** @return the CloudFormation-style resource type, e.g. {@code AWS::Lambda::Function} */
    public abstract String resourceType();

    /** @return the resource's ARN (or, where it has none, its unique name) */
    public abstract String resourceId();

    /** @return what the change does */
    public abstract ChangeAction action();

    /** @return why a resource is skipped or unchanged, or a note on the change */
    public abstract Optional<String> reason();

    /** @return each attribute that changes, before and after */
    public abstract List<AttributeChange> attributes();

    /** @return the IAM permissions that applying this change needs, empty for skips and no-ops */
    public abstract List<Permission> permissions();

    /** @return things the reviewer should know (costs, trade-offs), not errors */
    public abstract List<String> warnings();

    /**
     * The target's own data for applying and restoring the change (for example the planned revision id and the
     * before-state), opaque to callers. It never holds a secret: targets read secrets from the settings at apply.
     * Its type is Jackson 2's tree on purpose: Jackson 2 databind is part of this API's contract (README,
     * "Dependencies").
     *
     * @return the target's data, an empty object when it needs none
     */
    @Value.Default
    public JsonNode targetState() {
        return JsonNodeFactory.instance.objectNode();
    }

    /** @return true when applying this change changes the account */
    @JsonIgnore
    public boolean isMutation() {
        return action().isMutation();
    }

    /** @return a new builder */
    public static Builder builder() {
        return new Builder();
    }

    @Value.Check
    void check() {
        if (action() == ChangeAction.SKIP && reason().isEmpty()) {
            throw new IllegalStateException("A skipped change needs a reason: " + resourceId());
        }
    }

    @Override
    public int compareTo(Change o) {
        int c = target().compareTo(o.target());
        if (c == 0) {
            c = resourceType().compareTo(o.resourceType());
        }
        return c != 0 ? c : resourceId().compareTo(o.resourceId());
    }

    /** Builds a {@link Change}. */
    public static final class Builder extends ImmutableChange.Builder {
        Builder() {}
    }
}
