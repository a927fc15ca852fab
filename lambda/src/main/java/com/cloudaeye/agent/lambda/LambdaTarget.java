package com.cloudaeye.agent.lambda;

import com.cloudaeye.agent.AgentSettings;
import com.cloudaeye.agent.ConfigurationException;
import com.cloudaeye.agent.ManagedResources;
import com.cloudaeye.agent.lambda.internal.Arns;
import com.cloudaeye.agent.lambda.internal.FunctionPlanner;
import com.cloudaeye.agent.lambda.internal.LambdaService;
import com.cloudaeye.agent.lambda.internal.PlannedFunctions;
import com.cloudaeye.agent.lambda.internal.Selection;
import com.cloudaeye.agent.lambda.internal.ServingVersions;
import com.cloudaeye.agent.lambda.internal.SettingsCheck;
import com.cloudaeye.agent.spi.Target;
import com.cloudaeye.agent.spi.TargetContext;
import com.cloudaeye.agent.spi.TargetPlan;
import com.cloudaeye.agent.spi.TargetService;
import com.cloudaeye.agent.spi.support.IacAwareTargetBuilder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.services.lambda.model.Architecture;

/**
 * Adds the CloudAEye extension layer and its environment variables to AWS Lambda functions.
 *
 * <pre>{@code
 * LambdaTarget.builder()
 *         .functions("*").exclude("legacy-*")
 *         .layer(Architecture.X86_64, "arn:aws:lambda:us-east-1:123456789012:layer:cloudaeye-x86:7")
 *         .layer(Architecture.ARM64, "arn:aws:lambda:us-east-1:123456789012:layer:cloudaeye-arm:7")
 *         .publishVersion(true)
 *         .build();
 * }</pre>
 *
 * <p>What it guarantees: the user's layers keep their order and only an older version of our own layer is
 * replaced; a user's value in one of our variables is never overwritten unless {@link Builder#forceEnvironment
 * forced}, and then it is saved in the function ({@value #SAVED_PREFIX}NAME) so uninstall restores it; the names of the
 * variables an install adds are recorded in {@value #INSTALLED_VARIABLES}, so an uninstall after a user removed our
 * layer removes only those (without the record, as an older install left it, that uninstall is skipped, naming the
 * variables); functions that
 * cannot take the agent (image packages, Lambda@Edge functions, a runtime without the Extensions API or deprecated by
 * Lambda, an incompatible layer runtime, a sixth layer, environment over 4 KB, a failed last update) are skipped with
 * the reason; the plan says which aliases serve each updated function, and {@link Builder#moveAliases} moves the
 * chosen ones to the version the update publishes (a SnapStart function is always published); right before each
 * update the live function is compared with the planned
 * before-state (its {@code RevisionId}, layers and the agent's variables), so a function changed since planning is
 * reported instead of clobbered. The token is a plain environment value unless {@link Builder#apiTokenSecretArn}
 * passes it by reference.
 *
 * <p>Functions that infrastructure as code owns ({@link Builder#managedResources}): their template fragments hold the
 * {@code Layers} and {@code Environment.Variables} the function should have. Functions found by a glob cost one
 * {@code lambda:GetFunction} each for their tags, and only those the plan would change.
 */
public final class LambdaTarget implements Target {
    /** The name written into every change this target plans. */
    public static final String NAME = "lambda";

    /** The variable that tells the extension where to send logs. */
    public static final String ENDPOINT_VARIABLE = AgentSettings.ENDPOINT_VARIABLE;

    /** The variable that holds the CloudAEye API token (a secret: always redacted in plans). */
    public static final String TOKEN_VARIABLE = AgentSettings.TOKEN_VARIABLE;

    /**
     * The variable that names the Secrets Manager secret or SSM parameter holding the token, when the token is passed
     * by reference ({@link Builder#apiTokenSecretArn}); the extension reads it with the function's role.
     */
    public static final String TOKEN_ARN_VARIABLE = "CLOUDAEYE_API_TOKEN_ARN";

    /**
     * The variable in which install records the names (never the values) of the variables it added, comma-separated;
     * an uninstall of a function whose layer of ours was removed since removes only those, and this record.
     */
    public static final String INSTALLED_VARIABLES = "CLOUDAEYE_INSTALLED_VARIABLES";

    /** A forced-over user value of variable NAME is kept in the function as {@code SAVED_PREFIX + NAME}. */
    public static final String SAVED_PREFIX = "CLOUDAEYE_SAVED__";

    private final Selection selection;
    private final Map<Architecture, String> layers;
    private final boolean publishVersion;
    private final boolean forceEnvironment;
    private final @Nullable String apiTokenSecretArn;
    private final ManagedResources managedResources;
    private final List<String> moveAliases;
    private final boolean moveWeightedAliases;
    /** What this target's plans read of the functions to update, so that its apply need not read them again. */
    private final PlannedFunctions planned = new PlannedFunctions();

