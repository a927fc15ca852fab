package com.cloudaeye.agent.eks;

import com.cloudaeye.agent.eks.crash.EksApplyInChildJvm;
import com.cloudaeye.agent.eks.internal.ControlPlaneLogging;
import com.cloudaeye.agent.eks.internal.access.CrossAccountRoleAccess;
import com.cloudaeye.agent.eks.internal.access.IamUserStackAccess;
import com.cloudaeye.agent.testing.ChildJvm;
import com.cloudaeye.agent.testing.CrashHarness;
import com.cloudaeye.agent.testing.Moto;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import software.amazon.awssdk.services.cloudformation.CloudFormationClient;
import software.amazon.awssdk.services.eks.EksClient;
import software.amazon.awssdk.services.eks.model.Cluster;
import software.amazon.awssdk.services.eks.model.LogSetup;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.iam.model.AccessKeyMetadata;
import software.amazon.awssdk.services.iam.model.NoSuchEntityException;

/**
 * {@link CrashHarness} for the AWS side of EKS (the Helm side is {@code HelmCrashIT}'s, against a real control plane):
 * {@link EksApplyInChildJvm}'s 8 clusters with control-plane logging, CloudAEye's IAM-user stack and its access key on
 * the first, the cross-account role on the second. The apply is killed at the seed's mutating request (a logging tag
 * or update, {@code CreateStack}, {@code CreateRole}, {@code PutRolePolicy}), or, for a third of the seeds, between
 * {@code CreateAccessKey}'s request and its answer; then resumed or rolled back. The key is installed only when the
 * user's one key is one that a child's sink received: a key whose secret was lost with its answer is not.
 */
class EksRandomCrashIT {
    private static final String ALL_TYPES = "api,audit,authenticator,controllerManager,scheduler";

    @TempDir
    Path work;

    private EksClient eks;
    private final Set<String> seenSecrets = new java.util.LinkedHashSet<>();
    private IamClient iam;
    private CloudFormationClient cfn;

