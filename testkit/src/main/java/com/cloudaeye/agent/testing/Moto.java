package com.cloudaeye.agent.testing;

import com.cloudaeye.agent.ManagedResources;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.cloudformation.CloudFormationClient;
import software.amazon.awssdk.services.cloudformation.model.StackResourceSummary;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.sts.StsClient;
import software.amazon.awssdk.services.sts.auth.StsAssumeRoleCredentialsProvider;

/**
 * The moto server that {@code scripts/test.sh} started for the integration tests (its URL arrives as the system
 * property {@code moto.endpoint}). Integration tests fail, rather than skip, when it is missing: run them through
 * the script.
 */
public final class Moto {
    /** The account moto uses by default. */
    public static final String ACCOUNT = "123456789012";
    /** The region every integration test uses. */
    public static final Region REGION = Region.US_EAST_1;

    private static final HttpClient HTTP =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private Moto() {}

    /** @return the moto server's URL */
    public static URI endpoint() {
        String endpoint = System.getProperty("moto.endpoint", "");
        if (endpoint.isBlank()) {
            throw new IllegalStateException("No moto server: integration tests run through scripts/test.sh, which"
                    + " starts one and passes -Dmoto.endpoint=http://127.0.0.1:PORT to Maven.");
        }
        return URI.create(endpoint);
    }

    /** @return static credentials that moto accepts */
    public static StaticCredentialsProvider credentials() {
        return StaticCredentialsProvider.create(AwsBasicCredentials.create("testing", "testing"));
    }

    /** Forgets every resource in moto (between test classes or tests). */
    public static void reset() {
        try {
            HttpResponse<String> response = HTTP.send(
                    HttpRequest.newBuilder(endpoint().resolve("/moto-api/reset"))
                            .POST(HttpRequest.BodyPublishers.noBody())
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                throw new IllegalStateException("moto reset answered " + response.statusCode());
            }
        } catch (IOException e) {
            throw new IllegalStateException("moto at " + endpoint() + " did not answer: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /**
     * @return an S3 client for moto (path-style addressing), acting in {@link #ACCOUNT}; the caller closes it
     */
    public static S3Client s3() {
        return S3Client.builder()
                .endpointOverride(endpoint())
                .region(REGION)
                .credentialsProvider(credentials())
                .forcePathStyle(true)
                .build();
    }

    /** @return an STS client for moto, acting in {@link #ACCOUNT}; the caller closes it */
    public static StsClient sts() {
        return StsClient.builder()
                .endpointOverride(endpoint())
                .region(REGION)
                .credentialsProvider(credentials())
                .build();
    }

    /**
     * Credentials that act in another account: moto lets {@code sts:AssumeRole} into any role, and the assumed
     * role's credentials act in the role's account.
     *
     * @param sts an STS client for moto
     * @param account the 12-digit account ID
     * @return the credentials of the role {@code admin} in that account; the caller closes them
     */
    public static StsAssumeRoleCredentialsProvider adminOf(StsClient sts, String account) {
        return StsAssumeRoleCredentialsProvider.builder()
                .stsClient(sts)
                .refreshRequest(r ->
                        r.roleArn("arn:aws:iam::" + account + ":role/admin").roleSessionName("fixtures"))
                .build();
    }

    /**
     * Deploys a CloudFormation stack in moto and lists what it made, for tests of resources owned by infrastructure as
     * code. moto (5.2) puts CloudFormation's {@code aws:cloudformation:*} tags on EC2 resources only: tag each
     * resource the test needs with {@link Stack#tagsOf(StackResourceSummary)} through its own service, as
     * CloudFormation does in AWS.
     *
     * @param name the stack's name
     * @param templateBody the template, JSON or YAML
     * @return the stack: its id and its resources
     */
    public static Stack deployStack(String name, String templateBody) {
        try (CloudFormationClient cfn = CloudFormationClient.builder()
                .endpointOverride(endpoint())
                .region(REGION)
                .credentialsProvider(credentials())
                .build()) {
            String id = cfn.createStack(r -> r.stackName(name).templateBody(templateBody))
                    .stackId();
            return new Stack(
                    name, id, cfn.listStackResources(l -> l.stackName(name)).stackResourceSummaries());
        }
    }

    /**
     * A stack {@link #deployStack(String, String)} made.
     *
     * @param name the stack's name
     * @param id the stack's id (an ARN)
     * @param resources what the stack made, as CloudFormation lists them
     */
    public record Stack(String name, String id, List<StackResourceSummary> resources) {
        /** @param resources copied */
        public Stack {
            resources = List.copyOf(resources);
        }

        /**
         * @param type a resource type, e.g. {@code AWS::Lambda::Function}
         * @return the stack's resources of that type, in CloudFormation's order
         */
        public List<StackResourceSummary> resourcesOfType(String type) {
            return resources.stream().filter(r -> r.resourceType().equals(type)).toList();
        }

        /**
         * @param resource one of the stack's resources
         * @return the tags CloudFormation puts on it in AWS: the stack's name ({@link
         *     ManagedResources#STACK_NAME_TAG}), its id ({@code aws:cloudformation:stack-id}) and the resource's
         *     logical id ({@link ManagedResources#LOGICAL_ID_TAG})
         */
        public Map<String, String> tagsOf(StackResourceSummary resource) {
            return Map.of(
                    ManagedResources.STACK_NAME_TAG,
                    name,
                    "aws:cloudformation:stack-id",
                    id,
                    ManagedResources.LOGICAL_ID_TAG,
                    resource.logicalResourceId());
        }
    }
}
