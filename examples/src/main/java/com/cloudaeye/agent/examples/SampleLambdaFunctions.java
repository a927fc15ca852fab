package com.cloudaeye.agent.examples;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.Architecture;
import software.amazon.awssdk.services.lambda.model.Runtime;

/**
 * Sample Lambda functions and the CloudAEye layers, created in a local AWS emulator for the demo.
 *
 * @param x86Layer the x86_64 layer version ARN
 * @param armLayer the arm64 layer version ARN
 */
public record SampleLambdaFunctions(String x86Layer, String armLayer) {
    /** The functions' role. */
    static final String ROLE = "demo-lambda-role";

    /**
     * Creates a role, two layers and eight functions of mixed runtimes and architectures.
     *
     * @param endpoint the emulator
     * @param region the region
     * @param credentials any credentials the emulator accepts
     * @return the layer ARNs
     */
    public static SampleLambdaFunctions create(URI endpoint, Region region, AwsCredentialsProvider credentials) {
        try (IamClient iam = EmulatorClients.client(IamClient.builder(), endpoint, Region.AWS_GLOBAL, credentials);
                LambdaClient lambda = EmulatorClients.client(LambdaClient.builder(), endpoint, region, credentials)) {
            String role = iam.createRole(r -> r.roleName(ROLE)
                            .assumeRolePolicyDocument("{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":"
                                    + "\"Allow\",\"Principal\":{\"Service\":\"lambda.amazonaws.com\"},"
                                    + "\"Action\":\"sts:AssumeRole\"}]}"))
                    .role()
                    .arn();
            String x86 = layer(lambda, "cloudaeye-logs-agent-x86_64", Architecture.X86_64);
            String arm = layer(lambda, "cloudaeye-logs-agent-arm64", Architecture.ARM64);
            String[] names = {"orders", "payments", "inventory", "emails", "reports", "search", "auth", "billing"};
            for (int i = 0; i < names.length; i++) {
                Architecture arch = i % 3 == 0 ? Architecture.ARM64 : Architecture.X86_64;
                Runtime runtime = i % 2 == 0 ? Runtime.PYTHON3_12 : Runtime.NODEJS20_X;
                String name = names[i];
                lambda.createFunction(r -> r.functionName(name)
                        .runtime(runtime)
                        .architectures(arch)
                        .role(role)
                        .handler("index.handler")
                        .code(c -> c.zipFile(zip()))
                        .environment(e -> e.variables(Map.of("STAGE", "demo"))));
                System.out.println("   function " + name + " (" + runtime + ", " + arch + ")");
            }
            return new SampleLambdaFunctions(x86, arm);
        }
    }

    private static String layer(LambdaClient lambda, String name, Architecture arch) {
        String arn = lambda.publishLayerVersion(r -> r.layerName(name)
                        .content(c -> c.zipFile(zip()))
                        .compatibleArchitectures(arch)
                        .compatibleRuntimes(Runtime.PYTHON3_12, Runtime.NODEJS20_X))
                .layerVersionArn();
        System.out.println("   layer " + arn);
        return arn;
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
}
