package com.cloudaeye.agent.eks.crash;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.AgentInstallerBuilder;
import com.cloudaeye.agent.Secret;
import com.cloudaeye.agent.eks.AccessKey;
import com.cloudaeye.agent.eks.EksTarget;
import com.cloudaeye.agent.testing.ChildJvm;
import com.cloudaeye.agent.testing.Moto;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Runs one EKS installer operation in its own JVM, so a test can kill it with {@code SIGKILL} half-way and continue in
 * a fresh JVM. Arguments: {@code apply|resume|rollback ENDPOINT JOURNAL_DIR RATE KUBECONFIG [JOURNAL_FILE]}; RATE is
 * the EKS, IAM and CloudFormation rate the installer allows itself (low, to make the apply slow enough to kill);
 * KUBECONFIG reaches the test's Kubernetes API server, where the agent DaemonSet of the first cluster goes ({@value
 * #NO_KUBECONFIG}: no DaemonSet). Prints the {@link ChildJvm#printResult
 * RESULT} line.
 *
 * <p>One installer with one {@link EksTarget} for all {@link #CLUSTERS} (an installer takes one target per
 * platform), each cluster with all five control-plane log types. The first cluster also gets the agent DaemonSet
 * (through Helm, with the caller's kubeconfig, since moto's clusters have no API server) and CloudAEye's IAM-user
 * stack, whose new access key goes to an in-memory sink that nothing prints; the second gets the cross-account role.
 * The apply goes part by part: the DaemonSet, the stack and its key, every cluster's logging, then the role.
 */
public final class EksApplyInChildJvm {
    /** The clusters, in target order. */
    public static final List<String> CLUSTERS = clusters();
    /** The cluster with the IAM-user stack. */
    public static final String USER_STACK_CLUSTER = CLUSTERS.get(0);
    /** The cluster with the cross-account role. */
    public static final String ROLE_CLUSTER = CLUSTERS.get(1);
    /** CloudAEye's account in the role's trust policy. */
    public static final String CLOUDAEYE_ACCOUNT = "111122223333";
    /** The role's external ID. */
    public static final String EXTERNAL_ID = "cloudaeye-tenant-crash-42";
    /** The API token the installer is configured with (a test value; no EKS part here sends it). */
    public static final String TOKEN = "cae-eks-crash-token-5c6d7e";

    /** The KUBECONFIG argument that installs no DaemonSet: the AWS side only. */
    public static final String NO_KUBECONFIG = "-";

    private EksApplyInChildJvm() {}

    private static List<String> clusters() {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            names.add("crash-eks-" + i);
        }
        return List.copyOf(names);
    }

    /**
     * @param args see the class comment
     */
    public static void main(String[] args) {
        String mode = args[0];
        URI endpoint = URI.create(args[1]);
        Path journals = Path.of(args[2]);
        double rate = Double.parseDouble(args[3]);
        // The key's secret stays in this JVM's memory: never printed, journaled or written to a file.
        List<AccessKey> keys = new CopyOnWriteArrayList<>();
        AgentInstallerBuilder builder = AgentInstaller.builder()
                .region(Moto.REGION)
                .endpointOverride(endpoint)
                .credentialsProvider(Moto.credentials())
                // Stops after the kill point of ChildJvm.applyAndKill, when it started this child.
                .listener(ChildJvm.pauseAfterApplied())
                .agent(a -> a.logsEndpoint("https://logs.example.cloudaeye.com").apiToken(Secret.of(TOKEN)))
                .rateLimit("eks.control-plane", rate)
                .rateLimit("iam", rate)
                .rateLimit("cloudformation", rate)
                .journalDirectory(journals);
        EksTarget.Builder target = EksTarget.builder().cluster(USER_STACK_CLUSTER);
        if (!args[4].equals(NO_KUBECONFIG)) {
            Path kubeconfig = Path.of(args[4]);
            target.daemonSet(d -> d.kubeconfig(kubeconfig).timeout(Duration.ofSeconds(60)));
        }
        target.cloudAEyeAccess(a -> a.iamUserStack().accessKeySink(key -> {
                    keys.add(key);
                    // The id only, at once (the JVM may be killed next), for the tests to check that the key the user
                    // has is one that the sink received.
                    System.out.println("KEY received " + key.accessKeyId());
                    System.out.flush();
                }))
                .controlPlaneLogging(true)
                .waits(Duration.ofMillis(50), Duration.ofSeconds(30));
        for (String cluster : CLUSTERS.subList(1, CLUSTERS.size())) {
            target.addCluster(cluster, c -> {
                if (cluster.equals(ROLE_CLUSTER)) {
                    c.cloudAEyeAccess(a -> a.crossAccountRole(CLOUDAEYE_ACCOUNT, EXTERNAL_ID));
                }
                c.controlPlaneLogging(true);
            });
        }
        builder.target(target.build());
        try (AgentInstaller installer = builder.build()) {
            ChildJvm.perform(installer, mode, args.length > 5 ? Path.of(args[5]) : null);
        }
        System.out.println("KEYS received=" + keys.size());
    }
}
