package com.cloudaeye.agent.ecs.internal;

import com.cloudaeye.agent.NothingSelectedException;
import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.PlanningException;
import com.cloudaeye.agent.spi.FleetScope;
import com.cloudaeye.agent.spi.TargetContext;
import com.cloudaeye.agent.spi.support.Globs;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.ecs.EcsClient;
import software.amazon.awssdk.services.ecs.model.ClusterNotFoundException;
import software.amazon.awssdk.services.ecs.model.DescribeServicesResponse;
import software.amazon.awssdk.services.ecs.model.ListServicesResponse;
import software.amazon.awssdk.services.ecs.model.Service;
import software.amazon.awssdk.services.ecs.model.ServiceField;

/** Selects the services a plan covers: names and globs of the selection, less the excludes, described. */
final class ServiceSelector {
    private static final Logger LOG = LoggerFactory.getLogger(ServiceSelector.class);
    private static final int DESCRIBE_BATCH = 10;
    /** The region's index among an ARN's colon-separated fields. */
    private static final int REGION = 3;
    /** The account's index among an ARN's colon-separated fields. */
    private static final int ACCOUNT = 4;
    /** How a message names the selection's cluster. */
    private static final String CLUSTER = "The ECS target's cluster";
    /** How a message names one of the selection's services. */
    private static final String SERVICE = "The ECS target's service";

    private final Selection selection;
    private final TargetContext context;
    private final EcsClient ecs;
    private final Set<Permission> reads;

    /**
     * @param selection what to select
     * @param context clients
     * @param reads where the read permissions selecting used are added
     */
    ServiceSelector(Selection selection, TargetContext context, Set<Permission> reads) {
        this.selection = selection;
        this.context = context;
        this.ecs = context.client(EcsClient.class, EcsClient::builder);
        this.reads = reads;
    }

