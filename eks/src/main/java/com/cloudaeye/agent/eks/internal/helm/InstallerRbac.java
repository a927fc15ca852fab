package com.cloudaeye.agent.eks.internal.helm;

import java.util.List;
import java.util.stream.Collectors;

/**
 * The Kubernetes rights the installer's caller needs for the agent's Helm release, as RBAC objects: a Role in the
 * release namespace and a ClusterRole, each bound to a group. One rule per resource, each with only the verbs some
 * step uses ({@code InstallerRbacIT} installs, upgrades and uninstalls with exactly these rules, shows that every
 * verb is used, and that removing any rule makes a step fail):
 *
 * <ul>
 *   <li>Helm's release storage and the agent token are Secrets (list and get to read the release; create, update,
 *       patch and delete as revisions come and go);
 *   <li>the chart's ConfigMap, ServiceAccount and DaemonSet (get, create, patch on a change, delete; the install
 *       also deletes a DaemonSet whose pods the API server refuses, to end Helm's wait);
 *   <li>list on events (core/v1, the API the DaemonSet controller writes them with): a DaemonSet that gets no pod is
 *       explained by its {@code FailedCreate} events (a PodSecurity refusal), and the wait ends at once; without it
 *       the wait runs to its timeout. Only a blocked rollout reads them, so {@code InstallerRbacIT} proves this rule
 *       with a namespace whose PodSecurity refuses the agent rather than by removing it;
 *   <li>create on pods in the release namespace, used only for dry runs ({@code dryRun=All}, nothing stored): the plan
 *       and the apply ask the API server whether its admission (PodSecurity, also cluster-wide; ResourceQuota;
 *       ValidatingAdmissionPolicy; webhooks) admits an agent pod before Helm changes anything ({@link PodPreflight}).
 *       Without it the pre-flight falls back to the namespace's PodSecurity label and the plan notes that, so {@code
 *       InstallerRbacIT} proves this rule by what the plan says with and without it rather than by a failing step;
 *   <li>the namespace is created by the install ({@code create} cannot be limited to one name);
 *   <li>the chart's ClusterRole and ClusterRoleBinding (create, and get, patch, delete of the release's own);
 *   <li>read on pods, namespaces and nodes everywhere: Kubernetes lets a caller grant (through the chart's
 *       ClusterRole) only rights the caller holds; it also lists the DaemonSet's pods to explain a rollout that
 *       does not complete.
 * </ul>
 */
public final class InstallerRbac {
    private InstallerRbac() {}

    /** One RBAC rule; {@code names} empty for every object of the resource. */
    record Rule(String apiGroup, String resource, List<String> verbs, List<String> names) {}

    /**
     * @param release the release name
     * @return the rules of the Role in the release namespace
     */
    static List<Rule> namespaceRules(String release) {
        return List.of(
                new Rule("", "secrets", List.of("get", "list", "create", "update", "patch", "delete"), List.of()),
                new Rule("", "configmaps", List.of("get", "create", "patch", "delete"), List.of()),
                new Rule("", "serviceaccounts", List.of("get", "create", "patch", "delete"), List.of()),
                new Rule("apps", "daemonsets", List.of("get", "create", "patch", "delete"), List.of()),
                new Rule("", "events", List.of("list"), List.of()),
                // Read only when a ResourceQuota refuses the pre-flight's pod: admission names the first quota that
                // refuses, and an upgrade that fits it must fit the namespace's others too. Without it the plan checks
                // the named quota alone, and says so in its note.
                new Rule("", "resourcequotas", List.of("list"), List.of()),
                // Only for the pre-flight's server-side dry run (dryRun=All) of one agent pod, which stores nothing:
                // RBAC cannot limit a right to dry runs. Without it the plan checks only the PodSecurity label, and
                // notes that a quota, policy or webhook refusing the pods would show only during the rollout.
                new Rule("", "pods", List.of("create"), List.of()));
    }

