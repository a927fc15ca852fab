package com.cloudaeye.agent.eks.internal.helm;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.eks.AgentDaemonSet;
import com.cloudaeye.agent.eks.EksTarget;
import com.cloudaeye.agent.eks.testing.EksOnKubeCluster;
import com.cloudaeye.agent.eks.testing.KubeCluster;
import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The RBAC that {@link EksTarget#kubernetesRbac} emits from a plan is sufficient and minimal, proven on the real API
 * server like the IAM policy: an installer whose EKS identity is bound to exactly those rules plans and applies an
 * install, an upgrade that touches every object (a new label on all of them) and an uninstall; each verb of the
 * rules that name requests shows up in the API server's audit log for that identity; and with any one rule removed,
 * some step fails. Each case has its own AWS access key (so its own Kubernetes user), release and namespace.
 */
class InstallerRbacIT {
    private static final String TOKEN = "tok-rbac-7e0a";
    private static final String GROUP = "cloudaeye-agent-installers";

    @RegisterExtension
    static final EksOnKubeCluster CLUSTER = EksOnKubeCluster.eksApiOnly();

    @TempDir
    Path journals;

    @Test
    void installUpgradeUninstall_asAUserWithExactlyTheEmittedRules_succeed_andUseEveryVerbGranted() {
        String name = "rbac-all";
        assertThat(emitted(name))
                .doesNotContain("\"*\"", "cluster-admin", "\"escalate\"", "\"bind\"", "\"impersonate\"");
        List<HasMetadata> rbac = grant(name, emitted(name), List.of());

        assertThat(run(name))
                .as("install, upgrade, uninstall as eks:" + accessKey(name))
                .isEmpty();

        List<JsonNode> requests = KubeCluster.audited("eks:" + accessKey(name), 0);
        for (PolicyRule rule : rules(rbac)) {
            if (rule.getResources().contains("events")) {
                continue; // read only when a rollout gets no pod: see refusedPods_asAUserWith...
            }
            if (rule.getResources().contains("resourcequotas")) {
                continue; // read only when a quota refuses the pre-flight's pod: see AdmissionPreflightIT
            }
            if ((rule.getResources().stream()
                                    .anyMatch(r -> List.of("pods", "nodes").contains(r))
                            && !rule.getVerbs().contains("create"))
                    || (rule.getResources().contains("namespaces")
                            && rule.getVerbs().contains("watch"))) {
                continue; // held only so that the chart's ClusterRole may grant them (removing it fails, below)
            }
            for (String verb : rule.getVerbs()) {
                assertThat(requests)
                        .as("a " + verb + " of " + rule.getResources() + " " + rule.getResourceNames())
                        .anySatisfy(r -> {
                            assertThat(r.path("verb").asText()).isEqualTo(verb);
                            assertThat(r.path("objectRef").path("resource").asText())
                                    .isEqualTo(rule.getResources().get(0));
                            assertThat(r.path("responseStatus").path("code").asInt())
                                    .isNotEqualTo(403);
                        });
            }
        }
        cleanUp(name, rbac);
    }

    /**
     * Every rule but the one on events, whose removal only makes a refused rollout's failure slower, the one creating
     * pods (dry runs only), whose removal only makes the plan fall back to the label check (see below), and the one
     * listing quotas, read only when a quota refuses the pre-flight's pod.
     */
    static Stream<Integer> ruleIndexes() {
        String name = "rbac-x";
        List<PolicyRule> rules = rules(parse(emitted(name)));
        return IntStream.range(0, rules.size())
                .filter(i -> !rules.get(i).getResources().contains("events")
                        && !rules.get(i).getResources().contains("resourcequotas")
                        && !createsPods(rules.get(i)))
                .boxed();
    }

    private static boolean createsPods(PolicyRule rule) {
        return rule.getResources().contains("pods") && rule.getVerbs().contains("create");
    }

    @Test
    void plan_asAUserWithoutCreateOnPods_notesThatThePreflightCouldNotRun_andStillInstallsAndUpgrades() {
        String name = "rbac-nopods";
        List<HasMetadata> rbac = grant(name, emitted(name), List.of(ruleIndex(name, InstallerRbacIT::createsPods)));
        long mark = KubeCluster.auditMark();
        try (AgentInstaller installer = installer(name, install(name))) {
            Plan plan = installer.plan();
            assertThat(plan.changes())
                    .as(plan.toString())
                    .singleElement()
                    .satisfies(c -> assertThat(c.action()).isEqualTo(com.cloudaeye.agent.ChangeAction.CREATE));
            assertThat(plan.notes())
                    .anySatisfy(n -> assertThat(n)
                            .contains(
                                    "could not be checked",
                                    "may not create pods in namespace " + name,
                                    "only the namespace's PodSecurity label was checked")
                            .doesNotContain(TOKEN));
            ApplyResult result = installer.apply(plan);
            assertThat(result.isSuccess()).as(result.toString()).isTrue();
        }
        // The pre-flight was asked, and refused by RBAC.
        assertThat(KubeCluster.audited("eks:" + accessKey(name), mark)).anySatisfy(r -> {
            assertThat(r.path("verb").asText()).isEqualTo("create");
            assertThat(r.path("objectRef").path("resource").asText()).isEqualTo("pods");
            assertThat(r.path("responseStatus").path("code").asInt()).isEqualTo(403);
        });
        cleanUp(name, rbac);
    }

    /** @return the index among the rules emitted for {@code name} of the first rule {@code which} accepts */
    private static int ruleIndex(String name, Predicate<PolicyRule> which) {
        List<PolicyRule> rules = rules(parse(emitted(name)));
        return IntStream.range(0, rules.size())
                .filter(i -> which.test(rules.get(i)))
                .findFirst()
                .orElseThrow();
    }

    /** The release of this test's user: its own namespace and name, a short timeout. */
    private static AgentDaemonSet install(String name) {
        return AgentDaemonSet.builder()
                .namespace(name)
                .releaseName(name)
                .timeout(Duration.ofSeconds(30))
                .build();
    }

    /**
     * The rollout's own check, for what the pre-flight cannot see: here the user may not create pods, so the apply's
     * dry run does not run and the refused rollout is what tells (as for a namespace the install creates).
     */
    @Test
    void
            refusedPods_asAUserWithTheEmittedRulesButCreatingPods_failAtOnceWithTheReason_andWithoutEventsAfterTheTimeout() {
        String name = "rbac-ev";
        List<HasMetadata> rbac = grant(name, emitted(name), List.of(ruleIndex(name, InstallerRbacIT::createsPods)));
        long mark = KubeCluster.auditMark();

        String failure = applyIntoNamespaceRestrictedAfterPlanning(name);

        // The events rule is used, and enough: the refusal is quoted at once.
        assertThat(failure).contains("got no pod", "violates PodSecurity", "enforce=privileged");
        assertThat(KubeCluster.audited("eks:" + accessKey(name), mark)).anySatisfy(r -> {
            assertThat(r.path("verb").asText()).isEqualTo("list");
            assertThat(r.path("objectRef").path("resource").asText()).isEqualTo("events");
            assertThat(r.path("responseStatus").path("code").asInt()).isEqualTo(200);
        });
        cleanUp(name, rbac);

        String without = "rbac-noev";
        int events = ruleIndex(without, r -> r.getResources().contains("events"));
        List<HasMetadata> fewer =
                grant(without, emitted(without), List.of(events, ruleIndex(without, InstallerRbacIT::createsPods)));

        // Without it, the wait runs to its timeout as before, and says what would have told why.
        assertThat(applyIntoNamespaceRestrictedAfterPlanning(without))
                .contains("had not rolled out", "events (which would say why) could not be read", "list on events")
                .doesNotContain("got no pod");
        cleanUp(without, fewer);
    }

    /** Plans an install, then labels the namespace PodSecurity restricted and applies; the failure. */
    private String applyIntoNamespaceRestrictedAfterPlanning(String name) {
        try (AgentInstaller installer = installer(name, install(name))) {
            Plan plan = installer.plan();
            try (KubernetesClient admin = KubeCluster.admin()) {
                admin.namespaces().withName(name).edit(n -> {
                    n.getMetadata().getLabels().put("pod-security.kubernetes.io/enforce", "restricted");
                    return n;
                });
            }
            ApplyResult result = installer.apply(plan);
            assertThat(result.isSuccess()).as(result.toString()).isFalse();
            return result.toString();
        }
    }

    @ParameterizedTest
    @MethodSource("ruleIndexes")
    void anyOneRuleRemoved_makesAStepFail(int removed) {
        String name = "rbac-" + removed;
        List<HasMetadata> rbac = grant(name, emitted(name), List.of(removed));

        Optional<String> failure = run(name);

        assertThat(failure)
                .as("rule " + removed + " removed: "
                        + rules(parse(emitted(name))).get(removed))
                .hasValueSatisfying(f -> assertThat(f).containsAnyOf("forbidden", "refused"));

        cleanUp(name, rbac);
    }

    /** The YAML a plan made with full rights emits for this release. */
    private static String emitted(String name) {
        return InstallerRbac.yaml("prod-eks", name, name, GROUP);
    }

    /**
     * Creates the namespace and applies the emitted RBAC (one rule removed, maybe), bound to this case's EKS user
     * instead of the group: the test's EKS identities are in no group.
     */
    private static List<HasMetadata> grant(String name, String yaml, List<Integer> removed) {
        List<HasMetadata> objects = parse(yaml.replace(
                "kind: Group\n  name: \"" + GROUP + "\"", "kind: User\n  name: \"eks:" + accessKey(name) + "\""));
        List<PolicyRule> all = rules(objects);
        removed.forEach(i -> {
            PolicyRule rule = all.get(i);
            objects.forEach(o -> {
                if (o instanceof Role role) {
                    role.getRules().remove(rule);
                } else if (o instanceof ClusterRole role) {
                    role.getRules().remove(rule);
                }
            });
        });
        try (KubernetesClient admin = KubeCluster.admin()) {
            admin.namespaces().resource(KubeObjects.namespace(name, Map.of())).serverSideApply();
            admin.resourceList(objects).serverSideApply();
        }
        return objects;
    }

    /** Plans and applies install, upgrade and uninstall as the case's user; the first failure, if any. */
    private Optional<String> run(String name) {
        AgentDaemonSet install = install(name);
        // A label on every object: the upgrade patches each kind the chart has.
        AgentDaemonSet upgrade = AgentDaemonSet.builder()
                .from(install)
                .putExtraValues("commonLabels.team", "logs")
                .build();
        try {
            for (boolean uninstall : List.of(false, true)) {
                for (AgentDaemonSet options : uninstall ? List.of(install) : List.of(install, upgrade)) {
                    try (AgentInstaller installer = installer(name, options)) {
                        Plan plan = uninstall ? installer.planUninstall() : installer.plan();
                        ApplyResult result = installer.apply(plan);
                        if (!result.isSuccess()) {
                            return Optional.of(result.toString());
                        }
                    }
                }
            }
            return Optional.empty();
        } catch (RuntimeException e) {
            return Optional.of(e.toString());
        }
    }

    private AgentInstaller installer(String name, AgentDaemonSet options) {
        return EksOnKubeCluster.installer(CLUSTER.eksEndpoint(), accessKey(name), options, TOKEN, journals);
    }

    private static void cleanUp(String name, List<HasMetadata> rbac) {
        EksOnKubeCluster.removeRelease(name, false);
        try (KubernetesClient admin = KubeCluster.admin()) {
            admin.resourceList(rbac).delete();
        }
    }

    private static String accessKey(String name) {
        return "AKID" + name.replace("-", "").toUpperCase(java.util.Locale.ROOT);
    }

    private static List<HasMetadata> parse(String yaml) {
        try (KubernetesClient admin = KubeCluster.admin()) {
            return new ArrayList<>(admin.load(new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8)))
                    .items());
        }
    }

    /** The Role's rules, then the ClusterRole's. */
    private static List<PolicyRule> rules(List<HasMetadata> objects) {
        List<PolicyRule> rules = new ArrayList<>();
        objects.stream().filter(Role.class::isInstance).forEach(o -> rules.addAll(((Role) o).getRules()));
        objects.stream().filter(ClusterRole.class::isInstance).forEach(o -> rules.addAll(((ClusterRole) o).getRules()));
        return rules;
    }
}
