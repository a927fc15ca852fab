package com.cloudaeye.agent.examples;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.AgentInstallerBuilder;
import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.ProgressListener;
import com.cloudaeye.agent.Secret;
import com.cloudaeye.agent.ecs.EcsTarget;
import com.cloudaeye.agent.eks.EksTarget;
import com.cloudaeye.agent.lambda.LambdaTarget;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.lambda.model.Architecture;

/**
 * The README's main job: plan, review the IAM policy, apply, re-plan (nothing left), uninstall.
 *
 * <p>With {@code CLOUDAEYE_DEMO_ENDPOINT} set (scripts/demo.sh sets it to a local moto server) it first creates
 * sample resources there; with {@code CLOUDAEYE_DEMO_KUBECONFIG} too (scripts/demo.sh sets it when the local Kubernetes
 * control plane of scripts/k8s.sh is built) the EKS target also installs the agent DaemonSet there, through that
 * kubeconfig, and waits for it to roll out to the fake nodes. Without it, it runs against real AWS with the default credential chain and region: it
 * creates nothing, plans for the functions in {@code CLOUDAEYE_FUNCTIONS} (default {@code *}) with the layers in
 * {@code CLOUDAEYE_LAYER_X86_64} / {@code CLOUDAEYE_LAYER_ARM64}, and changes the account only when
 * {@code CLOUDAEYE_DEMO_APPLY=yes}.
 */
public final class Demo {
    private Demo() {}

    /**
     * @param args unused; configuration comes from environment variables (see the class comment)
     */
    public static void main(String[] args) {
        Map<String, String> env = System.getenv();
        String emulator = env.get("CLOUDAEYE_DEMO_ENDPOINT");
        AgentInstallerBuilder builder = AgentInstaller.builder()
                .agent(a -> a.logsEndpoint(
                                env.getOrDefault("CLOUDAEYE_LOGS_ENDPOINT", "https://logs.demo.cloudaeye.com"))
                        .apiToken(Secret.of(env.getOrDefault("CLOUDAEYE_API_TOKEN", "demo-token-not-a-secret"))))
                .listener(ProgressListener.console());
        boolean apply;
        LambdaTarget.Builder lambda = LambdaTarget.builder();
        if (emulator != null) {
            URI endpoint = URI.create(emulator);
            Region region = Region.US_EAST_1;
            StaticCredentialsProvider credentials =
                    StaticCredentialsProvider.create(AwsBasicCredentials.create("demo", "demo"));
            System.out.println("== Creating sample resources in the local AWS emulator at " + endpoint);
            SampleLambdaFunctions samples = SampleLambdaFunctions.create(endpoint, region, credentials);
            // The plan says where alias live points and moves it to the version the apply publishes (uninstall
            // moves it on to an agent-free one); it warns about the stack's function, which the stack's next
            // deployment would revert.
            SampleProductionFunctions.create(endpoint, region, credentials);
            lambda.functions("*")
                    .layer(Architecture.X86_64, samples.x86Layer())
                    .layer(Architecture.ARM64, samples.armLayer())
                    .publishVersion(true)
                    .moveAliases(SampleProductionFunctions.ALIAS);
            SampleEcsServices.create(endpoint, region, credentials);
            builder.target(EcsTarget.builder()
                    .cluster(SampleEcsServices.CLUSTER)
                    .services("*")
                    .sidecar(s -> s.image("public.ecr.aws/cloudaeye/log-router:1.4.0"))
                    .updateServices(true)
                    .waitForStable(Duration.ofMinutes(2), Duration.ofMillis(200))
                    .build());
            SampleEksCluster.create(endpoint, region, credentials);
            EksTarget.Builder eks = EksTarget.builder().cluster(SampleEksCluster.CLUSTER);
            String kubeconfig = env.get("CLOUDAEYE_DEMO_KUBECONFIG");
            if (kubeconfig != null) {
                // The emulator's cluster has no API server: the DaemonSet goes to the local control plane instead.
                System.out.println("   the agent DaemonSet goes to the Kubernetes control plane of " + kubeconfig);
                eks.daemonSet(d -> d.kubeconfig(Path.of(kubeconfig)).timeout(Duration.ofMinutes(2)));
            }
            builder.target(eks.controlPlaneLogging(true)
                    .cloudAEyeAccess(a -> a.iamUserStack()
                            .accessKeySink(key -> System.out.println("   (the caller's sink received access key "
                                    + key.accessKeyId() + "; its secret is printed nowhere)")))
                    .waits(Duration.ofMillis(200), Duration.ofMinutes(2))
                    .build());
            builder.region(region).endpointOverride(endpoint).credentialsProvider(credentials);
            apply = true;
        } else {
            lambda.functions(env.getOrDefault("CLOUDAEYE_FUNCTIONS", "*").split(","));
            if (env.containsKey("CLOUDAEYE_LAYER_X86_64")) {
                lambda.layer(Architecture.X86_64, env.get("CLOUDAEYE_LAYER_X86_64"));
            }
            if (env.containsKey("CLOUDAEYE_LAYER_ARM64")) {
                lambda.layer(Architecture.ARM64, env.get("CLOUDAEYE_LAYER_ARM64"));
            }
            apply = "yes".equals(env.get("CLOUDAEYE_DEMO_APPLY"));
            if (env.containsKey("CLOUDAEYE_ECS_CLUSTER")) {
                builder.target(EcsTarget.builder()
                        .cluster(env.get("CLOUDAEYE_ECS_CLUSTER"))
                        .services(
                                env.getOrDefault("CLOUDAEYE_ECS_SERVICES", "*").split(","))
                        .sidecar(s -> s.image(env.getOrDefault(
                                "CLOUDAEYE_ROUTER_IMAGE", "public.ecr.aws/cloudaeye/log-router:1.4.0")))
                        .updateServices(true)
                        .waitForStable(Duration.ofMinutes(15))
                        .build());
            }
            System.out.println("== Real AWS, default credentials and region; apply=" + apply);
        }
        builder.target(lambda.build());

        try (AgentInstaller installer = builder.build()) {
            Plan plan = installer.plan();
            System.out.println("\n== The plan (read-only calls so far: " + installer.calls() + ")");
            System.out.println(plan);
            System.out.println("== The IAM policy this plan needs");
            System.out.println(plan.requiredPolicy().toJson());
            if (!apply) {
                System.out.println("Set CLOUDAEYE_DEMO_APPLY=yes to apply, re-plan and uninstall.");
                return;
            }
            System.out.println("== Apply");
            ApplyResult result = installer.apply(plan);
            System.out.println(result);
            System.out.println("== Re-plan after apply");
            Plan again = installer.plan();
            System.out.println(again.isEmpty() ? "Nothing left to change.\n" : again.toString());
            System.out.println("== Uninstall");
            System.out.println(installer.uninstall());
            System.out.println("== AWS calls made, by IAM action: " + installer.calls());
            if (!result.isSuccess() || !again.isEmpty()) {
                System.exit(1);
            }
        }
    }
}
