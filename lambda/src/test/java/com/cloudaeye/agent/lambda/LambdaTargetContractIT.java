package com.cloudaeye.agent.lambda;

import com.cloudaeye.agent.AgentInstallerBuilder;
import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.spi.Target;
import com.cloudaeye.agent.testing.Moto;
import com.cloudaeye.agent.testing.TargetContract;
import com.cloudaeye.agent.testing.ThrottlingProxy;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import software.amazon.awssdk.services.lambda.model.Architecture;
import software.amazon.awssdk.services.lambda.model.Runtime;

/**
 * The shared target contract, for Lambda against moto behind the throttling proxy, whose updates stay
 * {@code InProgress} for a moment as on AWS: the apply then polls {@code GetFunction}, the way the policy grants it
 * (moto alone answers every update {@code Successful}, and the apply of the installer that planned reads nothing).
 */
class LambdaTargetContractIT extends TargetContract {
    private LambdaFixtures fixtures;
    private ThrottlingProxy proxy;
    private String x86Layer;
    private String armLayer;

    @BeforeEach
    void createFunctions() {
        Moto.reset();
        fixtures = new LambdaFixtures();
        x86Layer = fixtures.layer("cloudaeye-x86", Architecture.X86_64);
        armLayer = fixtures.layer("cloudaeye-arm", Architecture.ARM64);
        String userLayer = fixtures.layer("user-utils", Architecture.X86_64, Architecture.ARM64);
        fixtures.function("orders", Runtime.PYTHON3_12, Architecture.X86_64, Map.of("STAGE", "prod"), userLayer);
        fixtures.function("billing", Runtime.NODEJS20_X, Architecture.ARM64, Map.of());
        proxy = ThrottlingProxy.builder()
                .target(Moto.endpoint())
                .unlimited()
                .propagationDelay(Duration.ofMillis(100))
                .start();
    }

    @AfterEach
    void close() {
        proxy.close();
        fixtures.close();
    }

    @Override
    protected Target target() {
        return LambdaTarget.builder()
                .functions("*")
                .layer(Architecture.X86_64, x86Layer)
                .layer(Architecture.ARM64, armLayer)
                .publishVersion(true)
                .build();
    }

    @Override
    protected AgentInstallerBuilder environment() {
        return fixtures.environment().endpointOverride(proxy.endpoint());
    }

    @Override
    protected URI endpoint() {
        return proxy.endpoint();
    }

    @Override
    protected Set<String> idempotentOnResumeActions() {
        // A resumed change that landed publishes its version again: Lambda returns the existing version when neither
        // code nor configuration changed since, so nothing changes twice.
        return Set.of("lambda:PublishVersion");
    }

    @Override
    protected boolean authorizationOnly(Permission granted) {
        // AWS re-authorizes every layer an update sends, the user's own too, with GetLayerVersion on it; we read only
        // our own layers.
        return granted.action().equals("lambda:GetLayerVersion")
                && granted.resource().contains(":layer:user-utils:");
    }
}
