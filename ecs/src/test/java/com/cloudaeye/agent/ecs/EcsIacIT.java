package com.cloudaeye.agent.ecs;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.ManagedResources;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.spi.support.Json;
import com.cloudaeye.agent.testing.Moto;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.cloudformation.model.StackResourceSummary;
import software.amazon.awssdk.services.ecs.model.Tag;
import software.amazon.awssdk.services.ecs.model.TaskDefinition;

/**
 * Task definitions and services owned by infrastructure as code: a task definition and its service made by a real
 * CloudFormation stack in moto, a revision tagged as Terraform modules tag theirs, and one of nobody's. moto 5.2 puts
 * CloudFormation's {@code aws:cloudformation:*} tags on EC2 resources only, so {@link #deployStack} adds them to the
 * stack's task definition and service as CloudFormation does in AWS (stack name, stack id, logical id).
 */
class EcsIacIT {
    private static final String STACK = "web-stack";

    @TempDir
    Path journals;

    private MotoEcs moto;
    private String stackTask;
    private String stackService;
    private TaskDefinition terraform;

    @BeforeEach
    void fixture() throws IOException {
        Moto.reset();
        moto = new MotoEcs();
        moto.cluster("prod");
        deployStack();
        TaskDefinition plain = moto.fargate("plain", "256", "512", MotoEcs.app("app", 128, 256));
        moto.service("prod", "plain", plain);
        terraform = moto.fargate("tf", "256", "512", MotoEcs.app("app", 128, 256));
        moto.ecs.tagResource(r -> r.resourceArn(terraform.taskDefinitionArn()).tags(MotoEcs.tag("managed-by", "tf")));
        moto.service("prod", "tf-svc", terraform);
    }

    @AfterEach
    void close() {
        moto.close();
    }

    @Test
    void plan_byDefault_warnsOnTheRevisionAndTheService_namingStackAndLogicalIds() {
        try (AgentInstaller installer = installer(ManagedResources.warn())) {
            Plan plan = installer.plan();

            Change task = change(plan, stackTask);
            assertThat(task.action()).isEqualTo(ChangeAction.CREATE);
            assertThat(task.warnings())
                    .anySatisfy(w -> assertThat(w).contains("CloudFormation stack " + STACK + " (logical id WebTask)"));
            assertThat(change(plan, stackService).warnings())
                    .anySatisfy(w -> assertThat(w).contains("(logical id WebService)"));
            assertThat(change(plan, terraform.taskDefinitionArn()).warnings())
                    .noneMatch(w -> w.contains("owns this resource"));
        }
    }

