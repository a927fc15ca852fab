package com.cloudaeye.agent.ecs;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.AgentInstallerBuilder;
import com.cloudaeye.agent.Secret;
import com.cloudaeye.agent.testing.Moto;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import software.amazon.awssdk.services.ecs.EcsClient;
import software.amazon.awssdk.services.ecs.model.AssignPublicIp;
import software.amazon.awssdk.services.ecs.model.CPUArchitecture;
import software.amazon.awssdk.services.ecs.model.ContainerDefinition;
import software.amazon.awssdk.services.ecs.model.DeploymentControllerType;
import software.amazon.awssdk.services.ecs.model.LaunchType;
import software.amazon.awssdk.services.ecs.model.LogConfiguration;
import software.amazon.awssdk.services.ecs.model.LogDriver;
import software.amazon.awssdk.services.ecs.model.NetworkMode;
import software.amazon.awssdk.services.ecs.model.OSFamily;
import software.amazon.awssdk.services.ecs.model.RegisterTaskDefinitionRequest;
import software.amazon.awssdk.services.ecs.model.TaskDefinition;

/** ECS fixtures in moto: a cluster, Fargate task definitions and services, the default VPC's subnet and group. */
final class MotoEcs implements AutoCloseable {
    static final String TOKEN = "tok-0123456789abcdef-secret";
    static final String ROUTER_IMAGE = "public.ecr.aws/cloudaeye/log-router:1.4.0";
    static final String TASK_ROLE = "arn:aws:iam::" + Moto.ACCOUNT + ":role/app-task";
    static final String EXECUTION_ROLE = "arn:aws:iam::" + Moto.ACCOUNT + ":role/app-execution";

    final EcsClient ecs = EcsClient.builder()
            .endpointOverride(Moto.endpoint())
            .region(Moto.REGION)
            .credentialsProvider(Moto.credentials())
            .build();
    private final String subnet;
    private final String securityGroup;

    MotoEcs() {
        subnet = ec2("DescribeSubnets", "<subnetId>(subnet-[0-9a-f]+)</subnetId>");
        securityGroup = ec2("DescribeSecurityGroups", "<groupId>(sg-[0-9a-f]+)</groupId>");
    }

    /** An installer against moto with the given target. */
    static AgentInstallerBuilder installer(EcsTarget target) {
        return environment().target(target);
    }

    /** An installer builder pointed at moto with the agent settings, without a target. */
    static AgentInstallerBuilder environment() {
        return AgentInstaller.builder()
                .region(Moto.REGION)
                .endpointOverride(Moto.endpoint())
                .credentialsProvider(Moto.credentials())
                .retries(2, java.time.Duration.ofMillis(10))
                .agent(a -> a.logsEndpoint("https://logs.example.cloudaeye.com")
                        .apiToken(Secret.of(TOKEN))
                        .putOptions("CLOUDAEYE_LOG_LEVEL", "info"));
    }

    /** The target most tests use: every service but legacy-*, rolled out and waited for. */
    static EcsTarget.Builder target() {
        return EcsTarget.builder()
                .cluster("prod")
                .services("*")
                .exclude("legacy-*")
                .sidecar(s -> s.image(ROUTER_IMAGE))
                .updateServices(true)
                .waitForStable(java.time.Duration.ofSeconds(10), java.time.Duration.ofMillis(20));
    }

    void cluster(String name) {
        ecs.createCluster(c -> c.clusterName(name));
    }

    static ContainerDefinition app(String name, int cpu, int memory) {
        return ContainerDefinition.builder()
                .name(name)
                .image("public.ecr.aws/docker/library/nginx:1.27")
                .cpu(cpu)
                .memory(memory)
                .essential(true)
                .environment(software.amazon.awssdk.services.ecs.model.KeyValuePair.builder()
                        .name("GREETING")
                        .value("hello-user-value")
                        .build())
                .logConfiguration(LogConfiguration.builder()
                        .logDriver(LogDriver.AWSLOGS)
                        .options(java.util.Map.of(
                                "awslogs-group", "/ecs/" + name,
                                "awslogs-region", "us-east-1",
                                "awslogs-stream-prefix", "app"))
                        .build())
                .build();
    }

