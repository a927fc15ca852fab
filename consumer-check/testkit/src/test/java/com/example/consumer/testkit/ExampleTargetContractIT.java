package com.example.consumer.testkit;

import com.cloudaeye.agent.AgentInstallerBuilder;
import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.Secret;
import com.cloudaeye.agent.spi.Target;
import com.cloudaeye.agent.testing.Moto;
import com.cloudaeye.agent.testing.TargetContract;
import java.util.Set;

/** What a third party's contract test looks like: compiled here, never run (there is no target to test). */
class ExampleTargetContractIT extends TargetContract {
    @Override
    protected Target target() {
        throw new UnsupportedOperationException("compiled here, never run");
    }

    @Override
    protected AgentInstallerBuilder environment() {
        return AgentInstaller.builder()
                .region(Moto.REGION)
                .endpointOverride(Moto.endpoint())
                .credentialsProvider(Moto.credentials())
                .agent(a -> a.logsEndpoint("https://logs.example.com").apiToken(Secret.of("example-token")));
    }

    @Override
    protected Set<String> authorizationOnlyActions() {
        return Set.of("iam:PassRole");
    }
}
