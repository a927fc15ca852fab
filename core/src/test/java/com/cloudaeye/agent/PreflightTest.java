package com.cloudaeye.agent;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.cloudaeye.agent.spi.support.AwsActions;
import com.cloudaeye.agent.testing.FakeTarget;
import com.cloudaeye.agent.testing.FakeTarget.Behaviour;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.MappingBuilder;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;

/**
 * The permission preflight against IAM's policy simulator and STS, served by WireMock from
 * {@code fixtures/iam/} and {@code fixtures/sts/}. The plan comes from a {@link FakeTarget}: {@code fake:ListResources}
 * on {@code *} and {@code fake:UpdateResource} on each of its resources.
 */
class PreflightTest {
    private static final String USER = "arn:aws:iam::123456789012:user/ops/deployer";
    private static final String ROLE = "arn:aws:iam::123456789012:role/installer";
    private static final String ROLE_WITH_PATH = "arn:aws:iam::123456789012:role/deploy/installer";

    @TempDir
    Path journals;

    private WireMockServer aws;
    private FakeTarget target;

    @BeforeEach
    void start() {
        aws = new WireMockServer(WireMockConfiguration.options().dynamicPort());
        aws.start();
        target = new FakeTarget("fake", null).resource("a1", Behaviour.APPLY).resource("a2", Behaviour.APPLY);
    }

    @AfterEach
    void stop() {
        aws.stop();
    }

