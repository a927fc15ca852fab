package com.cloudaeye.agent.lambda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.ConfigurationException;
import com.cloudaeye.agent.FleetInstaller;
import com.cloudaeye.agent.FleetPlan;
import com.cloudaeye.agent.FleetResult;
import com.cloudaeye.agent.NothingSelectedException;
import com.cloudaeye.agent.Secret;
import com.cloudaeye.agent.testing.Moto;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.services.lambda.model.Architecture;
import software.amazon.awssdk.services.lambda.model.FunctionConfiguration;
import software.amazon.awssdk.services.lambda.model.Runtime;
import software.amazon.awssdk.services.sts.StsClient;
import software.amazon.awssdk.services.sts.auth.StsAssumeRoleCredentialsProvider;

/**
 * A function ARN of another account than the credentials' is refused at plan time, naming both accounts and the fix,
 * before any Lambda call: moto holds a function {@code orders} in the caller's account and one in another account, and
 * neither changes. A fleet over both accounts plans the ARN in its own account and notes nothing to do in the other.
 */
class LambdaOtherAccountIT {
    private static final String OTHER = "444455556666";

    private StsClient sts;
    private StsAssumeRoleCredentialsProvider otherAdmin;
    private LambdaFixtures here;
    private LambdaFixtures there;
    private String layerHere;
    private String layerThere;
    private String otherOrders;

    @BeforeEach
    void create() {
        Moto.reset();
        sts = Moto.sts();
        otherAdmin = Moto.adminOf(sts, OTHER);
        here = new LambdaFixtures();
        there = new LambdaFixtures(otherAdmin);
        layerHere = here.layer("cloudaeye-x86", Architecture.X86_64);
        layerThere = there.layer("cloudaeye-x86", Architecture.X86_64);
        here.function("orders", Runtime.PYTHON3_12, Architecture.X86_64, Map.of());
        otherOrders = there.function("orders", Runtime.PYTHON3_12, Architecture.X86_64, Map.of())
                .functionArn();
        assertThat(otherOrders).as("moto acts in the assumed role's account").contains(":" + OTHER + ":");
    }

    @AfterEach
    void close() {
        here.lambda.close();
        here.iam.close();
        there.lambda.close();
        there.iam.close();
        otherAdmin.close();
        sts.close();
    }

    @Test
    void plan_ofAnotherAccountsFunctionArn_isRefused_namingBothAccountsAndTheFix_withNothingChanged() {
        try (AgentInstaller installer = here.installer(LambdaTarget.builder()
                        .functions(otherOrders)
                        .layer(Architecture.X86_64, layerHere)
                        .build())
                .withoutJournal()
                .build()) {
            assertThatThrownBy(installer::plan)
                    .isInstanceOf(NothingSelectedException.class)
                    .hasMessageContaining(otherOrders)
                    .hasMessageContaining("account " + OTHER)
                    .hasMessageContaining("act in account " + Moto.ACCOUNT)
                    .hasMessageContaining("credentials of account " + OTHER);
            assertThat(installer.calls()).as("no Lambda call at all").containsOnlyKeys("sts:GetCallerIdentity");
        }
        try (AgentInstaller installer = here.installer(LambdaTarget.builder()
                        .functions("orders", otherOrders)
                        .layer(Architecture.X86_64, layerHere)
                        .build())
                .withoutJournal()
                .build()) {
            assertThatThrownBy(installer::plan)
                    .isInstanceOf(ConfigurationException.class)
                    .hasMessageContaining(otherOrders)
                    .hasMessageContaining("act in account " + Moto.ACCOUNT);
            assertThat(installer.calls()).containsOnlyKeys("sts:GetCallerIdentity");
        }
        assertUntouched(here.config("orders"));
        assertUntouched(there.config("orders"));
    }

