package com.cloudaeye.agent.testing;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.PolicyDocument;
import com.cloudaeye.agent.spi.support.AwsActions;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The behaviour every target must show, run by each platform module's integration test against moto: extend it,
 * create the fixture resources in a {@code @BeforeEach}, and return an installer builder for them.
 *
 * <ul>
 *   <li>{@code plan()} makes no mutating call;
 *   <li>{@code apply(plan)} then {@code plan()} is empty, and the same for uninstall;
 *   <li>the plan's policy allows every call that plan and apply made, as an (action, resource) pair seen on the wire,
 *       and grants no (action, resource) that no call used (except authorization-only actions like {@code
 *       iam:PassRole}, and actions the target lists as used only on a failure or read-back path).
 * </ul>
 */
public abstract class TargetContract {
    /** A fresh directory for journals. */
    @TempDir
    protected Path journals;

    /**
     * @return a builder pointed at moto, with the target under test and agent settings; the contract adds the
     *     journal directory and builds it
     */
    protected abstract AgentInstaller.Builder installer();

    /** @return actions AWS authorizes without a call of that name (e.g. {@code iam:PassRole}) */
    protected Set<String> authorizationOnlyActions() {
        return Set.of();
    }

    private AgentInstaller build() {
        return installer().journalDirectory(journals).build();
    }

    @Test
    void plan_makesNoMutatingCall() {
        try (AgentInstaller installer = build()) {
            Plan plan = installer.plan();
            assertThat(plan.mutations())
                    .as("the fixture must give the target something to do")
                    .isNotEmpty();
            assertThat(installer.calls().keySet())
                    .as("calls made by plan()")
                    .isNotEmpty()
                    .allMatch(AwsActions::isReadOnly);
        }
    }

    @Test
    void apply_thenPlan_isEmpty_andUninstall_thenPlanUninstall_isEmpty() {
        try (AgentInstaller installer = build()) {
            ApplyResult applied = installer.apply(installer.plan());
            assertThat(applied.isSuccess()).as(applied.toString()).isTrue();
            Plan again = installer.plan();
            assertThat(again.mutations()).as(again.toString()).isEmpty();

            ApplyResult removed = installer.uninstall();
            assertThat(removed.isSuccess()).as(removed.toString()).isTrue();
            Plan uninstallAgain = installer.planUninstall();
            assertThat(uninstallAgain.mutations()).as(uninstallAgain.toString()).isEmpty();
        }
    }

    /**
     * @param granted one (action, resource) the policy grants
     * @return true when AWS authorizes it inside another call, so no call of its own uses it (by default: an action of
     *     {@link #authorizationOnlyActions()})
     */
    protected boolean authorizationOnly(Permission granted) {
        return authorizationOnlyActions().contains(granted.action());
    }

    /**
     * @return actions that plan and apply make only on a failure or read-back path the contract's happy run does not
     *     take (e.g. a read after a lost answer), each named here on purpose; their grants are not required to be used
     */
    protected Set<String> failureAndReadBackOnlyActions() {
        return Set.of();
    }

    /**
     * Every call plan and apply made, seen on the wire as (action, resource), is allowed by the plan's policy; and
     * every (action, resource) the policy grants was used by some call, or is on a listed failure or read-back path,
     * or is authorization-only.
     */
    @Test
    void policy_allowsEveryCallOnItsResource_andGrantsOnlyWhatPlanAndApplyUse() {
        try (ThrottlingProxy proxy = ThrottlingProxy.builder()
                        .target(Moto.endpoint())
                        .unlimited()
                        .start();
                AgentInstaller installer = installer()
                        .endpointOverride(proxy.endpoint())
                        .journalDirectory(journals)
                        .build()) {
            Plan plan = installer.plan();
            ApplyResult result = installer.apply(plan);
            assertThat(result.isSuccess()).as(result.toString()).isTrue();
            PolicyDocument policy = plan.requiredPolicy();
            CallResources resources = new CallResources(Moto.REGION.id(), Moto.ACCOUNT);
            Set<Permission> used = new TreeSet<>();
            proxy.requestLog().forEach(r -> used.addAll(resources.of(r)));
            assertThat(used).as("calls seen").isNotEmpty();

            Set<Permission> notAllowed = new TreeSet<>();
            used.forEach(p -> {
                if (!policy.allows(p)) {
                    notAllowed.add(p);
                }
            });
            assertThat(notAllowed)
                    .as("calls made on a resource the policy does not grant:\n" + policy.toJson())
                    .isEmpty();

            Set<String> unused = new TreeSet<>();
            for (PolicyDocument.Statement statement : policy.statements()) {
                for (String action : statement.actions()) {
                    if (failureAndReadBackOnlyActions().contains(action)) {
                        continue;
                    }
                    for (String resource : statement.resources()) {
                        if (authorizationOnly(Permission.of(action, resource))) {
                            continue;
                        }
                        PolicyDocument grant = PolicyDocument.allowing(List.of(Permission.of(action, resource)));
                        if (used.stream().noneMatch(grant::allows)) {
                            unused.add(action + " on " + resource);
                        }
                    }
                }
            }
            assertThat(unused)
                    .as("granted but used by no call (list a failure or read-back path on purpose):\n"
                            + policy.toJson())
                    .isEmpty();
            assertThat(PolicyDocument.fromJson(policy.toJson())).isEqualTo(policy);
        }
    }
}