    List<Service> select() {
        // Services are read by name in the installer's region: an ARN of another region would select its namesake here.
        String region = context.region().id();
        Optional<FleetScope> fleet = context.fleet();
        // A cluster ARN of another region leaves nothing of the target here, as a cluster missing from this region
        // does (in a fleet: when the fleet covers it, else it is refused).
        arnField(selection.cluster(), REGION).filter(r -> !r.equals(region)).ifPresent(r -> {
            fleet.ifPresent(f -> f.requireCovers(CLUSTER, selection.cluster()));
            throw new NothingSelectedException("The ECS target's cluster " + selection.cluster() + " is in region " + r
                    + ", but this installer plans " + region + ": plan it with an installer for " + r + " (or a"
                    + " FleetInstaller over that region). Nothing was changed.");
        });
        List<String> elsewhere = selection.services().stream()
                .filter(s -> arnField(s, REGION).filter(r -> !r.equals(region)).isPresent())
                .toList();
        // In a fleet, an ARN of another account-region it covers is that member's to plan: left out here.
        List<String> otherMembers = new ArrayList<>();
        if (!elsewhere.isEmpty() && fleet.isPresent()) {
            elsewhere.forEach(s -> otherMembers.add(fleet.get().requireCovers(SERVICE, s)));
        } else if (!elsewhere.isEmpty()) {
            String why = "The ECS target names " + elsewhere + ", of another region than " + region + ", the region"
                    + " this installer plans: plan each region with an installer for it, or pass the services'"
                    + " names.";
            // Only such ARNs: nothing of the selection can be here, which a fleet over regions plans as nothing to do.
            throw elsewhere.size() == selection.services().size()
                    ? new NothingSelectedException(why)
                    : new PlanningException(why);
        }
        requireThisAccount(fleet, otherMembers);
        List<String> selected = selection.services().stream()
                .filter(s -> !otherMembers.contains(s))
                .toList();
        if (!otherMembers.isEmpty() && selected.isEmpty()) {
            List<String> where = new ArrayList<>();
            otherMembers.forEach(
                    arn -> where.add(arn + " (account " + arnField(arn, ACCOUNT).orElseThrow() + ", "
                            + arnField(arn, REGION).orElseThrow() + ")"));
            throw new NothingSelectedException("Every service the ECS target names is in another account or region of"
                    + " the fleet, which plans it there: " + String.join(", ", where) + ". Nothing to plan in "
                    + region + ".");
        }
        List<String> globs = selected.stream().filter(Globs::isGlob).collect(Collectors.toList());
        Set<String> wanted = new TreeSet<>();
        selected.stream()
                .filter(s -> !Globs.isGlob(s))
                .map(ServiceSelector::lastSegment)
                .forEach(wanted::add);
        // Only patterns: the selection may match nothing in a cluster, which a fleet plans as nothing to change.
        boolean patternsOnly = wanted.isEmpty();
        if (!globs.isEmpty()) {
            List<String> names = listServiceNames();
            String unmatched = null;
            for (String glob : globs) {
                Pattern p = Globs.toPattern(glob);
                List<String> matched =
                        names.stream().filter(n -> p.matcher(n).matches()).collect(Collectors.toList());
                if (matched.isEmpty() && unmatched == null) {
                    unmatched = glob;
                }
                wanted.addAll(matched);
            }
            if (unmatched != null) {
                String why = "No service of ECS cluster " + selection.cluster() + " matches '" + unmatched + "' ("
                        + names.size() + " services listed): check the pattern and the cluster.";
                throw patternsOnly && wanted.isEmpty() ? new NothingSelectedException(why) : new PlanningException(why);
            }
        }
        // Names are matched, so an excluded ARN counts by its name, as a selected one does.
        List<Pattern> excludes = selection.excludes().stream()
                .map(ServiceSelector::lastSegment)
                .map(Globs::toPattern)
                .collect(Collectors.toList());
        List<String> names = wanted.stream()
                .filter(n -> excludes.stream().noneMatch(p -> p.matcher(n).matches()))
                .collect(Collectors.toList());
        if (names.isEmpty()) {
            String why = "Every selected service of ECS cluster " + selection.cluster() + " is excluded by "
                    + selection.excludes() + ": nothing to plan; narrow the excludes.";
            throw patternsOnly ? new NothingSelectedException(why) : new PlanningException(why);
        }
        List<Service> services = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        for (int i = 0; i < names.size(); i += DESCRIBE_BATCH) {
            List<String> batch = names.subList(i, Math.min(names.size(), i + DESCRIBE_BATCH));
            DescribeServicesResponse r = read(() -> ecs.describeServices(
                    d -> d.cluster(selection.cluster()).services(batch).include(ServiceField.TAGS)));
            services.addAll(r.services());
            r.failures().forEach(f -> missing.add(lastSegment(f.arn()) + " (" + f.reason() + ")"));
        }
        if (!missing.isEmpty()) {
            throw new PlanningException("ECS cluster " + selection.cluster() + " has no service " + missing
                    + ": check the service names and the region " + context.region() + ".");
        }
        services.forEach(s -> reads.add(Permission.of("ecs:DescribeServices", s.serviceArn())));
        // DescribeTaskDefinition takes no resource-level permission: AWS authorizes it on "*" only.
        reads.add(Permission.of("ecs:DescribeTaskDefinition", "*"));
        LOG.debug("Selected {} ECS services in cluster {}", services.size(), selection.cluster());
        return services;
    }

    private List<String> listServiceNames() {
        // ListServices is not scoped by resource (only by the ecs:cluster condition key): "*".
        reads.add(Permission.of("ecs:ListServices", "*"));
        List<String> names = new ArrayList<>();
        String token = null;
        do {
            String next = token;
            ListServicesResponse page = read(() -> ecs.listServices(
                    l -> l.cluster(selection.cluster()).maxResults(100).nextToken(next)));
            page.serviceArns().forEach(a -> names.add(lastSegment(a)));
            token = page.nextToken();
        } while (token != null && !token.isEmpty());
        return names;
    }

    private <T> T read(java.util.function.Supplier<T> call) {
        try {
            return context.scheduler().call(EcsQuotas.SERVICE_READ, call);
        } catch (ClusterNotFoundException e) {
            // Nothing of the selection can be in this region, whatever it names: a fleet over regions where the
            // cluster exists in some only plans the others with nothing to change; one installer still fails.
            NothingSelectedException none =
                    new NothingSelectedException("ECS cluster " + selection.cluster() + " does not exist in region "
                            + context.region() + ": check the cluster name and the installer's region.");
            none.initCause(e);
            throw none;
        }
    }