    private LambdaTarget(Builder b, ManagedResources managedResources) {
        this.selection = new Selection(b.names, b.patterns, b.excludes, b.tags);
        this.layers = Collections.unmodifiableMap(new EnumMap<>(b.layers));
        this.publishVersion = b.publishVersion;
        this.forceEnvironment = b.forceEnvironment;
        this.apiTokenSecretArn = b.apiTokenSecretArn;
        this.managedResources = managedResources;
        this.moveAliases = List.copyOf(b.moveAliases);
        this.moveWeightedAliases = b.moveWeightedAliases;
    }

    /** @return a new builder */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public TargetPlan plan(TargetContext context) {
        return planner(context).planInstall();
    }

    @Override
    public TargetPlan planUninstall(TargetContext context) {
        return planner(context).planUninstall();
    }

    /**
     * @return the service that applies and rolls back this target's changes, sending each update of a function its
     *     plan read at once (guarded by the planned {@code RevisionId})
     */
    @Override
    public TargetService service() {
        Set<String> ourLayerNames = new HashSet<>();
        layers.values().forEach(arn -> ourLayerNames.add(Arns.layerName(arn)));
        return new LambdaService(ourLayerNames, planned);
    }

    private FunctionPlanner planner(TargetContext context) {
        return new FunctionPlanner(
                context,
                selection,
                layers,
                publishVersion,
                forceEnvironment,
                apiTokenSecretArn,
                planned,
                new ServingVersions(context, moveAliases, moveWeightedAliases, layers.values()),
                managedResources);
    }

    @Override
    public String toString() {
        return "LambdaTarget{" + selection + ", layers=" + layers + ", publishVersion=" + publishVersion
                + ", moveAliases=" + moveAliases + "}";
    }

    /** Builds a {@link LambdaTarget}; {@link #build()} validates every setting. */
    public static final class Builder extends IacAwareTargetBuilder<Builder> {
        private final List<String> names = new ArrayList<>();
        private final List<Pattern> patterns = new ArrayList<>();
        private final List<String> excludes = new ArrayList<>();
        private final Map<String, String> tags = new LinkedHashMap<>();
        private final Map<Architecture, String> layers = new EnumMap<>(Architecture.class);
        private boolean publishVersion;
        private boolean forceEnvironment;
        private @Nullable String apiTokenSecretArn;
        private final List<String> moveAliases = new ArrayList<>();
        private boolean moveWeightedAliases;

        private Builder() {}

        /**
         * Selects functions by name, ARN, or name glob ({@code *} for all, {@code orders-*}), replacing the names
         * selected before (as {@code EcsTarget.Builder.services} does); {@link #addFunctions} appends.
         *
         * <p>An ARN must name the installer's region and the account its credentials act in: AWS lets no other account
         * change a function, so planning refuses another account's ARN before any Lambda call, naming both accounts
         * ({@code NothingSelectedException} when every function given is such an ARN; else {@code
         * ConfigurationException}). Plan another account's functions with its credentials, or with a {@code
         * FleetInstaller} over it: there one selection may name the functions of every account and region of the
         * fleet by ARN, and each member plans the ARNs of its own account-region and leaves the others to their
         * members (a member left none notes nothing to do there); an ARN of an account or region outside the fleet is
         * refused before any call, naming the ARN, the fleet's accounts and regions and the fix.
         *
         * @param namesArnsOrGlobs names, unqualified ARNs or globs
         * @return this
         */
        public Builder functions(String... namesArnsOrGlobs) {
            names.clear();
            return addFunctions(namesArnsOrGlobs);
        }

        /**
         * Selects more functions by name, ARN, or name glob, after those selected before. An ARN must name the
         * installer's region and account, as for {@link #functions}.
         *
         * @param namesArnsOrGlobs names, unqualified ARNs or globs
         * @return this
         */
        public Builder addFunctions(String... namesArnsOrGlobs) {
            names.addAll(Arrays.asList(namesArnsOrGlobs)); // a null is refused by build(), by name
            return this;
        }

        /**
         * Selects functions whose whole name matches a regular expression. Appends.
         *
         * @param namePattern the pattern
         * @return this
         */
        public Builder functionsMatching(Pattern namePattern) {
            patterns.add(namePattern);
            return this;
        }

        /**
         * Leaves out functions whose name matches one of these globs, even when selected otherwise. Appends.
         *
         * @param nameGlobs name globs
         * @return this
         */
        public Builder exclude(String... nameGlobs) {
            excludes.addAll(Arrays.asList(nameGlobs));
            return this;
        }

        /**
         * Keeps only selected functions that carry this tag with this value. Appends (all tags must match).
         *
         * @param key the tag key
         * @param value the tag value
         * @return this
         */
        public Builder tag(String key, String value) {
            tags.put(key, value);
            return this;
        }

