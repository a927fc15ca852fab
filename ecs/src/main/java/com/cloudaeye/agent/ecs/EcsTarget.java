package com.cloudaeye.agent.ecs;

import com.cloudaeye.agent.ConfigurationException;
import com.cloudaeye.agent.ecs.internal.EcsPlanner;
import com.cloudaeye.agent.ecs.internal.EcsService;
import com.cloudaeye.agent.ecs.internal.Selection;
import com.cloudaeye.agent.spi.Target;
import com.cloudaeye.agent.spi.TargetContext;
import com.cloudaeye.agent.spi.TargetPlan;
import com.cloudaeye.agent.spi.TargetService;
import com.cloudaeye.agent.spi.support.Globs;
import com.cloudaeye.agent.spi.support.IacAwareTargetBuilder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/**
 * Puts CloudAEye's log router into Amazon ECS services (Fargate or EC2): one new task definition revision per
 * source revision, with a FireLens router sidecar and the application containers logging to it, then (when asked)
 * rolls the services out to it and waits until they are stable.
 *
 * <pre>{@code
 * EcsTarget.builder()
 *         .cluster("prod")
 *         .services("*").exclude("legacy-*")
 *         .sidecar(s -> s.image("public.ecr.aws/cloudaeye/log-router:1.4.0"))
 *         .updateServices(true)
 *         .waitForStable(Duration.ofMinutes(10))
 *         .allowTaskResize(true)
 *         .build();
 * }</pre>
 *
 * <p>Uninstall registers revisions without the router, with every application container's previous log
 * configuration restored, and rolls them out the same way. Rollback puts services back on their previous revision,
 * then deregisters the revisions the apply registered, except one that a service of the cluster runs since.
 *
 * <p>What it changes, and the permissions the plan's policy asks for:
 *
 * <ul>
 *   <li>one new revision per source revision (services sharing a revision share the new one), carrying every
 *       registrable field and tag of the source: {@code ecs:RegisterTaskDefinition} (on {@code *}, AWS does not
 *       scope it), {@code ecs:TagResource} on the family when the source has tags, and {@code iam:PassRole} on exactly
 *       the task and execution roles it names;
 *   <li>with {@link Builder#updateServices(boolean)}, each service moved to its new revision:
 *       {@code ecs:UpdateService} and {@code ecs:DescribeServices} on exactly the planned service ARNs.
 * </ul>
 *
 * <p>The API token reaches the router from a Secrets Manager secret or SSM parameter when
 * {@link LogRouter#apiTokenSecretArn()} is set (recommended); otherwise as a plain environment value, which the plan
 * warns about. It never appears in a plan, a journal or a log.
 *
 * <p>Task definitions and services that infrastructure as code owns ({@link Builder#managedResources}): a service
 * counts as owned when its task definition is, and the tags come with the reads planning makes anyway. Their template
 * fragments hold the container definitions the task definition should have (the log router, and each application
 * container's log configuration).
 */
public final class EcsTarget implements Target {
    /** The target's name in plans and journals. */
    public static final String NAME = "ecs";

    private final Selection selection;

    /** @return a new builder */
    public static Builder builder() {
        return new Builder();
    }

