package com.cloudaeye.agent.ecs;

import com.cloudaeye.agent.AgentInstallerBuilder;
import com.cloudaeye.agent.spi.Target;
import com.cloudaeye.agent.testing.Moto;
import com.cloudaeye.agent.testing.TargetContract;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import software.amazon.awssdk.services.ecs.model.DeploymentControllerType;
import software.amazon.awssdk.services.ecs.model.TaskDefinition;

/** The shared target contract, run against moto with services that share and do not share task definitions. */
class EcsTargetIT extends TargetContract {
    private MotoEcs moto;

    @BeforeEach
    void fixture() {
        Moto.reset();
        moto = new MotoEcs();
        moto.cluster("prod");
        TaskDefinition web = moto.fargate("web", "256", "512", MotoEcs.app("app", 128, 256));
        moto.service("prod", "web-a", web);
        moto.service("prod", "web-b", web);
        moto.service("prod", "worker", moto.arm("worker"));
        moto.service("prod", "legacy-cron", web);
        moto.service("prod", "bluegreen", web, DeploymentControllerType.CODE_DEPLOY);
    }

    @AfterEach
    void close() {
        moto.close();
    }

    @Override
    protected Target target() {
        return MotoEcs.target().build();
    }

    @Override
    protected AgentInstallerBuilder environment() {
        return MotoEcs.environment();
    }

    @Override
    protected Set<String> authorizationOnlyActions() {
        // RegisterTaskDefinition is authorized against iam:PassRole for its roles and ecs:TagResource for its tags.
        return Set.of("iam:PassRole", "ecs:TagResource");
    }
}
