package com.cloudaeye.agent.internal;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.AgentInstallerBuilder;
import com.cloudaeye.agent.ConfigurationException;
import com.cloudaeye.agent.JournalStore;
import com.cloudaeye.agent.PlanningException;
import com.cloudaeye.agent.spi.FleetScope;
import com.cloudaeye.agent.spi.Target;
import java.net.URI;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.regions.providers.DefaultAwsRegionProviderChain;
import software.amazon.awssdk.services.sts.StsClient;
import software.amazon.awssdk.utils.SdkAutoCloseable;

/**
 * What a {@code FleetInstallerBuilder} was told, its validation, and the assembly of the fleet's engine: the
 * accounts (given, discovered, excluded), the STS client, and the factory of each account-region's installer.
 */
public final class FleetSpec {
    private static final Pattern ACCOUNT = Pattern.compile("\\d{12}");
    private static final Pattern ROLE_NAME = Pattern.compile("[\\w+=,.@/-]{1,64}");
    private static final Pattern SESSION_NAME = Pattern.compile("[\\w+=,.@-]{2,64}");
    private static final Pattern EXTERNAL_ID = Pattern.compile("[\\w+=,.@:/-]{2,1224}");
    private static final Pattern EXTERNAL_ID_CHARACTER = Pattern.compile("[\\w+=,.@:/-]");

    /** Accounts given. */
    public final Set<String> accounts = new LinkedHashSet<>();
    /** Accounts left out. */
    public final Set<String> excluded = new LinkedHashSet<>();
    /** Organizational units whose accounts are added. */
    public final List<String> organizationalUnits = new ArrayList<>();
    /** Whether the organization's accounts are added. */
    public boolean organization;
    /** Whether each account's enabled regions are used when none are given. */
    public boolean allEnabledRegions;
    /** Regions given. */
    public final Set<Region> regions = new LinkedHashSet<>();
    /** STS and discovery region; null for the default. */
    public @Nullable Region homeRegion;
    /** The role to assume. */
    public @Nullable String roleName;
    /** The roles' external ID. */
    public @Nullable String externalId;
    /** The role session name; null for a new one. */
    public @Nullable String sessionName;
    /** The caller's credentials, which stay open; null for the default chain. */
    public @Nullable AwsCredentialsProvider credentials;
    /** Makes the default chain's provider when no credentials are given; the fleet closes what it makes. */
    Supplier<AwsCredentialsProvider> defaultCredentials =
            () -> DefaultCredentialsProvider.builder().build();
    /** The caller's STS client, which stays open; null to build one. */
    public @Nullable StsClient sts;
    /** Every call's endpoint, for emulators. */
    public @Nullable URI endpointOverride;
    /** Targets, per account and region. */
    public final List<BiFunction<String, Region, Target>> targets = new ArrayList<>();
    /** Settings passed on to every account-region's installer builder, in the order given. */
    public final List<Consumer<AgentInstallerBuilder>> steps = new ArrayList<>();
    /** Settings made per account and region (sinks), applied after {@link #steps}. */
    public final List<PerAccountRegion> perAccountRegion = new ArrayList<>();

    /** A setting of one account-region's installer builder. */
    public interface PerAccountRegion {
        /**
         * @param installer the account-region's installer builder
         * @param account the account ID
         * @param region the region
         */
        void apply(AgentInstallerBuilder installer, String account, Region region);
    }
    /** Where journals go; {@code <account>/<region>} below it. */
    public JournalStore journals =
            JournalStore.directory(Path.of(System.getProperty("user.home"), ".cloudaeye", "journals"));
    /** Whether journals are written. */
    public boolean journaling = true;
    /** Account-regions at once. */
    public int maxParallel = 8;
    /** AWS calls in flight over the account-regions at work, in equal shares ({@code FleetEngine.callsEach()}). */
    public int maxCallsInFlight = 512;
    /** Fleet-wide failure limit. */
    public int maxFailures = Integer.MAX_VALUE;
    /** Per-account failure limit. */
    public int maxFailuresPerAccount = Integer.MAX_VALUE;

    /**
     * @param name the setting
     * @param value its value
     * @return the value, when at least 1
     * @throws ConfigurationException otherwise
     */
    public static int atLeastOne(String name, int value) {
        if (value < 1) {
            throw new ConfigurationException(name + " must be at least 1, got " + value);
        }
        return value;
    }

