package com.cloudaeye.agent.lambda;

import static com.cloudaeye.agent.lambda.LambdaWireMockTest.LAYER;
import static com.cloudaeye.agent.lambda.LambdaWireMockTest.fn;
import static com.cloudaeye.agent.lambda.LambdaWireMockTest.function;
import static com.cloudaeye.agent.lambda.LambdaWireMockTest.getFunction;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.put;
import static com.github.tomakehurst.wiremock.client.WireMock.putRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.Journal;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.ResourceResult.Outcome;
import com.github.tomakehurst.wiremock.WireMockServer;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.lambda.model.Architecture;

/**
 * A function whose environment Lambda could not decrypt for the caller (no {@code kms:Decrypt} on its customer key):
 * Lambda answers {@code Environment: {Error: {...}}} without {@code Variables}. An update built from that would send
 * only the agent's variables and wipe the user's, so install, uninstall and rollback leave such a function alone,
 * whether they see the error when planning or only when applying. Moto does not emulate the error.
 */
class LambdaEnvironmentErrorWireMockTest {
    private static final String KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    private static final String TOKEN = "tok-123";

    @TempDir
    Path journals;

    private WireMockServer aws;

    @BeforeEach
    void start() {
        aws = LambdaWireMock.start("python3.12");
        aws.stubFor(
                put(urlPathMatching(fn("a") + "/configuration")).willReturn(okJson(function("a", "r2", "Successful"))));
    }

    @AfterEach
    void stop() {
        aws.stop();
    }

    private AgentInstaller installer() {
        return LambdaWireMock.installer(aws, "https://logs.example.cloudaeye.com", TOKEN)
                .target(LambdaTarget.builder()
                        .functions("a")
                        .layer(Architecture.X86_64, LAYER)
                        .build())
                .retries(3, Duration.ofMillis(5))
                .journalDirectory(journals)
                .build();
    }

    /** GetFunction's answer for {@code a} (revision r1) as a caller who cannot decrypt its environment sees it. */
    private static String undecryptable(String revision, boolean installed) {
        String configuration = function("a", revision, "Successful")
                .replace(
                        "\"Environment\":{\"Variables\":{\"STAGE\":\"prod\"}}",
                        "\"Environment\":{\"Error\":{\"ErrorCode\":\"AccessDeniedException\",\"Message\":\"Lambda was"
                                + " unable to decrypt the environment variables because KMS access was denied.\"}},"
                                + "\"KMSKeyArn\":\"" + KEY + "\"");
        if (installed) {
            configuration = configuration.replace("\"Layers\":[]", "\"Layers\":[{\"Arn\":\"" + LAYER + "\"}]");
        }
        return "{\"Configuration\":" + configuration + ",\"Tags\":{}}";
    }

    private void stubGetFunction(String answer) {
        aws.stubFor(get(urlPathMatching(fn("a"))).willReturn(okJson(answer))); // the latest stub wins
    }

    private static void assertNamesTheErrorAndTheFix(String message) {
        assertThat(message)
                .contains("function a", "AccessDeniedException", "unable to decrypt", KEY, "kms:Decrypt", "exclude")
                .doesNotContain(TOKEN);
    }

    /** The plan's one change skips the function, its reason naming the error and the fix. */
    private static void assertSkipsNamingTheErrorAndTheFix(Plan plan) {
        assertThat(plan.changes()).singleElement().satisfies(c -> {
            assertThat(c.action()).isEqualTo(ChangeAction.SKIP);
            assertNamesTheErrorAndTheFix(c.reason().orElseThrow());
        });
    }

    @Test
    void plan_whenLambdaCannotDecryptTheEnvironment_skipsTheFunction_andApplySendsNoUpdate() {
        stubGetFunction(undecryptable("r1", false));
        try (AgentInstaller installer = installer()) {
            Plan plan = installer.plan();

            assertSkipsNamingTheErrorAndTheFix(plan);
            installer.apply(plan);
            aws.verify(0, putRequestedFor(urlPathMatching(fn("a") + "/configuration")));
        }
    }

    @Test
    void apply_ofAPlanFromJson_whenTheEnvironmentCannotBeDecryptedNow_failsTheFunction_andSendsNoUpdate() {
        stubGetFunction(getFunction("a", "r1", "Successful"));
        Plan plan;
        try (AgentInstaller planning = installer()) {
            plan = planning.plan();
        }
        assertThat(plan.mutations()).hasSize(1);
        stubGetFunction(undecryptable("r1", false)); // the caller lost kms:Decrypt since planning
        try (AgentInstaller installer = installer()) {
            ApplyResult result = installer.apply(Plan.fromJson(plan.toJson()));

            assertThat(result.results()).singleElement().satisfies(r -> {
                assertThat(r.outcome()).as(result.toString()).isEqualTo(Outcome.FAILED);
                assertNamesTheErrorAndTheFix(r.message().orElseThrow());
            });
            aws.verify(0, putRequestedFor(urlPathMatching(fn("a") + "/configuration")));
        }
    }

