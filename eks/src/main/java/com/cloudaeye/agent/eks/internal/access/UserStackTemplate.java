package com.cloudaeye.agent.eks.internal.access;

import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.eks.internal.ClusterRef;
import com.cloudaeye.agent.spi.support.Json;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import software.amazon.awssdk.services.cloudformation.model.Parameter;
import software.amazon.awssdk.services.cloudformation.model.Stack;

/** The stack's template and what creating it needs. */
final class UserStackTemplate {
    /** The template's parameter naming the cluster. */
    static final String CLUSTER_PARAMETER = "ClusterName";

    private UserStackTemplate() {}

    static List<Permission> createPermissions(ClusterRef ref) {
        String stacks = ref.stackArnPattern(IamUserStackAccess.STACK_NAME);
        String userArn = ref.iamArn("user/" + IamUserStackAccess.USER_NAME);
        String policyArn = ref.iamArn("policy/" + IamUserStackAccess.POLICY_NAME);
        return List.of(
                Permission.of("cloudformation:CreateStack", stacks),
                Permission.of("cloudformation:DescribeStacks", stacks),
                // Failure events are read only when the creation fails.
                Permission.of("cloudformation:DescribeStackEvents", stacks),
                // CloudFormation creates the stack's resources with the caller's credentials:
                Permission.of("iam:CreateUser", userArn),
                Permission.of("iam:GetUser", userArn),
                Permission.of("iam:CreatePolicy", policyArn),
                Permission.of("iam:GetPolicy", policyArn),
                Permission.of("iam:AttachUserPolicy", userArn));
    }

    /**
     * @param ref the cluster
     * @return the stack template: the user and the managed policy, attached through the policy's {@code Users} (the
     *     one way moto honours), no outputs
     */
    static String template(ClusterRef ref) {
        ObjectNode t = Json.object().put("AWSTemplateFormatVersion", "2010-09-09");
        t.put(
                "Description",
                "CloudAEye's read-only access to the EKS control-plane logs of one cluster."
                        + " Made by the CloudAEye agent installer.");
        t.putObject("Parameters")
                .putObject(CLUSTER_PARAMETER)
                .put("Type", "String")
                .put("Description", "The EKS cluster whose control-plane logs CloudAEye reads");
        ObjectNode resources = t.putObject("Resources");
        resources
                .putObject("ServiceAccountUser")
                .put("Type", "AWS::IAM::User")
                .putObject("Properties")
                .put("UserName", IamUserStackAccess.USER_NAME);
        ObjectNode policy = resources
                .putObject("ServiceAccountPolicy")
                .put("Type", "AWS::IAM::ManagedPolicy")
                .putObject("Properties")
                .put("ManagedPolicyName", IamUserStackAccess.POLICY_NAME)
                .put("Description", "Read-only access to " + ref.logGroupName());
        policy.set("PolicyDocument", ReadOnlyPolicy.document(ref));
        policy.putArray("Users").addObject().put("Ref", "ServiceAccountUser");
        return Json.compact(t);
    }

    static String clusterOf(Stack stack) {
        if (!stack.hasParameters()) {
            return "(unknown)";
        }
        return stack.parameters().stream()
                .filter(p -> CLUSTER_PARAMETER.equals(p.parameterKey()))
                .map(Parameter::parameterValue)
                .findFirst()
                .orElse("(unknown)");
    }
}
