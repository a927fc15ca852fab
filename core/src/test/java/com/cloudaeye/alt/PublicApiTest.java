package com.cloudaeye.alt;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.AgentException;
import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.AgentInstallerBuilder;
import com.cloudaeye.agent.ApplyException;
import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.AttributeChange;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.ConfigurationException;
import com.cloudaeye.agent.InsufficientPermissionsException;
import com.cloudaeye.agent.Journal;
import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.PlanningException;
import com.cloudaeye.agent.PolicyDocument;
import com.cloudaeye.agent.Secret;
import com.cloudaeye.agent.spi.ApplyContext;
import com.cloudaeye.agent.spi.Target;
import com.cloudaeye.agent.spi.TargetContext;
import com.cloudaeye.agent.spi.TargetPlan;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;

/**
 * What a user outside the library's packages can do with its public API alone: write a target against the SPI,
 * plan, print, review the policy, apply, save and reload plans, read the journal and roll back.
 */
class PublicApiTest {
    @TempDir
    Path journals;

    /** A toy target over an in-memory "account": each resource holds the agent version installed, or nothing. */
    static final class InMemoryTarget implements Target {
        final Map<String, String> installed = new ConcurrentHashMap<>();
        final List<String> resources;

        InMemoryTarget(String... resources) {
            this.resources = List.of(resources);
        }

        static String arn(String r) {
            return "arn:aws:example:us-east-1:123456789012:thing/" + r;
        }

        @Override
        public String name() {
            return "example";
        }

        @Override
        public TargetPlan plan(TargetContext context) {
            List<Change> changes = new ArrayList<>();
            for (String r : resources) {
                Change.Builder c = Change.builder()
                        .target(name())
                        .resourceType("Example::Thing")
                        .resourceId(arn(r));
                if ("v2".equals(installed.get(r))) {
                    changes.add(c.action(ChangeAction.NO_OP)
                            .reason("already installed")
                            .build());
                } else {
                    changes.add(c.action(ChangeAction.UPDATE)
                            .addAttributes(AttributeChange.of("Agent", installed.get(r), "v2"))
                            .addAttributes(AttributeChange.redacted("Token", false, true))
                            .addPermissions(Permission.of("example:PutThing", arn(r)))
                            .build());
                }
            }
            return new TargetPlan(changes, List.of(Permission.of("example:ListThings", "*")));
        }

        @Override
        public TargetPlan planUninstall(TargetContext context) {
            return new TargetPlan(List.of(), List.of());
        }

        @Override
        public TargetPlan planRollback(List<Change> applied, TargetContext context) {
            List<Change> restores = new ArrayList<>();
            for (Change c : applied) {
                restores.add(Change.builder()
                        .from(c)
                        .attributes(List.of(AttributeChange.of("Agent", "v2", null)))
                        .build());
            }
            return new TargetPlan(restores, List.of());
        }

        @Override
        public void apply(List<Change> changes, ApplyContext context) {
            for (Change c : changes) {
                String r = c.resourceId().substring(c.resourceId().lastIndexOf('/') + 1);
                context.starting(c);
                String after = c.attributes().get(0).after().orElse(null);
                if (after == null) {
                    installed.remove(r);
                } else {
                    installed.put(r, after);
                }
                context.applied(c, null, null);
            }
        }
    }

    private AgentInstallerBuilder installer(Target target) {
        return AgentInstaller.builder()
                .region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("AKID", "SECRET")))
                .agent(a -> a.logsEndpoint("https://logs.example.cloudaeye.com").apiToken(Secret.of("t0k3n-value")))
                .journalDirectory(journals)
                .target(target);
    }

    @Test
    void planApplyPlanAgain_thenRollback_withACustomTarget() {
        InMemoryTarget target = new InMemoryTarget("one", "two");
        try (AgentInstaller installer = installer(target).build()) {
            Plan plan = installer.plan();
            assertThat(plan.toString()).contains("2 update").contains("Token: (absent) -> ****");
            PolicyDocument policy = plan.requiredPolicy();
            assertThat(policy.allows(Permission.of("example:PutThing", InMemoryTarget.arn("one"))))
                    .isTrue();
            assertThat(policy.actions()).containsExactly("example:ListThings", "example:PutThing");

            ApplyResult result = installer.apply(plan);
            assertThat(result.status()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            assertThat(target.installed).containsOnlyKeys("one", "two");
            assertThat(installer.plan().isEmpty())
                    .as("apply then plan is empty")
                    .isTrue();

            Journal journal = Journal.read(result.journal().orElseThrow());
            assertThat(journal.applied()).hasSize(2);
            ApplyResult undone = installer.rollback(journal);
            assertThat(undone.status()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            assertThat(target.installed).isEmpty();
        }
    }

    @Test
    void aSavedPlan_readBack_appliesTheSame() {
        InMemoryTarget target = new InMemoryTarget("one");
        try (AgentInstaller installer = installer(target).build()) {
            String saved = installer.plan().toJson();
            assertThat(saved).doesNotContain("t0k3n-value");

            ApplyResult result = installer.apply(Plan.fromJson(saved));

            assertThat(result.isSuccess()).isTrue();
            assertThat(target.installed).containsEntry("one", "v2");
        }
    }

    @Test
    void everyExceptionIsAnUncheckedAgentException() {
        assertThat(Stream.of(
                        ConfigurationException.class,
                        PlanningException.class,
                        InsufficientPermissionsException.class,
                        ApplyException.class))
                .allMatch(AgentException.class::isAssignableFrom);
        assertThat(RuntimeException.class).isAssignableFrom(AgentException.class);
        InsufficientPermissionsException e = new InsufficientPermissionsException(
                "The caller lacks example:PutThing",
                PolicyDocument.allowing(List.of(Permission.of("example:PutThing", InMemoryTarget.arn("one")))));
        assertThat(e.getMessage()).contains("Attach this policy").contains("\"example:PutThing\"");
        assertThat(e.missing().actions()).containsExactly("example:PutThing");
    }
}