    @Test
    void fleetPlan_ofOneAccountsFunctionArn_plansItThere_andNothingInTheOtherAccount() {
        try (FleetInstaller fleet = fleetOverBothAccounts(otherOrders)) {
            FleetPlan plan = fleet.plan();

            assertThat(plan.failures()).as(plan.toString()).isEmpty();
            assertThat(plan.plans().get(OTHER).get(Moto.REGION.id()).mutations())
                    .extracting(c -> c.resourceId())
                    .containsExactly(otherOrders);
            assertThat(plan.plans().get(Moto.ACCOUNT).get(Moto.REGION.id()).isEmpty())
                    .isTrue();
            assertThat(plan.plans().get(Moto.ACCOUNT).get(Moto.REGION.id()).notes())
                    .anySatisfy(n -> assertThat(n).contains(otherOrders).contains("account " + OTHER));
        }
        assertUntouched(here.config("orders"));
        assertUntouched(there.config("orders"));
    }

    /**
     * The natural way to name an estate's functions: every one by ARN, in one selection for the whole fleet. Each member
     * plans the ARNs of its own account and leaves the other account's to that account's member; on the old planner
     * every member refused the selection (an ARN of another account that was not the whole selection).
     */
    @Test
    void fleet_whoseSelectionNamesFunctionArnsOfBothAccounts_plansEachInItsOwnAccount_appliesBoth_andReplansEmpty() {
        String hereOrders = here.config("orders").functionArn();
        try (FleetInstaller fleet = fleetOverBothAccounts(hereOrders, otherOrders)) {
            FleetPlan plan = fleet.plan();

            assertThat(plan.failures()).as(plan.toString()).isEmpty();
            assertThat(plan.plans().get(Moto.ACCOUNT).get(Moto.REGION.id()).mutations())
                    .extracting(c -> c.resourceId())
                    .containsExactly(hereOrders);
            assertThat(plan.plans().get(OTHER).get(Moto.REGION.id()).mutations())
                    .extracting(c -> c.resourceId())
                    .containsExactly(otherOrders);

            FleetResult result = fleet.apply(plan);

            assertThat(result.isSuccess()).as(result.toString()).isTrue();
            assertThat(here.config("orders").layers()).extracting(l -> l.arn()).containsExactly(layerHere);
            assertThat(there.config("orders").layers()).extracting(l -> l.arn()).containsExactly(layerThere);
            FleetPlan again = fleet.plan();
            assertThat(again.failures()).as(again.toString()).isEmpty();
            assertThat(again.isEmpty()).as("re-plan after apply: " + again).isTrue();
        }
    }

    @Test
    void fleetPlan_ofAFunctionArnOfAnAccountOutsideTheFleet_isRefusedInEveryMember_namingTheArnAndTheFix() {
        String outside = otherOrders.replace(":" + OTHER + ":", ":777788889999:");
        try (FleetInstaller fleet = fleetOverBothAccounts(otherOrders, outside)) {
            FleetPlan plan = fleet.plan();

            assertThat(plan.failures()).containsOnlyKeys(Moto.ACCOUNT, OTHER);
            plan.failures()
                    .values()
                    .forEach(byRegion -> assertThat(byRegion.get(Moto.REGION.id()))
                            .contains(outside)
                            .contains("account 777788889999")
                            .contains("does not cover")
                            .contains(Moto.ACCOUNT)
                            .contains("drop the ARN"));
        }
        assertUntouched(here.config("orders"));
        assertUntouched(there.config("orders"));
    }

    /**
     * A fleet over this account and {@code OTHER} in one region, with the same function selection in every member;
     * moto finds a layer only in the function's own account, so each account has its own.
     */
    private FleetInstaller fleetOverBothAccounts(String... functions) {
        return FleetInstaller.builder()
                .accounts(Moto.ACCOUNT, OTHER)
                .regions(Moto.REGION)
                .roleName("admin")
                .credentialsProvider((AwsCredentialsProvider) Moto.credentials())
                .endpointOverride(Moto.endpoint())
                .agent(a -> a.logsEndpoint(LambdaFixtures.ENDPOINT).apiToken(Secret.of(LambdaFixtures.TOKEN)))
                .target((account, region) -> LambdaTarget.builder()
                        .functions(functions)
                        .layer(Architecture.X86_64, account.equals(OTHER) ? layerThere : layerHere)
                        .build())
                .withoutJournal()
                .build();
    }

    private static void assertUntouched(FunctionConfiguration config) {
        assertThat(config.layers()).as(config.functionArn()).isEmpty();
        assertThat(
                        config.environment() == null
                                ? Map.of()
                                : config.environment().variables())
                .as(config.functionArn())
                .isEmpty();
    }
}
