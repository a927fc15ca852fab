package com.cloudaeye.agent.examples;

import java.net.URI;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.awscore.client.builder.AwsClientBuilder;
import software.amazon.awssdk.regions.Region;

/** The one way the sample set-ups reach the local AWS emulator: endpoint, region and credentials on a client. */
final class EmulatorClients {
    private EmulatorClients() {}

    /**
     * @param builder a service's client builder, e.g. {@code LambdaClient.builder()}
     * @param endpoint the emulator
     * @param region the region (IAM's is {@link Region#AWS_GLOBAL})
     * @param credentials any credentials the emulator accepts
     * @param <B> the builder's type
     * @param <C> the client's type
     * @return the client, pointed at the emulator; the caller closes it
     */
    static <B extends AwsClientBuilder<B, C>, C> C client(
            B builder, URI endpoint, Region region, AwsCredentialsProvider credentials) {
        return builder.endpointOverride(endpoint)
                .region(region)
                .credentialsProvider(credentials)
                .build();
    }
}
