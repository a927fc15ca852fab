package com.cloudaeye.agent;

/**
 * Names a sink that the caller gives the installer ({@link AgentInstallerBuilder#sink(SinkKey,
 * java.util.function.Consumer)}) for something a target hands over during an apply and that never goes into a plan, a
 * journal, a log or an exception: e.g. the secret of an access key the apply creates. A platform module declares its
 * keys as constants (e.g. {@code EksTarget.ACCESS_KEY_SINK}). The installer that applies a saved plan or a journal has
 * no configured target (it finds the target through {@link java.util.ServiceLoader}), so this is where the target
 * finds the sink; a target's own setting, where it has one, comes first.
 *
 * <p>Keys compare by identity: two keys made with the same name are different keys.
 *
 * @param <T> what the sink receives
 */
@SuppressWarnings("UnusedTypeParameter") // a type token: it ties the key to its sink's type at compile time
public final class SinkKey<T> {
    private final String name;

    private SinkKey(String name) {
        this.name = name;
    }

    /**
     * @param name a stable name for messages, e.g. {@code eks.accessKeySink}
     * @param <T> what the sink receives
     * @return a new key
     */
    public static <T> SinkKey<T> of(String name) {
        if (name.isBlank()) {
            throw new ConfigurationException("SinkKey.of(name): the name must not be blank.");
        }
        return new SinkKey<>(name);
    }

    /** @return the key's name */
    public String name() {
        return name;
    }

    @Override
    public String toString() {
        return "SinkKey[" + name + "]";
    }
}
