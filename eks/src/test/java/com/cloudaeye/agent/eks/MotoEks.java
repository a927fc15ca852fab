package com.cloudaeye.agent.eks;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.AgentInstallerBuilder;
import com.cloudaeye.agent.Secret;
import com.cloudaeye.agent.testing.Moto;
import java.time.Duration;
import software.amazon.awssdk.awscore.client.builder.AwsClientBuilder;
import software.amazon.awssdk.services.cloudformation.CloudFormationClient;
import software.amazon.awssdk.services.eks.EksClient;
import software.amazon.awssdk.services.iam.IamClient;

/** Fixtures for the integration tests: clients on moto, a cluster, an installer. */
final class MotoEks {
    static final String CLUSTER = "prod-eks";

    private MotoEks() {}

    static <B extends AwsClientBuilder<B, C>, C> C client(B builder) {
        return builder.region(Moto.REGION)
                .credentialsProvider(Moto.credentials())
                .endpointOverride(Moto.endpoint())
                .build();
    }

    static EksClient eks() {
        return client(EksClient.builder());
    }

    static IamClient iam() {
        return client(IamClient.builder());
    }

    static CloudFormationClient cloudFormation() {
        return client(CloudFormationClient.builder());
    }

    /** Creates a cluster with every log type disabled (moto's default). */
    static void createCluster(String name) {
        try (EksClient eks = eks()) {
            eks.createCluster(r -> r.name(name)
                    .roleArn("arn:aws:iam::" + Moto.ACCOUNT + ":role/eks-cluster")
                    .resourcesVpcConfig(v -> v.subnetIds("subnet-0a1b2c3d")));
        }
    }

    static EksTarget.Builder target() {
        return EksTarget.builder().cluster(CLUSTER).waits(Duration.ofMillis(100), Duration.ofSeconds(30));
    }

    static AgentInstallerBuilder installer(EksTarget target) {
        return environment().target(target);
    }

    /** An installer builder pointed at moto with the agent settings, without a target. */
    static AgentInstallerBuilder environment() {
        return AgentInstaller.builder()
                .region(Moto.REGION)
                .credentialsProvider(Moto.credentials())
                .endpointOverride(Moto.endpoint())
                .agent(a -> a.logsEndpoint("https://logs.example.cloudaeye.com")
                        .apiToken(Secret.of("cloudaeye-api-token-for-tests")));
    }
}