    @AfterEach
    void close() {
        eks.close();
        iam.close();
        cfn.close();
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource(CrashHarness.SEEDS)
    void killedAtARandomRequest_thenResumedOrRolledBack_keepsEveryInvariant(long seed) throws Exception {
        Moto.reset();
        eks = MotoEks.eks();
        iam = MotoEks.iam();
        cfn = MotoEks.cloudFormation();
        for (String name : EksApplyInChildJvm.CLUSTERS) {
            eks.createCluster(r -> r.name(name)
                    .roleArn("arn:aws:iam::" + Moto.ACCOUNT + ":role/eks-cluster")
                    .resourcesVpcConfig(v -> v.subnetIds("subnet-0a1b2c3d")));
        }
        CrashHarness.run(seed, "eks", "EksRandomCrashIT", work, new Subject());
    }

    private final class Subject implements CrashHarness.Subject {
        @Override
        public Class<?> child() {
            return EksApplyInChildJvm.class;
        }

        @Override
        public List<String> args(String mode, URI endpoint, Path journals, @Nullable Path journal) {
            return CrashHarness.childArgs(mode, endpoint, journals, journal, "20", EksApplyInChildJvm.NO_KUBECONFIG);
        }

        @Override
        public Map<String, String> state(Path work) throws Exception {
            Map<String, String> out = new LinkedHashMap<>();
            for (String name : EksApplyInChildJvm.CLUSTERS) {
                Cluster c = eks.describeCluster(r -> r.name(name)).cluster();
                String types = enabled(c);
                String tag = c.tags().get(ControlPlaneLogging.TAG);
                String state;
                if (types.isEmpty() && tag == null) {
                    state = CrashHarness.BEFORE;
                } else if (types.equals(ALL_TYPES) && ALL_TYPES.equals(tag)) {
                    state = CrashHarness.INSTALLED;
                } else {
                    state = "logging [" + types + "], tag " + tag;
                }
                out.put(c.arn(), state);
            }
            String account = "arn:aws:iam::" + Moto.ACCOUNT + ":";
            out.put(
                    "arn:aws:cloudformation:" + Moto.REGION.id() + ":" + Moto.ACCOUNT + ":stack/"
                            + IamUserStackAccess.STACK_NAME + "/*",
                    stackState());
            out.put(account + "user/" + IamUserStackAccess.USER_NAME, keyState(work));
            out.put(account + "role/" + CrossAccountRoleAccess.ROLE_NAME, roleState());
            return out;
        }

        private String stackState() {
            List<String> live = cfn.describeStacks().stacks().stream()
                    .filter(s -> s.stackName().equals(IamUserStackAccess.STACK_NAME))
                    .map(s -> s.stackStatusAsString())
                    .filter(s -> !s.equals("DELETE_COMPLETE"))
                    .toList();
            if (live.isEmpty()) {
                return CrashHarness.BEFORE;
            }
            return live.equals(List.of("CREATE_COMPLETE")) ? CrashHarness.INSTALLED : "stacks " + live;
        }

        /** Installed: the user has one key, and a child's sink received it (its secret reached CloudAEye). */
        private String keyState(Path work) throws Exception {
            List<String> keys;
            try {
                keys = iam.listAccessKeys(r -> r.userName(IamUserStackAccess.USER_NAME)).accessKeyMetadata().stream()
                        .map(AccessKeyMetadata::accessKeyId)
                        .toList();
            } catch (NoSuchEntityException noUser) {
                return CrashHarness.BEFORE;
            }
            if (keys.isEmpty()) {
                return CrashHarness.BEFORE;
            }
            Set<String> received = ChildJvm.output(work)
                    .lines()
                    .filter(l -> l.startsWith("KEY received "))
                    .map(l -> l.substring("KEY received ".length()).trim())
                    .collect(Collectors.toSet());
            return keys.size() == 1 && received.contains(keys.get(0))
                    ? CrashHarness.INSTALLED
                    : "keys " + keys + ", of which the sink received " + received;
        }

        private String roleState() {
            try {
                iam.getRole(r -> r.roleName(CrossAccountRoleAccess.ROLE_NAME));
            } catch (NoSuchEntityException e) {
                return CrashHarness.BEFORE;
            }
            List<String> policies = iam.listRolePolicies(r -> r.roleName(CrossAccountRoleAccess.ROLE_NAME))
                    .policyNames();
            return policies.isEmpty() ? "a role without its policy" : CrashHarness.INSTALLED;
        }

        @Override
        public int mutations() {
            // CreateStack, CreateAccessKey, a tag and an update per cluster, CreateRole, PutRolePolicy
            return 2 + 2 * EksApplyInChildJvm.CLUSTERS.size() + 2;
        }

        @Override
        public List<String> killPoints() {
            return List.of("CreateAccessKey");
        }

        /** A tag sent again after a lost answer sets the same value (seed 377555227295561474). */
        @Override
        public Set<String> idempotent() {
            return Set.of("eks:TagResource");
        }

        /**
         * A key whose answer was lost is deleted and created again within the run: its secret never reached the sink
         * (seed -4178965407515181371).
         */
        @Override
        public Map<String, String> undoneBy() {
            return Map.of("iam:CreateAccessKey", "iam:DeleteAccessKey");
        }

        /** Not CreateAccessKey: a key whose answer was lost has no secret, and the resume replaces it. */
        @Override
        public Set<String> onceAcrossRuns() {
            return Set.of("cloudformation:CreateStack", "iam:CreateRole", "eks:UpdateClusterConfig");
        }

        /**
         * The API token, and every access key secret moto held at any call so far (its state dump shows them; AWS
         * never would): a key deleted since is gone from the dump, and moto answers the dump with an error page in
         * some states (after a stack deletion), so the secrets seen are kept.
         */
        @Override
        public List<String> secrets(Path work) throws Exception {
            for (int attempt = 0; attempt < 3; attempt++) {
                HttpResponse<String> dump = HttpClient.newHttpClient()
                        .send(
                                HttpRequest.newBuilder(URI.create(Moto.endpoint() + "/moto-api/data.json"))
                                        .build(),
                                HttpResponse.BodyHandlers.ofString());
                if (dump.statusCode() == 200 && dump.body().startsWith("{")) {
                    seenSecrets.addAll(new ObjectMapper().readTree(dump.body()).findValuesAsText("secret_access_key"));
                    break;
                }
                System.out.println("moto's state dump answered " + dump.statusCode() + "; trying again");
            }
            List<String> secrets = new ArrayList<>(seenSecrets);
            secrets.add(EksApplyInChildJvm.TOKEN);
            return secrets;
        }
    }

    /** @return the enabled log types, in AWS's order, comma-separated */
    private static String enabled(Cluster cluster) {
        Set<String> on = cluster.logging().clusterLogging().stream()
                .filter(LogSetup::enabled)
                .flatMap(s -> s.typesAsStrings().stream())
                .collect(Collectors.toSet());
        return List.of(ALL_TYPES.split(",")).stream().filter(on::contains).collect(Collectors.joining(","));
    }
}