    private EcsTarget(Selection selection) {
        this.selection = selection;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public TargetPlan plan(TargetContext context) {
        return new EcsPlanner(selection, context).planInstall();
    }

    @Override
    public TargetPlan planUninstall(TargetContext context) {
        return new EcsPlanner(selection, context).planUninstall();
    }

    /** @return the service that applies and rolls back ECS changes: everything they need is in the changes */
    @Override
    public TargetService service() {
        return new EcsService();
    }

    @Override
    public String toString() {
        return "EcsTarget " + selection;
    }

    /** Builds an {@link EcsTarget}; validation happens in {@link #build()}. */
    public static final class Builder extends IacAwareTargetBuilder<Builder> {
        private @Nullable String cluster;
        private final List<String> services = new ArrayList<>();
        private final List<String> excludes = new ArrayList<>();
        private @Nullable LogRouter sidecar;
        private boolean updateServices;
        private @Nullable Duration waitTimeout;
        private Duration pollInterval = Duration.ofSeconds(15);
        private boolean allowTaskResize;

        private Builder() {}

        /**
         * The cluster whose services the target covers. An ARN must name the installer's region and the account its
         * credentials act in: ECS lets no other account change a cluster's services, so planning refuses another
         * account's or another region's cluster before any ECS call with a {@code NothingSelectedException} naming
         * both and the fix (credentials of that account, an installer for that region, or a {@code FleetInstaller}
         * over them). In a {@code FleetInstaller}, a cluster ARN of another account-region of the fleet is that
         * member's (the others note nothing to do), and one outside the fleet is refused before any call, naming the
         * ARN, the fleet's accounts and regions and the fix.
         *
         * @param cluster the cluster's name or ARN; required
         * @return this
         */
        public Builder cluster(String cluster) {
            this.cluster = cluster;
            return this;
        }

        /**
         * Replaces the service selection. An ARN must name the target's cluster (refused by {@link #build()}), the
         * installer's region and the account its credentials act in: planning refuses another region's or another
         * account's ARN before any ECS call, naming both, with a {@code NothingSelectedException} when every service
         * given is such an ARN, else a {@code PlanningException}. In a {@code FleetInstaller}, one selection may name
         * services of every account and region of the fleet by ARN: each member plans those of its own account-region
         * and leaves the others to their members (a member left none notes nothing to do there); an ARN of an account
         * or region outside the fleet is refused before any call, naming the ARN, the fleet and the fix.
         *
         * @param services service names, ARNs or glob patterns ({@code *} for every service of the cluster)
         * @return this
         */
        public Builder services(String... services) {
            this.services.clear();
            return addServices(services);
        }

        /**
         * Adds to the service selection (appends, as {@code LambdaTarget.Builder.addFunctions} does). ARNs are
         * checked as for {@link #services}.
         *
         * @param services service names, ARNs or glob patterns
         * @return this
         */
        public Builder addServices(String... services) {
            this.services.addAll(Arrays.asList(services));
            return this;
        }

        /**
         * Leaves out services that match one of these, even when selected otherwise. Appends. An ARN counts by its
         * service name, in the target's cluster (another cluster's ARN is refused by {@link #build()}); its account
         * and region are not checked, since leaving out more than meant changes nothing.
         *
         * @param patterns service names, ARNs or glob patterns to leave alone, e.g. {@code legacy-*}
         * @return this
         */
        public Builder exclude(String... patterns) {
            this.excludes.addAll(Arrays.asList(patterns));
            return this;
        }

        /**
         * @param sidecar the log router
         * @return this
         */
        public Builder sidecar(LogRouter sidecar) {
            this.sidecar = sidecar;
            return this;
        }

        /**
         * @param sidecar configures the log router; {@code image(...)} is required
         * @return this
         */
        public Builder sidecar(Consumer<LogRouter.Builder> sidecar) {
            LogRouter.Builder b = LogRouter.builder();
            sidecar.accept(b);
            this.sidecar = b.build();
            return this;
        }

        /**
         * @param update whether to roll each service out to its new revision (default false: only register the
         *     revisions)
         * @return this
         */
        public Builder updateServices(boolean update) {
            this.updateServices = update;
            return this;
        }

        /**
         * Waits, after each service update, until its deployment completes or fails, polling every 15 seconds.
         *
         * @param timeout how long to wait per service before reporting it {@code UNKNOWN} (updated, rollout not
         *     confirmed: ECS keeps deploying, and a rollback moves it back)
         * @return this
         */
        public Builder waitForStable(Duration timeout) {
            return waitForStable(timeout, Duration.ofSeconds(15));
        }

        /**
         * @param timeout how long to wait per service before reporting it {@code UNKNOWN} (updated, rollout not
         *     confirmed: ECS keeps deploying, and a rollback moves it back)
         * @param pollInterval how often to read the deployment's state
         * @return this
         */
        public Builder waitForStable(Duration timeout, Duration pollInterval) {
            this.waitTimeout = timeout;
            this.pollInterval = pollInterval;
            return this;
        }

        /**
         * @param allow whether a Fargate task too small for the router may be raised to the next valid Fargate
         *     cpu/memory size (default false: such tasks are skipped with the reason); uninstall restores the size
         *     before the install while the task still has the one the install set
         * @return this
         */
        public Builder allowTaskResize(boolean allow) {
            this.allowTaskResize = allow;
            return this;
        }

        /**
         * @return the target
         * @throws ConfigurationException when the cluster, the services or the sidecar are missing or invalid
         */
        public EcsTarget build() {
            if (cluster == null || cluster.isBlank()) {
                throw new ConfigurationException(
                        "The ECS target has no cluster: set it with EcsTarget.builder().cluster(\"my-cluster\").");
            }
            if (Globs.isGlob(cluster)) {
                // No cluster has such a name: planning would only say the cluster does not exist, and a fleet would
                // take that as nothing to change in every region.
                throw new ConfigurationException("The ECS target's cluster '" + cluster + "' is a pattern, but a target"
                        + " covers one cluster, named by its name or ARN: plan each cluster with its own target, one"
                        + " installer per cluster.");
            }
            if (services.isEmpty() || services.stream().anyMatch(s -> s == null || s.isBlank())) {
                throw new ConfigurationException("The ECS target for cluster " + cluster + " selects no service:"
                        + " pass names, ARNs or patterns with .services(\"api\", \"worker-*\") or .services(\"*\").");
            }
            // A service ARN names its cluster (service/<cluster>/<name>); the target reads every service from its own
            // cluster by name, so an ARN of another cluster would select that cluster's namesake instead.
            String clusterName = cluster.substring(cluster.lastIndexOf('/') + 1);
            for (String s : Stream.concat(services.stream(), excludes.stream()).toList()) {
                int at = s.startsWith("arn:") ? s.indexOf(":service/") : -1;
                String[] path = at < 0 ? new String[0] : s.substring(at + 1).split("/");
                if (path.length == 3 && !path[1].equals(clusterName)) {
                    throw new ConfigurationException("The ECS target for cluster " + clusterName + " names " + s
                            + ", a service of cluster " + path[1] + ": a target covers one cluster. Pass only services"
                            + " of cluster " + clusterName + ", and plan cluster " + path[1]
                            + " with its own target, one installer per cluster.");
                }
            }
            if (sidecar == null) {
                throw new ConfigurationException("The ECS target for cluster " + cluster + " has no log router: set"
                        + " it with .sidecar(s -> s.image(\"public.ecr.aws/cloudaeye/log-router:<version>\")).");
            }
            if (waitTimeout != null && (waitTimeout.isNegative() || waitTimeout.isZero())) {
                throw new ConfigurationException("waitForStable needs a positive timeout, got " + waitTimeout + ".");
            }
            if (pollInterval.isNegative() || pollInterval.isZero()) {
                throw new ConfigurationException(
                        "waitForStable needs a positive poll interval, got " + pollInterval + ".");
            }
            return new EcsTarget(new Selection(
                    cluster,
                    List.copyOf(services),
                    List.copyOf(excludes),
                    sidecar,
                    updateServices,
                    waitTimeout,
                    pollInterval,
                    allowTaskResize,
                    validManagedResources()));
        }
    }
}
