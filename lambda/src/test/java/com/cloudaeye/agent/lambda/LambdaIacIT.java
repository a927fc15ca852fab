package com.cloudaeye.agent.lambda;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.ManagedResources;
import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.spi.support.Json;
import com.cloudaeye.agent.testing.Moto;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.cloudformation.model.StackResourceSummary;
import software.amazon.awssdk.services.lambda.model.Architecture;
import software.amazon.awssdk.services.lambda.model.Runtime;

/**
 * Functions owned by infrastructure as code: one made by a real CloudFormation stack in moto, one tagged as Terraform
 * modules tag theirs, one of nobody's. moto 5.2 puts CloudFormation's {@code aws:cloudformation:*} tags on EC2
 * resources only, so {@link #deployStack} adds them to the stack's function as CloudFormation does in AWS (the stack
 * name, its id and the resource's logical id).
 */
class LambdaIacIT {
    private static final String STACK = "orders";

    @TempDir
    Path journals;

    private LambdaFixtures fixtures;
    private String layer;
    private String stackFunction;

    @BeforeEach
    void createAccount() {
        Moto.reset();
        fixtures = new LambdaFixtures();
        layer = fixtures.layer("cloudaeye-x86", Architecture.X86_64);
        stackFunction = deployStack();
        fixtures.function("plain", Runtime.PYTHON3_12, Architecture.X86_64, Map.of());
        fixtures.function("tf-made", Runtime.PYTHON3_12, Architecture.X86_64, Map.of());
        fixtures.lambda.tagResource(r -> r.resource(arn("tf-made")).tags(Map.of("managed-by", "terraform")));
    }

    @AfterEach
    void close() {
        fixtures.close();
    }

    @Test
    void plan_byDefault_warnsAndNamesTheStackAndLogicalId() {
        try (AgentInstaller installer = installer(ManagedResources.warn())) {
            Plan plan = installer.plan();

            Change owned = change(plan, stackFunction);
            assertThat(owned.action()).isEqualTo(ChangeAction.UPDATE);
            assertThat(owned.warnings())
                    .anySatisfy(w -> assertThat(w)
                            .contains("CloudFormation stack " + STACK + " (logical id OrdersFn)")
                            .contains("reverts this change"));
            assertThat(change(plan, "plain").warnings()).noneMatch(w -> w.contains("CloudFormation"));
            assertThat(change(plan, "tf-made").warnings())
                    .as("no owner tag was given for Terraform")
                    .noneMatch(w -> w.contains("owns this resource"));
            // ListFunctions returns no tags: one GetFunction per function the plan changes, each in the policy.
            assertThat(installer.calls()).containsEntry("lambda:GetFunction", 3L);
            assertThat(plan.readPermissions()).contains(Permission.of("lambda:GetFunction", arn(stackFunction)));
        }
    }

    @Test
    void plan_whenNamedExplicitly_readsNoTagTwice() {
        try (AgentInstaller installer = fixtures.installer(LambdaTarget.builder()
                        .functions(stackFunction, "plain")
                        .layer(Architecture.X86_64, layer)
                        .managedResources(ManagedResources.skip())
                        .build())
                .journalDirectory(journals)
                .build()) {
            Plan plan = installer.plan();

            assertThat(change(plan, stackFunction).action()).isEqualTo(ChangeAction.SKIP);
            assertThat(installer.calls())
                    .as("the explicit GetFunction already returned the tags")
                    .containsEntry("lambda:GetFunction", 2L);
        }
    }

