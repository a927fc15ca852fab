package com.cloudaeye.agent.examples;

import com.cloudaeye.agent.AgentException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The environment variable behind each builder call, for the examples and jshell scripts. The library's messages
 * name its own API (they are written for Java callers): {@code add .layer(Architecture.ARM64, layerArn) for it}.
 * Someone running a script sets variables instead, so a script that fails with an {@link AgentException} prints the
 * message and then, when the message names a call this script feeds from a variable, one more line naming the
 * variable:
 *
 * <pre>{@code
 * } catch (Exception e) {
 *     System.err.println("lambda-plan.jsh failed: " + e.getMessage());
 *     ScriptHints.LAMBDA.hint(e).ifPresent(System.err::println);
 * }
 * }</pre>
 *
 * Each map is keyed by the text the library's messages use for the call ({@code .layer(Architecture.ARM64}), so a
 * message reworded in the library loses its hint here: {@code ScriptHintsTest} checks the messages it knows.
 */
public final class ScriptHints {
    /** The agent's settings, which every script reads. */
    public static final ScriptHints AGENT = new ScriptHints(List.of(
            new Entry(".logsEndpoint(", "CLOUDAEYE_LOGS_ENDPOINT", ".logsEndpoint(...)"),
            new Entry("The agent's logsEndpoint", "CLOUDAEYE_LOGS_ENDPOINT", "the agent's logsEndpoint"),
            new Entry(".apiToken(", "CLOUDAEYE_API_TOKEN", ".apiToken(...)"),
            new Entry("The agent's apiToken", "CLOUDAEYE_API_TOKEN", "the agent's apiToken"),
            new Entry(".journalDirectory(", "CLOUDAEYE_JOURNAL_DIR", ".journalDirectory(...)")));

    /** The Lambda scripts and {@code LambdaExample}. */
    public static final ScriptHints LAMBDA = AGENT.with(
            new Entry(".layer(Architecture.X86_64", "CLOUDAEYE_LAYER_X86_64", ".layer(Architecture.X86_64, ...)"),
            new Entry(".layer(Architecture.ARM64", "CLOUDAEYE_LAYER_ARM64", ".layer(Architecture.ARM64, ...)"),
            new Entry(".functions(", "CLOUDAEYE_FUNCTIONS", ".functions(...)"),
            new Entry("exclude those functions", "CLOUDAEYE_EXCLUDE", "excluding functions"),
            new Entry(".exclude(", "CLOUDAEYE_EXCLUDE", ".exclude(...)"),
            new Entry("publishVersion(", "CLOUDAEYE_PUBLISH_VERSION=yes", ".publishVersion(true)"));

    /** The ECS scripts and {@code EcsExample}. */
    public static final ScriptHints ECS = AGENT.with(
            new Entry("EcsTarget.builder().cluster(", "CLOUDAEYE_ECS_CLUSTER", ".cluster(...)"),
            new Entry(".services(", "CLOUDAEYE_ECS_SERVICES", ".services(...)"),
            new Entry("is excluded by", "CLOUDAEYE_ECS_EXCLUDE", "the excludes"),
            new Entry("s.image(", "CLOUDAEYE_ROUTER_IMAGE", "the log router's image"),
            new Entry("apiTokenSecretArn(", "CLOUDAEYE_TOKEN_SECRET_ARN", ".apiTokenSecretArn(...)"),
            new Entry("updateServices(", "CLOUDAEYE_ECS_UPDATE_SERVICES", ".updateServices(...)"));

    /** The EKS scripts and {@code EksExample}. */
    public static final ScriptHints EKS = AGENT.with(
            new Entry("EksTarget: cluster(", "CLOUDAEYE_EKS_CLUSTER", ".cluster(...)"),
            new Entry(".logTypes(", "CLOUDAEYE_EKS_LOG_TYPES", ".logTypes(...)"),
            new Entry(".daemonSet(", "CLOUDAEYE_EKS_DAEMONSET=yes", ".daemonSet(...)"),
            new Entry(".controlPlaneLogging(", "CLOUDAEYE_EKS_LOG_TYPES", ".controlPlaneLogging(...)"),
            new Entry(".kubeconfig(", "CLOUDAEYE_KUBECONFIG", ".kubeconfig(...)"),
            new Entry(
                    "crossAccountRole(",
                    "CLOUDAEYE_ACCOUNT_ID and CLOUDAEYE_EXTERNAL_ID",
                    ".crossAccountRole(accountId, externalId)"),
            new Entry(".cloudAEyeAccess(", "CLOUDAEYE_ACCOUNT_ID and CLOUDAEYE_EXTERNAL_ID", ".cloudAEyeAccess(...)"));

