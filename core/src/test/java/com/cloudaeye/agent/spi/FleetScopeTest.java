package com.cloudaeye.agent.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.cloudaeye.agent.ConfigurationException;
import java.util.Set;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.regions.Region;

class FleetScopeTest {
    private static final FleetScope FLEET =
            new FleetScope(Set.of("222233334444", "111122223333"), Set.of(Region.US_EAST_1, Region.EU_WEST_1));

    @Test
    void requireCovers_returnsAnArnOfAnAccountRegionTheFleetCovers() {
        String arn = "arn:aws:lambda:eu-west-1:222233334444:function:orders";

        assertThat(FLEET.requireCovers("Function", arn)).isEqualTo(arn);
    }

    @Test
    void requireCovers_refusesAnotherAccount_namingTheResourceTheArnTheFleetAndTheFix() {
        String arn = "arn:aws:ecs:us-east-1:777788889999:service/prod/web";

        assertThatThrownBy(() -> FLEET.requireCovers("The ECS target's service", arn))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageStartingWith("The ECS target's service " + arn + " is in account 777788889999, region"
                        + " us-east-1, which the fleet does not cover (accounts [111122223333, 222233334444], regions"
                        + " [eu-west-1, us-east-1])")
                .hasMessageContaining("add the account and region to the FleetInstaller")
                .hasMessageContaining("drop the ARN")
                .hasMessageEndingWith("Nothing was changed.");
    }

    @Test
    void requireCovers_refusesAnotherRegion_butAFleetOfEveryEnabledRegionCoversIt() {
        String arn = "arn:aws:lambda:ap-south-1:111122223333:function:orders";

        assertThatThrownBy(() -> FLEET.requireCovers("Function", arn))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("region ap-south-1");
        assertThat(new FleetScope(Set.of("111122223333"), Set.of()).requireCovers("Function", arn))
                .isEqualTo(arn);
    }

    @Test
    void requireCovers_ofSomethingThatIsNotAnArn_isAProgrammingError() {
        assertThatThrownBy(() -> FLEET.requireCovers("Function", "orders"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("orders");
        assertThatThrownBy(() -> FLEET.requireCovers("Function", "arn:aws:s3:::bucket/key"))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
