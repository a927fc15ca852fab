package com.cloudaeye.agent.eks;

import com.cloudaeye.agent.ConfigurationException;
import com.cloudaeye.agent.spi.support.ValueStyle;
import java.util.Optional;
import java.util.function.Consumer;
import org.immutables.value.Value;

/**
 * How CloudAEye gets read access to the cluster's control-plane logs in CloudWatch Logs. Two modes:
 *
 * <ul>
 *   <li>{@link Mode#IAM_USER_STACK}, as the original script: the CloudFormation stack {@code
 *       CloudAEyeServiceAccountStack} creates the IAM user {@code CloudAEyeServiceAccount} and the managed policy
 *       {@code CloudAEyeServiceAccountPolicy}; the installer then creates an access key whose secret goes only to
 *       {@link #accessKeySink()}. A long-lived key: you store it with CloudAEye and rotate it yourself.
 *   <li>{@link Mode#CROSS_ACCOUNT_ROLE}, keyless: the IAM role {@code CloudAEyeServiceAccountRole} that CloudAEye's
 *       account assumes with an external ID. No secret exists to leak or rotate; CloudAEye's credentials last an hour.
 * </ul>
 *
 * <pre>{@code
 * .cloudAEyeAccess(a -> a.iamUserStack().accessKeySink(key -> vault.store(key.accessKeyId(), key.secretAccessKey())))
 * .cloudAEyeAccess(a -> a.crossAccountRole("111122223333", externalId))
 * }</pre>
 */
@Value.Immutable
@ValueStyle
public abstract class CloudAEyeAccess {
    /** The two ways CloudAEye can read the logs. */
    public enum Mode {
        /** An IAM user (made by a CloudFormation stack) with an access key. */
        IAM_USER_STACK,
        /** A cross-account IAM role that CloudAEye assumes with an external ID; no key. */
        CROSS_ACCOUNT_ROLE
    }

    /** @return the mode */
    public abstract Mode mode();

    /**
     * @return where a newly created access key goes (user mode only): the only place its secret is ever handed to.
     *     Called at most once per apply, on the applying thread.
     */
    public abstract Optional<Consumer<AccessKey>> accessKeySink();

    /**
     * @return the id of the user's access key that the caller (CloudAEye) still holds (user mode only): when the user
     *     has it, no new key is created
     */
    public abstract Optional<String> reuseAccessKey();

    /** @return CloudAEye's AWS account id, which may assume the role (role mode only) */
    public abstract Optional<String> cloudAEyeAccountId();

    /** @return the external ID CloudAEye must present when it assumes the role (role mode only) */
    public abstract Optional<String> externalId();

    /** @return a new builder; choose a mode with {@link Builder#iamUserStack()} or {@link Builder#crossAccountRole} */
    public static Builder builder() {
        return new Builder();
    }

    @Value.Check
    void check() {
        if (mode() == Mode.IAM_USER_STACK) {
            if (accessKeySink().isEmpty()) {
                throw new ConfigurationException("cloudAEyeAccess: the IAM-user mode needs an accessKeySink(key -> ...)"
                        + " to receive the new access key's secret; it is never printed or stored anywhere else.");
            }
            if (cloudAEyeAccountId().isPresent() || externalId().isPresent()) {
                throw new ConfigurationException("cloudAEyeAccess: an account id and external ID belong to"
                        + " crossAccountRole(...), not to iamUserStack(): choose one mode.");
            }
            reuseAccessKey().ifPresent(id -> {
                if (!id.matches("[A-Z0-9]{16,128}")) {
                    // Not echoed: a caller who pasted the secret by mistake must not see it in a log.
                    throw new ConfigurationException("cloudAEyeAccess: the value given to reuseAccessKey(...) is not"
                            + " an access key id (16 or more upper-case letters and digits): pass the id (AKIA...),"
                            + " never the secret.");
                }
            });
        } else {
            String account = cloudAEyeAccountId().orElse("");
            if (!account.matches("[0-9]{12}")) {
                throw new ConfigurationException("cloudAEyeAccess: crossAccountRole needs CloudAEye's 12-digit AWS"
                        + " account id, got '" + account + "'.");
            }
            String external = externalId().orElse("");
            if (!external.matches("[\\w+=,.@:/-]{2,1224}")) {
                throw new ConfigurationException("cloudAEyeAccess: crossAccountRole needs the external ID CloudAEye"
                        + " gave you (2 to 1224 letters, digits or +=,.@:/-_).");
            }
            if (accessKeySink().isPresent() || reuseAccessKey().isPresent()) {
                throw new ConfigurationException("cloudAEyeAccess: the cross-account role needs no access key:"
                        + " remove accessKeySink(...) and reuseAccessKey(...), or use iamUserStack().");
            }
        }
    }

    /** Builds {@link CloudAEyeAccess}; validation happens in {@code build()}. */
    public static final class Builder extends ImmutableCloudAEyeAccess.Builder {
        Builder() {}

        /**
         * Selects the IAM-user mode of the original script; add an {@code accessKeySink(...)}.
         *
         * @return this
         */
        public Builder iamUserStack() {
            mode(Mode.IAM_USER_STACK);
            return this;
        }

        /**
         * Selects the keyless cross-account role mode.
         *
         * @param cloudAEyeAccountId CloudAEye's 12-digit AWS account id
         * @param externalId the external ID CloudAEye gave you
         * @return this
         */
        public Builder crossAccountRole(String cloudAEyeAccountId, String externalId) {
            mode(Mode.CROSS_ACCOUNT_ROLE);
            cloudAEyeAccountId(cloudAEyeAccountId);
            externalId(externalId);
            return this;
        }
    }
}