    /**
     * Checks the settings, as {@code build()} documents.
     *
     * @throws ConfigurationException naming what is missing or invalid, and the fix
     */
    public void validate() {
        if (accounts.isEmpty() && !organization) {
            throw new ConfigurationException("No account: add the accounts to install into with"
                    + " .accounts(\"111111111111\", ...), or find them with .organization().");
        }
        Set<String> all = new LinkedHashSet<>(accounts);
        all.addAll(excluded);
        for (String account : all) {
            if (!ACCOUNT.matcher(account).matches()) {
                throw new ConfigurationException("'" + account + "' is not an AWS account ID: pass the 12 digits,"
                        + " e.g. .accounts(\"111111111111\").");
            }
        }
        if (!organization && excluded.containsAll(accounts)) {
            throw new ConfigurationException("Every account given, " + accounts + ", is left out by excludeAccounts("
                    + excluded + "): nothing to plan. Remove them from excludeAccounts(...), or add others with"
                    + " .accounts(...).");
        }
        String external = externalId;
        if (external != null) {
            checkExternalId(external);
        }
        if (regions.isEmpty() && !allEnabledRegions) {
            throw new ConfigurationException("No region: add the regions to install into with"
                    + " .regions(Region.US_EAST_1, ...), or take each account's with .allEnabledRegions().");
        }
        regions.forEach(r -> RegionNames.check(r, ".regions(...)"));
        Region home = homeRegion;
        if (home != null) {
            RegionNames.check(home, ".homeRegion(...)");
        }
        String role = roleName;
        if (role == null || !ROLE_NAME.matcher(role).matches()) {
            throw new ConfigurationException("The role to assume in every account is "
                    + (role == null ? "missing" : "not a valid role name: '" + role + "'")
                    + ": set .roleName(\"CloudAEyeInstaller\") (letters, digits and +=,.@_-).");
        }
        String session = sessionName;
        if (session != null && !SESSION_NAME.matcher(session).matches()) {
            throw new ConfigurationException("'" + session + "' is not a valid role session name: use 2 to 64"
                    + " letters, digits or +=,.@_- (e.g. .sessionName(\"cloudaeye-run-42\")).");
        }
        if (targets.isEmpty()) {
            throw new ConfigurationException("No target configured: add one with .target(...) before build().");
        }
    }

    /**
     * Checks an external ID as STS does: 2 to 1224 characters, each a letter, digit or one of {@code _+=,.@:/-}. The
     * message does not repeat the ID: it names its length and its first character STS does not take.
     *
     * @param externalId the external ID
     * @throws ConfigurationException when STS would reject it
     */
    static void checkExternalId(String externalId) {
        if (EXTERNAL_ID.matcher(externalId).matches()) {
            return;
        }
        String what;
        if (externalId.length() < 2 || externalId.length() > 1224) {
            what = "has " + externalId.length() + (externalId.length() == 1 ? " character" : " characters");
        } else {
            int bad = externalId
                    .codePoints()
                    .filter(c -> !EXTERNAL_ID_CHARACTER
                            .matcher(new String(Character.toChars(c)))
                            .matches())
                    .findFirst()
                    .orElse('?');
            what = "has the character '" + new String(Character.toChars(bad)) + "'";
        }
        throw new ConfigurationException("The external ID " + what + ", which STS rejects: pass 2 to 1224 letters,"
                + " digits or _+=,.@:/- to .externalId(...), the value the roles' trust policies require (e.g."
                + " \"cloudaeye-ext-42\"; at least 2 characters).");
    }

    /**
     * A built fleet's parts.
     *
     * @param sessionName the run's role session name
     * @param sts the STS client
     * @param ownsSts whether closing the fleet closes it
     * @param calls the hand-signed discovery calls
     * @param engine plans and applies
     * @param journals where journals go, null for none
     * @param ownCredentials the caller's credentials provider when the fleet made it (the default chain), which
     *     closing the fleet closes; null when the caller gave one
     */
    public record Assembled(
            String sessionName,
            StsClient sts,
            boolean ownsSts,
            SignedCalls calls,
            FleetEngine engine,
            @Nullable JournalStore journals,
            @Nullable AwsCredentialsProvider ownCredentials)
            implements AutoCloseable {
        /**
         * Closes the engine, the discovery calls' client and, when the fleet made them, the STS client and the
         * caller's credentials provider.
         */
        @Override
        public void close() {
            engine.close();
            calls.close();
            if (ownsSts) {
                sts.close();
            }
            if (ownCredentials instanceof SdkAutoCloseable made) {
                made.close();
            }
        }
    }

