package com.cloudaeye.agent;

import com.cloudaeye.agent.spi.support.ValueStyle;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import org.immutables.value.Value;

/** One IAM action on one resource, for example {@code lambda:UpdateFunctionConfiguration} on a function ARN. */
@Value.Immutable
@ValueStyle
@JsonSerialize(as = ImmutablePermission.class)
@JsonDeserialize(as = ImmutablePermission.class)
public abstract class Permission implements Comparable<Permission> {
    /** @return the IAM action, {@code service:Operation} */
    @Value.Parameter
    public abstract String action();

    /** @return the resource ARN, or {@code *} for actions that AWS does not scope by resource */
    @Value.Parameter
    public abstract String resource();

    /**
     * @param action the IAM action, {@code service:Operation}
     * @param resource the resource ARN or {@code *}
     * @return the permission
     */
    public static Permission of(String action, String resource) {
        return ImmutablePermission.of(action, resource);
    }

    @Value.Check
    void check() {
        if (!action().matches("[a-z0-9-]+:[A-Za-z0-9*]+")) {
            throw new IllegalArgumentException("Not an IAM action: '" + action() + "' (expected service:Operation)");
        }
        if (!resource().equals("*") && !resource().startsWith("arn:")) {
            throw new IllegalArgumentException("Not an ARN or '*': '" + resource() + "'");
        }
    }

    @Override
    public int compareTo(Permission o) {
        int c = action().compareTo(o.action());
        return c != 0 ? c : resource().compareTo(o.resource());
    }

    @Override
    public String toString() {
        return action() + " on " + resource();
    }
}
