package com.cloudaeye.agent.examples;

import java.net.URI;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ecs.EcsClient;
import software.amazon.awssdk.services.ecs.model.AssignPublicIp;
import software.amazon.awssdk.services.ecs.model.CPUArchitecture;
import software.amazon.awssdk.services.ecs.model.ContainerDefinition;
import software.amazon.awssdk.services.ecs.model.LogDriver;
import software.amazon.awssdk.services.ecs.model.NetworkMode;
import software.amazon.awssdk.services.ecs.model.OSFamily;
import software.amazon.awssdk.services.ecs.model.RegisterTaskDefinitionRequest;
import software.amazon.awssdk.services.ecs.model.TaskDefinition;

/** A Fargate cluster with three services (two sharing a task definition, one on ARM64) in a local AWS emulator. */
public final class SampleEcsServices {
    /** The demo cluster's name. */
    public static final String CLUSTER = "demo";

    // The roles a production task has: the router writes the apps' CloudWatch logs with the task role, and its own
    // logs with the execution role (the emulator does not check that they exist).
    private static final String TASK_ROLE = "arn:aws:iam::123456789012:role/demo-task";
    private static final String EXECUTION_ROLE = "arn:aws:iam::123456789012:role/demo-execution";

    private SampleEcsServices() {}

    /**
     * @param endpoint the emulator
     * @param region the region
     * @param credentials any credentials the emulator accepts
     */
    public static void create(URI endpoint, Region region, AwsCredentialsProvider credentials) {
        try (EcsClient ecs = EmulatorClients.client(EcsClient.builder(), endpoint, region, credentials);
                Ec2Client ec2 = EmulatorClients.client(Ec2Client.builder(), endpoint, region, credentials)) {
            String subnet = ec2.describeSubnets().subnets().get(0).subnetId();
            String group = ec2.describeSecurityGroups().securityGroups().get(0).groupId();
            ecs.createCluster(c -> c.clusterName(CLUSTER));
            TaskDefinition web = ecs.registerTaskDefinition(fargate("web")).taskDefinition();
            TaskDefinition worker = ecs.registerTaskDefinition(fargate("worker").toBuilder()
                            .runtimePlatform(p ->
                                    p.cpuArchitecture(CPUArchitecture.ARM64).operatingSystemFamily(OSFamily.LINUX))
                            .build())
                    .taskDefinition();
            String[][] services = {
                {"web-a", web.taskDefinitionArn()},
                {"web-b", web.taskDefinitionArn()},
                {"worker", worker.taskDefinitionArn()}
            };
            for (String[] s : services) {
                ecs.createService(c -> c.cluster(CLUSTER)
                        .serviceName(s[0])
                        .taskDefinition(s[1])
                        .desiredCount(1)
                        .launchType("FARGATE")
                        .networkConfiguration(n -> n.awsvpcConfiguration(
                                a -> a.subnets(subnet).securityGroups(group).assignPublicIp(AssignPublicIp.DISABLED))));
                System.out.println("   ECS service " + CLUSTER + "/" + s[0] + " on " + s[1]);
            }
        }
    }

    /** A Fargate task definition of one app container with the production roles (0.5 vCPU, 1 GB). */
    private static RegisterTaskDefinitionRequest fargate(String family) {
        return RegisterTaskDefinitionRequest.builder()
                .family(family)
                .taskRoleArn(TASK_ROLE)
                .executionRoleArn(EXECUTION_ROLE)
                .networkMode(NetworkMode.AWSVPC)
                .requiresCompatibilitiesWithStrings("FARGATE")
                .cpu("512")
                .memory("1024")
                .containerDefinitions(app(family))
                .build();
    }

    private static ContainerDefinition app(String name) {
        return ContainerDefinition.builder()
                .name(name)
                .image("public.ecr.aws/docker/library/nginx:1.27")
                .cpu(256)
                .memory(512)
                .essential(true)
                .logConfiguration(l -> l.logDriver(LogDriver.AWSLOGS)
                        .options(java.util.Map.of(
                                "awslogs-group",
                                "/ecs/" + name,
                                "awslogs-region",
                                "us-east-1",
                                "awslogs-stream-prefix",
                                name)))
                .build();
    }
}
