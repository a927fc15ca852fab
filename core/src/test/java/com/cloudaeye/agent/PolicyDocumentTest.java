package com.cloudaeye.agent;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.spi.support.Json;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

class PolicyDocumentTest {
    private static final String F1 = Fixtures.functionArn("one");
    private static final String F2 = Fixtures.functionArn("two");
    private static final String CLUSTER = "arn:aws:eks:us-east-1:123456789012:cluster/prod";

    @Test
    void allowing_groupsActionsOfOneServiceThatShareTheSameResources() {
        PolicyDocument policy = PolicyDocument.allowing(List.of(
                Permission.of("lambda:UpdateFunctionConfiguration", F1),
                Permission.of("lambda:UpdateFunctionConfiguration", F2),
                Permission.of("lambda:PublishVersion", F1),
                Permission.of("lambda:PublishVersion", F2),
                Permission.of("lambda:GetFunction", F1)));

        assertThat(policy.statements()).hasSize(2);
        assertThat(policy.statements().get(0).actions()).containsExactly("lambda:GetFunction");
        assertThat(policy.statements().get(0).resources()).containsExactly(F1);
        assertThat(policy.statements().get(1).actions())
                .containsExactly("lambda:PublishVersion", "lambda:UpdateFunctionConfiguration");
        assertThat(policy.statements().get(1).resources()).containsExactly(F1, F2);
    }

    @Test
    void allowing_neverMixesServicesInOneStatement() {
        PolicyDocument policy = PolicyDocument.allowing(List.of(
                Permission.of("lambda:ListFunctions", "*"),
                Permission.of("ecs:ListClusters", "*"),
                Permission.of("eks:DescribeCluster", CLUSTER)));

        assertThat(policy.statements())
                .extracting(PolicyDocument.Statement::sid)
                .containsExactly("AllowEcs1", "AllowEks1", "AllowLambda1");
        policy.statements()
                .forEach(s -> assertThat(s.actions())
                        .extracting(a -> a.substring(0, a.indexOf(':')))
                        .containsOnly(s.actions()
                                .first()
                                .substring(0, s.actions().first().indexOf(':'))));
    }

    @Test
    void allowing_anActionOnStar_dropsItsNarrowerResources() {
        PolicyDocument policy = PolicyDocument.allowing(
                List.of(Permission.of("lambda:GetLayerVersion", F1), Permission.of("lambda:GetLayerVersion", "*")));

        assertThat(policy.statements()).hasSize(1);
        assertThat(policy.statements().get(0).resources()).containsExactly("*");
    }

    @Test
    void allowing_makesUniqueSidsPerService() {
        PolicyDocument policy = PolicyDocument.allowing(List.of(
                Permission.of("lambda:ListFunctions", "*"),
                Permission.of("lambda:UpdateFunctionConfiguration", F1),
                Permission.of(
                        "cloudformation:CreateStack", "arn:aws:cloudformation:us-east-1:123456789012:stack/x/*")));

        assertThat(policy.statements())
                .extracting(PolicyDocument.Statement::sid)
                .doesNotHaveDuplicates()
                .containsExactlyInAnyOrder("AllowCloudformation1", "AllowLambda1", "AllowLambda2");
    }

    @Test
    void allowing_isDeterministic_whateverTheInputOrder() {
        List<Permission> permissions = new ArrayList<>(List.of(
                Permission.of("lambda:UpdateFunctionConfiguration", F2),
                Permission.of("lambda:UpdateFunctionConfiguration", F1),
                Permission.of("ecs:UpdateService", "arn:aws:ecs:us-east-1:123456789012:service/prod/web"),
                Permission.of("lambda:ListFunctions", "*"),
                Permission.of("iam:PassRole", "arn:aws:iam::123456789012:role/task")));
        String first = PolicyDocument.allowing(permissions).toJson();
        Collections.reverse(permissions);
        assertThat(PolicyDocument.allowing(permissions).toJson()).isEqualTo(first);
    }