    /**
     * @param release the release name
     * @return the rules of the ClusterRole
     */
    static List<Rule> clusterRules(String release) {
        String own = AgentChart.fullName(release);
        return List.of(
                new Rule("", "namespaces", List.of("create"), List.of()),
                new Rule("rbac.authorization.k8s.io", "clusterroles", List.of("create"), List.of()),
                new Rule("rbac.authorization.k8s.io", "clusterroles", List.of("get", "patch", "delete"), List.of(own)),
                new Rule("rbac.authorization.k8s.io", "clusterrolebindings", List.of("create"), List.of()),
                new Rule(
                        "rbac.authorization.k8s.io",
                        "clusterrolebindings",
                        List.of("get", "patch", "delete"),
                        List.of(own)),
                // What the chart's ClusterRole grants the agent: a caller can only grant what it holds.
                new Rule("", "pods", List.of("get", "list", "watch"), List.of()),
                new Rule("", "namespaces", List.of("get", "list", "watch"), List.of()),
                new Rule("", "nodes", List.of("get", "list", "watch"), List.of()));
    }

    /**
     * The RBAC objects as YAML, for {@code kubectl apply -f}.
     *
     * @param cluster the cluster's name, for the header comment
     * @param namespace the release namespace
     * @param release the release name
     * @param group the Kubernetes group the caller's identity is in (e.g. an EKS access entry's kubernetesGroups)
     * @return YAML documents: Role, RoleBinding, ClusterRole, ClusterRoleBinding
     */
    public static String yaml(String cluster, String namespace, String release, String group) {
        String name = "cloudaeye-agent-installer-" + namespace + "-" + release;
        String subject =
                "subjects:\n- apiGroup: rbac.authorization.k8s.io\n  kind: Group\n  name: " + quote(group) + "\n";
        return "# The Kubernetes rights to install, upgrade and uninstall Helm release " + namespace + "/" + release
                + " on EKS cluster " + cluster + ",\n# for the members of group " + group
                + " (e.g. an EKS access entry with kubernetesGroups: [" + group + "]).\n"
                + "# The namespace must exist before the Role: kubectl create namespace " + namespace + "\n"
                + "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: " + name
                + "\n  namespace: " + namespace + "\n" + rules(namespaceRules(release))
                + "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: " + name
                + "\n  namespace: " + namespace + "\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: Role\n"
                + "  name: " + name + "\n" + subject
                + "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: " + name + "\n"
                + rules(clusterRules(release))
                + "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: " + name
                + "\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: " + name + "\n"
                + subject;
    }

    /** @return the rules in one line each, for the plan's notes */
    static String summary(String namespace, String release) {
        return "in namespace " + namespace + ": " + describe(namespaceRules(release)) + "; cluster-wide: "
                + describe(clusterRules(release));
    }

    private static String describe(List<Rule> rules) {
        return rules.stream()
                .map(r -> (r.apiGroup().isEmpty() ? "" : r.apiGroup() + "/") + r.resource()
                        + (r.names().isEmpty() ? "" : " " + r.names()) + " " + String.join("/", r.verbs()))
                .collect(Collectors.joining(", "));
    }

    private static String rules(List<Rule> rules) {
        StringBuilder yaml = new StringBuilder("rules:\n");
        for (Rule r : rules) {
            yaml.append("- apiGroups: [").append(quote(r.apiGroup())).append("]\n");
            yaml.append("  resources: [").append(quote(r.resource())).append("]\n");
            if (!r.names().isEmpty()) {
                yaml.append("  resourceNames: [")
                        .append(r.names().stream().map(InstallerRbac::quote).collect(Collectors.joining(", ")))
                        .append("]\n");
            }
            yaml.append("  verbs: [")
                    .append(r.verbs().stream().map(InstallerRbac::quote).collect(Collectors.joining(", ")))
                    .append("]\n");
        }
        return yaml.toString();
    }

    private static String quote(String value) {
        return "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }
}
