package com.cloudaeye.agent.examples;

import com.cloudaeye.agent.eks.EksTarget;
import com.cloudaeye.agent.eks.LogType;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

/**
 * Installs the CloudAEye agent into an Amazon EKS cluster, as a Java tool that embeds the library would: plan
 * (read-only), print the plan and the IAM policy it needs, apply only when asked, print the result.
 *
 * <p>Environment variables:
 *
 * <ul>
 *   <li>{@code CLOUDAEYE_LOGS_ENDPOINT}, {@code CLOUDAEYE_API_TOKEN}: where the agent sends logs, and its token
 *       (required);
 *   <li>{@code CLOUDAEYE_EKS_CLUSTER}: the cluster's name (required);
 *   <li>{@code CLOUDAEYE_EKS_LOG_TYPES}: the control-plane log types to enable: {@code all} (default), {@code none},
 *       or EKS names such as {@code api,audit,authenticator,controllerManager,scheduler};
 *   <li>{@code CLOUDAEYE_EKS_DAEMONSET=yes} to install the agent DaemonSet (in-process Helm);
 *       {@code CLOUDAEYE_EKS_NAMESPACE} its namespace; {@code CLOUDAEYE_KUBECONFIG} a kubeconfig to use instead of
 *       an EKS token made from the AWS credentials;
 *   <li>{@code CLOUDAEYE_ACCOUNT_ID} and {@code CLOUDAEYE_EXTERNAL_ID}: give CloudAEye's account keyless read access
 *       to the control-plane logs through a cross-account role;
 *   <li>{@code CLOUDAEYE_APPLY=yes} to apply; {@code AWS_REGION}; {@code CLOUDAEYE_AWS_ENDPOINT} for a local emulator;
 *       {@code CLOUDAEYE_JOURNAL_DIR}; {@code CLOUDAEYE_PLAN_FILE} to save the plan's JSON.
 * </ul>
 *
 * <p>The IAM-user access mode of the original script hands a new access key's secret to a sink in the caller's code
 * (see {@code CloudAEyeAccess}); an example that only prints has no safe place for it, so it is not offered here.
 *
 * <p>Exit status: 0 when planned (or applied completely), 1 when something failed, 2 when a variable is missing.
 */
public final class EksExample {
    static final String CLUSTER = "CLOUDAEYE_EKS_CLUSTER";

    private EksExample() {}

    /**
     * @param args unused: the settings come from environment variables (see the class comment)
     */
    public static void main(String[] args) {
        System.exit(run(System.getenv(), System.out, System.err));
    }

    static int run(Map<String, String> environment, PrintStream out, PrintStream err) {
        ExampleEnvironment env = new ExampleEnvironment(environment);
        env.requireAgent();
        env.required(CLUSTER, "the EKS cluster's name");
        if (env.reportMissing(err, "EksExample")) {
            return 2;
        }
        return env.planThenApply("EksExample", installer -> installer.target(target(env)), out, err);
    }

    /** Builds the EKS target from the variables; call when {@value #CLUSTER} is set. */
    static EksTarget target(ExampleEnvironment env) {
        EksTarget.Builder eks =
                EksTarget.builder().cluster(env.optional(CLUSTER).orElse(""));
        String logTypes = env.optional("CLOUDAEYE_EKS_LOG_TYPES").orElse("all");
        if (logTypes.equalsIgnoreCase("all")) {
            eks.controlPlaneLogging(true);
        } else if (!logTypes.equalsIgnoreCase("none")) {
            eks.logTypes(Arrays.stream(env.list("CLOUDAEYE_EKS_LOG_TYPES", ""))
                    .map(LogType::fromAwsName)
                    .toArray(LogType[]::new));
        }
        if (env.flag("CLOUDAEYE_EKS_DAEMONSET")) {
            eks.daemonSet(d -> {
                env.optional("CLOUDAEYE_EKS_NAMESPACE").ifPresent(d::namespace);
                env.optional("CLOUDAEYE_KUBECONFIG").map(Path::of).ifPresent(d::kubeconfig);
            });
        }
        var account = env.optional("CLOUDAEYE_ACCOUNT_ID");
        if (account.isPresent()) {
            eks.cloudAEyeAccess(a -> a.crossAccountRole(
                    account.get(), env.optional("CLOUDAEYE_EXTERNAL_ID").orElse("")));
        }
        return eks.build();
    }
}
