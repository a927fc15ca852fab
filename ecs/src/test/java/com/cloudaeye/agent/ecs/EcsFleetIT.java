package com.cloudaeye.agent.ecs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.FleetInstaller;
import com.cloudaeye.agent.FleetPlan;
import com.cloudaeye.agent.FleetResult;
import com.cloudaeye.agent.NothingSelectedException;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.Secret;
import com.cloudaeye.agent.testing.Moto;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.regions.Region;

/**
 * An ECS target in a fleet over two regions, whose cluster "prod" exists in us-east-1 only: the other region has
 * nothing the target selects, so it is planned with no changes and a note, as a Lambda target's region without
 * functions is; a single installer there still fails, naming the cluster and the region.
 */
class EcsFleetIT {
    @TempDir
    Path journals;

    private MotoEcs moto;

    @BeforeEach
    void createCluster() {
        Moto.reset();
        moto = new MotoEcs();
        moto.cluster("prod");
        moto.service("prod", "web", moto.fargate("web", "256", "512", MotoEcs.app("app", 128, 256)));
    }

    @AfterEach
    void close() {
        moto.close();
    }

    /** Named, not a glob: even a service named outright is nothing selected where its cluster does not exist. */
    private static EcsTarget target() {
        return MotoEcs.target().services("web").build();
    }

    @Test
    void plan_andApply_whenTheClusterExistsInOneRegionOnly_planNothingInTheOther_andSucceed() {
        try (FleetInstaller fleet = fleetOverBothRegions(target())) {
            FleetPlan plan = fleet.plan();

            assertThat(plan.failures()).as(plan.toString()).isEmpty();
            Plan west = plan.plans().get(Moto.ACCOUNT).get("eu-west-1");
            assertThat(west.isEmpty()).isTrue();
            assertThat(west.notes())
                    .anySatisfy(n -> assertThat(n).contains("ECS cluster prod does not exist in region eu-west-1"));
            assertThat(plan.plans().get(Moto.ACCOUNT).get("us-east-1").mutations())
                    .isNotEmpty();
            assertThat(plan.toString()).contains("eu-west-1  no changes (nothing selected here by ecs)");

            FleetResult result = fleet.apply(plan);

            assertThat(result.isSuccess()).as(result.toString()).isTrue();
        }
    }

    /**
     * One selection naming the fleet's services by ARN in both of its regions: each region's member plans its own ARN
     * and leaves the other's to it (the cluster exists in us-east-1 only, so the west member notes nothing to do). On the old
     * selector the east member failed: one of its two ARNs was of another region.
     */
    @Test
    void fleet_whoseSelectionNamesServiceArnsOfBothRegions_plansEachInItsOwnRegion_appliesIt_andReplansEmpty() {
        String east = "arn:aws:ecs:us-east-1:" + Moto.ACCOUNT + ":service/prod/web";
        String west = "arn:aws:ecs:eu-west-1:" + Moto.ACCOUNT + ":service/prod/web";
        try (FleetInstaller fleet =
                fleetOverBothRegions(MotoEcs.target().services(east, west).build())) {
            FleetPlan plan = fleet.plan();

            assertThat(plan.failures()).as(plan.toString()).isEmpty();
            assertThat(plan.plans().get(Moto.ACCOUNT).get("us-east-1").mutations())
                    .isNotEmpty()
                    .anySatisfy(c -> assertThat(c.resourceId()).isEqualTo(east));
            Plan westPlan = plan.plans().get(Moto.ACCOUNT).get("eu-west-1");
            assertThat(westPlan.isEmpty()).isTrue();
            // Its own ARN names a service of a cluster that exists in us-east-1 only: nothing selected there either.
            assertThat(westPlan.notes())
                    .anySatisfy(n -> assertThat(n).contains("ECS cluster prod does not exist in region eu-west-1"));

            FleetResult result = fleet.apply(plan);

            assertThat(result.isSuccess()).as(result.toString()).isTrue();
            FleetPlan again = fleet.plan();
            assertThat(again.failures()).as(again.toString()).isEmpty();
            assertThat(again.isEmpty()).as("re-plan after apply: " + again).isTrue();
        }
    }

    @Test
    void plan_byOneInstaller_inARegionWithoutTheCluster_failsNamingTheClusterAndTheRegion() {
        try (AgentInstaller installer =
                MotoEcs.installer(target()).region(Region.EU_WEST_1).build()) {
            assertThatThrownBy(installer::plan)
                    .isInstanceOf(NothingSelectedException.class)
                    .hasMessageContaining("ECS cluster prod does not exist in region eu-west-1")
                    .hasMessageContaining("check the cluster name and the installer's region");
        }
    }

    /** A fleet over this account in us-east-1 and eu-west-1, with the same ECS target in both members. */
    private FleetInstaller fleetOverBothRegions(EcsTarget target) {
        return FleetInstaller.builder()
                .accounts(Moto.ACCOUNT)
                .regions(Region.US_EAST_1, Region.EU_WEST_1)
                .roleName("CloudAEyeInstaller")
                .sessionName("ecs-fleet-it")
                .credentialsProvider(Moto.credentials())
                .endpointOverride(Moto.endpoint())
                .agent(a -> a.logsEndpoint("https://logs.example.cloudaeye.com").apiToken(Secret.of(MotoEcs.TOKEN)))
                .target(target)
                .journalDirectory(journals)
                .build();
    }
}