    @Test
    void apply_byDefault_registersTheRevisionWithoutAwsReservedTags() {
        try (AgentInstaller installer = installer(ManagedResources.warn())) {
            ApplyResult result = installer.apply(installer.plan());

            assertThat(result.status()).as(result.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            String registered = moto.taskDefinitionOf("prod", stackService);
            assertThat(registered).isNotEqualTo(stackTask);
            // AWS rejects keys starting with "aws:" in RegisterTaskDefinition; CloudFormation's tags stay behind.
            assertThat(moto.tags(registered)).extracting(Tag::key).noneMatch(k -> k.startsWith("aws:"));
        }
    }

    @Test
    void apply_whenSkipAndTerraformTag_leavesOwnedRevisionsAndServicesAlone() {
        ManagedResources skip = ManagedResources.builder()
                .action(ManagedResources.Action.SKIP)
                .ownerTag("managed-by")
                .build();
        try (AgentInstaller installer = installer(skip)) {
            Plan plan = installer.plan();

            assertThat(change(plan, stackTask).reason())
                    .get()
                    .asString()
                    .contains("owned by CloudFormation stack " + STACK);
            assertThat(change(plan, stackService).action()).isEqualTo(ChangeAction.SKIP);
            assertThat(change(plan, terraform.taskDefinitionArn()).reason())
                    .get()
                    .asString()
                    .contains("managed-by=tf");
            assertThat(plan.mutations())
                    .extracting(Change::resourceId)
                    .allMatch(id -> id.contains("/plain"))
                    .hasSize(2);

            ApplyResult result = installer.apply(plan);

            assertThat(result.status()).as(result.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            assertThat(moto.taskDefinitionOf("prod", stackService)).isEqualTo(stackTask);
            assertThat(moto.taskDefinitionOf("prod", "tf-svc")).isEqualTo(terraform.taskDefinitionArn());
            assertThat(moto.taskDefinitionOf("prod", "plain")).endsWith("plain:2");
        }
    }

    @Test
    void plan_template_emitsTheContainerDefinitions_withoutTheToken() throws Exception {
        try (AgentInstaller installer = installer(ManagedResources.template(ManagedResources.Format.JSON))) {
            Plan plan = installer.plan();

            assertThat(change(plan, stackTask).action()).isEqualTo(ChangeAction.SKIP);
            assertThat(change(plan, stackService).action()).isEqualTo(ChangeAction.SKIP);
            String note = plan.notes().stream()
                    .filter(n -> n.startsWith("CloudFormation stack " + STACK))
                    .findFirst()
                    .orElseThrow(() -> new AssertionError(plan.toString()));
            JsonNode template = Json.parse(note.substring(note.indexOf('\n') + 1));
            assertThat(template.at("/Resources/WebTask/Type").asText()).isEqualTo("AWS::ECS::TaskDefinition");
            JsonNode containers = template.at("/Resources/WebTask/Properties/ContainerDefinitions");
            JsonNode app = named(containers, "app");
            assertThat(app.at("/LogConfiguration/LogDriver").asText()).isEqualTo("awsfirelens");
            JsonNode router = named(containers, LogRouter.DEFAULT_NAME);
            assertThat(router.get("Image").asText()).isEqualTo(MotoEcs.ROUTER_IMAGE);
            assertThat(router.at("/FirelensConfiguration/Type").asText()).isEqualTo("fluentbit");
            assertThat(named(router.get("Environment"), "CLOUDAEYE_API_TOKEN")
                            .at("/Value/Ref")
                            .asText())
                    .isEqualTo("CloudAEyeApiToken");
            assertThat(template.at("/Parameters/CloudAEyeApiToken/NoEcho").asBoolean())
                    .isTrue();
            assertThat(Stream.of(
                            plan.toJson(),
                            plan.toString(),
                            plan.requiredPolicy().toJson()))
                    .noneMatch(text -> text.contains(MotoEcs.TOKEN));
        }
    }

    @Test
    void plan_templateYaml_writesTheFragmentAsYaml() {
        try (AgentInstaller installer = installer(ManagedResources.template(ManagedResources.Format.YAML))) {
            Plan plan = installer.plan();

            assertThat(plan.notes())
                    .anySatisfy(n -> assertThat(n)
                            .startsWith("CloudFormation stack " + STACK)
                            .contains("\n  WebTask:\n    Type: \"AWS::ECS::TaskDefinition\"\n")
                            .contains("- Name: \"" + LogRouter.DEFAULT_NAME + "\"")
                            .doesNotContain(MotoEcs.TOKEN));
        }
    }

    private AgentInstaller installer(ManagedResources managed) {
        return MotoEcs.installer(EcsTarget.builder()
                        .cluster("prod")
                        .services("*")
                        .sidecar(s -> s.image(MotoEcs.ROUTER_IMAGE))
                        .updateServices(true)
                        .managedResources(managed)
                        .build())
                .journalDirectory(journals)
                .build();
    }

    /** Deploys the stack and tags its task definition and service as CloudFormation does. */
    private void deployStack() throws IOException {
        Moto.Stack stack = Moto.deployStack(STACK, Files.readString(Path.of("src/test/resources/iac/web-stack.json")));
        for (StackResourceSummary r : stack.resources()) {
            String arn = r.physicalResourceId();
            if (r.resourceType().equals("AWS::ECS::Service") && !arn.startsWith("arn:")) {
                arn = moto.ecs
                        .describeServices(d -> d.cluster("prod").services(r.physicalResourceId()))
                        .services()
                        .get(0)
                        .serviceArn();
            }
            String resource = arn;
            moto.ecs.tagResource(t -> t.resourceArn(resource)
                    .tags(stack.tagsOf(r).entrySet().stream()
                            .map(e -> MotoEcs.tag(e.getKey(), e.getValue()))
                            .toList()));
            if (r.resourceType().equals("AWS::ECS::Service")) {
                stackService = resource;
            } else {
                stackTask = resource;
            }
        }
        assertThat(Map.of("task", String.valueOf(stackTask), "service", String.valueOf(stackService)))
                .as("the stack made a task definition and a service")
                .doesNotContainValue("null");
    }

    private static JsonNode named(JsonNode array, String name) {
        return StreamSupport.stream(array.spliterator(), false)
                .filter(n -> name.equals(n.path("Name").asText()))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no " + name + " in " + array));
    }

    private static Change change(Plan plan, String resourceId) {
        return plan.changes().stream()
                .filter(c -> c.resourceId().equals(resourceId))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no change for " + resourceId + " in\n" + plan));
    }
}
