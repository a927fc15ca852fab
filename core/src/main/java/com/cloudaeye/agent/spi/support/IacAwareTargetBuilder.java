package com.cloudaeye.agent.spi.support;

import com.cloudaeye.agent.ConfigurationException;
import com.cloudaeye.agent.ManagedResources;

/**
 * The builder piece every target whose resources infrastructure as code may own shares: the
 * {@link #managedResources(ManagedResources) managedResources} setting, with one default, one meaning and one
 * validation. A target's builder extends it with itself as {@code B}
 * ({@code final class Builder extends IacAwareTargetBuilder<Builder>}) and reads the setting in its {@code build()}
 * with {@link #validManagedResources()}; the target's own documentation says what its template fragments hold and
 * what reading the owners' tags costs.
 *
 * @param <B> the target's builder
 */
public abstract class IacAwareTargetBuilder<B extends IacAwareTargetBuilder<B>> {
    private ManagedResources managedResources = ManagedResources.warn();

    /** For the target's builder. */
    protected IacAwareTargetBuilder() {}

    /**
     * What to do with the resources this target would change that infrastructure as code owns (a CloudFormation,
     * SAM or CDK stack, or the tool an {@link ManagedResources.Builder#ownerTag owner tag} names), whose next
     * deployment would revert the change: warn (the default), skip them, or skip them and print what their template
     * should have instead (the target's documentation says what).
     *
     * @param managedResources the settings, e.g. {@code ManagedResources.skip()}
     * @return this
     */
    @SuppressWarnings("unchecked") // B is the subclass itself, as the class's contract states
    public final B managedResources(ManagedResources managedResources) {
        this.managedResources = managedResources;
        return (B) this;
    }

    /**
     * @return the {@link #managedResources(ManagedResources)} setting, for {@code build()}
     * @throws ConfigurationException when it was set to null
     */
    protected final ManagedResources validManagedResources() {
        if (managedResources == null) { // a caller without NullAway may pass null
            throw new ConfigurationException(
                    "managedResources(null): pass ManagedResources.warn(), .skip() or .template(format).");
        }
        return managedResources;
    }
}
