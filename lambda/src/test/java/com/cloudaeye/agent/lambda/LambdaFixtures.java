package com.cloudaeye.agent.lambda;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.AgentInstallerBuilder;
import com.cloudaeye.agent.Secret;
import com.cloudaeye.agent.testing.Moto;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.Architecture;
import software.amazon.awssdk.services.lambda.model.CreateFunctionRequest;
import software.amazon.awssdk.services.lambda.model.FunctionConfiguration;
import software.amazon.awssdk.services.lambda.model.Runtime;

/** Creates layers and functions in moto for the Lambda integration tests. */
final class LambdaFixtures implements AutoCloseable {
    static final String TOKEN = "cae-test-token-9f8e7d6c5b4a";
    static final String ENDPOINT = "https://logs.example.cloudaeye.com";

    final LambdaClient lambda;
    final IamClient iam;
    final String roleArn;

    LambdaFixtures() {
        this(Moto.credentials());
    }

    /** @param credentials whose account the fixtures go into (moto acts in an assumed role's account) */
    LambdaFixtures(software.amazon.awssdk.auth.credentials.AwsCredentialsProvider credentials) {
        lambda = LambdaClient.builder()
                .endpointOverride(Moto.endpoint())
                .region(Moto.REGION)
                .credentialsProvider(credentials)
                .build();
        iam = IamClient.builder()
                .endpointOverride(Moto.endpoint())
                .region(software.amazon.awssdk.regions.Region.AWS_GLOBAL)
                .credentialsProvider(credentials)
                .build();
        roleArn = iam.createRole(
                        r -> r.roleName("lambda-role")
                                .assumeRolePolicyDocument(
                                        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                                                + "\"Principal\":{\"Service\":\"lambda.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"}]}"))
                .role()
                .arn();
    }

    /** Publishes a layer version and returns its ARN. */
    String layer(String name, Architecture... architectures) {
        return lambda.publishLayerVersion(r -> r.layerName(name)
                        .content(c -> c.zipFile(zip()))
                        .compatibleArchitectures(architectures)
                        .compatibleRuntimes(Runtime.PYTHON3_12, Runtime.NODEJS20_X, Runtime.JAVA21))
                .layerVersionArn();
    }

    FunctionConfiguration function(
            String name, Runtime runtime, Architecture arch, Map<String, String> env, String... layers) {
        CreateFunctionRequest.Builder request = CreateFunctionRequest.builder()
                .functionName(name)
                .runtime(runtime)
                .role(roleArn)
                .handler("index.handler")
                .architectures(arch)
                .code(c -> c.zipFile(zip()))
                .layers(layers);
        if (!env.isEmpty()) {
            request.environment(e -> e.variables(env));
        }
        lambda.createFunction(request.build());
        return lambda.getFunction(r -> r.functionName(name)).configuration();
    }

    FunctionConfiguration config(String name) {
        return lambda.getFunction(r -> r.functionName(name)).configuration();
    }

    AgentInstallerBuilder installer(LambdaTarget target) {
        return environment().target(target);
    }

    /** An installer builder pointed at moto with the agent settings, without a target. */
    AgentInstallerBuilder environment() {
        return AgentInstaller.builder()
                .region(Moto.REGION)
                .endpointOverride(Moto.endpoint())
                .credentialsProvider(Moto.credentials())
                .agent(a -> a.logsEndpoint(ENDPOINT).apiToken(Secret.of(TOKEN)));
    }

    static SdkBytes zip() {
        try (ByteArrayOutputStream bytes = new ByteArrayOutputStream();
                ZipOutputStream zip = new ZipOutputStream(bytes)) {
            zip.putNextEntry(new ZipEntry("index.py"));
            zip.write("def handler(event, context):\n    return 'ok'\n".getBytes(StandardCharsets.UTF_8));
            zip.closeEntry();
            zip.finish();
            return SdkBytes.fromByteArray(bytes.toByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        lambda.close();
        iam.close();
    }
}
