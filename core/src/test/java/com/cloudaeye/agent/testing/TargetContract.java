package com.cloudaeye.agent.testing;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.PolicyDocument;
import com.cloudaeye.agent.internal.CallRecorder;
import java.nio.file.Path;
import java.util.Map;
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
 *   <li>the plan's policy allows every call that plan and apply made, and names no action that neither used
 *       (except the authorization-only actions the target declares, like {@code iam:PassRole}).
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
                    .allMatch(CallRecorder::isReadOnly);
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

    @Test
    void policy_coversEveryCall_andGrantsNoUnusedAction() {
        try (AgentInstaller installer = build()) {
            Plan plan = installer.plan();
            ApplyResult result = installer.apply(plan);
            assertThat(result.isSuccess()).as(result.toString()).isTrue();
            PolicyDocument policy = plan.requiredPolicy();
            Map<String, Long> calls = installer.calls();

            Set<String> missing = new TreeSet<>();
            calls.keySet().forEach(action -> {
                boolean allowed =
                        policy.statements().stream().anyMatch(s -> s.actions().contains(action));
                if (!allowed) {
                    missing.add(action);
                }
            });
            assertThat(missing)
                    .as("actions called but not in the policy:\n" + policy.toJson())
                    .isEmpty();

            Set<String> unused = new TreeSet<>(policy.actions());
            unused.removeAll(calls.keySet());
            unused.removeAll(authorizationOnlyActions());
            assertThat(unused)
                    .as("actions granted but never called:\n" + policy.toJson())
                    .isEmpty();

            plan.mutations()
                    .forEach(c -> c.permissions()
                            .forEach(p -> assertThat(policy.allows(p))
                                    .as(p.toString())
                                    .isTrue()));
            assertThat(PolicyDocument.fromJson(policy.toJson())).isEqualTo(policy);
            assertThat(policy.allows(Permission.of("iam:CreateUser", "arn:aws:iam::" + Moto.ACCOUNT + ":user/x")))
                    .as("never grants unrelated actions")
                    .isFalse();
        }
    }
}
