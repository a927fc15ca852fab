package com.cloudaeye.agent;

import com.cloudaeye.agent.spi.support.ValueStyle;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import java.util.Optional;
import org.immutables.value.Value;
import org.jspecify.annotations.Nullable;

/**
 * One attribute of a resource before and after a change. An empty side means the attribute is absent. Values of
 * sensitive attributes are always {@link Secret#REDACTED}.
 */
@Value.Immutable
@ValueStyle
@JsonSerialize(as = ImmutableAttributeChange.class)
@JsonDeserialize(as = ImmutableAttributeChange.class)
public abstract class AttributeChange {
    /** @return the attribute's name, for example {@code Layers} or {@code Environment.CLOUDAEYE_API_TOKEN} */
    public abstract String name();

    /** @return the value before the change, absent when the attribute did not exist */
    public abstract Optional<String> before();

    /** @return the value after the change, absent when the attribute is removed */
    public abstract Optional<String> after();

    /** @return whether the value is a secret and therefore redacted */
    @Value.Default
    public boolean sensitive() {
        return false;
    }

    /**
     * A plain attribute change.
     *
     * @param name attribute name
     * @param before value before, null when absent
     * @param after value after, null when removed
     * @return the change
     */
    public static AttributeChange of(String name, @Nullable String before, @Nullable String after) {
        return ImmutableAttributeChange.builder()
                .name(name)
                .before(before)
                .after(after)
                .build();
    }

    /**
     * A change of a secret attribute: only presence is shown, never the value.
     *
     * @param name attribute name
     * @param presentBefore whether it had a value before
     * @param presentAfter whether it has a value after
     * @return the redacted change
     */
    public static AttributeChange redacted(String name, boolean presentBefore, boolean presentAfter) {
        return ImmutableAttributeChange.builder()
                .name(name)
                .before(presentBefore ? Secret.REDACTED : null)
                .after(presentAfter ? Secret.REDACTED : null)
                .sensitive(true)
                .build();
    }

    @Override
    public String toString() {
        return name() + ": " + before().orElse("(absent)") + " -> " + after().orElse("(absent)");
    }
}
