package com.cloudaeye.agent.testing;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.Permission;
import org.junit.jupiter.api.Test;

/** Which IAM resources {@link CallResources} charges a recorded request to, the way AWS authorizes it. */
class CallResourcesTest {
    private final CallResources resources = new CallResources("us-east-1", "123456789012");

    private static ThrottlingProxy.Request iam(String action, String body) {
        return new ThrottlingProxy.Request(
                "iam:" + action, "POST", "/", "Action=" + action + "&Version=2010-05-08&" + body);
    }

    @Test
    void detachUserPolicy_isAuthorizedOnTheUserOnly_thePolicyArnIsAConditionKey() {
        assertThat(resources.of(iam(
                        "DetachUserPolicy",
                        "UserName=CloudAEyeServiceAccount&PolicyArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Apolicy%2FP")))
                .containsExactly(Permission.of(
                        "iam:DetachUserPolicy", "arn:aws:iam::123456789012:user/CloudAEyeServiceAccount"));
    }

    @Test
    void attachRolePolicy_isAuthorizedOnTheRoleOnly() {
        assertThat(resources.of(
                        iam("AttachRolePolicy", "RoleName=r&PolicyArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Apolicy%2FP")))
                .containsExactly(Permission.of("iam:AttachRolePolicy", "arn:aws:iam::123456789012:role/r"));
    }

    @Test
    void deletePolicy_isAuthorizedOnThePolicy() {
        assertThat(resources.of(iam("DeletePolicy", "PolicyArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Apolicy%2FP")))
                .containsExactly(Permission.of("iam:DeletePolicy", "arn:aws:iam::123456789012:policy/P"));
    }

    private static ThrottlingProxy.Request ecs(String action, String body) {
        return new ThrottlingProxy.Request("ecs:" + action, "POST", "/", body);
    }

    @Test
    void listTasks_isAuthorizedOnTheClustersContainerInstances() {
        assertThat(resources.of(ecs("ListTasks", "{\"cluster\":\"arn:aws:ecs:us-east-1:123456789012:cluster/prod\"}")))
                .containsExactly(
                        Permission.of("ecs:ListTasks", "arn:aws:ecs:us-east-1:123456789012:container-instance/prod/*"));
    }

    @Test
    void describeTasks_isAuthorizedOnEachTask() {
        assertThat(
                        resources.of(
                                ecs(
                                        "DescribeTasks",
                                        "{\"cluster\":\"prod\",\"tasks\":[\"arn:aws:ecs:us-east-1:123456789012:task/prod/a1\",\"b2\"]}")))
                .containsExactly(
                        Permission.of("ecs:DescribeTasks", "arn:aws:ecs:us-east-1:123456789012:task/prod/a1"),
                        Permission.of("ecs:DescribeTasks", "arn:aws:ecs:us-east-1:123456789012:task/prod/b2"));
    }

    @Test
    void listClusters_isAuthorizedOnEverything() {
        assertThat(resources.of(ecs("ListClusters", "{}"))).containsExactly(Permission.of("ecs:ListClusters", "*"));
    }
}
