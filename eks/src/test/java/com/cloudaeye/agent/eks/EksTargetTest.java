package com.cloudaeye.agent.eks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.cloudaeye.agent.ConfigurationException;
import com.cloudaeye.agent.Secret;
import com.cloudaeye.agent.spi.TargetService;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

/** The builder's validation and the target's discovery, without AWS. */
class EksTargetTest {
    @Test
    void build_withoutACluster_namesTheSettingAndTheFix() {
        assertThatThrownBy(() -> EksTarget.builder().controlPlaneLogging(true).build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("cluster(")
                .hasMessageContaining("aws eks list-clusters");
    }

    @Test
    void build_withNothingToDo_isAConfigurationError() {
        assertThatThrownBy(() -> EksTarget.builder().cluster("prod-eks").build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("controlPlaneLogging(true)")
                .hasMessageContaining("cloudAEyeAccess");
    }

    @Test
    void addCluster_twiceTheSameCluster_isAConfigurationError() {
        assertThatThrownBy(() -> EksTarget.builder()
                        .cluster("prod-eks")
                        .controlPlaneLogging(true)
                        .addCluster("prod-eks", c -> c.controlPlaneLogging(true))
                        .build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("prod-eks is added twice");
    }

    @Test
    void addCluster_withTheSameAccessModeAsAnotherCluster_namesBothAndTheFix() {
        assertThatThrownBy(() -> EksTarget.builder()
                        .cluster("prod-eks")
                        .cloudAEyeAccess(a -> a.crossAccountRole("111122223333", "tenant-1"))
                        .addCluster("dev-eks", c -> c.cloudAEyeAccess(a -> a.crossAccountRole("111122223333", "t-2")))
                        .build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("prod-eks and dev-eks")
                .hasMessageContaining("CROSS_ACCOUNT_ROLE")
                .hasMessageContaining("use the other mode");
    }

    @Test
    void addCluster_withTheOtherAccessMode_andNothingToDoOnTheFirst_isValidatedPerCluster() {
        EksTarget target = EksTarget.builder()
                .cluster("prod-eks")
                .cloudAEyeAccess(a -> a.crossAccountRole("111122223333", "tenant-1"))
                .addCluster(
                        "dev-eks", c -> c.cloudAEyeAccess(a -> a.iamUserStack().accessKeySink(k -> {})))
                .build();
        assertThat(target.toString()).contains("prod-eks: 1 part(s)", "dev-eks: 1 part(s)");

        assertThatThrownBy(() -> EksTarget.builder()
                        .cluster("prod-eks")
                        .controlPlaneLogging(true)
                        .addCluster("dev-eks", c -> {})
                        .build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("dev-eks has nothing to do");
    }

    @Test
    void addCluster_insideAddCluster_orWithItsOwnWaits_isAConfigurationError() {
        assertThatThrownBy(() -> EksTarget.builder()
                        .cluster("prod-eks")
                        .controlPlaneLogging(true)
                        .addCluster("dev-eks", c -> c.addCluster("qa-eks", q -> q.controlPlaneLogging(true))))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("outer EksTarget.builder()");
        assertThatThrownBy(() -> EksTarget.builder()
                        .cluster("prod-eks")
                        .controlPlaneLogging(true)
                        .addCluster("dev-eks", c -> c.waits(Duration.ofSeconds(1), Duration.ofSeconds(2))))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("waits(...) is the whole target's");
    }

    @Test
    void logTypes_empty_isAConfigurationError() {
        assertThatThrownBy(() -> EksTarget.builder().logTypes())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("controlPlaneLogging(false)");
    }

    @Test
    void cloudAEyeAccess_withoutAMode_asksToChooseOne() {
        assertThatThrownBy(() -> EksTarget.builder().cloudAEyeAccess(a -> a.reuseAccessKey("AKIAIOSFODNN7EXAMPLE")))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("iamUserStack()")
                .hasMessageContaining("crossAccountRole");
    }

    @Test
    void iamUserStack_withoutASink_isRefused_becauseTheSecretWouldHaveNowhereToGo() {
        assertThatThrownBy(() -> EksTarget.builder().cloudAEyeAccess(a -> a.iamUserStack()))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("accessKeySink");
    }

    @Test
    void reuseAccessKey_givenSomethingThatIsNotAKeyId_isRefused_withoutEchoingIt() {
        String secretLike = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
        assertThatThrownBy(() -> EksTarget.builder()
                        .cloudAEyeAccess(
                                a -> a.iamUserStack().accessKeySink(k -> {}).reuseAccessKey(secretLike)))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("never the secret")
                .hasMessageNotContaining(secretLike);
    }

    @Test
    void crossAccountRole_checksTheAccountIdAndTheExternalId() {
        assertThatThrownBy(() -> EksTarget.builder().cloudAEyeAccess(a -> a.crossAccountRole("1234", "tenant-1")))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("12-digit");
        assertThatThrownBy(() -> EksTarget.builder().cloudAEyeAccess(a -> a.crossAccountRole("111122223333", "x")))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("external ID");
        assertThatThrownBy(() -> EksTarget.builder()
                        .cloudAEyeAccess(a ->
                                a.crossAccountRole("111122223333", "tenant-1").accessKeySink(k -> {})))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("needs no access key");
    }

    @Test
    void build_withLoggingAndAccess_isATargetNamedEks() {
        EksTarget target = EksTarget.builder()
                .cluster("prod-eks")
                .logTypes(LogType.API, LogType.AUDIT)
                .cloudAEyeAccess(a -> a.crossAccountRole("111122223333", "tenant-1"))
                .build();

        assertThat(target.name()).isEqualTo("eks");
        assertThat(target.toString()).contains("prod-eks", "2 part(s)");
    }

    @Test
    void serviceLoader_findsTheEksService() {
        List<String> names = new ArrayList<>();
        ServiceLoader.load(TargetService.class).forEach(t -> names.add(t.name()));

        assertThat(names).contains("eks");
    }

    @Test
    void everyTarget_isConfigured_noPublicConstructorSelectsNothing() {
        assertThat(EksTarget.class.getConstructors()).isEmpty();
        assertThatThrownBy(() -> EksTarget.builder().build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("cluster(");
    }

    @Test
    void accessKey_printsItsSecretRedacted() {
        String secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
        AccessKey key = AccessKey.builder()
                .userName("CloudAEyeServiceAccount")
                .accessKeyId("AKIAIOSFODNN7EXAMPLE")
                .secretAccessKey(Secret.of(secret))
                .build();

        assertThat(key.toString())
                .contains("AKIAIOSFODNN7EXAMPLE", Secret.REDACTED)
                .doesNotContain(secret);
    }

    @Test
    void logType_roundTripsEksNames() {
        for (LogType t : LogType.values()) {
            assertThat(LogType.fromAwsName(t.awsName())).isEqualTo(t);
        }
        assertThat(LogType.CONTROLLER_MANAGER.awsName()).isEqualTo("controllerManager");
    }
}
