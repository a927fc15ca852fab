package com.cloudaeye.agent.eks;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.testing.Moto;
import com.cloudaeye.agent.testing.TargetContract;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeEach;

/** The shared target contract, for control-plane logging plus the IAM-user stack, against moto. */
class EksLoggingIT extends TargetContract {
    private final List<AccessKey> keys = new CopyOnWriteArrayList<>();

    @BeforeEach
    void cluster() {
        Moto.reset();
        MotoEks.createCluster(MotoEks.CLUSTER);
    }

    @Override
    protected AgentInstaller.Builder installer() {
        return MotoEks.installer(MotoEks.target()
                .controlPlaneLogging(true)
                .cloudAEyeAccess(a -> a.iamUserStack().accessKeySink(keys::add))
                .build());
    }

    @Override
    protected Set<String> authorizationOnlyActions() {
        return Set.of(
                // moto's UpdateClusterConfig returns no update to wait on; on AWS the installer polls it.
                "eks:DescribeUpdate",
                // Read only when the stack fails.
                "cloudformation:DescribeStackEvents",
                // CloudFormation calls these with the caller's credentials to create the stack's user and policy.
                "iam:CreateUser",
                "iam:GetUser",
                "iam:CreatePolicy",
                "iam:AttachUserPolicy");
    }
}