    private AgentInstaller installer(boolean preflightOnApply) {
        return AgentInstaller.builder()
                .region(Region.US_EAST_1)
                .endpointOverride(URI.create(aws.baseUrl()))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("AKID", "SECRET")))
                .retries(2, Duration.ofMillis(1))
                .journalDirectory(journals)
                .preflight(preflightOnApply)
                .target(target)
                .build();
    }

    @Test
    void preflight_whenEveryPermissionIsAllowed_passes_andSimulatesTheUserWithThePlansActions() {
        callerIs("get-caller-identity-user.xml");
        simulating("fake%3AListResources", 200, "simulate-list-allowed.xml");
        simulating("fake%3AUpdateResource", 200, "simulate-update-allowed.xml");
        try (AgentInstaller installer = installer(false)) {
            Plan plan = installer.plan();

            installer.preflight(plan);

            aws.verify(postRequestedFor(urlEqualTo("/"))
                    .withRequestBody(containing("PolicySourceArn=" + enc(USER)))
                    .withRequestBody(containing("ActionNames.member.1=fake%3AUpdateResource"))
                    .withRequestBody(containing("ResourceArns.member.1=" + enc(FakeTarget.arn("a1"))))
                    .withRequestBody(containing("ResourceArns.member.2=" + enc(FakeTarget.arn("a2")))));
            aws.verify(postRequestedFor(urlEqualTo("/"))
                    .withRequestBody(containing("ActionNames.member.1=fake%3AListResources"))
                    .withRequestBody(containing("ResourceArns.member.1=" + enc("*"))));
            assertThat(installer.calls().keySet())
                    .as("only read calls")
                    .allMatch(AwsActions::isReadOnly)
                    .contains("sts:GetCallerIdentity", "iam:SimulatePrincipalPolicy");
        }
    }

    @Test
    void preflight_whenOneResourceIsImplicitlyDenied_throwsWithAPolicyOfExactlyThatPermission() {
        callerIs("get-caller-identity-user.xml");
        simulating("fake%3AListResources", 200, "simulate-list-allowed.xml");
        simulating("fake%3AUpdateResource", 200, "simulate-update-a2-denied.xml");
        try (AgentInstaller installer = installer(false)) {
            Plan plan = installer.plan();

            InsufficientPermissionsException e =
                    catchThrowableOfType(InsufficientPermissionsException.class, () -> installer.preflight(plan));

            assertThat(e.missing())
                    .isEqualTo(PolicyDocument.allowing(
                            List.of(Permission.of("fake:UpdateResource", FakeTarget.arn("a2")))));
            assertThat(e.getMessage())
                    .contains(USER)
                    .contains("lacks 1 of the 3 permissions")
                    .contains("fake:UpdateResource")
                    .contains("nothing was changed");
        }
    }

    @Test
    void preflight_whenTheSimulatorLeavesAPermissionOut_countsItAsMissing() {
        callerIs("get-caller-identity-user.xml");
        simulating("fake%3AListResources", 200, "simulate-list-allowed.xml");
        simulating("fake%3AUpdateResource", 200, "simulate-list-allowed.xml"); // answers for another action
        try (AgentInstaller installer = installer(false)) {
            Plan plan = installer.plan();

            InsufficientPermissionsException e =
                    catchThrowableOfType(InsufficientPermissionsException.class, () -> installer.preflight(plan));

            assertThat(e.missing())
                    .isEqualTo(PolicyDocument.allowing(List.of(
                            Permission.of("fake:UpdateResource", FakeTarget.arn("a1")),
                            Permission.of("fake:UpdateResource", FakeTarget.arn("a2")))));
        }
    }

    @Test
    void preflight_forAnAssumedRoleSession_simulatesTheRole() {
        callerIs("get-caller-identity-assumed-role.xml");
        simulating("sts%3AGetCallerIdentity", 200, "simulate-list-allowed.xml");
        simulating("fake%3AListResources", 200, "simulate-list-allowed.xml");
        simulating("fake%3AUpdateResource", 200, "simulate-update-allowed.xml");
        try (AgentInstaller installer = installer(false)) {
            installer.preflight(installer.plan());

            aws.verify(postRequestedFor(urlEqualTo("/"))
                    .withRequestBody(containing("Action=SimulatePrincipalPolicy"))
                    .withRequestBody(containing("PolicySourceArn=" + enc(ROLE)))
                    .withRequestBody(containing("fake%3AUpdateResource")));
            aws.verify(0, postRequestedFor(urlEqualTo("/")).withRequestBody(containing("assumed-role")));
        }
    }

    @Test
    void preflight_forARoleWithAPath_findsItsArnWithGetRole_andListsThatPermission() {
        callerIs("get-caller-identity-assumed-role.xml");
        aws.stubFor(simulate()
                .withRequestBody(containing("PolicySourceArn=" + enc(ROLE) + "&"))
                .willReturn(xml(404, "iam/no-such-role.xml")));
        aws.stubFor(post(urlEqualTo("/"))
                .withRequestBody(containing("Action=GetRole"))
                .withRequestBody(containing("RoleName=installer"))
                .willReturn(xml(200, "iam/get-role-with-path.xml")));
        simulating("iam%3AGetRole", 200, "simulate-self-role-allowed.xml");
        simulating("fake%3AListResources", 200, "simulate-list-allowed.xml");
        simulating("fake%3AUpdateResource", 200, "simulate-update-allowed.xml");
        try (AgentInstaller installer = installer(true)) {
            Plan plan = installer.plan();

            assertThat(plan.requiredPolicy().allows(Permission.of("iam:SimulatePrincipalPolicy", ROLE_WITH_PATH)))
                    .isTrue();
            assertThat(plan.requiredPolicy().allows(Permission.of("iam:GetRole", ROLE_WITH_PATH)))
                    .isTrue();
            installer.preflight(plan);
            aws.verify(postRequestedFor(urlEqualTo("/"))
                    .withRequestBody(containing("PolicySourceArn=" + enc(ROLE_WITH_PATH)))
                    .withRequestBody(containing("fake%3AUpdateResource")));
        }
    }

    @Test
    void apply_withPreflightOn_whenDenied_changesNothing_andMakesOnlyReadCalls() {
        callerIs("get-caller-identity-user.xml");
        simulating("fake%3AListResources", 200, "simulate-list-allowed.xml");
        simulating("fake%3AUpdateResource", 200, "simulate-update-a2-denied.xml");
        simulating("iam%3ASimulatePrincipalPolicy", 200, "simulate-self-user-allowed.xml");
        try (AgentInstaller installer = installer(true)) {
            Plan plan = installer.plan();

            InsufficientPermissionsException e =
                    catchThrowableOfType(InsufficientPermissionsException.class, () -> installer.apply(plan));

            assertThat(e.missing().actions()).containsExactly("fake:UpdateResource");
            assertThat(target.log()).as("the target was never asked to apply").isEmpty();
            assertThat(journals).isEmptyDirectory();
            assertThat(installer.calls().keySet()).allMatch(AwsActions::isReadOnly);
        }
    }

    @Test
    void apply_withPreflightOn_whenAllowed_applies() {
        callerIs("get-caller-identity-user.xml");
        simulating("fake%3AListResources", 200, "simulate-list-allowed.xml");
        simulating("fake%3AUpdateResource", 200, "simulate-update-allowed.xml");
        simulating("iam%3ASimulatePrincipalPolicy", 200, "simulate-self-user-allowed.xml");
        try (AgentInstaller installer = installer(true)) {
            ApplyResult result = installer.apply(installer.plan());

            assertThat(result.status()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            aws.verify(postRequestedFor(urlEqualTo("/"))
                    .withRequestBody(containing("ActionNames.member.1=iam%3ASimulatePrincipalPolicy"))
                    .withRequestBody(containing("ResourceArns.member.1=" + enc(USER))));
        }
    }

    @Test
    void plan_listsThePreflightsPermissions_onlyWhenPreflightIsOn() {
        callerIs("get-caller-identity-user.xml");
        try (AgentInstaller off = installer(false)) {
            Plan plan = off.plan();
            assertThat(plan.requiredPolicy().actions()).containsExactly("fake:ListResources", "fake:UpdateResource");
            assertThat(off.calls()).as("no preflight call while planning").isEmpty();
        }
        try (AgentInstaller on = installer(true)) {
            Plan plan = on.plan();
            assertThat(plan.requiredPolicy().actions())
                    .containsExactly("fake:ListResources", "fake:UpdateResource", "iam:SimulatePrincipalPolicy");
            assertThat(plan.requiredPolicy().allows(Permission.of("iam:SimulatePrincipalPolicy", USER)))
                    .as("scoped to the caller")
                    .isTrue();
            assertThat(plan.requiredPolicy().allows(Permission.of("iam:SimulatePrincipalPolicy", ROLE)))
                    .isFalse();
            assertThat(on.calls().keySet()).allMatch(AwsActions::isReadOnly);
        }
    }

    @Test
    void preflight_whenTheSimulatorIsDenied_namesThePermissionItNeeds() throws IOException {
        callerIs("get-caller-identity-user.xml");
        aws.stubFor(simulate().willReturn(xml(403, "iam/access-denied.xml")));
        try (AgentInstaller installer = installer(false)) {
            Plan plan = installer.plan();

            InsufficientPermissionsException e =
                    catchThrowableOfType(InsufficientPermissionsException.class, () -> installer.preflight(plan));

            assertThat(e.missing())
                    .isEqualTo(PolicyDocument.allowing(List.of(Permission.of("iam:SimulatePrincipalPolicy", USER))));
            assertThat(e.getMessage()).contains("preflight(false)");
            assertThat(journals).isEmptyDirectory();
        }
    }

    private void callerIs(String fixture) {
        aws.stubFor(post(urlEqualTo("/"))
                .withRequestBody(containing("Action=GetCallerIdentity"))
                .willReturn(xml(200, "sts/" + fixture)));
    }

    private void simulating(String firstAction, int status, String fixture) {
        aws.stubFor(simulate()
                .withRequestBody(containing("ActionNames.member.1=" + firstAction + "&"))
                .willReturn(xml(status, "iam/" + fixture)));
    }

    private static MappingBuilder simulate() {
        return post(urlEqualTo("/")).withRequestBody(containing("Action=SimulatePrincipalPolicy"));
    }

    private static com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder xml(int status, String fixture) {
        return aResponse()
                .withStatus(status)
                .withHeader("Content-Type", "text/xml")
                .withBody(fixture(fixture));
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static String fixture(String path) {
        try (InputStream in = PreflightTest.class.getResourceAsStream("/fixtures/" + path)) {
            if (in == null) {
                throw new IllegalStateException("No fixture " + path);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
