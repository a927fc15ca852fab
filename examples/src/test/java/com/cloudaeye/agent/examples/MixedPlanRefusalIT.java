package com.cloudaeye.agent.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.AgentInstallerBuilder;
import com.cloudaeye.agent.ApplyException;
import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.ConfigurationException;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.ResourceResult;
import com.cloudaeye.agent.Secret;
import com.cloudaeye.agent.eks.AccessKey;
import com.cloudaeye.agent.eks.EksTarget;
import com.cloudaeye.agent.lambda.LambdaTarget;
import com.cloudaeye.agent.spi.support.AwsActions;
import com.cloudaeye.agent.testing.Moto;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.lambda.model.Architecture;

/**
 * A plan that mixes platforms is refused as a whole when one platform cannot apply its share: a saved plan of ECS, EKS
 * and Lambda whose EKS part creates an access key, applied by a fresh installer without a sink for it, changes no ECS
 * task definition or service (although ECS's changes come first in the plan) and no Lambda function.
 */
class MixedPlanRefusalIT {
    @TempDir
    Path work;

    private final List<AccessKey> keys = new CopyOnWriteArrayList<>();

    @BeforeEach
    void setUp() {
        Moto.reset();
    }

    private static AgentInstallerBuilder environment() {
        return AgentInstaller.builder()
                .region(Moto.REGION)
                .credentialsProvider(Moto.credentials())
                .endpointOverride(Moto.endpoint())
                .agent(a -> a.logsEndpoint("https://logs.example.cloudaeye.com")
                        .apiToken(Secret.of("tok-mixed-plan-it-3f9a-secret")));
    }

    private AgentInstaller planner(SampleLambdaFunctions layers) {
        return environment()
                .target(LambdaTarget.builder()
                        .functions("*")
                        .layer(Architecture.X86_64, layers.x86Layer())
                        .layer(Architecture.ARM64, layers.armLayer())
                        .build())
                .target(EcsExample.target(new ExampleEnvironment(
                        Map.of("CLOUDAEYE_ECS_CLUSTER", SampleEcsServices.CLUSTER, "CLOUDAEYE_ECS_WAIT_MINUTES", "0"))))
                .target(EksTarget.builder()
                        .cluster(SampleEksCluster.CLUSTER)
                        .controlPlaneLogging(true)
                        .cloudAEyeAccess(a -> a.iamUserStack().accessKeySink(keys::add))
                        .build())
                .withoutJournal()
                .build();
    }

    private static List<String> actions(Plan plan) {
        return plan.mutations().stream()
                .map(c -> c.resourceId() + " " + c.action())
                .sorted()
                .toList();
    }

    private static List<Path> files(Path directory) throws IOException {
        if (!Files.exists(directory)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(directory)) {
            return files.toList();
        }
    }

    @Test
    void savedPlanOfThreePlatforms_thatEksCannotApply_isRefusedBeforeEcsOrLambdaChangesAnything() throws IOException {
        SampleLambdaFunctions layers = SampleLambdaFunctions.create(Moto.endpoint(), Moto.REGION, Moto.credentials());
        SampleEcsServices.create(Moto.endpoint(), Moto.REGION, Moto.credentials());
        SampleEksCluster.create(Moto.endpoint(), Moto.REGION, Moto.credentials());
        String saved;
        try (AgentInstaller planner = planner(layers)) {
            saved = planner.plan().toJson();
        }
        Plan plan = Plan.fromJson(saved);
        List<Change> mutations = plan.mutations();
        assertThat(mutations.get(0).target())
                .as("ECS's changes come first: a plan is sorted by target")
                .isEqualTo("ecs");
        assertThat(mutations).anyMatch(c -> c.target().equals(LambdaTarget.NAME));
        assertThat(mutations)
                .as(saved)
                .anyMatch(c -> c.target().equals(EksTarget.NAME)
                        && c.resourceType().contains("AccessKey")
                        && c.action() == ChangeAction.CREATE);
        Path journals = work.resolve("journals");

        try (AgentInstaller fresh = environment().journalDirectory(journals).build()) {
            ApplyException refused = catchThrowableOfType(ApplyException.class, () -> fresh.apply(plan));

            assertThat(refused).as("the apply must be refused").isNotNull();
            assertThat(refused.getCause())
                    .isInstanceOf(ConfigurationException.class)
                    .hasMessageContaining(".sink(EksTarget.ACCESS_KEY_SINK, key -> ...)");
            assertThat(refused.result().results())
                    .as(refused.result().toString())
                    .hasSize(mutations.size())
                    .allMatch(r -> r.outcome() == ResourceResult.Outcome.NOT_ATTEMPTED);
            assertThat(fresh.calls().keySet()).as("no mutating call was sent").allMatch(AwsActions::isReadOnly);
            assertThat(refused).hasMessageContaining("Nothing was changed");
        }
        assertThat(files(journals)).as("no journal: nothing started").isEmpty();
        assertThat(keys).isEmpty();
        try (AgentInstaller planner = planner(layers)) {
            assertThat(actions(planner.plan()))
                    .as("nothing changed: the same plan, ECS's and Lambda's changes included")
                    .isEqualTo(actions(plan));
        }

        // With the sink, the same saved plan applies: the missing sink was the only reason it was refused.
        try (AgentInstaller fresh = environment()
                .sink(EksTarget.ACCESS_KEY_SINK, keys::add)
                .journalDirectory(journals)
                .build()) {
            ApplyResult applied = fresh.apply(plan);
            assertThat(applied.status()).as(applied.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
        }
        assertThat(keys).hasSize(1);
    }
}
