package com.cloudaeye.agent.internal;

import com.cloudaeye.agent.FleetPlan;
import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.PolicyDocument;
import com.cloudaeye.agent.spi.support.Json;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.SortedMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The CloudFormation template of the installer role in member accounts. One template for every account, so it can be
 * a StackSet, yet each planned account's role may make exactly the calls of its own plan: every planned account has a
 * condition ({@code AWS::AccountId} equals it) and its own managed policies under that condition. Accounts the plan did
 * not reach (the role was missing there, or they join the StackSet later) get only the plan's reads, each ARN's account
 * as {@code ${AWS::AccountId}}, so the installer can plan there; re-make the template from the new plan to apply.
 *
 * <p>IAM limits a managed policy to 6,144 characters without white space, and an inline policy of a role to 10,240, so
 * a policy naming hundreds of functions is split into as many managed policies as it needs (a statement too big for
 * one is split by resource). A role may have 10 managed policies unless the quota was raised: an account that needs
 * more gets a warning in the template's {@code Metadata} ({@value #WARNINGS}) and in the log, since CloudFormation
 * would fail the stack in that account only when it attaches the eleventh.
 */
public final class RoleTemplate {
    /** IAM's limit for one managed policy, in characters without white space. */
    static final int MANAGED_POLICY_LIMIT = 6144;

    /** IAM's default quota of managed policies attached to one role. */
    static final int MANAGED_POLICIES_PER_ROLE = 10;
    /** The template's metadata key for what a reviewer must know before deploying it. */
    static final String WARNINGS = "CloudAEyeWarnings";

    private static final Logger LOG = LoggerFactory.getLogger(RoleTemplate.class);
    private static final String ACCOUNT = "${AWS::AccountId}";
    private static final String OTHER_ACCOUNT = "OtherAccount";
    private static final String PLANNED = "PlannedAccount";
    /** {@code Fn::Or} takes 2 to 10 conditions. */
    private static final int MAX_OR = 10;

    private RoleTemplate() {}

    /**
     * @param plan the fleet plan
     * @return the template, as JSON
     */
    public static String render(FleetPlan plan) {
        ObjectNode template = Json.object()
                .put("AWSTemplateFormatVersion", "2010-09-09")
                .put(
                        "Description",
                        "The role the CloudAEye agent installer assumes in a member account: it may make exactly the"
                                + " calls of the fleet plan it was made from in that account, and only the trusted"
                                + " principal may assume it, with the external ID. Deploy it as a StackSet to every"
                                + " member account.");
        parameters(template.putObject("Parameters"));
        ObjectNode conditions = template.putObject("Conditions");
        ObjectNode resources = template.putObject("Resources");
        role(resources);

        List<String> warnings = new ArrayList<>();
        List<String> planned = new ArrayList<>();
        plan.plans().forEach((account, regions) -> {
            String condition = "Account" + account;
            planned.add(condition);
            conditions
                    .putObject(condition)
                    .putArray("Fn::Equals")
                    .add(pseudo("AWS::AccountId"))
                    .add(account);
            List<ArrayNode> documents = documents(PolicyDocument.allowing(permissions(regions, true)));
            managedPolicies(resources, condition, "The calls of the fleet plan in account " + account, documents);
            if (documents.size() > MANAGED_POLICIES_PER_ROLE) {
                warnings.add("Account " + account + " needs " + documents.size()
                        + " managed policies on the installer role, and IAM attaches " + MANAGED_POLICIES_PER_ROLE
                        + " to a role unless the quota 'Managed policies per role' (IAM, up to 20) was raised: raise it"
                        + " in that account before deploying, or plan fewer resources there per run.");
            }
        });

        // Accounts without a plan: the plan's reads, so the installer can plan there (and apply nothing).
        List<Permission> reads = new ArrayList<>();
        plan.plans()
                .forEach((account, regions) -> permissions(regions, false)
                        .forEach(p -> reads.add(Permission.of(
                                p.action(), p.resource().replace(":" + account + ":", ":" + ACCOUNT + ":")))));
        if (!reads.isEmpty()) {
            ObjectNode other = conditions.putObject(OTHER_ACCOUNT);
            ArrayNode not = other.putArray("Fn::Not");
            not.addObject().put("Condition", anyOf(conditions, planned, PLANNED));
            managedPolicies(
                    resources,
                    OTHER_ACCOUNT,
                    "The fleet plan's reads, for an account it did not plan",
                    documents(PolicyDocument.allowing(reads)));
        }
        if (conditions.isEmpty()) {
            template.remove("Conditions");
        }
        if (!warnings.isEmpty()) {
            ArrayNode list = template.putObject("Metadata").putArray(WARNINGS);
            warnings.forEach(w -> {
                list.add(w);
                LOG.warn("The installer role template: {}", w);
            });
        }
        template.putObject("Outputs")
                .putObject("RoleArn")
                .putObject("Value")
                .putArray("Fn::GetAtt")
                .add("InstallerRole")
                .add("Arn");
        return Json.write(template);
    }

    private static List<Permission> permissions(SortedMap<String, Plan> regions, boolean withMutations) {
        List<Permission> all = new ArrayList<>();
        regions.values().forEach(p -> {
            all.addAll(p.readPermissions());
            if (withMutations) {
                p.mutations().forEach(c -> all.addAll(c.permissions()));
            }
        });
        return all;
    }

