package com.cloudaeye.agent.eks.internal.helm;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Whether a ResourceQuota that refuses one more agent pod still has room for an upgrade. The pre-flight's dry run asks
 * for one pod beside the running ones; an upgrade's rolling update (no surge, the chart's default) deletes a node's
 * agent pod before it creates the replacement, so the quota needs room only for what the new pod takes beyond the old
 * one. A quota exactly full of the agent's own pods refuses the dry run but not the upgrade.
 *
 * <p>The numbers come from ResourceQuota admission's refusal ({@code exceeded quota: q, requested: pods=1, used:
 * pods=3, limited: pods=3}, only the resources it exceeds) and the old pod's share from the running DaemonSet's pod
 * template. What cannot be told (a quantity it does not read, a claim's storage; a surge; no running agent pod to
 * replace) leaves the refusal standing. Admission names only the first quota that refuses, so the namespace's other
 * quotas are reckoned from their limits and counted use ({@link #otherQuotaRefuses}).
 */
final class QuotaRoom {
    private static final Pattern REFUSAL =
            Pattern.compile("exceeded quota: ([^,\\s]+), requested: (\\S+), used: (\\S+), limited: (\\S+)");
    private static final Pattern COMMA = Pattern.compile(",");
    private static final Pattern QUANTITY = Pattern.compile(
            "([+-]?(?:[0-9]+\\.?[0-9]*|\\.[0-9]+)(?:[eE][+-]?[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?");
    private static final Map<String, BigDecimal> SUFFIXES = Map.ofEntries(
            Map.entry("n", new BigDecimal("1e-9")),
            Map.entry("u", new BigDecimal("1e-6")),
            Map.entry("m", new BigDecimal("1e-3")),
            Map.entry("k", new BigDecimal("1e3")),
            Map.entry("M", new BigDecimal("1e6")),
            Map.entry("G", new BigDecimal("1e9")),
            Map.entry("T", new BigDecimal("1e12")),
            Map.entry("P", new BigDecimal("1e15")),
            Map.entry("E", new BigDecimal("1e18")),
            Map.entry("Ki", BigDecimal.valueOf(1L << 10)),
            Map.entry("Mi", BigDecimal.valueOf(1L << 20)),
            Map.entry("Gi", BigDecimal.valueOf(1L << 30)),
            Map.entry("Ti", BigDecimal.valueOf(1L << 40)),
            Map.entry("Pi", BigDecimal.valueOf(1L << 50)),
            Map.entry("Ei", BigDecimal.valueOf(1L << 60)));

    /**
     * ResourceQuota admission's refusal of one pod.
     *
     * @param quota the quota's name
     * @param text the refusal as admission words it, from {@code exceeded quota:} on
     * @param requested what the refused pod would take, of each resource exceeded
     * @param used what the namespace uses of them
     * @param limited the quota's limit of them
     */
    record Refusal(
            String quota,
            String text,
            Map<String, BigDecimal> requested,
            Map<String, BigDecimal> used,
            Map<String, BigDecimal> limited) {}

    private QuotaRoom() {}

    /**
     * @param message the API server's refusal of a pod (a dry run's answer, a FailedCreate event)
     * @return whether ResourceQuota admission refused it
     */
    static boolean isQuotaRefusal(String message) {
        return message.contains("exceeded quota: ");
    }

    /**
     * @param message the API server's refusal of a pod
     * @return the quota's numbers; empty when the message is not a ResourceQuota refusal, or its numbers do not read
     */
    static Optional<Refusal> parse(String message) {
        Matcher m = REFUSAL.matcher(message);
        if (!m.find()) {
            return Optional.empty();
        }
        Map<String, BigDecimal> requested = quantities(m.group(2));
        Map<String, BigDecimal> used = quantities(m.group(3));
        Map<String, BigDecimal> limited = quantities(m.group(4));
        if (requested == null || used == null || limited == null || limited.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new Refusal(m.group(1), m.group(), requested, used, limited));
    }

    /**
     * Whether the upgrade's rolling update fits in the quota that refused the dry run: for every resource it exceeded,
     * what the namespace uses, less one running agent pod's share, plus the new pod's, stays within the limit.
     *
     * @param refusal the quota's refusal of the dry run's pod (a pod of the desired DaemonSet)
     * @param running the running agent DaemonSet, as the API server returns it (an empty object when there is none)
     * @param desired the DaemonSet the upgrade applies
     * @return true when each node's new pod fits once its old one is gone
     */
    static boolean replacementFits(Refusal refusal, JsonNode running, JsonNode desired) {
        if (running.path("status").path("currentNumberScheduled").asInt(0) < 1 || surges(desired)) {
            return false;
        }
        JsonNode oldPod = running.path("spec").path("template").path("spec");
        for (Map.Entry<String, BigDecimal> limit : refusal.limited().entrySet()) {
            String resource = limit.getKey();
            BigDecimal used = refusal.used().get(resource);
            BigDecimal requested = refusal.requested().get(resource);
            BigDecimal old = share(oldPod, resource);
            if (used == null || requested == null || old == null) {
                return false;
            }
            if (used.subtract(old).add(requested).compareTo(limit.getValue()) > 0) {
                return false;
            }
        }
        return true;
    }

    /**
     * Whether another ResourceQuota of the namespace refuses the upgrade's pods, which admission did not say: it stops
     * at the first quota that refuses. For each resource the quota limits that pods count toward, what it has used,
     * less one running agent pod's share, plus the new pod's, must stay within its limit. A quota with scopes (which
     * may or may not count the agent's pods), a resource not counted yet, or one whose share cannot be told, refuses.
     *
     * @param quota a ResourceQuota of the namespace, as the API server returns it
     * @param running the running agent DaemonSet
     * @param desired the DaemonSet the upgrade applies
     * @return why the quota has no room for the replacement, naming it; empty when it has
     */
    static Optional<String> otherQuotaRefuses(JsonNode quota, JsonNode running, JsonNode desired) {
        String name = "ResourceQuota " + quota.path("metadata").path("name").asText();
        JsonNode spec = quota.path("spec");
        if (spec.path("scopes").size() > 0 || spec.has("scopeSelector")) {
            return Optional.of(name + " has scopes, which this check does not evaluate");
        }
        // The limits as set (the status copies them once the quota controller has synced), the use as counted.
        JsonNode hard = spec.path("hard");
        JsonNode used = quota.path("status").path("used");
        JsonNode oldPod = running.path("spec").path("template").path("spec");
        JsonNode newPod = desired.path("spec").path("template").path("spec");
        for (Map.Entry<String, JsonNode> limit : hard.properties()) {
            String resource = limit.getKey();
            if (!countsPods(resource)) {
                continue;
            }
            BigDecimal limited = quantity(limit.getValue().asText());
            BigDecimal inUse = used.has(resource) ? quantity(used.path(resource).asText()) : null;
            BigDecimal old = share(oldPod, resource);
            BigDecimal requested = share(newPod, resource);
            if (limited == null || inUse == null || old == null || requested == null) {
                return Optional.of(name + "'s " + resource + " cannot be reckoned (not counted yet, or a quantity"
                        + " this check does not read)");
            }
            if (inUse.subtract(old).add(requested).compareTo(limited) > 0) {
                return Optional.of(name + " has no room for it: " + resource + " used " + plain(inUse) + " of "
                        + plain(limited) + ", and a new agent pod takes " + plain(requested) + " where an old one took "
                        + plain(old));
            }
        }
        return Optional.empty();
    }

    /**
     * Whether pods count toward a quota's resource (not, e.g., services, secrets or a claim's storage): a bare name is
     * one of the three that stand for requests; a prefixed one may be any resource a container asks for (an extended
     * resource such as nvidia.com/gpu, hugepages).
     */
    private static boolean countsPods(String resource) {
        return resource.equals("pods")
                || resource.equals("count/pods")
                || resource.equals("cpu")
                || resource.equals("memory")
                || resource.equals("ephemeral-storage")
                || (resource.startsWith("requests.") && !resource.equals("requests.storage"))
                || resource.startsWith("limits.");
    }

    private static String plain(BigDecimal value) {
        return value.stripTrailingZeros().toPlainString();
    }

    /** Whether the DaemonSet's rolling update creates a node's new pod before it deletes the old one. */
    private static boolean surges(JsonNode daemonSet) {
        JsonNode strategy = daemonSet.path("spec").path("updateStrategy");
        if (strategy.path("type").asText("RollingUpdate").equals("OnDelete")) {
            return false; // pods are replaced only as they are deleted
        }
        String surge = strategy.path("rollingUpdate").path("maxSurge").asText("0");
        return !(surge.equals("0") || surge.equals("0%"));
    }

    /**
     * One pod's share of a quota's resource, as ResourceQuota counts it; null for a resource not told here.
     *
     * @param podSpec the pod's spec
     * @param resource a quota's resource name, e.g. {@code pods}, {@code requests.cpu}, {@code memory}
     */
    static @Nullable BigDecimal share(JsonNode podSpec, String resource) {
        if (!countsPods(resource)) {
            return null;
        }
        if (resource.equals("pods") || resource.equals("count/pods")) {
            return BigDecimal.ONE;
        }
        String kind = "requests";
        String name = resource;
        if (resource.startsWith("requests.") || resource.startsWith("limits.")) {
            kind = resource.substring(0, resource.indexOf('.'));
            name = resource.substring(resource.indexOf('.') + 1);
        }
        // A pod takes the sum of its containers, or its largest init container when that is more (they run one by
        // one, before the others); a container without a request is given its limit (the API server's defaulting).
        List<BigDecimal> containers = containerShares(podSpec.path("containers"), kind, name);
        List<BigDecimal> inits = containerShares(podSpec.path("initContainers"), kind, name);
        BigDecimal overhead = podSpec.path("overhead").has(name)
                ? quantity(podSpec.path("overhead").path(name).asText())
                : BigDecimal.ZERO;
        if (containers == null || inits == null || overhead == null) {
            return null;
        }
        BigDecimal sum = containers.stream().reduce(BigDecimal.ZERO, BigDecimal::add);
        BigDecimal largestInit = inits.stream().reduce(BigDecimal.ZERO, BigDecimal::max);
        return sum.max(largestInit).add(overhead);
    }

    /** Each container's share; null when one's quantity does not read. */
    private static @Nullable List<BigDecimal> containerShares(JsonNode containers, String kind, String name) {
        List<BigDecimal> shares = new ArrayList<>();
        for (JsonNode c : containers) {
            BigDecimal q = containerShare(c, kind, name);
            if (q == null) {
                return null;
            }
            shares.add(q);
        }
        return shares;
    }

    private static @Nullable BigDecimal containerShare(JsonNode container, String kind, String name) {
        JsonNode resources = container.path("resources");
        JsonNode value = resources.path(kind).path(name);
        if (value.isMissingNode() && kind.equals("requests")) {
            value = resources.path("limits").path(name);
        }
        return value.isMissingNode() ? BigDecimal.ZERO : quantity(value.asText());
    }

    /** {@code pods=1,requests.cpu=100m}: null when one does not read. */
    private static @Nullable Map<String, BigDecimal> quantities(String list) {
        Map<String, BigDecimal> out = new TreeMap<>();
        for (String pair : COMMA.split(list, -1)) {
            int eq = pair.indexOf('=');
            BigDecimal value = eq < 1 ? null : quantity(pair.substring(eq + 1));
            if (value == null) {
                return null;
            }
            out.put(pair.substring(0, eq), value);
        }
        return out;
    }

    /**
     * @param text a Kubernetes quantity, e.g. {@code 100m}, {@code 128Mi}, {@code 1.5}, {@code 2e3}
     * @return its value; null when it is not one
     */
    static @Nullable BigDecimal quantity(String text) {
        Matcher m = QUANTITY.matcher(text.strip());
        if (!m.matches()) {
            return null;
        }
        BigDecimal number = new BigDecimal(m.group(1));
        return m.group(2) == null ? number : number.multiply(SUFFIXES.get(m.group(2)));
    }
}
