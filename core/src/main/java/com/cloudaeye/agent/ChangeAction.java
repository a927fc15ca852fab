package com.cloudaeye.agent;

/** What a {@link Change} does to its resource. */
public enum ChangeAction {
    /** A new resource is created. */
    CREATE,
    /** An existing resource is modified. */
    UPDATE,
    /** A resource is deleted. */
    DELETE,
    /** The resource is already as wanted: nothing to do. */
    NO_OP,
    /** The resource was selected but is left alone; {@link Change#reason()} says why. */
    SKIP;

    /** @return true for actions that change something in the account */
    public boolean isMutation() {
        return this == CREATE || this == UPDATE || this == DELETE;
    }

    /** @return the lower-case name used in tables and JSON */
    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }
}
