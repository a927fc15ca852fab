package com.cloudaeye.agent.examples;

import com.cloudaeye.agent.ManagedResources;
import java.net.URI;
import java.util.Map;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.cloudformation.CloudFormationClient;
import software.amazon.awssdk.services.cloudformation.model.StackResourceSummary;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.Architecture;
import software.amazon.awssdk.services.lambda.model.Runtime;

/**
 * The cases of a production account that the demo shows beside {@link SampleLambdaFunctions}: a function invoked
 * through an alias ({@value #ALIAS}) on a published version, and a function made by a CloudFormation stack
 * ({@value #STACK}), whose next deployment would revert a direct change.
 */
public final class SampleProductionFunctions {
    /** The function behind the alias. */
    public static final String ALIASED = "checkout";

    /** The alias that serves the function's traffic. */
    public static final String ALIAS = "live";

    /** The stack that owns a function. */
    public static final String STACK = "storefront";

    private SampleProductionFunctions() {}

    /**
     * Creates both functions with the role {@link SampleLambdaFunctions#create} made.
     *
     * @param endpoint the emulator
     * @param region the region
     * @param credentials any credentials the emulator accepts
     * @return the name CloudFormation gave the stack's function
     */
    public static String create(URI endpoint, Region region, AwsCredentialsProvider credentials) {
        try (IamClient iam = EmulatorClients.client(IamClient.builder(), endpoint, Region.AWS_GLOBAL, credentials);
                LambdaClient lambda = EmulatorClients.client(LambdaClient.builder(), endpoint, region, credentials);
                CloudFormationClient cfn =
                        EmulatorClients.client(CloudFormationClient.builder(), endpoint, region, credentials)) {
            String role = iam.getRole(r -> r.roleName(SampleLambdaFunctions.ROLE))
                    .role()
                    .arn();
            lambda.createFunction(r -> r.functionName(ALIASED)
                    .runtime(Runtime.PYTHON3_12)
                    .architectures(Architecture.X86_64)
                    .role(role)
                    .handler("index.handler")
                    .code(c -> c.zipFile(SampleLambdaFunctions.zip()))
                    .environment(e -> e.variables(Map.of("STAGE", "demo"))));
            String version = lambda.publishVersion(r -> r.functionName(ALIASED)).version();
            lambda.createAlias(r -> r.functionName(ALIASED).name(ALIAS).functionVersion(version));
            System.out.println("   function " + ALIASED + " (alias " + ALIAS + " -> version " + version + ")");

            String stackId = cfn.createStack(r -> r.stackName(STACK).templateBody(template(role)))
                    .stackId();
            StackResourceSummary fn = cfn.listStackResources(r -> r.stackName(STACK))
                    .stackResourceSummaries()
                    .get(0);
            // AWS tags every resource of a stack; the emulator tags only EC2 ones, so the demo does it as AWS would.
            String arn = lambda.getFunction(r -> r.functionName(fn.physicalResourceId()))
                    .configuration()
                    .functionArn();
            lambda.tagResource(r -> r.resource(arn)
                    .tags(Map.of(
                            ManagedResources.STACK_NAME_TAG,
                            STACK,
                            "aws:cloudformation:stack-id",
                            stackId,
                            ManagedResources.LOGICAL_ID_TAG,
                            fn.logicalResourceId())));
            System.out.println(
                    "   function " + fn.physicalResourceId() + " (made by CloudFormation stack " + STACK + ")");
            return fn.physicalResourceId();
        }
    }

    private static String template(String role) {
        return "{\"Resources\":{\"StorefrontFn\":{\"Type\":\"AWS::Lambda::Function\",\"Properties\":{"
                + "\"Runtime\":\"python3.12\",\"Handler\":\"index.handler\",\"Role\":\"" + role + "\","
                + "\"Environment\":{\"Variables\":{\"STAGE\":\"demo\"}},"
                + "\"Code\":{\"ZipFile\":\"def handler(event, context):\\n    return 'ok'\\n\"}}}}}";
    }
}
