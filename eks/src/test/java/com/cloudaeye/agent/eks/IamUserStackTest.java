package com.cloudaeye.agent.eks;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.ResourceResult;
import com.github.tomakehurst.wiremock.client.MappingBuilder;
import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;

/** The IAM-user stack against WireMock: waiting on a stack that fails, which moto (synchronous) cannot show. */
class IamUserStackTest {
    @RegisterExtension
    static WireMockExtension aws = WireMockExtension.newInstance()
            .options(wireMockConfig().dynamicPort())
            .build();

    private final List<AccessKey> sink = new CopyOnWriteArrayList<>();

    @BeforeEach
    void account() {
        aws.stubFor(get(urlPathEqualTo("/clusters/prod-eks"))
                .willReturn(okJson(ControlPlaneLoggingTest.fixture("eks/describe-cluster-api-enabled.json"))));
        aws.stubFor(action("DescribeStacks")
                .withRequestBody(containing("StackName=CloudAEyeServiceAccountStack"))
                .willReturn(xml(400, "cloudformation/describe-stacks-missing.xml")));
        aws.stubFor(action("ListAccessKeys").willReturn(xml(404, "iam/no-such-user.xml")));
        aws.stubFor(action("GetPolicy").willReturn(xml(404, "iam/no-such-policy.xml")));
        aws.stubFor(action("CreateStack").willReturn(xml(200, "cloudformation/create-stack.xml")));
        aws.stubFor(
                action("DescribeStackEvents").willReturn(xml(200, "cloudformation/describe-stack-events-failed.xml")));
        String[] states = {
            "cloudformation/describe-stacks-create-in-progress.xml",
            "cloudformation/describe-stacks-delete-in-progress.xml",
            "cloudformation/describe-stacks-delete-complete.xml"
        };
        String state = Scenario.STARTED;
        for (int i = 0; i < states.length; i++) {
            String next = i == states.length - 1 ? state : "poll-" + (i + 1);
            aws.stubFor(action("DescribeStacks")
                    .withRequestBody(containing("StackName=arn%3Aaws%3Acloudformation"))
                    .inScenario("stack")
                    .whenScenarioStateIs(state)
                    .willReturn(xml(200, states[i]))
                    .willSetStateTo(next));
            state = next;
        }
    }

    private static MappingBuilder action(String action) {
        return post(urlPathEqualTo("/")).withRequestBody(containing("Action=" + action + "&"));
    }

    private static com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder xml(int status, String fixture) {
        return xmlBody(status, ControlPlaneLoggingTest.fixture(fixture));
    }

    private static com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder xmlBody(int status, String body) {
        return aResponse()
                .withStatus(status)
                .withHeader("Content-Type", "text/xml")
                .withBody(body);
    }

    /**
     * A stack whose last update (or import) CloudFormation rolled back is as usable as a created one; only a stack
     * still changing waits, and only one that never became usable (or is stuck) must be deleted.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "CREATE_COMPLETE, NO_OP, exists",
        "UPDATE_COMPLETE, NO_OP, exists",
        "UPDATE_ROLLBACK_COMPLETE, NO_OP, exists",
        "IMPORT_COMPLETE, NO_OP, exists",
        "IMPORT_ROLLBACK_COMPLETE, NO_OP, exists",
        "UPDATE_ROLLBACK_IN_PROGRESS, SKIP, wait for it to finish",
        "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS, SKIP, wait for it to finish",
        "ROLLBACK_COMPLETE, SKIP, delete-stack",
        "CREATE_FAILED, SKIP, delete-stack"
    })
    void plan_treatsEveryStableStackStateAsUsable(String status, ChangeAction action, String reason) {
        stackIs(stackXml(status));
        try (AgentInstaller installer = installer()) {
            Change stack = installer.plan().changes().stream()
                    .filter(c -> c.resourceType().equals("AWS::CloudFormation::Stack"))
                    .findFirst()
                    .orElseThrow();

            assertThat(stack.action()).as(stack.toString()).isEqualTo(action);
            assertThat(stack.reason()).hasValueSatisfying(r -> assertThat(r).contains(status, reason));
        }
    }

    /**
     * CloudFormation refuses to delete a stack with termination protection: the uninstall skips it, saying how to
     * disable it, and leaves the user's keys (deleting them first would only cut CloudAEye's access).
     */
    @Test
    void planUninstall_whenTheStackHasTerminationProtection_skipsIt_namingTheFix_andKeepsTheKeys() {
        stackIs(stackXml("CREATE_COMPLETE", true));
        aws.stubFor(action("ListAccessKeys").willReturn(xmlBody(200, ONE_KEY)));
        try (AgentInstaller installer = installer()) {
            List<Change> changes = List.copyOf(installer.planUninstall().changes());

            assertThat(stackAndKeyChanges(changes))
                    .as(changes.toString())
                    .singleElement()
                    .satisfies(c -> {
                        assertThat(c.action()).isEqualTo(ChangeAction.SKIP);
                        assertThat(c.reason())
                                .hasValueSatisfying(r -> assertThat(r)
                                        .contains(
                                                "termination protection",
                                                "update-termination-protection --no-enable-termination-protection"));
                    });
        }
    }

