package com.cloudaeye.agent.spi.support;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.ConfigurationException;
import com.cloudaeye.agent.ManagedResources;
import com.cloudaeye.agent.Permission;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class IacOwnersTest {
    private static final Map<String, String> STACK_TAGS =
            Map.of(ManagedResources.STACK_NAME_TAG, "orders", ManagedResources.LOGICAL_ID_TAG, "OrdersFn", "team", "a");

    @Test
    void of_whenStackTagged_namesStackAndLogicalId() {
        IacOwners.Owner owner =
                IacOwners.of(ManagedResources.warn(), STACK_TAGS).orElseThrow();

        assertThat(owner.stack()).isEqualTo("orders");
        assertThat(owner.logicalId()).isEqualTo("OrdersFn");
        assertThat(owner.description()).isEqualTo("CloudFormation stack orders (logical id OrdersFn)");
    }

    @Test
    void of_whenOnlyCallersTag_matchesByKeyOrKeyAndValue() {
        ManagedResources anyValue =
                ManagedResources.builder().ownerTag("managed-by").build();
        ManagedResources terraform =
                ManagedResources.builder().ownerTag("managed-by", "terraform").build();

        assertThat(IacOwners.of(anyValue, Map.of("managed-by", "pulumi"))).isPresent();
        assertThat(IacOwners.of(terraform, Map.of("managed-by", "pulumi"))).isEmpty();
        assertThat(IacOwners.of(terraform, Map.of("managed-by", "terraform")))
                .hasValueSatisfying(o -> assertThat(o.description()).contains("managed-by=terraform"));
        assertThat(IacOwners.of(ManagedResources.warn(), Map.of("managed-by", "terraform")))
                .as("without the caller's key, a Terraform resource has no known owner")
                .isEmpty();
    }

    @Test
    void review_perAction_warnsOrSkipsWithoutPermissions() {
        Change update = Change.builder()
                .target("lambda")
                .resourceType("AWS::Lambda::Function")
                .resourceId("arn:aws:lambda:us-east-1:123456789012:function:OrdersFn")
                .action(ChangeAction.UPDATE)
                .addPermissions(Permission.of("lambda:UpdateFunctionConfiguration", "*"))
                .build();
        IacOwners.Owner owner =
                IacOwners.of(ManagedResources.warn(), STACK_TAGS).orElseThrow();

        Change warned = IacOwners.review(update, owner, ManagedResources.warn(), true);
        Change skipped = IacOwners.review(update, owner, ManagedResources.skip(), true);
        Change template =
                IacOwners.review(update, owner, ManagedResources.template(ManagedResources.Format.YAML), true);

        assertThat(warned.action()).isEqualTo(ChangeAction.UPDATE);
        assertThat(warned.warnings()).singleElement().asString().contains("CloudFormation stack orders");
        assertThat(skipped.action()).isEqualTo(ChangeAction.SKIP);
        assertThat(skipped.permissions()).isEmpty();
        assertThat(skipped.reason()).get().asString().contains("owned by CloudFormation stack orders");
        assertThat(template.reason()).get().asString().contains("template fragment in the plan's notes");
    }

    @Test
    void render_yaml_readsBackAsTheSameTree() throws Exception {
        ObjectNode tree = Json.object();
        ObjectNode props = tree.putObject("Resources").putObject("OrdersFn").putObject("Properties");
        props.putArray("Layers").add("arn:aws:lambda:us-east-1:1:layer:x:1").add("second: value #not a comment");
        props.putObject("Environment").putObject("Variables").put("A", "yes").put("weird key: x", "");
        props.putArray("ContainerDefinitions")
                .addObject()
                .put("Name", "app")
                .put("Cpu", 256)
                .put("Essential", true)
                .putObject("LogConfiguration")
                .putObject("Options")
                .put("awslogs-group", "/ecs/app");
        props.putArray("Empty");
        props.putArray("Nested").addArray().add(1).add(2);

        String yaml = IacOwners.render(tree, ManagedResources.Format.YAML);
        JsonNode back = new YAMLMapper().readTree(yaml);

        assertThat(back).as(yaml).isEqualTo(tree);
        assertThat(Json.parse(IacOwners.render(tree, ManagedResources.Format.JSON)))
                .isEqualTo(tree);
    }

    @Test
    void fragments_withToken_declareANoEchoParameter_andNeverTheValue() throws Exception {
        IacOwners.Fragments fragments = new IacOwners.Fragments();
        ObjectNode props = Json.object();
        props.putObject("Environment")
                .putObject("Variables")
                .putObject("CLOUDAEYE_API_TOKEN")
                .put("Ref", IacOwners.TOKEN_PARAMETER);
        fragments.add(
                IacOwners.of(ManagedResources.warn(), STACK_TAGS).orElseThrow(),
                "orders-OrdersFn-1",
                "AWS::Lambda::Function",
                props,
                true);

        List<String> notes = fragments.notes(ManagedResources.Format.YAML, "Merge it.");

        assertThat(notes).singleElement().asString().startsWith("CloudFormation stack orders: ");
        JsonNode template =
                new YAMLMapper().readTree(notes.get(0).substring(notes.get(0).indexOf('\n') + 1));
        assertThat(template.at("/Parameters/CloudAEyeApiToken/NoEcho").asBoolean())
                .isTrue();
        assertThat(template.at("/Resources/OrdersFn/Type").asText()).isEqualTo("AWS::Lambda::Function");
    }

    @Test
    void build_whenOwnerTagHasNoKey_namesTheFix() {
        assertThatThrownBy(() -> ManagedResources.builder().ownerTag(" ").build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining(".ownerTag(\"managed-by\", \"terraform\")");
    }
}