    /** {@code fleet.jsh} and {@code FleetExample}: a Lambda target in every account-region. */
    public static final ScriptHints FLEET = LAMBDA.with(
            new Entry(".accounts(", "CLOUDAEYE_ACCOUNTS", ".accounts(...)"),
            new Entry(".organization()", "CLOUDAEYE_ACCOUNTS=organization", ".organization()"),
            new Entry(".regions(", "CLOUDAEYE_REGIONS", ".regions(...)"),
            new Entry(".allEnabledRegions()", "CLOUDAEYE_REGIONS=all", ".allEnabledRegions()"),
            new Entry(".roleName(", "CLOUDAEYE_ROLE_NAME", ".roleName(...)"),
            new Entry(".externalId(", "CLOUDAEYE_EXTERNAL_ID", ".externalId(...)"),
            new Entry(".journalStore(", "CLOUDAEYE_JOURNAL_BUCKET", ".journalStore(...)"));

    /** The Java examples: every platform, and the opt-in to an {@code http} logs endpoint the scripts lack. */
    public static final ScriptHints JAVA_EXAMPLES = LAMBDA.with(ECS)
            .with(EKS)
            .with(FLEET)
            .with(new Entry(
                    "allowInsecureEndpoint(true)",
                    "CLOUDAEYE_ALLOW_INSECURE_ENDPOINT=yes",
                    "allowInsecureEndpoint(true)"));

    /** A builder call as the library's messages write it, the variable that feeds it, and the call as shown. */
    private record Entry(String inMessage, String variable, String call) {}

    private final List<Entry> entries;

    private ScriptHints(List<Entry> entries) {
        this.entries = List.copyOf(entries);
    }

    private ScriptHints with(Entry... more) {
        List<Entry> all = new ArrayList<>(entries);
        all.addAll(List.of(more));
        return new ScriptHints(all);
    }

    private ScriptHints with(ScriptHints other) {
        return with(other.entries.stream().filter(e -> !entries.contains(e)).toArray(Entry[]::new));
    }

    /**
     * @param failure what a script caught
     * @return for an {@link AgentException} whose message names builder calls this script sets from variables, a line
     *     naming the variables, in the order the message names the calls; else empty
     */
    public Optional<String> hint(Throwable failure) {
        if (!(failure instanceof AgentException)) {
            return Optional.empty();
        }
        String message = Objects.requireNonNullElse(failure.getMessage(), "");
        Map<Integer, Entry> found = new TreeMap<>();
        for (Entry e : entries) {
            int at = message.indexOf(e.inMessage());
            if (at >= 0) {
                found.putIfAbsent(at, e);
            }
        }
        Map<String, List<String>> callsByVariable = new LinkedHashMap<>();
        found.values()
                .forEach(e -> callsByVariable
                        .computeIfAbsent(e.variable(), v -> new ArrayList<>())
                        .add(e.call()));
        if (callsByVariable.isEmpty()) {
            return Optional.empty();
        }
        List<String> parts = new ArrayList<>();
        callsByVariable.forEach((variable, calls) -> parts.add(variable + " for " + String.join(" and ", calls)));
        return Optional.of("In this script, set the environment variable" + (parts.size() == 1 ? " " : "s ")
                + String.join("; ", parts)
                + " (examples/README.md lists them all).");
    }

    /** @return each call as the library's messages write it, to the variable that feeds it (for tests) */
    Map<String, String> variables() {
        Map<String, String> map = new LinkedHashMap<>();
        entries.forEach(e -> map.putIfAbsent(e.inMessage(), e.variable()));
        return map;
    }
}
