package com.cloudaeye.agent;

import static com.cloudaeye.agent.FleetStsStub.DENIED;
import static com.cloudaeye.agent.FleetStsStub.ROLE;
import static com.cloudaeye.agent.FleetStsStub.enc;
import static com.cloudaeye.agent.FleetStsStub.fixture;
import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.notContaining;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.cloudaeye.agent.spi.Quota;
import com.cloudaeye.agent.spi.TargetContext;
import com.cloudaeye.agent.spi.TargetPlan;
import com.cloudaeye.agent.testing.FakeTarget;
import com.cloudaeye.agent.testing.FakeTarget.Behaviour;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;

/**
 * The fleet installer over three accounts and two regions, with STS served by WireMock from {@code fixtures/sts/} and
 * a {@link FakeTarget} in every account-region. Account {@value FleetStsStub#DENIED}'s role cannot be
 * assumed.
 */
class FleetInstallerTest {
    private static final String EXTERNAL_ID = "ext-id-7c1d";

    @TempDir
    Path journals;

    private FleetStsStub sts;
    private WireMockServer aws;
    private FakeTarget target;

    @BeforeEach
    void start() {
        sts = new FleetStsStub();
        aws = sts.server();
        target = new FakeTarget("fake", null).resource("a1", Behaviour.APPLY).resource("a2", Behaviour.APPLY);
    }

    @AfterEach
    void stop() {
        sts.close();
    }

    /**
     * Builds the fleet and plans it: planning fails with a {@link PlanningException} whose message contains every one
     * of {@code message}.
     */
    private static void assertPlanFails(FleetInstallerBuilder builder, String... message) {
        try (FleetInstaller fleet = builder.build()) {
            var thrown = assertThatThrownBy(fleet::plan).isInstanceOf(PlanningException.class);
            for (String part : message) {
                thrown.hasMessageContaining(part);
            }
        }
    }

    private FleetInstallerBuilder fleet() {
        return fleet(target);
    }

