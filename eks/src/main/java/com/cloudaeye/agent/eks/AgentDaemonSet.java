package com.cloudaeye.agent.eks;

import com.cloudaeye.agent.ConfigurationException;
import com.cloudaeye.agent.spi.support.ValueStyle;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.immutables.value.Value;
import org.jspecify.annotations.Nullable;

/**
 * How the CloudAEye logs agent runs on an EKS cluster's nodes: a DaemonSet installed from the chart shipped in this
 * module as one Helm release in its own namespace. Build with {@code AgentDaemonSet.builder().build()} for the
 * defaults (namespace and release {@code cloudaeye-agent}, the chart's image, tolerations reaching every node).
 *
 * <p>The token and logs endpoint come from the installer's agent settings; they are never chart values here.
 */
@Value.Immutable
@ValueStyle
public abstract class AgentDaemonSet {
    private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
    private static final Pattern IMAGE = Pattern.compile("[a-z0-9]+([._\\-/:][a-z0-9]+)*");
    private static final Pattern TAG = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
    private static final Pattern QUANTITY = Pattern.compile("[0-9]+(\\.[0-9]+)?(m|k|Ki|M|Mi|G|Gi|T|Ti)?");
    private static final Pattern VALUE_PATH = Pattern.compile("[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*");

    /** @return the namespace of the release and its objects, created when missing; default {@code cloudaeye-agent} */
    @Value.Default
    public String namespace() {
        return "cloudaeye-agent";
    }

    /** @return the Helm release name; default {@code cloudaeye-agent} */
    @Value.Default
    public String releaseName() {
        return "cloudaeye-agent";
    }

    /** @return the agent image repository, absent for the chart's default */
    public abstract Optional<String> image();

    /** @return the agent image tag, absent for the chart's appVersion */
    public abstract Optional<String> tag();

    /**
     * The agent container's resources, by Kubernetes path under {@code resources}, for example {@code
     * requests.cpu=100m} or {@code limits.memory=512Mi}. Empty keeps the chart's defaults.
     *
     * @return resource quantities by path
     */
    public abstract Map<String, String> resources();

    /**
     * The pod tolerations. Empty keeps the chart's default, which tolerates every taint ({@code operator: Exists}) so
     * the agent reaches tainted nodes too.
     *
     * @return the tolerations
     */
    public abstract List<Toleration> tolerations();

    /**
     * Any other chart value by its dotted path, as Helm's {@code --set} takes it: for example {@code
     * priorityClassName=high} or {@code updateStrategy.rollingUpdate.maxUnavailable=3}. {@code true}/{@code false}
     * and integers become booleans and numbers. The chart's {@code values.yaml} documents every value. Never put a
     * secret here: values are shown in plans and journals.
     *
     * @return extra values by dotted path
     */
    public abstract Map<String, String> extraValues();

    /**
     * How long an install or upgrade may take, including waiting for the DaemonSet's pods, before Helm rolls it
     * back. At most 10 minutes, because Helm uses one EKS token (valid 15 minutes) for the whole call.
     *
     * @return the timeout; default 5 minutes
     */
    @Value.Default
    public Duration timeout() {
        return Duration.ofMinutes(5);
    }

    /**
     * A kubeconfig to reach the cluster with instead of the EKS token this library makes from the caller's AWS
     * credentials, as {@code kubectl --kubeconfig FILE} would: its current context, cluster and user. Plans read the
     * installed release through it (its Helm release Secrets, with the RBAC the install needs anyway), so an unchanged
     * release re-plans to nothing. Tokens, token files, client certificates and exec plugins such as {@code aws eks
     * get-token} are read; with an {@code auth-provider} only Helm can use it, and plans then upgrade every time.
     *
     * @return the kubeconfig file, absent to authenticate with AWS credentials
     */
    public abstract Optional<Path> kubeconfig();

    /**
     * Reach the cluster through the kubeconfig kubectl uses when given none: the files {@code KUBECONFIG} lists,
     * merged as kubectl merges them, else {@code ~/.kube/config}. Read at plan and again at apply time.
     *
     * @return true to use the default kubeconfig; default false (the EKS token, unless {@link #kubeconfig()} is set)
     */
    @Value.Default
    public boolean defaultKubeconfig() {
        return false;
    }

    /** @return a new builder */
    public static Builder builder() {
        return new Builder();
    }

    /** @return the defaults */
    public static AgentDaemonSet defaults() {
        return builder().build();
    }