    /** A Fargate revision with roles, tags and a volume. */
    TaskDefinition fargate(String family, String cpu, String memory, ContainerDefinition... containers) {
        return register(RegisterTaskDefinitionRequest.builder()
                .family(family)
                .networkMode(NetworkMode.AWSVPC)
                .requiresCompatibilitiesWithStrings("FARGATE")
                .cpu(cpu)
                .memory(memory)
                .taskRoleArn(TASK_ROLE)
                .executionRoleArn(EXECUTION_ROLE)
                .volumes(software.amazon.awssdk.services.ecs.model.Volume.builder()
                        .name("scratch")
                        .build())
                .tags(tag("team", "payments"), tag("env", "prod"))
                .containerDefinitions(containers)
                .build());
    }

    /** An ARM64 Fargate revision. */
    TaskDefinition arm(String family) {
        return register(RegisterTaskDefinitionRequest.builder()
                .family(family)
                .networkMode(NetworkMode.AWSVPC)
                .requiresCompatibilitiesWithStrings("FARGATE")
                .cpu("512")
                .memory("1024")
                .taskRoleArn(TASK_ROLE)
                .executionRoleArn(EXECUTION_ROLE)
                .runtimePlatform(r -> r.cpuArchitecture(CPUArchitecture.ARM64).operatingSystemFamily(OSFamily.LINUX))
                .containerDefinitions(app("worker", 256, 512))
                .build());
    }

    static software.amazon.awssdk.services.ecs.model.Tag tag(String key, String value) {
        return software.amazon.awssdk.services.ecs.model.Tag.builder()
                .key(key)
                .value(value)
                .build();
    }

    TaskDefinition register(RegisterTaskDefinitionRequest request) {
        return ecs.registerTaskDefinition(request).taskDefinition();
    }

    String service(String cluster, String name, TaskDefinition td) {
        return service(cluster, name, td, DeploymentControllerType.ECS);
    }

    String service(String cluster, String name, TaskDefinition td, DeploymentControllerType controller) {
        return ecs.createService(c -> c.cluster(cluster)
                        .serviceName(name)
                        .taskDefinition(td.taskDefinitionArn())
                        .desiredCount(1)
                        .launchType(LaunchType.FARGATE)
                        .deploymentController(d -> d.type(controller))
                        .networkConfiguration(n -> n.awsvpcConfiguration(a -> a.subnets(subnet)
                                .securityGroups(securityGroup)
                                .assignPublicIp(AssignPublicIp.DISABLED))))
                .service()
                .serviceArn();
    }

    /** Runs a standalone Fargate task (RunTask, not part of a service) of {@code taskDefinition} in the cluster. */
    String runTask(String cluster, String taskDefinition) {
        return ecs.runTask(r -> r.cluster(cluster)
                        .taskDefinition(taskDefinition)
                        .count(1)
                        .launchType(LaunchType.FARGATE)
                        .networkConfiguration(n -> n.awsvpcConfiguration(a -> a.subnets(subnet)
                                .securityGroups(securityGroup)
                                .assignPublicIp(AssignPublicIp.DISABLED))))
                .tasks()
                .get(0)
                .taskArn();
    }

    String taskDefinitionOf(String cluster, String service) {
        return ecs.describeServices(d -> d.cluster(cluster).services(service))
                .services()
                .get(0)
                .taskDefinition();
    }

    TaskDefinition describe(String arn) {
        return ecs.describeTaskDefinition(d -> d.taskDefinition(arn)).taskDefinition();
    }

    List<software.amazon.awssdk.services.ecs.model.Tag> tags(String arn) {
        return ecs.describeTaskDefinition(d -> d.taskDefinition(arn).includeWithStrings("TAGS"))
                .tags();
    }

    /** Reads one id from the default VPC through moto's EC2 query API (the EC2 SDK is not a dependency). */
    private static String ec2(String action, String regex) {
        HttpRequest request = HttpRequest.newBuilder(Moto.endpoint().resolve("/"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .header(
                        "Authorization",
                        "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/ec2/aws4_request,"
                                + " SignedHeaders=host, Signature=0")
                .POST(HttpRequest.BodyPublishers.ofString("Action=" + action + "&Version=2016-11-15"))
                .build();
        try {
            String body = HttpClient.newHttpClient()
                    .send(request, HttpResponse.BodyHandlers.ofString())
                    .body();
            Matcher m = Pattern.compile(regex).matcher(body);
            if (!m.find()) {
                throw new IllegalStateException("moto's " + action + " returned no match for " + regex + ": " + body);
            }
            return m.group(1);
        } catch (IOException e) {
            throw new IllegalStateException("moto did not answer " + action, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    @Override
    public void close() {
        ecs.close();
    }
}
