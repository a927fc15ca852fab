package com.cloudaeye.agent;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a target does with a resource that infrastructure as code owns: a Lambda function, an ECS task definition or
 * an ECS service that a CloudFormation, SAM or CDK stack made (AWS tags it {@value #STACK_NAME_TAG} and
 * {@value #LOGICAL_ID_TAG}), or one that carries a tag the caller names for Terraform or another tool. The next
 * deployment of its owner reverts a direct change, which silently removes the agent again (or fails on drift).
 *
 * <pre>{@code
 * LambdaTarget.builder()
 *         .functions("*")
 *         .managedResources(ManagedResources.builder()
 *                 .action(ManagedResources.Action.TEMPLATE)
 *                 .ownerTag("managed-by", "terraform")
 *                 .build())
 *         ...
 * }</pre>
 *
 * <p>The default is {@link #warn()}: such resources are changed like others and each change names its owner.
 */
public final class ManagedResources {
    /** The tag CloudFormation (and so SAM and CDK) puts on every resource of a stack: the stack's name. */
    public static final String STACK_NAME_TAG = "aws:cloudformation:stack-name";

    /** The tag CloudFormation puts on every resource of a stack: the resource's logical id in the template. */
    public static final String LOGICAL_ID_TAG = "aws:cloudformation:logical-id";

    /** What to do with an owned resource. */
    public enum Action {
        /** Plan the change as for any resource, with a warning that names the owner (the default). */
        WARN,
        /** Skip the resource, naming its owner. */
        SKIP,
        /**
         * Skip the resource and put, in the plan's notes, the template fragment its owner should add instead, so
         * the change is made where it belongs. An uninstall skips like {@link #SKIP}.
         */
        TEMPLATE
    }

    /** How {@link Action#TEMPLATE} writes fragments. */
    public enum Format {
        /** CloudFormation YAML. */
        YAML,
        /** CloudFormation JSON. */
        JSON
    }

    private static final ManagedResources WARN = builder().build();

    private final Action action;
    private final Format format;
    private final Map<String, String> ownerTags;

    private ManagedResources(Builder b) {
        this.action = b.action;
        this.format = b.format;
        this.ownerTags = Collections.unmodifiableMap(new LinkedHashMap<>(b.ownerTags));
    }

    /** @return the default: warn about CloudFormation-owned resources and change them */
    public static ManagedResources warn() {
        return WARN;
    }

    /** @return skip CloudFormation-owned resources */
    public static ManagedResources skip() {
        return builder().action(Action.SKIP).build();
    }

    /**
     * @param format YAML or JSON
     * @return skip CloudFormation-owned resources and emit the template fragments their stacks should add
     */
    public static ManagedResources template(Format format) {
        return builder().action(Action.TEMPLATE).format(format).build();
    }

    /** @return a new builder */
    public static Builder builder() {
        return new Builder();
    }

    /** @return what to do with an owned resource */
    public Action action() {
        return action;
    }

    /** @return the format of template fragments */
    public Format format() {
        return format;
    }

    /**
     * @return the extra tags that mark a resource as owned (by Terraform, for example), key to value; an empty value
     *     matches any value. CloudFormation's {@value #STACK_NAME_TAG} always does.
     */
    public Map<String, String> ownerTags() {
        return ownerTags;
    }

    @Override
    public String toString() {
        return "ManagedResources{" + action + (action == Action.TEMPLATE ? " " + format : "")
                + (ownerTags.isEmpty() ? "" : ", ownerTags=" + ownerTags) + "}";
    }

    /** Builds {@link ManagedResources}. */
    public static final class Builder {
        private Action action = Action.WARN;
        private Format format = Format.YAML;
        private final Map<String, String> ownerTags = new LinkedHashMap<>();

        private Builder() {}

        /**
         * @param action what to do with an owned resource (default {@link Action#WARN})
         * @return this
         */
        public Builder action(Action action) {
            this.action = action;
            return this;
        }

        /**
         * @param format how {@link Action#TEMPLATE} writes fragments (default {@link Format#YAML})
         * @return this
         */
        public Builder format(Format format) {
            this.format = format;
            return this;
        }

        /**
         * Also treats resources carrying this tag, whatever its value, as owned: Terraform and most other tools set
         * no standard tag, so name the one your modules set (e.g. {@code managed-by}). Appends.
         *
         * @param key the tag key
         * @return this
         */
        public Builder ownerTag(String key) {
            return ownerTag(key, "");
        }

        /**
         * Also treats resources carrying this tag with this value as owned, e.g. {@code ("managed-by", "terraform")}.
         * Appends.
         *
         * @param key the tag key
         * @param value the tag value; empty for any value
         * @return this
         */
        public Builder ownerTag(String key, String value) {
            ownerTags.put(key, value);
            return this;
        }

        /**
         * @return the settings
         * @throws ConfigurationException when an action, a format or a tag key is missing
         */
        public ManagedResources build() {
            if (action == null || format == null) { // a caller without NullAway may pass null
                throw new ConfigurationException("ManagedResources needs an action and a format: use"
                        + " .action(ManagedResources.Action.WARN) and .format(ManagedResources.Format.YAML).");
            }
            ownerTags.forEach((k, v) -> {
                if (k == null || k.isBlank() || v == null) {
                    throw new ConfigurationException("An owner tag needs a key (and a value, empty for any):"
                            + " .ownerTag(\"managed-by\", \"terraform\").");
                }
            });
            return new ManagedResources(this);
        }
    }
}
