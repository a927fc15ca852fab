package com.cloudaeye.agent.testing;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.AgentInstallerBuilder;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.Journal;
import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.PolicyDocument;
import com.cloudaeye.agent.spi.support.AwsActions;
import com.cloudaeye.agent.spi.support.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;

/** The proxies, journals and checks behind {@link TargetContract}'s runs. */
final class ContractRuns {
    private ContractRuns() {}

    /**
     * @param builder an installer builder
     * @param proxy the proxy its calls go through
     * @return the builder, through the proxy, with two attempts per call and a short backoff
     */
    static AgentInstallerBuilder quick(AgentInstallerBuilder builder, ThrottlingProxy proxy) {
        return builder.endpointOverride(proxy.endpoint()).retries(2, Duration.ofMillis(5));
    }

    /** @return a proxy that forwards every call to {@code endpoint} and records it */
    static ThrottlingProxy recording(URI endpoint) {
        return ThrottlingProxy.builder().target(endpoint).unlimited().start();
    }

    /** @return a proxy that drops every mutating call before it reaches {@code endpoint}: none lands, reads work */
    static ThrottlingProxy droppingMutations(URI endpoint) {
        return ThrottlingProxy.builder()
                .target(endpoint)
                .unlimited()
                .gate(r -> AwsActions.isReadOnly(r.action()))
                .start();
    }

    /**
     * @return a proxy that forwards the first mutating call and loses its answer, then denies every call (reads
     *     included, with an error no retry cures) before it reaches {@code endpoint}: the change landed and its
     *     read-back fails
     */
    static ThrottlingProxy losingFirstMutationThenDenyingAll(URI endpoint) {
        AtomicBoolean lost = new AtomicBoolean();
        return ThrottlingProxy.builder()
                .target(endpoint)
                .unlimited()
                .faultRule(r -> {
                    if (lost.get()) {
                        return ThrottlingProxy.Fault.ACCESS_DENIED;
                    }
                    return !AwsActions.isReadOnly(r.action()) && lost.compareAndSet(false, true)
                            ? ThrottlingProxy.Fault.LOST_RESPONSE
                            : null;
                })
                .start();
    }

    /** @return the mutating requests the proxy received, forwarded or not */
    static List<ThrottlingProxy.Request> mutatingCalls(ThrottlingProxy proxy) {
        return proxy.requestLog().stream()
                .filter(r -> !AwsActions.isReadOnly(r.action()))
                .toList();
    }

    /**
     * Checks that the policy allows every request the proxy received, as (action, resource) pairs.
     *
     * @return the pairs the requests used
     */
    static Set<Permission> assertAllowed(PolicyDocument policy, ThrottlingProxy proxy, String what) {
        CallResources resources = new CallResources(Moto.REGION.id(), Moto.ACCOUNT);
        Set<Permission> used = new TreeSet<>();
        proxy.requestLog().forEach(r -> used.addAll(resources.of(r)));
        assertThat(used).as("calls seen while " + what).isNotEmpty();
        Set<Permission> notAllowed = new TreeSet<>();
        for (Permission p : used) {
            if (!policy.allows(p)) {
                notAllowed.add(p);
            }
        }
        assertThat(notAllowed)
                .as("calls made while " + what + " on a resource the policy does not grant:\n" + policy.toJson())
                .isEmpty();
        return used;
    }

    /** @return the (action, resource) pairs of the proxy's requests that the policy does not allow */
    static Set<Permission> notAllowed(PolicyDocument policy, ThrottlingProxy proxy) {
        CallResources resources = new CallResources(Moto.REGION.id(), Moto.ACCOUNT);
        Set<Permission> notAllowed = new TreeSet<>();
        proxy.requestLog()
                .forEach(r ->
                        resources.of(r).stream().filter(p -> !policy.allows(p)).forEach(notAllowed::add));
        return notAllowed;
    }

    /**
     * @param exempt grants that need no call of their own
     * @return each (action, resource) the policy grants that no used pair needs, as {@code action on resource}
     */
    static Set<String> unused(PolicyDocument policy, Set<Permission> used, Predicate<Permission> exempt) {
        Set<String> unused = new TreeSet<>();
        for (PolicyDocument.Statement statement : policy.statements()) {
            for (String action : statement.actions()) {
                for (String resource : statement.resources()) {
                    Permission granted = Permission.of(action, resource);
                    if (exempt.test(granted)) {
                        continue;
                    }
                    PolicyDocument grant = PolicyDocument.allowing(List.of(granted));
                    if (used.stream().noneMatch(grant::allows)) {
                        unused.add(action + " on " + resource);
                    }
                }
            }
        }
        return unused;
    }

    /** @return a change's identity in journals and results: its target and resource */
    static String key(Change c) {
        return c.target() + " " + c.resourceId();
    }

    /** @return the identities of the plan's mutations, sorted */
    static List<String> resourceKeys(Plan plan) {
        return plan.mutations().stream().map(ContractRuns::key).sorted().toList();
    }

    /** @return the plan's mutations as identity and action, sorted */
    static List<String> keys(Plan plan) {
        return keys(plan.mutations());
    }

    /** @return the changes as identity and action, sorted */
    static List<String> keys(List<Change> changes) {
        return changes.stream().map(c -> key(c) + " " + c.action()).sorted().toList();
    }

    /**
     * Writes what a crash during the journal's first change leaves behind (every line up to and including its first
     * {@code STARTING} line) and reads it.
     *
     * @param journal an apply's journal with at least one started change
     * @param crashed where to write the cut journal
     * @return the cut journal
     */
    static Journal cutAfterFirstStart(Path journal, Path crashed) {
        try {
            List<String> kept = new ArrayList<>();
            for (String line : Files.readAllLines(journal, StandardCharsets.UTF_8)) {
                kept.add(line);
                if (!line.isBlank() && Json.parse(line).path("event").asText().equals("STARTING")) {
                    Files.write(crashed, kept, StandardCharsets.UTF_8);
                    return Journal.read(crashed);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        throw new AssertionError("The journal " + journal + " has no started change");
    }
}
