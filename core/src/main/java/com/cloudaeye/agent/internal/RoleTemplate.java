package com.cloudaeye.agent.internal;

import com.cloudaeye.agent.FleetPlan;
import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.PolicyDocument;
import com.cloudaeye.agent.spi.support.Json;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;

/**
 * The CloudFormation template of the installer role in member accounts. One template for every account, so it can be
 * a StackSet: the policy is the union of the fleet plan's per-account policies with each account ID in an ARN
 * replaced by {@code ${AWS::AccountId}}, so each account's role names only its own resources.
 */
public final class RoleTemplate {
    private static final String ACCOUNT = "${AWS::AccountId}";

    private RoleTemplate() {}

    /**
     * @param plan the fleet plan
     * @return the template, as JSON
     */
    public static String render(FleetPlan plan) {
        List<Permission> all = new ArrayList<>();
        plan.plans()
                .forEach((account, regions) -> regions.values().forEach(p -> {
                    List<Permission> needed = new ArrayList<>(p.readPermissions());
                    p.mutations().forEach(c -> needed.addAll(c.permissions()));
                    needed.forEach(n -> all.add(
                            Permission.of(n.action(), n.resource().replace(":" + account + ":", ":" + ACCOUNT + ":"))));
                }));
        // The fleet lists an account's enabled regions with it when told to take them all.
        all.add(Permission.of("ec2:DescribeRegions", "*"));
        ArrayNode statements = Json.array();
        for (PolicyDocument.Statement s : PolicyDocument.allowing(all).statements()) {
            ObjectNode statement = statements.addObject().put("Sid", s.sid()).put("Effect", s.effect());
            ArrayNode actions = statement.putArray("Action");
            s.actions().forEach(actions::add);
            ArrayNode resources = statement.putArray("Resource");
            for (String resource : s.resources()) {
                if (resource.contains(ACCOUNT)) {
                    resources.addObject().put("Fn::Sub", resource);
                } else {
                    resources.add(resource);
                }
            }
        }

        ObjectNode template = Json.object()
                .put("AWSTemplateFormatVersion", "2010-09-09")
                .put(
                        "Description",
                        "The role the CloudAEye agent installer assumes in a member account: it may make exactly the"
                                + " calls of the fleet plan it was made from, and only the trusted principal may assume"
                                + " it, with the external ID. Deploy it as a StackSet to every member account.");
        ObjectNode parameters = template.putObject("Parameters");
        parameters
                .putObject("RoleName")
                .put("Type", "String")
                .put("Default", "CloudAEyeInstaller")
                .put("Description", "The role name the fleet installer assumes (FleetInstallerBuilder#roleName)");
        parameters
                .putObject("TrustedPrincipalArn")
                .put("Type", "String")
                .put("AllowedPattern", "arn:aws[a-z-]*:iam::\\d{12}:(role|user)/.+")
                .put(
                        "Description",
                        "The ARN of the role or user that runs the fleet installer; nobody else may assume"
                                + " this role");
        parameters
                .putObject("ExternalId")
                .put("Type", "String")
                .put("MinLength", "2")
                .put("Description", "The external ID the installer sends (FleetInstallerBuilder#externalId)");

        ObjectNode properties = template.putObject("Resources")
                .putObject("InstallerRole")
                .put("Type", "AWS::IAM::Role")
                .putObject("Properties");
        properties.putObject("RoleName").put("Ref", "RoleName");
        properties.put("MaxSessionDuration", 3600);
        ObjectNode trust = properties.putObject("AssumeRolePolicyDocument").put("Version", PolicyDocument.VERSION);
        ObjectNode allow =
                trust.putArray("Statement").addObject().put("Effect", "Allow").put("Action", "sts:AssumeRole");
        allow.putObject("Principal").putObject("AWS").put("Ref", "TrustedPrincipalArn");
        allow.putObject("Condition")
                .putObject("StringEquals")
                .putObject("sts:ExternalId")
                .put("Ref", "ExternalId");
        ObjectNode policy = properties.putArray("Policies").addObject().put("PolicyName", "cloudaeye-installer");
        policy.putObject("PolicyDocument")
                .put("Version", PolicyDocument.VERSION)
                .set("Statement", statements);
        template.putObject("Outputs")
                .putObject("RoleArn")
                .putObject("Value")
                .putArray("Fn::GetAtt")
                .add("InstallerRole")
                .add("Arn");
        return Json.write(template);
    }
}