        /**
         * The CloudAEye extension layer version for one architecture; functions of an architecture without a layer
         * cannot be planned.
         *
         * @param architecture {@code X86_64} or {@code ARM64}
         * @param layerVersionArn e.g. {@code arn:aws:lambda:us-east-1:123456789012:layer:cloudaeye-x86:7}, in the
         *     functions' region; it may belong to another account (CloudAEye publishes the layer from its own), whose
         *     layer policy lets this account use it
         * @return this
         */
        public Builder layer(Architecture architecture, String layerVersionArn) {
            layers.put(architecture, layerVersionArn);
            return this;
        }

        /**
         * @param publishVersion publish a new function version after each update (default false)
         * @return this
         */
        public Builder publishVersion(boolean publishVersion) {
            this.publishVersion = publishVersion;
            return this;
        }

        /**
         * Moves the aliases with these names (or name globs, e.g. {@code live}, {@code prod-*}) of each updated
         * function to the version the update publishes, so that the traffic they serve runs the agent: updating
         * {@code $LATEST} alone changes no published version. This publishes a version of every function that has
         * such an alias, whatever {@link #publishVersion} says. An alias that routes traffic by weight (a canary) is
         * skipped with the reason unless {@link #moveWeightedAliases}; for an alias with provisioned concurrency the
         * apply waits until it is READY on the new version. Rollback moves each alias back to the version (and
         * weights) it had; uninstall moves them to a newly published version without the agent. Replaces the aliases
         * chosen before; {@link #addMoveAliases} appends.
         *
         * @param aliasNamesOrGlobs alias names or globs
         * @return this
         */
        public Builder moveAliases(String... aliasNamesOrGlobs) {
            moveAliases.clear();
            return addMoveAliases(aliasNamesOrGlobs);
        }

        /**
         * Adds to the aliases {@link #moveAliases} chose.
         *
         * @param aliasNamesOrGlobs alias names or globs
         * @return this
         */
        public Builder addMoveAliases(String... aliasNamesOrGlobs) {
            moveAliases.addAll(Arrays.asList(aliasNamesOrGlobs));
            return this;
        }

        /**
         * Moves a chosen alias even when it routes traffic by weight to a second version: all of its traffic then
         * goes to the new version (its weights are dropped; rollback restores them).
         *
         * @param moveWeightedAliases true to move weighted aliases too (default false: skipped with the reason)
         * @return this
         */
        public Builder moveWeightedAliases(boolean moveWeightedAliases) {
            this.moveWeightedAliases = moveWeightedAliases;
            return this;
        }

        /**
         * Overwrites a user's own value in one of the agent's variables instead of skipping the function. The user's
         * value is saved in the function and restored by uninstall.
         *
         * @param forceEnvironment true to overwrite (default false)
         * @return this
         */
        public Builder forceEnvironment(boolean forceEnvironment) {
            this.forceEnvironment = forceEnvironment;
            return this;
        }

        /**
         * Passes the API token by reference instead of as a plain environment value (which anyone allowed
         * {@code lambda:GetFunctionConfiguration} can read): functions get {@value #TOKEN_ARN_VARIABLE} with this
         * ARN, and the extension reads the token with the function's role, which needs
         * {@code secretsmanager:GetSecretValue} (or {@code ssm:GetParameter}) on it, and {@code kms:Decrypt} for a
         * customer-managed key; the plan names each role. A plain token our earlier install set is removed. The
         * secret may belong to another account (a secret shared by its resource policy and key policy, or an SSM
         * parameter shared through AWS RAM): only the functions' roles read it, so it is not refused here.
         *
         * @param secretOrParameterArn a Secrets Manager secret ARN or an SSM parameter ARN holding the token
         * @return this
         */
        public Builder apiTokenSecretArn(String secretOrParameterArn) {
            this.apiTokenSecretArn = secretOrParameterArn;
            return this;
        }

        /**
         * @return the target
         * @throws ConfigurationException when a name, ARN or layer is malformed, or nothing is selected
         */
        public LambdaTarget build() {
            validate();
            return new LambdaTarget(this, validManagedResources());
        }

        private void validate() {
            if (names.isEmpty() && patterns.isEmpty()) {
                throw new ConfigurationException("The Lambda target selects no function: call .functions(\"*\") for"
                        + " all, or name them with .functions(\"my-function\", ...).");
            }
            if (patterns.contains(null)) {
                throw new ConfigurationException("A null pattern was given to .functionsMatching(...): pass a"
                        + " regular expression of names, e.g. Pattern.compile(\"orders-.*\").");
            }
            SettingsCheck.functions(names, excludes);
            SettingsCheck.layers(layers);
            SettingsCheck.tokenReference(apiTokenSecretArn);
            SettingsCheck.aliases(moveAliases, moveWeightedAliases);
            SettingsCheck.tags(tags);
        }
    }
}