    /**
     * Refuses a cluster or service ARN of another account than the credentials', before any ECS call: ECS has no
     * resource policies, so no other account can ever update a service (AWS would answer with an access or not-found
     * error naming neither the cause nor the fix). A cluster of another account, or only services of another account,
     * leave nothing of the target in this account: {@link NothingSelectedException}, which a fleet over accounts notes
     * as nothing to do here; services of both accounts are a {@link PlanningException}, as for another region.
     * Excluded ARNs are not checked: they count by their name, and leaving out more is never harmful. The log router's
     * token secret is not checked either: a secret shared by its resource policy is read by the task's execution role.
     * Asks for the account only when an ARN is given. In a fleet, an ARN of another account the fleet covers is left
     * to that account's member ({@link FleetScope#requireCovers}).
     *
     * @param fleet the fleet this installer is a member of, if any
     * @param otherMembers collects the service ARNs another member of the fleet plans
     */
    private void requireThisAccount(Optional<FleetScope> fleet, List<String> otherMembers) {
        Optional<String> clusterAccount = arnField(selection.cluster(), ACCOUNT);
        List<String> serviceArns = selection.services().stream()
                .filter(s -> arnField(s, ACCOUNT).isPresent() && !otherMembers.contains(s))
                .toList();
        if (clusterAccount.isEmpty() && serviceArns.isEmpty()) {
            return;
        }
        context.accountId().ifPresent(account -> {
            String other = clusterAccount.orElse(account);
            if (!other.equals(account)) {
                fleet.ifPresent(f -> f.requireCovers(CLUSTER, selection.cluster()));
                throw new NothingSelectedException("The ECS target's cluster " + selection.cluster() + " is in account "
                        + other + "," + otherAccountFix(account, List.of(other), ""));
            }
            Map<String, List<String>> elsewhere = new TreeMap<>();
            serviceArns.forEach(arn -> arnField(arn, ACCOUNT)
                    .filter(a -> !a.equals(account))
                    .ifPresent(a ->
                            elsewhere.computeIfAbsent(a, k -> new ArrayList<>()).add(arn)));
            if (fleet.isPresent()) {
                elsewhere
                        .values()
                        .forEach(arns ->
                                arns.forEach(arn -> otherMembers.add(fleet.get().requireCovers(SERVICE, arn))));
                return;
            }
            if (elsewhere.isEmpty()) {
                return;
            }
            List<String> where = new ArrayList<>();
            elsewhere.forEach((a, arns) -> where.add(arns + " of account " + a));
            String why = "The ECS target names services " + String.join(" and ", where) + ","
                    + otherAccountFix(
                            account,
                            List.copyOf(elsewhere.keySet()),
                            ", and pass only services of account " + account + " here");
            int count = elsewhere.values().stream().mapToInt(List::size).sum();
            // Only such ARNs: nothing of the selection can be in this account, which a fleet plans as nothing to do.
            throw count == selection.services().size() ? new NothingSelectedException(why) : new PlanningException(why);
        });
    }

    /**
     * @param account the credentials' account
     * @param others the accounts the ARNs name
     * @param more what else to do, after the fleet; may be empty
     * @return the end of the message: why it cannot work, and the fix
     */
    private static String otherAccountFix(String account, List<String> others, String more) {
        return " but the credentials act in account " + account + ": ECS lets no other account change a cluster's"
                + " services. Plan them with credentials of account " + String.join(", ", others)
                + " (a profile or role there), or with a FleetInstaller given .accounts(\""
                + String.join("\", \"", others) + "\")" + more + ". Nothing was changed.";
    }

    /**
     * @param nameOrArn a cluster or service name, or its ARN ({@code arn:partition:ecs:region:account:service/...})
     * @param field the ARN field's index, e.g. {@link #REGION}
     * @return that field of an ARN, split once; empty for a name
     */
    private static Optional<String> arnField(String nameOrArn, int field) {
        if (!nameOrArn.startsWith("arn:")) {
            return Optional.empty();
        }
        String[] parts = nameOrArn.split(":", 6);
        return parts.length == 6 ? Optional.of(parts[field]) : Optional.empty();
    }

    private static String lastSegment(String nameOrArn) {
        return nameOrArn.substring(nameOrArn.lastIndexOf('/') + 1);
    }
}
