package com.cloudaeye.agent;

import com.cloudaeye.agent.spi.support.Json;

/** Sample changes and plans shared by the core unit tests. */
public final class Fixtures {
    /** The account of every sample ARN. */
    public static final String ACCOUNT = "123456789012";

    private Fixtures() {}

    /**
     * @param name a function name
     * @return the function's ARN in us-east-1
     */
    public static String functionArn(String name) {
        return "arn:aws:lambda:us-east-1:" + ACCOUNT + ":function:" + name;
    }

    /**
     * @param name a function name
     * @return an update that adds the agent layer and a redacted token to the function
     */
    public static Change update(String name) {
        String arn = functionArn(name);
        return Change.builder()
                .target("lambda")
                .resourceType("AWS::Lambda::Function")
                .resourceId(arn)
                .action(ChangeAction.UPDATE)
                .addAttributes(AttributeChange.of(
                        "Layers", "[]", "[arn:aws:lambda:us-east-1:" + ACCOUNT + ":layer:cloudaeye:3]"))
                .addAttributes(AttributeChange.redacted("Environment.CLOUDAEYE_API_TOKEN", false, true))
                .addPermissions(Permission.of("lambda:UpdateFunctionConfiguration", arn))
                .addPermissions(Permission.of(
                        "lambda:GetLayerVersion", "arn:aws:lambda:us-east-1:" + ACCOUNT + ":layer:cloudaeye:3"))
                .targetState(Json.object().put("revisionId", "rev-" + name))
                .build();
    }

    /**
     * @param name a function name
     * @param reason why it is skipped
     * @return a skip
     */
    public static Change skip(String name, String reason) {
        return Change.builder()
                .target("lambda")
                .resourceType("AWS::Lambda::Function")
                .resourceId(functionArn(name))
                .action(ChangeAction.SKIP)
                .reason(reason)
                .build();
    }

    /**
     * @param name a function name
     * @return a no-op: the agent is already installed
     */
    public static Change noOp(String name) {
        return Change.builder()
                .target("lambda")
                .resourceType("AWS::Lambda::Function")
                .resourceId(functionArn(name))
                .action(ChangeAction.NO_OP)
                .reason("the agent is already installed")
                .build();
    }

    /** @return a plan with two updates, a skip and a no-op, and the read permission of ListFunctions */
    public static Plan plan() {
        return Plan.builder()
                .kind(Plan.Kind.INSTALL)
                .region("us-east-1")
                .addChanges(update("orders"), skip("legacy", "image-package functions take no layers"))
                .addChanges(noOp("billing"), update("api"))
                .addReadPermissions(Permission.of("lambda:ListFunctions", "*"))
                .addReadPermissions(Permission.of(
                        "lambda:GetLayerVersion", "arn:aws:lambda:us-east-1:" + ACCOUNT + ":layer:cloudaeye:3"))
                .addNotes("2 functions get the agent layer")
                .build();
    }
}
