package com.cloudaeye.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.cloudaeye.agent.spi.support.AwsActions;
import com.cloudaeye.agent.testing.FakeTarget;
import com.cloudaeye.agent.testing.FakeTarget.Behaviour;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;

/**
 * Bad input to the installer itself (journals, saved plans, regions, targets): each case gets a specific exception
 * whose message names the file or setting and the fix, the target is never asked to apply, and no AWS call that
 * mutates is made.
 */
class CoreBadInputTest {
    @TempDir
    static Path files;

    /** One case: what the caller does with a fresh installer (whose target is {@code fake} with resource a1). */
    private record Case(String name, Function<AgentInstaller, Object> action) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Arguments> cases() {
        return Stream.of(
                bad(
                        "journal that does not exist",
                        i -> i.resume(Journal.read(files.resolve("nope.jsonl"))),
                        AgentException.class,
                        "Cannot read the journal"),
                bad(
                        "journal without a plan line",
                        i -> i.rollback(Journal.read(write(
                                "no-plan.jsonl",
                                "{\"event\":\"STARTING\",\"target\":\"fake\",\"resourceId\":\"x\"}\n"))),
                        AgentException.class,
                        "has no plan line"),
                bad(
                        "journal corrupt in the middle",
                        i -> i.resume(Journal.read(write("corrupt.jsonl", "{not json\n{\"event\":\"PLAN\"}\n"))),
                        AgentException.class,
                        "is corrupt at line 1"),
                bad(
                        "saved plan that is not JSON",
                        i -> i.apply(Plan.fromJson("plan: yes")),
                        AgentException.class,
                        "Not a valid Plan document"),
                bad(
                        "plan for another region",
                        i -> i.apply(Plan.builder()
                                .kind(Plan.Kind.INSTALL)
                                .region("eu-west-1")
                                .build()),
                        ConfigurationException.class,
                        ".region(Region.of(\"eu-west-1\"))"),
                bad(
                        "plan for a target that is not on the class path",
                        i -> i.apply(Plan.builder()
                                .from(i.plan())
                                .changes(i.plan().changes().stream()
                                        .map(c -> Change.builder()
                                                .from(c)
                                                .target("nope")
                                                .build())
                                        .toList())
                                .build()),
                        ConfigurationException.class,
                        "No target named 'nope'"),
                bad(
                        "resume of a journal whose target is not on the class path",
                        i -> i.resume(Journal.read(write(
                                "other-target.jsonl",
                                "{\"event\":\"PLAN\",\"plan\":{\"kind\":\"ROLLBACK\",\"region\":\"us-east-1\","
                                        + "\"changes\":[{\"target\":\"nope\",\"resourceType\":\"Fake::Resource\","
                                        + "\"resourceId\":\"arn:aws:fake:us-east-1:123456789012:resource/z\","
                                        + "\"action\":\"UPDATE\",\"attributes\":[],\"permissions\":[]}],"
                                        + "\"readPermissions\":[],\"notes\":[]}}\n"))),
                        ConfigurationException.class,
                        "No target named 'nope'"),
                bad(
                        "journal with a well-formed line of an unknown event",
                        i -> i.resume(Journal.read(journalOf(i, "unknown-event.jsonl", "INTERRUPTED"))),
                        AgentException.class,
                        "unknown event 'INTERRUPTED' at line 2"));
    }

    /**
     * A journal of the installer's own plan whose change a1 has one event: with STARTING, resume hands a1 to the
     * target (the positive control below); with an unknown event, reading must fail before that.
     */
    private static Path journalOf(AgentInstaller installer, String file, String event) {
        return write(
                file,
                "{\"event\":\"PLAN\",\"plan\":" + installer.plan().toJson().replace("\n", "") + "}\n"
                        + "{\"event\":\"" + event + "\",\"target\":\"fake\",\"resourceId\":\""
                        + FakeTarget.arn("a1") + "\"}\n");
    }

    @Test
    void positiveControl_theSameJournalWithAKnownEvent_reachesTheTarget() {
        FakeTarget target = new FakeTarget("fake", null).resource("a1", Behaviour.APPLY);
        try (AgentInstaller installer = AgentInstaller.builder()
                .region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("AKID", "SECRET")))
                .journalDirectory(files.resolve("journals"))
                .target(target)
                .build()) {
            installer.resume(Journal.read(journalOf(installer, "known-event.jsonl", "STARTING")));
            assertThat(target.log()).as("the target was asked to apply a1").isNotEmpty();
        }
    }

    private static Arguments bad(
            String name, Function<AgentInstaller, Object> action, Class<? extends AgentException> type, String text) {
        return Arguments.of(new Case(name, action), type, text);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void badInput_getsASpecificException_andChangesNothing(
            Case input, Class<? extends AgentException> type, String message) {
        FakeTarget target = new FakeTarget("fake", null).resource("a1", Behaviour.APPLY);
        try (AgentInstaller installer = AgentInstaller.builder()
                .region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("AKID", "SECRET")))
                .journalDirectory(files.resolve("journals"))
                .target(target)
                .build()) {
            assertThatThrownBy(() -> input.action().apply(installer))
                    .isInstanceOf(type)
                    .hasMessageContaining(message);
            assertThat(target.log()).as("the target was never asked to apply").isEmpty();
            assertThat(installer.calls().keySet()).allMatch(AwsActions::isReadOnly);
        }
    }

    private static Path write(String name, String content) {
        try {
            return Files.writeString(files.resolve(name), content);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