    @Test
    void toJson_isValidIamPolicyJson_andMatchesTheGoldenFile() throws Exception {
        PolicyDocument policy = Fixtures.plan().requiredPolicy();
        String json = policy.toJson();

        JsonNode tree = Json.parse(json);
        assertThat(tree.path("Version").asText()).isEqualTo("2012-10-17");
        assertThat(tree.fieldNames()).toIterable().containsExactly("Version", "Statement");
        for (JsonNode s : tree.path("Statement")) {
            assertThat(s.fieldNames()).toIterable().containsExactly("Sid", "Effect", "Action", "Resource");
            assertThat(s.path("Sid").asText()).matches("[A-Za-z0-9]+");
            assertThat(s.path("Effect").asText()).isEqualTo("Allow");
            assertThat(s.path("Action").isArray()).isTrue();
            assertThat(s.path("Resource").isArray()).isTrue();
        }
        Golden.assertMatches(json, "policy.json");
    }

    @Test
    void fromJson_readsWhatToJsonWrote() {
        PolicyDocument policy = Fixtures.plan().requiredPolicy();
        assertThat(PolicyDocument.fromJson(policy.toJson())).isEqualTo(policy);
    }

    @Test
    void allows_matchesExactActionsAndResources() {
        PolicyDocument policy =
                PolicyDocument.allowing(List.of(Permission.of("lambda:UpdateFunctionConfiguration", F1)));

        assertThat(policy.allows(Permission.of("lambda:UpdateFunctionConfiguration", F1)))
                .isTrue();
        assertThat(policy.allows(Permission.of("lambda:UpdateFunctionConfiguration", F2)))
                .isFalse();
        assertThat(policy.allows(Permission.of("lambda:PublishVersion", F1))).isFalse();
    }

    @Test
    void allows_understandsIamWildcards_andCaseInsensitiveActions() {
        PolicyDocument policy = PolicyDocument.allowing(List.of(
                Permission.of("lambda:Get*", "arn:aws:lambda:us-east-1:123456789012:function:app-?"),
                Permission.of("ecs:ListServices", "*")));

        assertThat(policy.allows(Permission.of("lambda:GetFunction", Fixtures.functionArn("app-1"))))
                .isTrue();
        assertThat(policy.allows(Permission.of("lambda:getfunction", Fixtures.functionArn("app-1"))))
                .as("IAM actions are case-insensitive")
                .isTrue();
        assertThat(policy.allows(Permission.of("lambda:GetFunction", Fixtures.functionArn("app-10"))))
                .as("? matches exactly one character")
                .isFalse();
        assertThat(policy.allows(Permission.of("lambda:UpdateFunctionConfiguration", Fixtures.functionArn("app-1"))))
                .isFalse();
        assertThat(policy.allows(Permission.of("ecs:ListServices", "arn:aws:ecs:us-east-1:123456789012:cluster/x")))
                .as("* as a resource matches any ARN")
                .isTrue();
    }

    @Test
    void allows_treatsRegexCharactersInArnsLiterally() {
        PolicyDocument policy =
                PolicyDocument.allowing(List.of(Permission.of("iam:PassRole", "arn:aws:iam::123456789012:role/a.b+c")));

        assertThat(policy.allows(Permission.of("iam:PassRole", "arn:aws:iam::123456789012:role/a.b+c")))
                .isTrue();
        assertThat(policy.allows(Permission.of("iam:PassRole", "arn:aws:iam::123456789012:role/aXbbc")))
                .isFalse();
    }

    @Test
    void actions_listsEveryActionOnce_sorted() {
        assertThat(Fixtures.plan().requiredPolicy().actions())
                .containsExactly(
                        "lambda:GetLayerVersion", "lambda:ListFunctions", "lambda:UpdateFunctionConfiguration");
    }

    @Test
    void permission_rejectsMalformedActionsAndResources() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Permission.of("UpdateFunctionConfiguration", F1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("service:Operation");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Permission.of("lambda:GetFunction", "my-function"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("my-function");
    }
}