    /**
     * A stack operation in progress (someone updates or deletes the stack): the uninstall deletes neither the stack
     * nor the user's keys, and says to wait for it and plan again.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"UPDATE_IN_PROGRESS", "DELETE_IN_PROGRESS", "UPDATE_ROLLBACK_IN_PROGRESS"})
    void planUninstall_whenAStackOperationIsInProgress_skipsIt_andKeepsTheKeys(String status) {
        stackIs(stackXml(status));
        try (AgentInstaller installer = installer()) {
            List<Change> changes = List.copyOf(installer.planUninstall().changes());

            assertThat(stackAndKeyChanges(changes))
                    .as(changes.toString())
                    .singleElement()
                    .satisfies(c -> {
                        assertThat(c.action()).isEqualTo(ChangeAction.SKIP);
                        assertThat(c.reason())
                                .hasValueSatisfying(r -> assertThat(r)
                                        .contains("CloudAEyeServiceAccountStack", status, "wait for it to finish"));
                    });
        }
    }

    /**
     * Termination protection turned on between planning the uninstall and applying it: CloudFormation would refuse
     * DeleteStack only after the keys (whose secrets cannot come back) were deleted and the policy detached, so the
     * apply reads the stack first and skips both, naming the fix; nothing is sent.
     */
    @Test
    void applyUninstall_whenTerminationProtectionWasTurnedOnSincePlanning_skipsStackAndKeys_andSendsNothing() {
        ApplyResult result = applyUninstallSeeing(xmlBody(200, stackXml("CREATE_COMPLETE", true)));

        assertThat(result.withOutcome(ResourceResult.Outcome.SKIPPED))
                .as(result.toString())
                .hasSize(2)
                .allSatisfy(r -> assertThat(r.message())
                        .hasValueSatisfying(m -> assertThat(m)
                                .contains(
                                        "CloudAEyeServiceAccountStack",
                                        "termination protection",
                                        "update-termination-protection --no-enable-termination-protection",
                                        "plan again")));
        assertNothingDeleted();
    }

    /**
     * An uninstall killed after it deleted the keys and detached the policy, then termination protection turned on:
     * its resume sends nothing, and the stack's outcome is not SKIPPED ("nothing changed") but UNKNOWN, naming the
     * detached policy and how to re-attach it.
     */
    @Test
    void applyUninstall_whenProtectedAfterAnEarlierAttemptDetachedThePolicy_reportsUnknown_namingTheReattach() {
        ApplyResult result = applyUninstallSeeing(xmlBody(200, stackXml("CREATE_COMPLETE", true)), false);

        assertThat(result.withOutcome(ResourceResult.Outcome.UNKNOWN))
                .as(result.toString())
                .singleElement()
                .satisfies(r -> {
                    assertThat(r.change().resourceType()).isEqualTo("AWS::CloudFormation::Stack");
                    assertThat(r.message())
                            .hasValueSatisfying(m -> assertThat(m)
                                    .contains("termination protection", "not attached", "aws iam attach-user-policy"));
                });
        assertNothingDeleted();
    }

    /** A stack operation started between planning and applying: neither the keys nor the stack are touched. */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"UPDATE_IN_PROGRESS", "UPDATE_ROLLBACK_IN_PROGRESS", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"})
    void applyUninstall_whenAStackOperationStartedSincePlanning_skipsStackAndKeys_andSendsNothing(String status) {
        ApplyResult result = applyUninstallSeeing(xmlBody(200, stackXml(status, false)));

        assertThat(result.withOutcome(ResourceResult.Outcome.SKIPPED))
                .as(result.toString())
                .hasSize(2)
                .allSatisfy(r -> assertThat(r.message())
                        .hasValueSatisfying(m -> assertThat(m)
                                .contains("CloudAEyeServiceAccountStack", status, "wait for it to finish")));
        assertNothingDeleted();
    }

