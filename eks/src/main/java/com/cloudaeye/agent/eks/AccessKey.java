package com.cloudaeye.agent.eks;

import com.cloudaeye.agent.Secret;
import com.cloudaeye.agent.spi.support.ValueStyle;
import org.immutables.value.Value;

/**
 * An IAM access key that the installer created for CloudAEye's service user, handed only to the caller's {@link
 * CloudAEyeAccess#accessKeySink()}. The secret prints as {@code ****}; pass {@link Secret#reveal()} to CloudAEye and
 * nowhere else. AWS shows the secret only once: it cannot be read again later.
 */
@Value.Immutable
@ValueStyle
public abstract class AccessKey {
    /** @return the IAM user the key belongs to */
    public abstract String userName();

    /** @return the access key id, e.g. {@code AKIA...} (not secret) */
    public abstract String accessKeyId();

    /** @return the secret access key */
    public abstract Secret secretAccessKey();

    /** @return a new builder */
    public static Builder builder() {
        return new Builder();
    }

    /** Builds an {@link AccessKey}. */
    public static final class Builder extends ImmutableAccessKey.Builder {
        Builder() {}
    }
}
