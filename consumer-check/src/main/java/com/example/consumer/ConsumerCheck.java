package com.example.consumer;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.Secret;
import com.cloudaeye.agent.ecs.EcsTarget;
import com.cloudaeye.agent.eks.EksTarget;
import com.cloudaeye.agent.eks.LogType;
import com.cloudaeye.agent.lambda.LambdaTarget;
import com.cloudaeye.agent.spi.TargetService;
import java.net.URI;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeSet;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.lambda.model.Architecture;

/**
 * Uses the public API of every platform the way a user's code does, without calling AWS: builds the three targets
 * and an installer, reads a reviewed plan, and finds the targets' services through ServiceLoader (the module's
 * {@code provides}, or META-INF/services on the class path). Exits non-zero when anything is missing.
 */
public final class ConsumerCheck {
    private static final String PLAN = """
            {
              "kind" : "INSTALL",
              "region" : "us-east-1",
              "notes" : [ ],
              "readPermissions" : [ { "action" : "lambda:ListFunctions", "resource" : "*" } ],
              "changes" : [ {
                "action" : "UPDATE",
                "attributes" : [ { "name" : "Layers", "before" : "[]", "after" : "[cloudaeye:3]",
                                   "sensitive" : false } ],
                "permissions" : [ { "action" : "lambda:UpdateFunctionConfiguration",
                                    "resource" : "arn:aws:lambda:us-east-1:111122223333:function:orders" } ],
                "reason" : null,
                "resourceId" : "arn:aws:lambda:us-east-1:111122223333:function:orders",
                "resourceType" : "AWS::Lambda::Function",
                "target" : "lambda",
                "targetState" : { },
                "warnings" : [ ]
              } ]
            }
            """;

    private ConsumerCheck() {}

    public static void main(String[] args) {
        LambdaTarget lambda = LambdaTarget.builder()
                .functions("orders-*")
                .layer(Architecture.X86_64, "arn:aws:lambda:us-east-1:111122223333:layer:cloudaeye-x86:3")
                .build();
        EcsTarget ecs = EcsTarget.builder()
                .cluster("prod")
                .services("*")
                .sidecar(s -> s.image("public.ecr.aws/cloudaeye/log-router:1.4.0"))
                .build();
        EksTarget eks = EksTarget.builder()
                .cluster("prod-eks")
                .logTypes(LogType.API, LogType.AUDIT)
                .build();
        // Building makes the clients but calls nothing: the endpoint is never reached.
        try (AgentInstaller installer = AgentInstaller.builder()
                .region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test")))
                .endpointOverride(URI.create("http://127.0.0.1:9"))
                .agent(a -> a.logsEndpoint("https://logs.example.com").apiToken(Secret.of("consumer-token")))
                .target(lambda)
                .target(ecs)
                .target(eks)
                .withoutJournal()
                .build()) {
            check(installer.region().equals(Region.US_EAST_1), "an installer in us-east-1, got " + installer.region());
        }

        Plan plan = Plan.fromJson(PLAN);
        check(Plan.fromJson(plan.toJson()).equals(plan), "a plan that survives its own JSON");
        check(plan.mutations().size() == 1, "one mutation in the plan, got " + plan.mutations());
        check(plan.requiredPolicy().toJson().contains("lambda:UpdateFunctionConfiguration"), "the plan's policy");

        Set<String> found = new TreeSet<>();
        ServiceLoader.load(TargetService.class).forEach(service -> found.add(service.name()));
        check(found.equals(Set.of("ecs", "eks", "lambda")), "the three targets' services through ServiceLoader, got "
                + found);

        System.out.println(plan);
        System.out.println("consumer check passed on the " + (ConsumerCheck.class.getModule().isNamed()
                ? "module path"
                : "class path"));
    }

    private static void check(boolean condition, String what) {
        if (!condition) {
            System.err.println("consumer check failed: expected " + what);
            System.exit(1);
        }
    }
}