    @Test
    void uninstall_whenLambdaCannotDecryptTheEnvironment_skipsTheFunction_andSendsNoUpdate() {
        stubGetFunction(undecryptable("r1", true));
        try (AgentInstaller installer = installer()) {
            Plan plan = installer.planUninstall();

            assertSkipsNamingTheErrorAndTheFix(plan);
            installer.apply(plan);
            aws.verify(0, putRequestedFor(urlPathMatching(fn("a") + "/configuration")));
        }
    }

    @Test
    void rollback_whenLambdaCannotDecryptTheEnvironmentNow_skipsTheFunction_andSendsNoUpdate() {
        stubGetFunction(getFunction("a", "r1", "Successful"));
        ApplyResult applied;
        try (AgentInstaller installer = installer()) {
            applied = installer.apply(installer.plan());
        }
        assertThat(applied.status()).as(applied.toString()).isEqualTo(ApplyResult.Status.SUCCEEDED);
        stubGetFunction(undecryptable("r2", true));
        try (AgentInstaller installer = installer()) {
            Plan rollback =
                    installer.planRollback(Journal.read(applied.journal().orElseThrow()));

            assertSkipsNamingTheErrorAndTheFix(rollback);
            installer.rollback(Journal.read(applied.journal().orElseThrow()));
            aws.verify(1, putRequestedFor(urlPathMatching(fn("a") + "/configuration"))); // the apply's only
        }
    }

    @Test
    void rollback_plannedWhileReadable_appliedWhenTheEnvironmentCannotBeDecrypted_failsTheFunction() {
        stubGetFunction(getFunction("a", "r1", "Successful"));
        ApplyResult applied;
        try (AgentInstaller installer = installer()) {
            applied = installer.apply(installer.plan());
        }
        stubGetFunction("{\"Configuration\":"
                + function("a", "r2", "Successful")
                        .replace("\"Layers\":[]", "\"Layers\":[{\"Arn\":\"" + LAYER + "\"}]")
                        .replace(
                                "{\"STAGE\":\"prod\"}",
                                "{\"STAGE\":\"prod\",\"CLOUDAEYE_INSTALLED_VARIABLES\":\"CLOUDAEYE_API_TOKEN,CLOUDAEYE_LOGS_ENDPOINT\",\"CLOUDAEYE_LOGS_ENDPOINT\":"
                                        + "\"https://logs.example.cloudaeye.com\",\"CLOUDAEYE_API_TOKEN\":\"" + TOKEN
                                        + "\"}")
                + ",\"Tags\":{}}");
        Plan rollback;
        try (AgentInstaller planning = installer()) {
            rollback = planning.planRollback(Journal.read(applied.journal().orElseThrow()));
        }
        assertThat(rollback.mutations()).hasSize(1);
        stubGetFunction(undecryptable("r2", true));
        try (AgentInstaller installer = installer()) {
            ApplyResult result = installer.apply(Plan.fromJson(rollback.toJson()));

            assertThat(result.results()).singleElement().satisfies(r -> {
                assertThat(r.outcome()).as(result.toString()).isEqualTo(Outcome.FAILED);
                assertNamesTheErrorAndTheFix(r.message().orElseThrow());
            });
            aws.verify(1, putRequestedFor(urlPathMatching(fn("a") + "/configuration"))); // the apply's only
        }
    }

    @Test
    void apply_whenTheUpdatesAnswerIsLost_andTheReadBackCannotDecryptTheEnvironment_reportsUnknown_notFailed() {
        stubGetFunction(getFunction("a", "r1", "Successful"));
        aws.stubFor(put(urlPathMatching(fn("a") + "/configuration"))
                .willReturn(LambdaWireMockTest.error(500, "ServiceException", "connection reset after the update")));
        try (AgentInstaller installer = installer()) {
            Plan plan = installer.plan();
            stubGetFunction(undecryptable("r2", true)); // the read-back cannot tell whether the variables landed

            ApplyResult result = installer.apply(plan);

            assertThat(result.results()).singleElement().satisfies(r -> {
                assertThat(r.outcome()).as(result.toString()).isEqualTo(Outcome.UNKNOWN);
                assertThat(r.message().orElseThrow())
                        .contains("the outcome is unknown", "AccessDeniedException", "kms:Decrypt")
                        .doesNotContain(TOKEN);
            });
        }
    }
}