    /** Makes an installer builder one account-region of the fleet (settings only the public package can make). */
    public interface Membership {
        /**
         * @param installer the account-region's installer builder, with every other setting made
         * @param account the account-region's account, which its credentials (the role assumed there) act in
         * @param fleet the fleet's accounts and regions
         * @param limits the failure limits its applies share with the fleet
         * @param callsInFlight its share of the fleet's calls in flight
         */
        void join(
                AgentInstallerBuilder installer,
                String account,
                FleetScope fleet,
                Supplier<List<FailureBudget>> limits,
                int callsInFlight);
    }

    /**
     * @param membership makes each installer builder a member of the fleet
     * @return the fleet's parts, from validated settings
     */
    public Assembled assemble(Membership membership) {
        Region home = home();
        AwsCredentialsProvider given = credentials;
        AwsCredentialsProvider caller = given != null ? given : defaultCredentials.get();
        StsClient givenSts = sts;
        // The SDK closes a client's credentials provider with the client: the STS client gets a view of it, so the
        // caller's provider stays open and the fleet's own is closed once, by the fleet.
        @SuppressWarnings("UnnecessaryMethodReference") // a new provider on purpose: one the SDK cannot close
        AwsCredentialsProvider view = caller::resolveCredentials;
        StsClient client = givenSts != null ? givenSts : sts(home, view);
        String session = sessionName != null
                ? sessionName
                : "cloudaeye-fleet-" + Instant.now().getEpochSecond();
        SignedCalls calls = new SignedCalls(endpointOverride);
        Set<String> givenAccounts = Set.copyOf(accounts);
        Set<String> left = Set.copyOf(excluded);
        List<String> units = List.copyOf(organizationalUnits);
        boolean discover = organization;
        Supplier<Set<String>> fleet = () -> {
            Set<String> all = new TreeSet<>(givenAccounts);
            Set<String> found = discover ? FleetAccounts.discover(calls, caller, home, units) : Set.of();
            all.addAll(found);
            all.removeAll(left);
            if (all.isEmpty()) {
                throw new PlanningException(FleetAccounts.noAccount(units, givenAccounts, found, left));
            }
            return all;
        };
        List<Consumer<AgentInstallerBuilder>> settings = List.copyOf(steps);
        List<BiFunction<String, Region, Target>> made = List.copyOf(targets);
        List<PerAccountRegion> placed = List.copyOf(perAccountRegion);
        @Nullable JournalStore store = journaling ? journals : null;
        FleetEngine engine = new FleetEngine(
                new FleetEngine.Settings(
                        fleet,
                        List.copyOf(regions),
                        home,
                        Objects.requireNonNull(roleName, "checked in validate()"),
                        externalId,
                        session,
                        maxParallel,
                        maxCallsInFlight,
                        maxFailures,
                        maxFailuresPerAccount),
                client,
                calls,
                (account, region, scope, assumed, limits, callsInFlight) -> {
                    AgentInstallerBuilder installer = AgentInstaller.builder();
                    settings.forEach(step -> step.accept(installer));
                    placed.forEach(step -> step.apply(installer, account, region));
                    made.forEach(t -> installer.target(t.apply(account, region)));
                    installer.region(region).credentialsProvider(assumed);
                    membership.join(installer, account, scope, limits, callsInFlight);
                    if (store != null) {
                        installer.journalStore(store.below(account).below(region.id()));
                    } else {
                        installer.withoutJournal();
                    }
                    return installer.build();
                });
        return new Assembled(session, client, givenSts == null, calls, engine, store, given == null ? caller : null);
    }

    private StsClient sts(Region home, AwsCredentialsProvider caller) {
        var client = StsClient.builder().region(home).credentialsProvider(caller);
        if (endpointOverride != null) {
            client.endpointOverride(endpointOverride);
        }
        return client.build();
    }

    private Region home() {
        if (homeRegion != null) {
            return homeRegion;
        }
        if (!regions.isEmpty()) {
            return regions.iterator().next();
        }
        try {
            return DefaultAwsRegionProviderChain.builder().build().getRegion();
        } catch (SdkException e) {
            return Region.US_EAST_1; // only STS, Organizations and the region lists are called here
        }
    }
}
