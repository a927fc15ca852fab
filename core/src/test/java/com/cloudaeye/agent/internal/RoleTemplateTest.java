package com.cloudaeye.agent.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.FleetPlan;
import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.PolicyDocument;
import com.cloudaeye.agent.spi.support.Json;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class RoleTemplateTest {
    private static final String A = "111111111111";
    private static final String B = "222222222222";

    @Test
    void eachPlannedAccount_mayMakeOnlyTheCallsOfItsOwnPlan() throws IOException {
        FleetPlan plan = fleet(Map.of(A, List.of("orders", "api"), B, List.of("billing")));

        JsonNode template = Json.parse(plan.installerRoleTemplate());

        assertThat(template.path("Conditions").path("Account" + A).toString())
                .isEqualTo("{\"Fn::Equals\":[{\"Ref\":\"AWS::AccountId\"},\"" + A + "\"]}");
        PolicyDocument ofA = granted(template, "Account" + A);
        assertThat(ofA.allows(Permission.of("lambda:UpdateFunctionConfiguration", arn(A, "orders"))))
                .isTrue();
        assertThat(ofA.allows(Permission.of("lambda:UpdateFunctionConfiguration", arn(A, "api"))))
                .isTrue();
        assertThat(ofA.allows(Permission.of("lambda:ListFunctions", "*"))).isTrue();
        assertThat(ofA.toJson()).doesNotContain("billing").doesNotContain(B).doesNotContain("${AWS::AccountId}");
        PolicyDocument ofB = granted(template, "Account" + B);
        assertThat(ofB.allows(Permission.of("lambda:UpdateFunctionConfiguration", arn(B, "billing"))))
                .isTrue();
        assertThat(ofB.toJson()).doesNotContain("orders").doesNotContain(A);
        template.path("Resources").forEach(resource -> {
            if (resource.path("Type").asText().equals("AWS::IAM::ManagedPolicy")) {
                assertThat(resource.path("Properties").path("Roles").toString())
                        .isEqualTo("[{\"Ref\":\"InstallerRole\"}]");
            }
        });
    }

    @Test
    void anAccountThePlanDidNotReach_mayOnlyRead() throws IOException {
        FleetPlan plan = fleet(Map.of(A, List.of("orders"), B, List.of("billing")));

        JsonNode template = Json.parse(plan.installerRoleTemplate());

        JsonNode conditions = template.path("Conditions");
        assertThat(holds(conditions, "OtherAccount", A)).isFalse();
        assertThat(holds(conditions, "OtherAccount", B)).isFalse();
        assertThat(holds(conditions, "OtherAccount", "333333333333")).isTrue();
        String reads = template.path("Resources").path("OtherAccountPolicy1").toString();
        assertThat(reads)
                .contains("lambda:ListFunctions")
                .contains("lambda:GetFunction")
                .contains("{\"Fn::Sub\":\"arn:aws:lambda:us-east-1:${AWS::AccountId}:function:orders\"}")
                .doesNotContain("UpdateFunctionConfiguration")
                .doesNotContain(A)
                .doesNotContain(B);
    }

    @Test
    void manyAccounts_areToldApartByNestedConditions_thatCloudFormationAccepts() throws IOException {
        Map<String, List<String>> functions = new TreeMap<>();
        IntStream.range(0, 123).forEach(i -> functions.put(String.format("%012d", 100_000_000_000L + i), List.of("f")));

        JsonNode conditions =
                Json.parse(fleet(functions).installerRoleTemplate()).path("Conditions");

        conditions.forEach(condition -> {
            JsonNode or = condition.path("Fn::Or");
            if (!or.isMissingNode()) {
                assertThat(or.size()).as(condition.toString()).isBetween(2, 10);
            }
        });
        functions
                .keySet()
                .forEach(account -> assertThat(holds(conditions, "OtherAccount", account))
                        .as(account)
                        .isFalse());
        assertThat(holds(conditions, "OtherAccount", "999999999999")).isTrue();
    }

    @Test
    void aPolicyOverIamsLimit_isSplitIntoManagedPoliciesThatFit_andTogetherGrantItAll() throws IOException {
        List<String> names = IntStream.range(0, 400)
                .mapToObj(i -> "payments-service-handler-" + i)
                .toList();
        FleetPlan plan = fleet(Map.of(A, names));

        JsonNode template = Json.parse(plan.installerRoleTemplate());

        List<JsonNode> documents = new ArrayList<>();
        template.path("Resources").forEach(resource -> {
            if (resource.path("Condition").asText().equals("Account" + A)) {
                documents.add(resource.path("Properties").path("PolicyDocument"));
            }
        });
        assertThat(documents).hasSizeGreaterThan(3);
        documents.forEach(d -> assertThat(Json.compact(d).length()).isLessThanOrEqualTo(6144));
        PolicyDocument granted = granted(template, "Account" + A);
        plan.requiredPolicy(A)
                .statements()
                .forEach(s -> s.actions()
                        .forEach(action -> s.resources()
                                .forEach(resource -> assertThat(granted.allows(Permission.of(action, resource)))
                                        .as(action + " " + resource)
                                        .isTrue())));
    }

    /** IAM attaches 10 managed policies to a role by default: CloudFormation would fail that account's stack late. */
    @Test
    void anAccountThatNeedsMoreManagedPoliciesThanARoleTakes_isNamedInTheTemplatesWarnings() throws IOException {
        List<String> many = IntStream.range(0, 1500)
                .mapToObj(i -> "payments-service-handler-" + i)
                .toList();
        FleetPlan plan = fleet(Map.of(A, many, B, List.of("billing")));

        JsonNode template = Json.parse(plan.installerRoleTemplate());

        long policies = 0;
        for (JsonNode resource : template.path("Resources")) {
            if (resource.path("Condition").asText().equals("Account" + A)) {
                policies++;
            }
        }
        assertThat(policies).isGreaterThan(10);
        assertThat(template.path("Metadata").path("CloudAEyeWarnings"))
                .singleElement()
                .extracting(JsonNode::asText)
                .asString()
                .contains("Account " + A + " needs " + policies + " managed policies")
                .contains("'Managed policies per role'")
                .doesNotContain(B);
        assertThat(Json.parse(fleet(Map.of(A, List.of("orders"))).installerRoleTemplate())
                        .has("Metadata"))
                .as("a template within the quota has no warnings")
                .isFalse();
    }

    /** The statements of every managed policy under a condition, as one document. */
    private static PolicyDocument granted(JsonNode template, String condition) {
        List<Permission> permissions = new ArrayList<>();
        template.path("Resources").forEach(resource -> {
            if (resource.path("Condition").asText().equals(condition)) {
                resource.path("Properties")
                        .path("PolicyDocument")
                        .path("Statement")
                        .forEach(s -> s.path("Action")
                                .forEach(action -> s.path("Resource")
                                        .forEach(r -> permissions.add(Permission.of(action.asText(), r.asText())))));
            }
        });
        assertThat(permissions).as("policies under " + condition).isNotEmpty();
        return PolicyDocument.allowing(permissions);
    }

    /** CloudFormation's reading of a condition in a given account. */
    private static boolean holds(JsonNode conditions, String name, String account) {
        JsonNode condition = conditions.path(name);
        assertThat(condition.isMissingNode()).as("condition " + name).isFalse();
        return holds(conditions, condition, account);
    }

    private static boolean holds(JsonNode conditions, JsonNode condition, String account) {
        if (condition.has("Condition")) {
            return holds(conditions, condition.path("Condition").asText(), account);
        }
        if (condition.has("Fn::Equals")) {
            JsonNode args = condition.path("Fn::Equals");
            assertThat(args.get(0).path("Ref").asText()).isEqualTo("AWS::AccountId");
            return args.get(1).asText().equals(account);
        }
        if (condition.has("Fn::Not")) {
            return !holds(conditions, condition.path("Fn::Not").get(0), account);
        }
        boolean any = false;
        for (JsonNode c : condition.path("Fn::Or")) {
            any |= holds(conditions, c, account);
        }
        return any;
    }

    private static FleetPlan fleet(Map<String, List<String>> functionsByAccount) {
        FleetPlan.Builder fleet = FleetPlan.builder().kind(Plan.Kind.INSTALL);
        functionsByAccount.forEach((account, names) -> {
            Plan.Builder plan = Plan.builder()
                    .kind(Plan.Kind.INSTALL)
                    .region("us-east-1")
                    .addReadPermissions(Permission.of("lambda:ListFunctions", "*"));
            for (String name : names) {
                plan.addReadPermissions(Permission.of("lambda:GetFunction", arn(account, name)));
                plan.addChanges(Change.builder()
                        .target("lambda")
                        .resourceType("AWS::Lambda::Function")
                        .resourceId(arn(account, name))
                        .action(ChangeAction.UPDATE)
                        .addPermissions(Permission.of("lambda:UpdateFunctionConfiguration", arn(account, name)))
                        .build());
            }
            fleet.putPlans(account, new TreeMap<>(Map.of("us-east-1", plan.build())));
        });
        return fleet.build();
    }

    private static String arn(String account, String name) {
        return "arn:aws:lambda:us-east-1:" + account + ":function:" + name;
    }
}
