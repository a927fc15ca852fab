package com.cloudaeye.agent.testing;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.AttributeChange;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.Secret;
import com.cloudaeye.agent.spi.ApplyContext;
import com.cloudaeye.agent.spi.CallScheduler;
import com.cloudaeye.agent.spi.Quota;
import com.cloudaeye.agent.spi.Target;
import com.cloudaeye.agent.spi.TargetContext;
import com.cloudaeye.agent.spi.TargetPlan;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.BeforeEach;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.FunctionConfiguration;
import software.amazon.awssdk.services.lambda.model.Runtime;

/**
 * Runs the shared {@link TargetContract} against moto with a minimal real target (it tags Lambda functions), so the
 * contract kit itself is proven before platform modules rely on it.
 */
class TargetContractIT extends TargetContract {
    private static final String TAG = "cloudaeye-agent";

    @BeforeEach
    void createFunctions() {
        Moto.reset();
        String role;
        try (IamClient iam = IamClient.builder()
                .region(Region.AWS_GLOBAL)
                .endpointOverride(Moto.endpoint())
                .credentialsProvider(Moto.credentials())
                .build()) {
            role = iam.createRole(r -> r.roleName("fn-role").assumeRolePolicyDocument("{}"))
                    .role()
                    .arn();
        }
        try (LambdaClient lambda = LambdaClient.builder()
                .region(Moto.REGION)
                .endpointOverride(Moto.endpoint())
                .credentialsProvider(Moto.credentials())
                .build()) {
            for (String name : List.of("alpha", "beta", "gamma")) {
                lambda.createFunction(r -> r.functionName(name)
                        .runtime(Runtime.PYTHON3_12)
                        .role(role)
                        .handler("index.handler")
                        .code(c -> c.zipFile(SdkBytes.fromByteArray(zip()))));
            }
        }
    }

    @Override
    protected AgentInstaller.Builder installer() {
        return AgentInstaller.builder()
                .region(Moto.REGION)
                .credentialsProvider(Moto.credentials())
                .endpointOverride(Moto.endpoint())
                .agent(a -> a.logsEndpoint("https://logs.example.cloudaeye.com").apiToken(Secret.of("t0k3n")))
                .target(new TaggingTarget());
    }

    /** Marks every function with a tag: one read per function, one TagResource or UntagResource per change. */
    static final class TaggingTarget implements Target {
        private static final Quota CONTROL_PLANE = new Quota("lambda.control-plane", 15);

        @Override
        public String name() {
            return "tagging";
        }

        @Override
        public TargetPlan plan(TargetContext context) {
            return plan(context, true);
        }

        @Override
        public TargetPlan planUninstall(TargetContext context) {
            return plan(context, false);
        }

        private TargetPlan plan(TargetContext context, boolean install) {
            LambdaClient lambda = context.client(LambdaClient.class, LambdaClient::builder);
            CallScheduler scheduler = context.scheduler();
            List<Change> changes = new ArrayList<>();
            List<Permission> reads = new ArrayList<>();
            reads.add(Permission.of("lambda:ListFunctions", "*")); // ListFunctions is not scoped by resource
            for (FunctionConfiguration f :
                    scheduler.call(CONTROL_PLANE, () -> lambda.listFunctions().functions())) {
                String arn = f.functionArn();
                reads.add(Permission.of("lambda:ListTags", arn));
                Map<String, String> tags = scheduler.call(
                        CONTROL_PLANE,
                        () -> lambda.listTags(r -> r.resource(arn)).tags());
                boolean tagged = tags.containsKey(TAG);
                Change.Builder c = Change.builder()
                        .target(name())
                        .resourceType("AWS::Lambda::Function")
                        .resourceId(arn);
                if (tagged == install) {
                    changes.add(c.action(ChangeAction.NO_OP)
                            .reason(install ? "already tagged" : "not tagged")
                            .build());
                } else {
                    changes.add(c.action(ChangeAction.UPDATE)
                            .addAttributes(AttributeChange.of(
                                    "Tags." + TAG, install ? null : "installed", install ? "installed" : null))
                            .addPermissions(Permission.of(install ? "lambda:TagResource" : "lambda:UntagResource", arn))
                            .build());
                }
            }
            return new TargetPlan(changes, reads);
        }

        @Override
        public TargetPlan planRollback(List<Change> applied, TargetContext context) {
            return new TargetPlan(List.of(), List.of());
        }

        @Override
        public void apply(List<Change> changes, ApplyContext context) {
            LambdaClient lambda = context.client(LambdaClient.class, LambdaClient::builder);
            List<CompletableFuture<?>> running = new ArrayList<>();
            for (Change c : changes) {
                boolean install = c.attributes().get(0).after().isPresent();
                context.starting(c);
                Supplier<Object> call = install
                        ? () -> lambda.tagResource(
                                r -> r.resource(c.resourceId()).tags(Map.of(TAG, "installed")))
                        : () -> lambda.untagResource(
                                r -> r.resource(c.resourceId()).tagKeys(TAG));
                running.add(context.scheduler().submit(CONTROL_PLANE, call).whenComplete((ok, error) -> {
                    if (error == null) {
                        context.applied(c, null, null);
                    } else if (error.getCause() instanceof SdkException e) {
                        context.failed(c, e.getMessage(), e);
                    } else {
                        context.failed(c, error.toString(), error);
                    }
                }));
            }
            CompletableFuture.allOf(running.toArray(CompletableFuture[]::new))
                    .exceptionally(e -> null)
                    .join();
        }
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