    private FleetInstallerBuilder fleet(FakeTarget target) {
        return FleetInstaller.builder()
                .accounts("111111111111", "222222222222", DENIED)
                .regions(Region.US_EAST_1, Region.EU_WEST_1)
                .roleName(ROLE)
                .externalId(EXTERNAL_ID)
                .sessionName("fleet-test-run")
                .endpointOverride(URI.create(aws.baseUrl()))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("AKID", "SECRET")))
                .journalDirectory(journals)
                .maxParallel(3)
                .target(target);
    }

    @Test
    void plan_whenOneAccountsRoleIsDenied_reportsThatAccountAndPlansTheOthers() {
        try (FleetInstaller fleet = fleet().build()) {
            FleetPlan plan = fleet.plan();

            assertThat(plan.plans()).containsOnlyKeys("111111111111", "222222222222");
            plan.plans().values().forEach(regions -> {
                assertThat(regions).containsOnlyKeys("eu-west-1", "us-east-1");
                regions.forEach((region, p) -> {
                    assertThat(p.region()).isEqualTo(region);
                    assertThat(p.mutations()).hasSize(2);
                });
            });
            assertThat(plan.failures()).containsOnlyKeys(DENIED);
            assertThat(plan.failures().get(DENIED)).containsOnlyKeys("eu-west-1", "us-east-1");
            assertThat(plan.failures().get(DENIED).get("us-east-1"))
                    .contains("arn:aws:iam::" + DENIED + ":role/" + ROLE)
                    .contains("AccessDenied")
                    .contains("create the role " + ROLE + " in account " + DENIED);
            assertThat(plan.isComplete()).isFalse();
            assertThat(plan.counts()).containsExactly(Map.entry(ChangeAction.UPDATE, 8L));
            assertThat(plan.toString())
                    .contains("4 account-regions planned, 2 failed")
                    .contains("111111111111  eu-west-1  2 update")
                    .contains(DENIED + "  us-east-1  failed: Could not assume")
                    .contains("total                    8 update");
        }
        // One AssumeRole per account, with the run's session name and the external ID.
        aws.verify(3, postRequestedFor(urlEqualTo("/")).withRequestBody(containing("Action=AssumeRole")));
        aws.verify(
                3,
                postRequestedFor(urlEqualTo("/"))
                        .withRequestBody(containing("RoleSessionName=fleet-test-run"))
                        .withRequestBody(containing("ExternalId=" + EXTERNAL_ID)));
    }

    @Test
    void apply_appliesEveryPlannedAccountRegion_andReportsTheDeniedAccountAsFailed() throws IOException {
        try (FleetInstaller fleet = fleet().build()) {
            FleetResult result = fleet.apply(fleet.plan());

            assertThat(result.results()).containsOnlyKeys("111111111111", "222222222222");
            result.results()
                    .values()
                    .forEach(regions -> regions.values()
                            .forEach(r -> assertThat(r.status()).isEqualTo(ApplyResult.Status.SUCCEEDED)));
            assertThat(result.failures().get(DENIED)).containsOnlyKeys("eu-west-1", "us-east-1");
            assertThat(result.isSuccess())
                    .as("a failed account is not a success")
                    .isFalse();
            assertThat(target.log().stream().filter(l -> l.startsWith("mutate")))
                    .hasSize(8);
            assertThat(journals.resolve("111111111111").resolve("eu-west-1")).isNotEmptyDirectory();
            assertThat(journals.resolve(DENIED)).doesNotExist();
            String everything = result.toJson() + result + journalText();
            assertThat(everything)
                    .doesNotContain("fleet-secret-access-key-do-not-print")
                    .doesNotContain("fleet-session-token-do-not-print")
                    .doesNotContain("SECRET");
        }
    }

    @Test
    void apply_whenATargetRefusesItsChangesInOneAccountRegion_nothingThereChanges_andTheOthersApply() {
        // In 222222222222/eu-west-1 the "guarded" target cannot apply its change (as EKS without a key sink): the
        // "fake" target's changes, which come first in the plan, must not land there either.
        String refusal = "The plan changes " + FakeTarget.arn("g1") + " through a file that is gone: restore it.";
        try (FleetInstaller fleet = FleetInstaller.builder()
                .accounts("111111111111", "222222222222")
                .regions(Region.US_EAST_1, Region.EU_WEST_1)
                .roleName(ROLE)
                .endpointOverride(URI.create(aws.baseUrl()))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("AKID", "SECRET")))
                .journalDirectory(journals)
                .target(target)
                .target((account, region) -> {
                    boolean refuses = account.equals("222222222222") && region.equals(Region.EU_WEST_1);
                    return new FakeTarget("guarded", null) {
                        @Override
                        public void checkApply(List<Change> changes, TargetContext context) {
                            if (refuses) {
                                throw new ConfigurationException(refusal);
                            }
                        }

                        @Override
                        public void apply(List<Change> changes, com.cloudaeye.agent.spi.ApplyContext context) {
                            checkApply(changes, context); // as EKS's apply checks first too
                            super.apply(changes, context);
                        }
                    }.resource("g1", Behaviour.APPLY);
                })
                .build()) {
            FleetResult result = fleet.apply(fleet.plan());

            assertThat(result.failures()).as(result.toString()).containsOnlyKeys("222222222222");
            assertThat(result.failures().get("222222222222")).containsOnlyKeys("eu-west-1");
            ApplyResult refused = result.results().get("222222222222").get("eu-west-1");
            assertThat(refused.results()).hasSize(3).allMatch(r -> r.outcome() == ResourceResult.Outcome.NOT_ATTEMPTED);
            assertThat(result.results().get("111111111111").values())
                    .hasSize(2)
                    .allMatch(r -> r.status() == ApplyResult.Status.SUCCEEDED);
            assertThat(result.results().get("222222222222").get("us-east-1").status())
                    .isEqualTo(ApplyResult.Status.SUCCEEDED);
            assertThat(target.log().stream().filter(l -> l.startsWith("mutate")))
                    .as("the fake target applied in the three other account-regions only")
                    .hasSize(6);
            assertThat(journals.resolve("222222222222").resolve("eu-west-1")).doesNotExist();
            assertThat(result.failures().get("222222222222").get("eu-west-1"))
                    .contains(refusal)
                    .contains("Nothing was changed");
        }
    }

    @Test
    void plan_whenATargetSelectsNothingInARegion_plansNoChangesThereWithANote_andTheApplySucceeds() {
        FakeTarget empty = new FakeTarget("empty", null).selectsNothing();
        FakeTarget other = new FakeTarget("other", null).resource("o1", Behaviour.APPLY);
        try (FleetInstaller fleet = FleetInstaller.builder()
                .accounts("111111111111", "222222222222")
                .regions(Region.US_EAST_1, Region.EU_WEST_1)
                .roleName(ROLE)
                .endpointOverride(URI.create(aws.baseUrl()))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("AKID", "SECRET")))
                .journalDirectory(journals)
                // eu-west-1 holds none of the "fake" target's resources; the "empty" target selects nothing anywhere.
                .target((account, region) ->
                        region.equals(Region.EU_WEST_1) ? new FakeTarget("fake", null).selectsNothing() : target)
                .target(empty)
                .target(other)
                .build()) {
            FleetPlan plan = fleet.plan();

            assertThat(plan.failures()).as(plan.toString()).isEmpty();
            assertThat(plan.isComplete()).isTrue();
            plan.plans().values().forEach(regions -> {
                assertThat(regions).containsOnlyKeys("eu-west-1", "us-east-1");
                assertThat(regions.get("us-east-1").mutations())
                        .extracting(Change::target)
                        .containsExactly("fake", "fake", "other");
                assertThat(regions.get("eu-west-1").mutations())
                        .as("the other target's changes stay")
                        .extracting(Change::target)
                        .containsExactly("other");
                assertThat(regions.get("eu-west-1").notes())
                        .anySatisfy(n -> assertThat(n)
                                .contains("Nothing selected by the fake target")
                                .contains("No fake resource in eu-west-1 matches"))
                        .anySatisfy(n -> assertThat(n).contains("Nothing selected by the empty target"));
            });
            assertThat(plan.toString())
                    .contains("0 failed")
                    .contains("111111111111  eu-west-1  1 update (nothing selected here by fake, empty)")
                    .contains("111111111111  us-east-1  3 update (nothing selected here by empty)")
                    .doesNotContain("failed:");

            FleetResult result = fleet.apply(plan);

            assertThat(result.isSuccess()).as(result.toString()).isTrue();
            assertThat(result.failures()).isEmpty();
        }
    }

    @Test
    void requiredPolicy_isTheUnionOfTheAccountsRegionPlans() {
        try (FleetInstaller fleet = fleet().build()) {
            FleetPlan plan = fleet.plan();

            PolicyDocument policy = plan.requiredPolicy("111111111111");
            assertThat(policy)
                    .isEqualTo(plan.plans().get("111111111111").get("us-east-1").requiredPolicy());
            assertThat(policy.actions()).containsExactly("fake:ListResources", "fake:UpdateResource");
            assertThat(plan.requiredPolicies()).containsOnlyKeys("111111111111", "222222222222");
            assertThatThrownBy(() -> plan.requiredPolicy(DENIED))
                    .isInstanceOf(ConfigurationException.class)
                    .hasMessageContaining("failures()");
        }
    }

    @Test
    void fleetPlan_jsonRoundTrips() {
        try (FleetInstaller fleet = fleet().build()) {
            FleetPlan plan = fleet.plan();

            FleetPlan read = FleetPlan.fromJson(plan.toJson());
            assertThat(read).isEqualTo(plan);
            assertThat(read.toJson()).isEqualTo(plan.toJson());
        }
    }

    @Test
    void apply_whenThePlanHasAnAccountOutsideTheFleet_throwsAndChangesNothing() {
        FleetPlan plan;
        try (FleetInstaller fleet = fleet().build()) {
            plan = fleet.plan();
        }
        try (FleetInstaller smaller = fleet().build();
                FleetInstaller other = FleetInstaller.builder()
                        .accounts("111111111111")
                        .regions(Region.US_EAST_1)
                        .roleName(ROLE)
                        .endpointOverride(URI.create(aws.baseUrl()))
                        .credentialsProvider(
                                StaticCredentialsProvider.create(AwsBasicCredentials.create("AKID", "SECRET")))
                        .journalDirectory(journals)
                        .target(target)
                        .build()) {
            assertThat(smaller.sessionName()).isEqualTo("fleet-test-run");
            assertThatThrownBy(() -> other.apply(plan))
                    .isInstanceOf(ConfigurationException.class)
                    .hasMessageContaining("111111111111/eu-west-1")
                    .hasMessageContaining("Nothing was changed");
        }
        assertThat(target.log()).isEmpty();
    }

    @Test
    void build_whenInputIsBad_namesTheSettingAndTheFix() {
        assertThatThrownBy(() -> fleet().accounts("12345").build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("'12345' is not an AWS account ID");
        assertThatThrownBy(() -> FleetInstaller.builder()
                        .regions(Region.US_EAST_1)
                        .roleName(ROLE)
                        .target(target)
                        .build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining(".accounts(");
        assertThatThrownBy(() -> FleetInstaller.builder()
                        .accounts("111111111111")
                        .roleName(ROLE)
                        .target(target)
                        .build())
                .hasMessageContaining(".regions(");
        assertThatThrownBy(() -> FleetInstaller.builder()
                        .accounts("111111111111")
                        .regions(Region.US_EAST_1)
                        .target(target)
                        .build())
                .hasMessageContaining("missing")
                .hasMessageContaining(".roleName(");
        assertThatThrownBy(() -> fleet().sessionName("has spaces").build())
                .hasMessageContaining("'has spaces' is not a valid role session name");
        assertThatThrownBy(() -> fleet().maxParallel(0)).hasMessageContaining("maxParallel");
        assertThatThrownBy(() -> fleet().regions(Region.of("useast1")).build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("'useast1' is not an AWS region name (e.g. us-east-1): fix .regions(...)");
        assertThatThrownBy(() -> fleet().homeRegion(Region.of("US-EAST-1")).build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("'US-EAST-1' is not an AWS region name")
                .hasMessageContaining(".homeRegion(...)");
        aws.verify(0, postRequestedFor(urlEqualTo("/")));
    }

    @Test
    void accounts_fromTheOrganization_areTheActiveOnesOverAllPages_lessTheExcluded() {
        aws.stubFor(organizations("ListAccounts")
                .withRequestBody(notContaining("NextToken"))
                .willReturn(json("{\"Accounts\":[" + account("111111111111", "ACTIVE") + ","
                        + account("444444444444", "SUSPENDED") + "],\"NextToken\":\"page2\"}")));
        aws.stubFor(organizations("ListAccounts")
                .withRequestBody(containing("\"NextToken\":\"page2\""))
                .willReturn(json("{\"Accounts\":[" + account("222222222222", "ACTIVE") + ","
                        + account("555555555555", "ACTIVE") + "]}")));

        try (FleetInstaller fleet = FleetInstaller.builder()
                .organization()
                .excludeAccounts("555555555555")
                .regions(Region.US_EAST_1)
                .roleName(ROLE)
                .endpointOverride(URI.create(aws.baseUrl()))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("AKID", "SECRET")))
                .journalDirectory(journals)
                .target(target)
                .build()) {
            assertThat(fleet.accounts()).containsExactly("111111111111", "222222222222");
            assertThat(fleet.plan().plans()).containsOnlyKeys("111111111111", "222222222222");
        }
        aws.verify(2, postRequestedFor(urlEqualTo("/")).withHeader("X-Amz-Target", containing("ListAccounts")));
    }

    @Test
    void accounts_underAnOrganizationalUnit_includeItsChildUnits() {
        aws.stubFor(organizations("ListAccountsForParent")
                .withRequestBody(containing("ou-top"))
                .willReturn(json("{\"Accounts\":[" + account("111111111111", "ACTIVE") + "]}")));
        aws.stubFor(organizations("ListAccountsForParent")
                .withRequestBody(containing("ou-child"))
                .willReturn(json("{\"Accounts\":[" + account("222222222222", "ACTIVE") + "]}")));
        aws.stubFor(organizations("ListChildren")
                .withRequestBody(containing("ou-top"))
                .willReturn(json("{\"Children\":[{\"Id\":\"ou-child\",\"Type\":\"ORGANIZATIONAL_UNIT\"}]}")));
        aws.stubFor(organizations("ListChildren")
                .withRequestBody(containing("ou-child"))
                .willReturn(json("{\"Children\":[]}")));

        try (FleetInstaller fleet = fleet().organizationalUnits("ou-top").build()) {
            assertThat(fleet.accounts())
                    .as("the given accounts and those found")
                    .containsExactly("111111111111", "222222222222", DENIED);
        }
    }

    @Test
    void plan_whenTheOrganizationCannotBeRead_throwsWithThePermission() {
        aws.stubFor(organizations("ListAccounts")
                .willReturn(aResponse()
                        .withStatus(400)
                        .withBody("{\"__type\":\"AccessDeniedException\",\"message\":\"not the management"
                                + " account\"}")));
        assertPlanFails(
                fleet().organization(), "AccessDeniedException", "organizations:ListAccounts", "Nothing was planned");
        assertThat(target.log()).isEmpty();
    }

    @Test
    void plan_whenTheOrganizationHasNoActiveAccount_throwsNamingWhatWasSearched_andChangesNothing() {
        aws.stubFor(organizations("ListAccounts")
                .willReturn(json("{\"Accounts\":[" + account("444444444444", "SUSPENDED") + "]}")));
        assertPlanFails(
                organizationOnly(),
                "AWS Organizations listed no ACTIVE account in the organization",
                "management account or a delegated administrator",
                ".accounts(...)",
                "Nothing was planned or changed");
        aws.stubFor(organizations("ListAccountsForParent").willReturn(json("{\"Accounts\":[]}")));
        aws.stubFor(organizations("ListChildren").willReturn(json("{\"Children\":[]}")));
        assertPlanFails(
                organizationOnly().organizationalUnits("ou-empty"),
                "no ACTIVE account in the organizational units [ou-empty]",
                "check the organizational unit IDs");
        assertThat(target.log()).isEmpty();
    }

    @Test
    void plan_whenEveryAccountFoundIsExcluded_throwsNamingTheExcludes() {
        aws.stubFor(organizations("ListAccounts")
                .willReturn(json("{\"Accounts\":[" + account("111111111111", "ACTIVE") + "]}")));
        assertPlanFails(
                organizationOnly().excludeAccounts("111111111111"),
                "listed 1 ACTIVE account in the organization",
                "excludeAccounts([111111111111]) leaves out every one",
                "Narrow excludeAccounts(...)");
        assertThatThrownBy(() -> fleet().excludeAccounts("111111111111", "222222222222", DENIED)
                        .build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("is left out by excludeAccounts(");
        assertThat(target.log()).isEmpty();
    }

    private FleetInstallerBuilder organizationOnly() {
        return FleetInstaller.builder()
                .organization()
                .regions(Region.US_EAST_1)
                .roleName(ROLE)
                .endpointOverride(URI.create(aws.baseUrl()))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("AKID", "SECRET")))
                .journalDirectory(journals)
                .target(target);
    }

    @Test
    void build_whenTheExternalIdIsNotOneStsTakes_namesTheRule_withoutRepeatingIt() {
        assertThatThrownBy(() -> fleet().externalId("x").build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("The external ID has 1 character, which STS rejects")
                .hasMessageContaining("2 to 1224 letters, digits or _+=,.@:/-");
        assertThatThrownBy(() -> fleet().externalId("a".repeat(1225)).build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("has 1225 characters");
        assertThatThrownBy(() -> fleet().externalId("secret id#1").build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("has the character ' '")
                .hasMessageNotContaining("secret id#1");
        fleet().externalId("ab:c/d=e@f,g.h+i_j-k").build().close();
        fleet().externalId("a".repeat(1224)).build().close();
        aws.verify(0, postRequestedFor(urlEqualTo("/")));
    }

    @Test
    void plan_whenStsRejectsTheRequest_statesStsErrorPlainly_withoutTheCreateTheRoleAdvice() {
        aws.stubFor(post(urlEqualTo("/"))
                .atPriority(1)
                .withRequestBody(containing(enc("arn:aws:iam::222222222222:role/" + ROLE)))
                .willReturn(aResponse()
                        .withStatus(400)
                        .withHeader("Content-Type", "text/xml")
                        .withBody("<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError</Code>"
                                + "<Message>1 validation error detected: Value at 'externalId' failed to satisfy"
                                + " constraint</Message></Error></ErrorResponse>")));
        try (FleetInstaller fleet = fleet().build()) {
            FleetPlan plan = fleet.plan();

            assertThat(plan.failures().get("222222222222").get("us-east-1"))
                    .contains("Could not assume arn:aws:iam::222222222222:role/" + ROLE)
                    .contains("STS answered ValidationError: 1 validation error detected")
                    .contains("Nothing was planned or changed in this account")
                    .doesNotContain("create the role");
            assertThat(plan.failures().get(DENIED).get("us-east-1"))
                    .as("AccessDenied still gets the advice")
                    .contains("create the role " + ROLE + " in account " + DENIED);
        }
    }

    @Test
    void plan_overAllEnabledRegions_plansTheRegionsEachAccountHasEnabled() {
        aws.stubFor(post(urlEqualTo("/"))
                .withRequestBody(containing("Action=DescribeRegions"))
                .willReturn(aResponse()
                        .withStatus(200)
                        .withHeader("Content-Type", "text/xml")
                        .withBody("<DescribeRegionsResponse><regionInfo>"
                                + "<item><regionName>eu-central-1</regionName></item>"
                                + "<item><regionName>ap-south-1</regionName></item>"
                                + "</regionInfo></DescribeRegionsResponse>")));
        try (FleetInstaller fleet = FleetInstaller.builder()
                .accounts("111111111111", DENIED)
                .allEnabledRegions()
                .homeRegion(Region.US_EAST_1)
                .roleName(ROLE)
                .endpointOverride(URI.create(aws.baseUrl()))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("AKID", "SECRET")))
                .journalDirectory(journals)
                .target(target)
                .build()) {
            FleetPlan plan = fleet.plan();

            assertThat(plan.plans().get("111111111111")).containsOnlyKeys("ap-south-1", "eu-central-1");
            assertThat(plan.failures().get(DENIED)).containsOnlyKeys("*");
            assertThat(fleet.apply(plan).results().get("111111111111")).containsOnlyKeys("ap-south-1", "eu-central-1");
        }
        // Asked with the account's own credentials (the assumed role's key), once per account.
        aws.verify(
                1,
                postRequestedFor(urlEqualTo("/"))
                        .withRequestBody(containing("Action=DescribeRegions"))
                        .withHeader("Authorization", containing("ASIAFLEETTESTKEY0001")));
    }

    @Test
    void credentials_closeToExpiry_areRefreshedBeforeTheyAreUsedAgain() throws InterruptedException {
        // Every AssumeRole answers with credentials that expire 62 s later: stale (less than a minute left) 2 s on.
        aws.stubFor(post(urlEqualTo("/"))
                .withRequestBody(containing("Action=AssumeRole"))
                .willReturn(aResponse()
                        .withStatus(200)
                        .withHeader("Content-Type", "text/xml")
                        .withBody(fixture("assume-role.xml")
                                .replace("2099-01-01T00:00:00Z", "{{now offset='62 seconds'}}"))
                        .withTransformers("response-template")));
        try (FleetInstaller fleet = fleet().build()) {
            assertThat(fleet.plan().failures()).containsOnlyKeys(DENIED);
            Thread.sleep(3_000); // a long run, in short: the credentials are stale now

            assertThat(fleet.plan().failures()).containsOnlyKeys(DENIED);
        }
        // The second plan did not sign with stale credentials: it fetched new ones first (and from 5 minutes before
        // expiry,
        // one caller refreshes while the others go on). With far-off expiry (the other tests) there is one
        // AssumeRole per account.
        assertThat(aws.findAll(postRequestedFor(urlEqualTo("/"))
                                .withRequestBody(containing("Action=AssumeRole"))
                                .withRequestBody(containing(enc("arn:aws:iam::111111111111:role/" + ROLE))))
                        .size())
                .isGreaterThan(1);
    }

    @Test
    void apply_whenTheFleetsMaxFailuresIsReached_startsNothingMore_andSaysWhy() {
        FakeTarget failing = new FakeTarget("fake", null).resource("a1", Behaviour.FAIL);
        try (FleetInstaller fleet = fleet(failing).maxParallel(1).maxFailures(1).build()) {
            FleetResult result = fleet.apply(fleet.plan());

            List<ResourceResult> all = result.results().values().stream()
                    .flatMap(m -> m.values().stream())
                    .flatMap(r -> r.results().stream())
                    .toList();
            assertThat(all.stream().filter(r -> r.outcome() == ResourceResult.Outcome.FAILED))
                    .as("one account-region ran and failed; the rest never started")
                    .hasSize(1);
            assertThat(all.stream().filter(r -> r.outcome() == ResourceResult.Outcome.NOT_ATTEMPTED))
                    .hasSize(all.size() - 1)
                    .allSatisfy(r -> assertThat(r.message().orElseThrow()).contains("the fleet's maxFailures(1)"));
        }
    }

    @Test
    void apply_whenOneAccountsMaxFailuresIsReached_stopsThatAccountOnly() {
        FakeTarget failing =
                new FakeTarget("fake", null).resource("a1", Behaviour.FAIL).resource("a2", Behaviour.APPLY);
        try (FleetInstaller fleet =
                fleet(failing).maxParallel(1).maxFailuresPerAccount(1).build()) {
            FleetResult result = fleet.apply(fleet.plan());

            result.results().forEach((account, regions) -> {
                long failed = regions.values().stream()
                        .flatMap(r -> r.withOutcome(ResourceResult.Outcome.FAILED).stream())
                        .count();
                List<ResourceResult> notAttempted = regions.values().stream()
                        .flatMap(r -> r.withOutcome(ResourceResult.Outcome.NOT_ATTEMPTED).stream())
                        .toList();
                assertThat(failed).as(account).isEqualTo(1);
                assertThat(notAttempted)
                        .as(account + ": its other region never started")
                        .isNotEmpty()
                        .allSatisfy(r -> assertThat(r.message().orElseThrow())
                                .contains("account " + account + "'s maxFailuresPerAccount(1)"));
            });
            assertThat(result.results()).containsOnlyKeys("111111111111", "222222222222");
        }
    }

    @Test
    void plan_whenOneAccountsAssumeRoleIsThrottledHard_reportsItAndPlansTheOthers() {
        aws.stubFor(post(urlEqualTo("/"))
                .atPriority(1)
                .withRequestBody(containing(enc("arn:aws:iam::222222222222:role/" + ROLE)))
                .willReturn(aResponse()
                        .withStatus(400)
                        .withHeader("Content-Type", "text/xml")
                        .withBody("<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>"
                                + "<Message>Rate exceeded</Message></Error></ErrorResponse>")));
        try (FleetInstaller fleet = fleet().build()) {
            FleetPlan plan = fleet.plan();

            assertThat(plan.plans()).containsOnlyKeys("111111111111");
            assertThat(plan.failures().get("222222222222").get("us-east-1")).contains("Throttling");
        }
    }

    @Test
    void installerRoleTemplate_grantsThePlansCalls_andTrustsOnlyTheGivenPrincipalWithTheExternalId()
            throws IOException {
        try (FleetInstaller fleet = fleet().build()) {
            FleetPlan plan = fleet.plan();
            var template = com.cloudaeye.agent.spi.support.Json.parse(plan.installerRoleTemplate());

            var role = template.path("Resources").path("InstallerRole");
            assertThat(role.path("Type").asText()).isEqualTo("AWS::IAM::Role");
            var trust = role.path("Properties").path("AssumeRolePolicyDocument").path("Statement");
            assertThat(trust).hasSize(1);
            assertThat(trust.get(0).path("Principal").path("AWS").path("Ref").asText())
                    .isEqualTo("TrustedPrincipalArn");
            assertThat(trust.get(0)
                            .path("Condition")
                            .path("StringEquals")
                            .path("sts:ExternalId")
                            .path("Ref")
                            .asText())
                    .isEqualTo("ExternalId");
            assertThat(template.path("Parameters")
                            .path("RoleName")
                            .path("Default")
                            .asText())
                    .isEqualTo("CloudAEyeInstaller");
            String policy = template.path("Resources").toString();
            assertThat(policy)
                    .contains("fake:ListResources")
                    .contains("fake:UpdateResource")
                    .contains("ec2:DescribeRegions")
                    .doesNotContain("Deny");
            assertThat(plan.installerRoleTemplate()).as("deterministic").isEqualTo(plan.installerRoleTemplate());
        }
    }

    @ParameterizedTest(name = "maxParallel {0}")
    @ValueSource(ints = {4, 50})
    void plan_keepsTheFleetsCallsInFlightWithinMaxCallsInFlight_eachAccountRegionGettingItsShare(int maxParallel) {
        Quota reads = new Quota("fake.reads", 10_000);
        AtomicInteger inFlight = new AtomicInteger();
        AtomicInteger mostInFlight = new AtomicInteger();
        // One scheduler per account-region's installer.
        Map<Object, AtomicInteger> mostPerRegion = Collections.synchronizedMap(new IdentityHashMap<>());
        // Each account-region's plan sends 12 calls at once, each held 40 ms: as many in flight as its installer
        // allows.
        FakeTarget reading = new FakeTarget("fake", null) {
            @Override
            public TargetPlan plan(TargetContext context) {
                AtomicInteger here = new AtomicInteger();
                AtomicInteger mostHere = mostPerRegion.computeIfAbsent(context.scheduler(), k -> new AtomicInteger());
                List<CompletableFuture<Integer>> calls = Stream.generate(() -> context.scheduler()
                                .submit(reads, () -> {
                                    mostInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
                                    mostHere.accumulateAndGet(here.incrementAndGet(), Math::max);
                                    sleep(40);
                                    here.decrementAndGet();
                                    return inFlight.decrementAndGet();
                                }))
                        .limit(12)
                        .toList();
                calls.forEach(CompletableFuture::join);
                return super.plan(context);
            }
        }.quotas(reads).resource("a1", Behaviour.APPLY);

        try (FleetInstaller fleet = fleet(reading)
                .excludeAccounts(DENIED)
                .maxParallel(maxParallel) // 50: more than the fleet's 4 account-regions, which share the 8
                .maxCallsInFlight(8)
                .build()) {
            assertThat(fleet.plan().failures()).isEmpty();
        }

        assertThat(mostPerRegion).hasSize(4);
        assertThat(mostPerRegion.values())
                .as("each of the 4 account-regions at work gets 8 / 4 calls in flight")
                .allSatisfy(most -> assertThat(most.get()).isEqualTo(2));
        assertThat(mostInFlight.get()).isBetween(2, 8);
    }

    @Test
    void plan_keepsAnInstallersOwnLowerMaxConcurrency_withinTheFleetsShare() {
        Quota reads = new Quota("fake.reads", 10_000);
        AtomicInteger inFlight = new AtomicInteger();
        AtomicInteger mostInFlight = new AtomicInteger();
        FakeTarget reading = new FakeTarget("fake", null) {
            @Override
            public TargetPlan plan(TargetContext context) {
                Stream.generate(() -> context.scheduler().submit(reads, () -> {
                            mostInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
                            sleep(40);
                            return inFlight.decrementAndGet();
                        }))
                        .limit(6)
                        .toList()
                        .forEach(CompletableFuture::join);
                return super.plan(context);
            }
        }.quotas(reads).resource("a1", Behaviour.APPLY);

        try (FleetInstaller fleet = fleet(reading)
                .excludeAccounts(DENIED)
                .maxParallel(1)
                .installer(b -> b.maxConcurrency(1))
                .build()) {
            assertThat(fleet.plan().failures()).isEmpty();
        }

        assertThat(mostInFlight.get())
                .as("the installer's own 1 is below the fleet's share of 512")
                .isEqualTo(1);
    }

    @Test
    void maxCallsInFlight_belowOne_isRefused() {
        assertThatThrownBy(() -> FleetInstaller.builder().maxCallsInFlight(0))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("maxCallsInFlight");
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static com.github.tomakehurst.wiremock.client.MappingBuilder organizations(String operation) {
        return post(urlEqualTo("/")).withHeader("X-Amz-Target", equalTo("AWSOrganizationsV20161128." + operation));
    }

    private static ResponseDefinitionBuilder json(String body) {
        return aResponse()
                .withStatus(200)
                .withHeader("Content-Type", "application/x-amz-json-1.1")
                .withBody(body);
    }

    private static String account(String id, String state) {
        return "{\"Id\":\"" + id + "\",\"State\":\"" + state + "\",\"Status\":\"" + state + "\"}";
    }

    private String journalText() throws IOException {
        StringBuilder s = new StringBuilder();
        try (Stream<Path> files = Files.walk(journals)) {
            for (Path p : files.filter(Files::isRegularFile).toList()) {
                s.append(Files.readString(p));
            }
        }
        assertThat(s).isNotEmpty();
        return s.toString();
    }
}
