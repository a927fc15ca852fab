package com.cloudaeye.agent.examples;

import java.net.URI;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.eks.EksClient;

/** An EKS cluster in a local AWS emulator, with control-plane logging off. */
public final class SampleEksCluster {
    /** The demo cluster's name. */
    public static final String CLUSTER = "demo-eks";

    private SampleEksCluster() {}

    /**
     * @param endpoint the emulator
     * @param region the region
     * @param credentials any credentials the emulator accepts
     */
    public static void create(URI endpoint, Region region, AwsCredentialsProvider credentials) {
        try (EksClient eks = EmulatorClients.client(EksClient.builder(), endpoint, region, credentials)) {
            eks.createCluster(r -> r.name(CLUSTER)
                    .roleArn("arn:aws:iam::123456789012:role/eks-cluster")
                    .resourcesVpcConfig(v -> v.subnetIds("subnet-0a1b2c3d")));
            System.out.println("   EKS cluster " + CLUSTER);
        }
    }
}