    @Value.Check
    void check() {
        requireDnsLabel("namespace", namespace());
        requireDnsLabel("releaseName", releaseName());
        if (releaseName().length() > 53) {
            throw new ConfigurationException("AgentDaemonSet releaseName '" + releaseName()
                    + "' is longer than Helm's 53 characters: choose a shorter name.");
        }
        image().ifPresent(i -> {
            if (!IMAGE.matcher(i).matches()) {
                throw new ConfigurationException("AgentDaemonSet image '" + i
                        + "' is not an image repository: pass e.g. public.ecr.aws/cloudaeye/logs-agent, without tag.");
            }
        });
        tag().ifPresent(t -> {
            if (!TAG.matcher(t).matches()) {
                throw new ConfigurationException("AgentDaemonSet tag '" + t
                        + "' is not an image tag: use letters, digits, '_', '.' and '-' (at most 128).");
            }
        });
        resources().forEach((path, quantity) -> {
            if (!path.matches("(requests|limits)\\.(cpu|memory|ephemeral-storage)")) {
                throw new ConfigurationException("AgentDaemonSet resource '" + path
                        + "' is not requests.cpu|memory|ephemeral-storage or limits.cpu|memory|ephemeral-storage.");
            }
            if (!QUANTITY.matcher(quantity).matches()) {
                throw new ConfigurationException("AgentDaemonSet resource " + path + " = '" + quantity
                        + "' is not a Kubernetes quantity: use e.g. 100m for CPU or 256Mi for memory.");
            }
        });
        extraValues().keySet().forEach(path -> {
            if (!VALUE_PATH.matcher(path).matches()) {
                throw new ConfigurationException("AgentDaemonSet extra value '" + path
                        + "' is not a dotted chart value path: use e.g. podAnnotations.team.");
            }
            if (path.equals("cloudaeye") || path.startsWith("cloudaeye.")) {
                throw new ConfigurationException("AgentDaemonSet extra value '" + path
                        + "' is set from the installer's agent settings: pass it with .agent(...) instead.");
            }
        });
        if (defaultKubeconfig() && kubeconfig().isPresent()) {
            throw new ConfigurationException("AgentDaemonSet has both kubeconfig("
                    + kubeconfig().get() + ") and defaultKubeconfig(true): pass one of them.");
        }
        if (timeout().compareTo(Duration.ofSeconds(1)) < 0 || timeout().compareTo(Duration.ofMinutes(10)) > 0) {
            throw new ConfigurationException("AgentDaemonSet timeout " + timeout()
                    + " is out of range: pass between 1 second and 10 minutes (an EKS token lasts 15 minutes).");
        }
    }

    private static void requireDnsLabel(String setting, String value) {
        if (value.length() > 63 || !DNS_LABEL.matcher(value).matches()) {
            throw new ConfigurationException("AgentDaemonSet " + setting + " '" + value
                    + "' is not a Kubernetes name: use at most 63 lower-case letters, digits and '-', starting and"
                    + " ending with a letter or digit.");
        }
    }

    /** Builds an {@link AgentDaemonSet}. */
    public static final class Builder extends ImmutableAgentDaemonSet.Builder {
        Builder() {}
    }

    /**
     * One Kubernetes toleration of the agent pods.
     *
     * @param key the taint key, null to match every key (then operator must be {@code Exists})
     * @param operator {@code Exists} or {@code Equal}
     * @param value the taint value for {@code Equal}, else null
     * @param effect {@code NoSchedule}, {@code PreferNoSchedule}, {@code NoExecute}, or null for all
     */
    public record Toleration(
            @Nullable String key,
            String operator,
            @Nullable String value,
            @Nullable String effect) {
        /** Validates the toleration. */
        public Toleration {
            if (!"Exists".equals(operator) && !"Equal".equals(operator)) {
                throw new ConfigurationException(
                        "Toleration operator '" + operator + "' is not valid: use Exists or Equal.");
            }
            if (key == null && !"Exists".equals(operator)) {
                throw new ConfigurationException("A toleration without a key must use operator Exists.");
            }
            if ("Exists".equals(operator) && value != null) {
                throw new ConfigurationException(
                        "Toleration of key '" + key + "' has operator Exists and a value: drop the value.");
            }
            if (effect != null
                    && !List.of("NoSchedule", "PreferNoSchedule", "NoExecute").contains(effect)) {
                throw new ConfigurationException("Toleration effect '" + effect
                        + "' is not valid: use NoSchedule, PreferNoSchedule, NoExecute, or null for all.");
            }
        }

        /**
         * @param key the taint key
         * @param effect the effect, or null for all
         * @return a toleration of every value of the key
         */
        public static Toleration exists(String key, String effect) {
            return new Toleration(key, "Exists", null, effect);
        }

        /**
         * @param key the taint key
         * @param value the taint value
         * @param effect the effect, or null for all
         * @return a toleration of one key and value
         */
        public static Toleration equal(String key, String value, String effect) {
            return new Toleration(key, "Equal", value, effect);
        }
    }
}
