package com.cloudaeye.agent.eks.internal;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.cloudaeye.agent.AgentSettings;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.ConfigurationException;
import com.cloudaeye.agent.SinkKey;
import com.cloudaeye.agent.eks.AccessKey;
import com.cloudaeye.agent.eks.EksTarget;
import com.cloudaeye.agent.eks.internal.access.IamUserStackAccess;
import com.cloudaeye.agent.eks.internal.helm.HelmReleaseComponent;
import com.cloudaeye.agent.spi.CallScheduler;
import com.cloudaeye.agent.spi.TargetContext;
import com.cloudaeye.agent.spi.support.Json;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.awscore.client.builder.AwsClientBuilder;
import software.amazon.awssdk.core.SdkClient;
import software.amazon.awssdk.regions.Region;

/**
 * The EKS service's check before any target of a plan applies ({@code checkApply}): it refuses, with no AWS call and
 * nothing reported, what its components cannot apply, and lets the rest through.
 */
class EksServiceCheckTest {
    @TempDir
    Path work;

    /** A context with the installer's access-key sink or none; any AWS client or the scheduler fails the test. */
    private static TargetContext context(boolean installerSink) {
        return new TargetContext() {
            @Override
            public Region region() {
                return Region.US_EAST_1;
            }

            @Override
            public AgentSettings agent() {
                throw new AssertionError("the check needs no agent settings");
            }

            @Override
            public <C extends SdkClient, B extends AwsClientBuilder<B, C>> C client(
                    Class<C> type, Supplier<B> builder) {
                throw new AssertionError("the check makes no AWS call: " + type.getSimpleName());
            }

            @Override
            public CallScheduler scheduler() {
                throw new AssertionError("the check makes no AWS call");
            }

            @Override
            @SuppressWarnings("unchecked")
            public <T> Optional<Consumer<T>> sink(SinkKey<T> key) {
                return installerSink && key.equals(EksTarget.ACCESS_KEY_SINK)
                        ? Optional.of((Consumer<T>) (Consumer<Object>) ignored -> {})
                        : Optional.empty();
            }
        };
    }

    private static Change keyCreation() {
        return Change.builder()
                .target(EksTarget.NAME)
                .resourceType(IamUserStackAccess.KEY_TYPE)
                .resourceId("arn:aws:iam::123456789012:user/" + IamUserStackAccess.USER_NAME)
                .action(ChangeAction.CREATE)
                .build();
    }

    private static Change releaseThrough(Path kubeconfig) throws Exception {
        return Change.builder()
                .target(EksTarget.NAME)
                .resourceType(HelmReleaseComponent.RESOURCE_TYPE)
                .resourceId("arn:aws:eks:us-east-1:123456789012:cluster/prod/cloudaeye/agent")
                .action(ChangeAction.CREATE)
                .targetState(Json.parse("{\"cluster\":\"prod\",\"clusterArn\":\"arn\",\"namespace\":\"cloudaeye\","
                        + "\"release\":\"agent\",\"kubeconfig\":" + Json.compact(kubeconfig.toString())
                        + ",\"beforeRevision\":0,\"values\":{}}"))
                .build();
    }

    @Test
    void checkApply_refusesAKeyWithoutASink_namingTheSetting() {
        assertThatThrownBy(() -> new EksService().checkApply(List.of(keyCreation()), context(false)))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining(IamUserStackAccess.USER_NAME)
                .hasMessageContaining(".sink(EksTarget.ACCESS_KEY_SINK, key -> ...)")
                .as("what changed is core's to say")
                .hasMessageNotContaining("changed nothing");
    }

    @Test
    void checkApply_letsAKeyThrough_withTheInstallersSinkOrTheTargetsOwn() {
        assertThatCode(() -> new EksService().checkApply(List.of(keyCreation()), context(true)))
                .doesNotThrowAnyException();
        Consumer<AccessKey> own = key -> {};
        assertThatCode(() -> new EksService(Waits.DEFAULT, Optional.of(own), List.of())
                        .checkApply(List.of(keyCreation()), context(false)))
                .doesNotThrowAnyException();
    }

    @Test
    void checkApply_refusesAReleaseWhoseKubeconfigIsGone_namingTheFileAndTheFix() throws Exception {
        Path gone = work.resolve("moved.kubeconfig");

        assertThatThrownBy(() -> new EksService().checkApply(List.of(releaseThrough(gone)), context(true)))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining(gone.toString())
                .hasMessageContaining("restore " + gone);
    }
}