    @Test
    void apply_whenSkipAndTerraformTag_leavesOwnedFunctionsUnchanged() {
        ManagedResources skip = ManagedResources.builder()
                .action(ManagedResources.Action.SKIP)
                .ownerTag("managed-by", "terraform")
                .build();
        try (AgentInstaller installer = installer(skip)) {
            Plan plan = installer.plan();

            assertThat(change(plan, stackFunction).reason())
                    .get()
                    .asString()
                    .contains("owned by CloudFormation stack " + STACK);
            assertThat(change(plan, "tf-made").reason()).get().asString().contains("managed-by=terraform");
            assertThat(change(plan, "tf-made").permissions()).isEmpty();
            assertThat(plan.mutations()).extracting(Change::resourceId).containsExactly(arn("plain"));

            ApplyResult result = installer.apply(plan);

            assertThat(result.status()).as(result.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            assertThat(fixtures.config(stackFunction).layers()).isEmpty();
            assertThat(fixtures.config("tf-made").layers()).isEmpty();
            assertThat(fixtures.config("plain").layers()).hasSize(1);
        }
    }

    @Test
    void plan_template_emitsTheStacksFragment_withoutTheToken() throws Exception {
        try (AgentInstaller installer = installer(ManagedResources.template(ManagedResources.Format.JSON))) {
            Plan plan = installer.plan();

            assertThat(change(plan, stackFunction).action()).isEqualTo(ChangeAction.SKIP);
            assertThat(change(plan, stackFunction).reason()).get().asString().contains("plan's notes");
            String note = plan.notes().stream()
                    .filter(n -> n.startsWith("CloudFormation stack " + STACK))
                    .findFirst()
                    .orElseThrow();
            JsonNode template = Json.parse(note.substring(note.indexOf('\n') + 1));
            JsonNode properties = template.at("/Resources/OrdersFn/Properties");
            assertThat(template.at("/Resources/OrdersFn/Type").asText()).isEqualTo("AWS::Lambda::Function");
            assertThat(properties.get("Layers")).containsExactly(Json.tree(layer));
            assertThat(properties
                            .at("/Environment/Variables/" + LambdaTarget.ENDPOINT_VARIABLE)
                            .asText())
                    .isEqualTo(LambdaFixtures.ENDPOINT);
            assertThat(properties
                            .at("/Environment/Variables/" + LambdaTarget.TOKEN_VARIABLE + "/Ref")
                            .asText())
                    .isEqualTo("CloudAEyeApiToken");
            assertThat(template.at("/Parameters/CloudAEyeApiToken/NoEcho").asBoolean())
                    .isTrue();
            assertThat(Stream.of(
                            plan.toJson(),
                            plan.toString(),
                            plan.requiredPolicy().toJson()))
                    .noneMatch(text -> text.contains(LambdaFixtures.TOKEN));
        }
    }

    @Test
    void plan_templateYaml_namesTheTokenParameterInstead() {
        try (AgentInstaller installer = installer(ManagedResources.template(ManagedResources.Format.YAML))) {
            Plan plan = installer.plan();

            assertThat(plan.notes())
                    .anySatisfy(n -> assertThat(n)
                            .startsWith("CloudFormation stack " + STACK)
                            .contains("NoEcho parameter CloudAEyeApiToken")
                            .contains("\n  OrdersFn:\n")
                            .contains("Ref: \"CloudAEyeApiToken\"")
                            .doesNotContain(LambdaFixtures.TOKEN));
        }
    }

    private AgentInstaller installer(ManagedResources managed) {
        return fixtures.installer(LambdaTarget.builder()
                        .functions("*")
                        .layer(Architecture.X86_64, layer)
                        .managedResources(managed)
                        .build())
                .journalDirectory(journals)
                .build();
    }

    /** Deploys a stack with one function and tags it as CloudFormation does; returns the function's name. */
    private String deployStack() {
        String template;
        try {
            template = Files.readString(Path.of("src/test/resources/iac/orders-stack.json"))
                    .replace("ROLE_ARN", fixtures.roleArn);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        Moto.Stack stack = Moto.deployStack(STACK, template);
        StackResourceSummary fn = stack.resourcesOfType("AWS::Lambda::Function").get(0);
        fixtures.lambda.tagResource(
                r -> r.resource(arn(fn.physicalResourceId())).tags(stack.tagsOf(fn)));
        return fn.physicalResourceId();
    }

    private String arn(String name) {
        return "arn:aws:lambda:" + Moto.REGION.id() + ":" + Moto.ACCOUNT + ":function:" + name;
    }

    private Change change(Plan plan, String name) {
        return plan.changes().stream()
                .filter(c -> c.resourceId().equals(arn(name)))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no change for " + name + " in\n" + plan));
    }
}
