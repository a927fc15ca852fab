package com.cloudaeye.agent.logsub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.AgentInstallerBuilder;
import com.cloudaeye.agent.ConfigurationException;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.Secret;
import com.cloudaeye.agent.spi.Target;
import com.cloudaeye.agent.testing.Moto;
import com.cloudaeye.agent.testing.TargetContract;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.cloudwatchlogs.CloudWatchLogsClient;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.Runtime;

/**
 * The sample platform against the full target contract on moto: three log groups under {@code /aws/lambda/}, one of
 * them with a user's own subscription filter beside ours, and one group outside the selection.
 */
class LogSubscriptionTargetIT extends TargetContract {
    private String forwarder;

    @BeforeEach
    void fixture() {
        Moto.reset();
        try (IamClient iam = IamClient.builder()
                        .region(Region.AWS_GLOBAL)
                        .endpointOverride(Moto.endpoint())
                        .credentialsProvider(Moto.credentials())
                        .build();
                LambdaClient lambda = LambdaClient.builder()
                        .region(Moto.REGION)
                        .endpointOverride(Moto.endpoint())
                        .credentialsProvider(Moto.credentials())
                        .build();
                CloudWatchLogsClient logs = CloudWatchLogsClient.builder()
                        .region(Moto.REGION)
                        .endpointOverride(Moto.endpoint())
                        .credentialsProvider(Moto.credentials())
                        .build()) {
            String role = iam.createRole(r -> r.roleName("forwarder-role").assumeRolePolicyDocument("{}"))
                    .role()
                    .arn();
            forwarder = lambda.createFunction(r -> r.functionName("cloudaeye-forwarder")
                            .runtime(Runtime.PYTHON3_12)
                            .role(role)
                            .handler("index.handler")
                            .code(c -> c.zipFile(SdkBytes.fromByteArray(zip()))))
                    .functionArn();
            for (String group : List.of("/aws/lambda/orders", "/aws/lambda/billing", "/aws/lambda/users", "/ecs/web")) {
                logs.createLogGroup(r -> r.logGroupName(group));
            }
            logs.putSubscriptionFilter(r -> r.logGroupName("/aws/lambda/users")
                    .filterName("users-own-filter")
                    .filterPattern("ERROR")
                    .destinationArn(forwarder));
        }
    }

    @Override
    protected Target target() {
        return LogSubscriptionTarget.builder()
                .logGroups("/aws/lambda/*")
                .destination(forwarder)
                .build();
    }

    @Override
    protected AgentInstallerBuilder environment() {
        return AgentInstaller.builder()
                .region(Moto.REGION)
                .credentialsProvider(Moto.credentials())
                .endpointOverride(Moto.endpoint())
                .agent(a -> a.logsEndpoint("https://logs.example.cloudaeye.com").apiToken(Secret.of("t0k3n")));
    }

    @Test
    void plan_subscribesEverySelectedGroup_andLeavesTheUsersFilterAlone() {
        try (AgentInstaller installer = configured()) {
            Plan plan = installer.plan();
            assertThat(plan.mutations())
                    .extracting(c -> c.resourceId().substring(c.resourceId().indexOf(":log-group:") + 11))
                    .containsExactly("/aws/lambda/billing", "/aws/lambda/orders", "/aws/lambda/users");
            assertThat(plan.toJson()).doesNotContain("t0k3n").doesNotContain("users-own-filter");
        }
    }

    @Test
    void serviceLoaderInstance_refusesToPlan_andBuildValidatesTheSettings() {
        try (AgentInstaller installer = environment()
                .target(new LogSubscriptionTarget())
                .journalDirectory(journals)
                .build()) {
            assertThatThrownBy(installer::plan)
                    .isInstanceOf(ConfigurationException.class)
                    .hasMessageContaining("selects nothing");
        }
        assertThatThrownBy(() -> LogSubscriptionTarget.builder().logGroups("x").build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("destination");
    }

    private static byte[] zip() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            zip.putNextEntry(new ZipEntry("index.py"));
            zip.write("def handler(event, context):\n    return event\n".getBytes(StandardCharsets.UTF_8));
            zip.closeEntry();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }
}
