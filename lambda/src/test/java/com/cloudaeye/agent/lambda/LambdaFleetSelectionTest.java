package com.cloudaeye.agent.lambda;

import static com.cloudaeye.agent.lambda.LambdaWireMockTest.ACCOUNT;
import static com.cloudaeye.agent.lambda.LambdaWireMockTest.LAYER;
import static com.cloudaeye.agent.lambda.LambdaWireMockTest.fn;
import static com.github.tomakehurst.wiremock.client.WireMock.anyRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ConfigurationException;
import com.cloudaeye.agent.NothingSelectedException;
import com.cloudaeye.agent.spi.FleetScope;
import com.cloudaeye.agent.spi.TargetPlan;
import com.cloudaeye.agent.testing.FleetMemberContext;
import com.github.tomakehurst.wiremock.WireMockServer;
import java.net.URI;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.lambda.model.Architecture;

/**
 * A fleet member given function ARNs of other account-regions of its fleet leaves them to their members and plans its
 * own; an ARN of an account or region outside the fleet is refused before any call; a single installer is unchanged.
 */
class LambdaFleetSelectionTest {
    private static final String OTHER = "444455556666";
    private static final String MINE = "arn:aws:lambda:us-east-1:" + ACCOUNT + ":function:orders";
    private static final String OTHER_ACCOUNTS = "arn:aws:lambda:us-east-1:" + OTHER + ":function:billing";
    private static final String OTHER_REGIONS = "arn:aws:lambda:eu-west-1:" + ACCOUNT + ":function:reports";
    private static final FleetScope FLEET =
            new FleetScope(Set.of(ACCOUNT, OTHER), Set.of(Region.US_EAST_1, Region.EU_WEST_1));

    private WireMockServer aws;

    @BeforeEach
    void start() {
        aws = LambdaWireMock.start();
        aws.stubFor(get(urlPathMatching(fn("orders")))
                .willReturn(okJson(LambdaWireMockTest.getFunction("orders", "r1", "Successful"))));
    }

    @AfterEach
    void stop() {
        aws.stop();
    }

    private TargetPlan plan(@Nullable FleetScope fleet, String... functions) {
        try (FleetMemberContext context = new FleetMemberContext(URI.create(aws.baseUrl()), ACCOUNT, fleet)) {
            return LambdaTarget.builder()
                    .functions(functions)
                    .layer(Architecture.X86_64, LAYER)
                    .build()
                    .plan(context);
        }
    }

    @Test
    void fleetMember_plansItsOwnArn_andLeavesTheArnsOfOtherMembersToThem_unread() {
        TargetPlan plan = plan(FLEET, MINE, OTHER_ACCOUNTS, OTHER_REGIONS);

        assertThat(plan.changes()).extracting(Change::resourceId).containsExactly(MINE);
        assertThat(aws.findAll(anyRequestedFor(anyUrl())))
                .as("no call about another member's function")
                .noneMatch(r -> r.getUrl().contains("billing") || r.getUrl().contains("reports"));
    }

    @Test
    void fleetMember_givenOnlyArnsOfOtherMembers_selectsNothingHere_withoutAnyCall() {
        assertThatThrownBy(() -> plan(FLEET, OTHER_ACCOUNTS, OTHER_REGIONS))
                .isInstanceOf(NothingSelectedException.class)
                .hasMessageContaining(OTHER_ACCOUNTS + " (account " + OTHER + ", us-east-1)")
                .hasMessageContaining(OTHER_REGIONS + " (account " + ACCOUNT + ", eu-west-1)");
        assertThat(aws.findAll(anyRequestedFor(anyUrl()))).isEmpty();
    }

    @Test
    void fleetMember_givenAnArnOfAnAccountOrRegionOutsideTheFleet_refusesIt_namingTheArnTheFleetAndTheFix() {
        String outsideAccount = "arn:aws:lambda:us-east-1:777788889999:function:ledger";
        String outsideRegion = "arn:aws:lambda:ap-south-1:" + OTHER + ":function:ledger";
        for (String outside : new String[] {outsideAccount, outsideRegion}) {
            assertThatThrownBy(() -> plan(FLEET, MINE, OTHER_ACCOUNTS, outside))
                    .as(outside)
                    .isInstanceOf(ConfigurationException.class)
                    .isNotInstanceOf(NothingSelectedException.class)
                    .hasMessageContaining("Function " + outside + " is in account ")
                    .hasMessageContaining("which the fleet does not cover (accounts [" + ACCOUNT + ", " + OTHER
                            + "], regions [eu-west-1, us-east-1])")
                    .hasMessageContaining("add the account and region to the FleetInstaller")
                    .hasMessageContaining("drop the ARN");
        }
        assertThat(aws.findAll(anyRequestedFor(anyUrl())))
                .as("refused before any call")
                .isEmpty();
    }

    @Test
    void singleInstaller_stillRefusesAnArnOfAnotherAccountOrRegion_asBefore() {
        assertThatThrownBy(() -> plan(null, MINE, OTHER_ACCOUNTS))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("credentials of account " + OTHER)
                .hasMessageContaining(".accounts(\"" + OTHER + "\")");
        assertThatThrownBy(() -> plan(null, MINE, OTHER_REGIONS))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("use one installer per region");
        assertThatThrownBy(() -> plan(null, OTHER_ACCOUNTS))
                .isInstanceOf(NothingSelectedException.class)
                .hasMessageContaining("act in account " + ACCOUNT);
        assertThat(aws.findAll(anyRequestedFor(anyUrl()))).isEmpty();
    }
}