    /**
     * The apply cannot read the stack before deleting: nothing was sent, so the stack's deletion is failed (saying
     * so) and the keys' deletion, which needed that read, not attempted.
     */
    @Test
    void applyUninstall_whenTheStackCannotBeRead_failsTheStack_andDoesNotAttemptTheKeys() {
        ApplyResult result = applyUninstallSeeing(
                aResponse()
                        .withStatus(403)
                        .withHeader("Content-Type", "text/xml")
                        .withBody(
                                "<ErrorResponse xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\"><Error>"
                                        + "<Type>Sender</Type><Code>AccessDenied</Code><Message>not authorized to perform"
                                        + " cloudformation:DescribeStacks</Message></Error><RequestId>r-1</RequestId></ErrorResponse>"));

        assertThat(result.withOutcome(ResourceResult.Outcome.FAILED))
                .as(result.toString())
                .singleElement()
                .satisfies(r -> {
                    assertThat(r.change().resourceType()).isEqualTo("AWS::CloudFormation::Stack");
                    assertThat(r.message())
                            .hasValueSatisfying(m -> assertThat(m).contains("AccessDenied", "Nothing was sent"));
                });
        assertThat(result.withOutcome(ResourceResult.Outcome.NOT_ATTEMPTED))
                .as(result.toString())
                .singleElement()
                .satisfies(r -> assertThat(r.change().resourceType()).isEqualTo("AWS::IAM::AccessKey"));
        assertNothingDeleted();
    }

    /**
     * The keys' deletion did not land: CloudFormation cannot delete a user that still has keys, so the stack is not
     * attempted (its policy is not detached either), naming the keys' failure.
     */
    @Test
    void applyUninstall_whenTheKeysAreNotDeleted_doesNotAttemptTheStack() {
        aws.stubFor(action("DeleteAccessKey")
                .willReturn(aResponse()
                        .withStatus(403)
                        .withHeader("Content-Type", "text/xml")
                        .withBody("<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error>"
                                + "<Type>Sender</Type><Code>AccessDenied</Code><Message>not authorized to perform"
                                + " iam:DeleteAccessKey</Message></Error><RequestId>r-2</RequestId>"
                                + "</ErrorResponse>")));

        ApplyResult result = applyUninstallSeeing(xmlBody(200, stackXml("CREATE_COMPLETE", false)));

        assertThat(result.withOutcome(ResourceResult.Outcome.FAILED))
                .as(result.toString())
                .singleElement()
                .satisfies(r -> assertThat(r.change().resourceType()).isEqualTo("AWS::IAM::AccessKey"));
        assertThat(result.withOutcome(ResourceResult.Outcome.NOT_ATTEMPTED))
                .as(result.toString())
                .singleElement()
                .satisfies(r -> {
                    assertThat(r.change().resourceType()).isEqualTo("AWS::CloudFormation::Stack");
                    assertThat(r.message())
                            .hasValueSatisfying(m -> assertThat(m).contains("access keys", "not touched"));
                });
        aws.verify(1, postRequestedFor(urlPathEqualTo("/")).withRequestBody(containing("Action=DeleteAccessKey&")));
        for (String call : List.of("DetachUserPolicy", "DeleteStack")) {
            aws.verify(0, postRequestedFor(urlPathEqualTo("/")).withRequestBody(containing("Action=" + call + "&")));
        }
    }

    /**
     * Plans the uninstall of a usable stack whose user has one key, then applies it while DescribeStacks of the
     * stack's ARN (the apply's read) answers {@code atApply}.
     */
    private ApplyResult applyUninstallSeeing(com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder atApply) {
        return applyUninstallSeeing(atApply, true);
    }

    /** As {@link #applyUninstallSeeing}, with the stack's policy attached to its user, or not (a detach landed). */
    private ApplyResult applyUninstallSeeing(
            com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder atApply, boolean policyAttached) {
        aws.stubFor(action("ListAttachedUserPolicies")
                .willReturn(xmlBody(
                        200,
                        "<ListAttachedUserPoliciesResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">"
                                + "<ListAttachedUserPoliciesResult><AttachedPolicies>"
                                + (policyAttached
                                        ? "<member><PolicyName>CloudAEyeServiceAccountPolicy</PolicyName><PolicyArn>"
                                                + "arn:aws:iam::123456789012:policy/CloudAEyeServiceAccountPolicy"
                                                + "</PolicyArn></member>"
                                        : "")
                                + "</AttachedPolicies><IsTruncated>false</IsTruncated>"
                                + "</ListAttachedUserPoliciesResult></ListAttachedUserPoliciesResponse>")));
        stackIs(stackXml("CREATE_COMPLETE", false));
        aws.stubFor(action("ListAccessKeys").willReturn(xmlBody(200, ONE_KEY)));
        try (AgentInstaller installer = installer()) {
            Plan plan = installer.planUninstall();
            assertThat(stackAndKeyChanges(List.copyOf(plan.changes())))
                    .as(plan.toString())
                    .extracting(Change::action)
                    .containsExactly(ChangeAction.DELETE, ChangeAction.DELETE);
            aws.stubFor(action("DescribeStacks")
                    .withRequestBody(containing("StackName=arn%3Aaws%3Acloudformation"))
                    .willReturn(atApply));
            return installer.apply(plan);
        }
    }