    private static void parameters(ObjectNode parameters) {
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
    }

    /** The role, its trust and its one inline policy: what every account needs, whatever its plan. */
    private static void role(ObjectNode resources) {
        ObjectNode properties = resources
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
        // The fleet lists an account's enabled regions with it when told to take them all.
        ObjectNode policy = properties.putArray("Policies").addObject().put("PolicyName", "cloudaeye-installer");
        policy.putObject("PolicyDocument")
                .put("Version", PolicyDocument.VERSION)
                .set(
                        "Statement",
                        statements(PolicyDocument.allowing(List.of(Permission.of("ec2:DescribeRegions", "*")))
                                .statements()));
    }

    private static void managedPolicies(
            ObjectNode resources, String condition, String description, List<ArrayNode> documents) {
        for (int i = 0; i < documents.size(); i++) {
            ObjectNode policy = resources
                    .putObject(condition + "Policy" + (i + 1))
                    .put("Type", "AWS::IAM::ManagedPolicy")
                    .put("Condition", condition);
            ObjectNode properties = policy.putObject("Properties")
                    .put(
                            "Description",
                            description
                                    + (documents.size() > 1 ? " (" + (i + 1) + " of " + documents.size() + ")" : ""));
            properties.putArray("Roles").addObject().put("Ref", "InstallerRole");
            properties
                    .putObject("PolicyDocument")
                    .put("Version", PolicyDocument.VERSION)
                    .set("Statement", documents.get(i));
        }
    }

    /**
     * The document's statements packed into as few managed policies as fit IAM's limit, each a list of statements; a
     * statement too big for one policy is split by resource.
     */
    static List<ArrayNode> documents(PolicyDocument document) {
        int room = MANAGED_POLICY_LIMIT
                - Json.compact(Json.object()
                                .put("Version", PolicyDocument.VERSION)
                                .set("Statement", Json.array()))
                        .length();
        List<ArrayNode> documents = new ArrayList<>();
        ArrayNode current = Json.array();
        int used = 0;
        for (ObjectNode statement : fitting(document, room)) {
            // One comma between statements.
            int size = Json.compact(statement).length() + (current.isEmpty() ? 0 : 1);
            if (used + size > room) {
                documents.add(current);
                current = Json.array();
                size = Json.compact(statement).length();
                used = 0;
            }
            current.add(statement);
            used += size;
        }
        if (!current.isEmpty()) {
            documents.add(current);
        }
        return documents;
    }

    /** The statements, each split by resource into parts that fit {@code room} characters. */
    private static List<ObjectNode> fitting(PolicyDocument document, int room) {
        List<ObjectNode> fitting = new ArrayList<>();
        for (PolicyDocument.Statement s : document.statements()) {
            List<List<String>> parts = new ArrayList<>();
            List<String> part = new ArrayList<>();
            for (String resource : s.resources()) {
                List<String> larger = new ArrayList<>(part);
                larger.add(resource);
                // "Part00" stands for the longest suffix a part's Sid gets.
                if (!part.isEmpty()
                        && Json.compact(statement(s, s.sid() + "Part00", larger))
                                        .length()
                                > room) {
                    parts.add(part);
                    larger = new ArrayList<>(List.of(resource));
                }
                part = larger;
            }
            parts.add(part);
            for (int i = 0; i < parts.size(); i++) {
                fitting.add(statement(s, parts.size() == 1 ? s.sid() : s.sid() + "Part" + (i + 1), parts.get(i)));
            }
        }
        return fitting;
    }

    private static ArrayNode statements(List<PolicyDocument.Statement> statements) {
        ArrayNode array = Json.array();
        statements.forEach(s -> array.add(statement(s, s.sid(), List.copyOf(s.resources()))));
        return array;
    }

    private static ObjectNode statement(PolicyDocument.Statement s, String sid, List<String> resources) {
        ObjectNode statement = Json.object().put("Sid", sid).put("Effect", s.effect());
        ArrayNode actions = statement.putArray("Action");
        s.actions().forEach(actions::add);
        ArrayNode array = statement.putArray("Resource");
        for (String resource : resources) {
            if (resource.contains(ACCOUNT)) {
                array.addObject().put("Fn::Sub", resource);
            } else {
                array.add(resource);
            }
        }
        return statement;
    }

    /**
     * A condition true when any of the named conditions is: {@code Fn::Or} of them, nested where there are more than
     * {@code Fn::Or} takes.
     *
     * @return the name of that condition (the only one's own name when there is one)
     */
    private static String anyOf(ObjectNode conditions, List<String> names, String name) {
        if (names.size() == 1) {
            return names.get(0);
        }
        if (names.size() <= MAX_OR) {
            ArrayNode or = conditions.putObject(name).putArray("Fn::Or");
            names.forEach(n -> or.addObject().put("Condition", n));
            return name;
        }
        List<String> groups = new ArrayList<>();
        for (int from = 0; from < names.size(); from += MAX_OR) {
            groups.add(anyOf(
                    conditions,
                    names.subList(from, Math.min(names.size(), from + MAX_OR)),
                    name + "Part" + groups.size()));
        }
        // A name of its own for each level, so no level's groups overwrite another's.
        return anyOf(conditions, groups, name + "Parts");
    }

    private static ObjectNode pseudo(String parameter) {
        return Json.object().put("Ref", parameter);
    }
}