    /** The apply read the stack by its ARN once, and deleted nothing. */
    private static void assertNothingDeleted() {
        aws.verify(
                1,
                postRequestedFor(urlPathEqualTo("/"))
                        .withRequestBody(containing("Action=DescribeStacks&"))
                        .withRequestBody(containing("StackName=arn%3Aaws%3Acloudformation")));
        for (String call : List.of("DeleteAccessKey", "DetachUserPolicy", "DeleteStack", "AttachUserPolicy")) {
            aws.verify(0, postRequestedFor(urlPathEqualTo("/")).withRequestBody(containing("Action=" + call + "&")));
        }
    }

    private static final String ONE_KEY = "<ListAccessKeysResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">"
            + "<ListAccessKeysResult><UserName>CloudAEyeServiceAccount</UserName>"
            + "<AccessKeyMetadata><member><UserName>CloudAEyeServiceAccount</UserName>"
            + "<AccessKeyId>AKIAEXAMPLEKEY000001</AccessKeyId><Status>Active</Status></member>"
            + "</AccessKeyMetadata><IsTruncated>false</IsTruncated></ListAccessKeysResult>"
            + "</ListAccessKeysResponse>";

    /** DescribeStacks of CloudAEye's stack by its name (planning's read) answers {@code xml}. */
    private static void stackIs(String xml) {
        aws.stubFor(action("DescribeStacks")
                .withRequestBody(containing("StackName=CloudAEyeServiceAccountStack"))
                .willReturn(xmlBody(200, xml)));
    }

    /** CloudAEye's stack for prod-eks, in {@code status}, saying nothing of termination protection. */
    private static String stackXml(String status) {
        return ControlPlaneLoggingTest.fixture("cloudformation/describe-stacks-create-in-progress.xml")
                .replace("CREATE_IN_PROGRESS", status);
    }

    /** CloudAEye's stack for prod-eks, in {@code status}, with or without termination protection. */
    private static String stackXml(String status, boolean protection) {
        return stackXml(status)
                .replace(
                        "<CreationTime>",
                        "<EnableTerminationProtection>" + protection + "</EnableTerminationProtection><CreationTime>");
    }

    /** The plan's changes to CloudAEye's stack and its user's access keys. */
    private static List<Change> stackAndKeyChanges(List<Change> changes) {
        return changes.stream()
                .filter(c -> c.resourceType().startsWith("AWS::CloudFormation")
                        || c.resourceType().equals("AWS::IAM::AccessKey"))
                .toList();
    }

    private AgentInstaller installer() {
        return AgentInstaller.builder()
                .region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("AKIDTEST", "test")))
                .endpointOverride(URI.create(aws.baseUrl()))
                .retries(1, Duration.ofMillis(10))
                .withoutJournal()
                .target(EksTarget.builder()
                        .cluster("prod-eks")
                        .cloudAEyeAccess(a -> a.iamUserStack().accessKeySink(sink::add))
                        .waits(Duration.ofMillis(20), Duration.ofSeconds(10))
                        .build())
                .build();
    }

    @Test
    void apply_whenTheStackFails_waitsForItToEnd_andReportsTheFailureEvents_andCreatesNoKey() {
        try (AgentInstaller installer = installer()) {
            ApplyResult result = installer.apply(installer.plan());

            assertThat(result.status()).as(result.toString()).isEqualTo(ApplyResult.Status.FAILED);
            List<ResourceResult> failed = result.withOutcome(ResourceResult.Outcome.FAILED);
            assertThat(failed).hasSize(2);
            assertThat(failed.get(0).change().resourceType()).isEqualTo("AWS::CloudFormation::Stack");
            assertThat(failed.get(0).message())
                    .hasValueSatisfying(m -> assertThat(m)
                            .contains("DELETE_COMPLETE", "ServiceAccountPolicy CREATE_FAILED", "iam:CreatePolicy")
                            .doesNotContain("ServiceAccountUser"));
            assertThat(failed.get(1).message())
                    .hasValueSatisfying(m -> assertThat(m).contains("NoSuchEntity"));
        }
        assertThat(sink).isEmpty();
        aws.verify(
                1,
                postRequestedFor(urlPathEqualTo("/"))
                        .withRequestBody(containing("Action=CreateStack&"))
                        .withRequestBody(containing("Capabilities.member.1=CAPABILITY_NAMED_IAM"))
                        .withRequestBody(containing("OnFailure=DELETE")));
        aws.verify(
                3,
                postRequestedFor(urlPathEqualTo("/"))
                        .withRequestBody(containing("Action=DescribeStacks&"))
                        .withRequestBody(containing("StackName=arn%3Aaws%3Acloudformation")));
        aws.verify(0, postRequestedFor(urlPathEqualTo("/")).withRequestBody(containing("Action=CreateAccessKey&")));
    }
}
