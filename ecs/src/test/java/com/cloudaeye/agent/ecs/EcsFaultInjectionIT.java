package com.cloudaeye.agent.ecs;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.AgentInstaller;
import com.cloudaeye.agent.ApplyResult;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.Journal;
import com.cloudaeye.agent.Plan;
import com.cloudaeye.agent.ResourceResult;
import com.cloudaeye.agent.ResourceResult.Outcome;
import com.cloudaeye.agent.ecs.internal.EcsPlanner;
import com.cloudaeye.agent.ecs.internal.TaskDefinitions;
import com.cloudaeye.agent.testing.Moto;
import com.cloudaeye.agent.testing.Patiently;
import com.cloudaeye.agent.testing.Seeds;
import com.cloudaeye.agent.testing.ThrottlingProxy;
import com.cloudaeye.agent.testing.ThrottlingProxy.Fault;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import software.amazon.awssdk.services.ecs.model.ContainerDefinition;
import software.amazon.awssdk.services.ecs.model.TaskDefinition;

/**
 * Faults between the installer and ECS: a {@link ThrottlingProxy} in front of moto answers a share of the calls with
 * ECS's throttling error, a 500, a reset connection, a slow answer, or forwards the call and loses its answer. The
 * installer gets few attempts per call (3, 2, and at 30 % of faults just 1), so some changes do fail. The fixture has
 * a revision shared by four services, five families with two revisions in use, and four services with a revision
 * each.
 * After every apply, each result and each journal entry is compared with the live state in moto (read directly, not
 * through the proxy): a service reported applied runs a new revision with the router made from its own original
 * revision; one not applied still runs its original revision; only a failure that says its outcome is unknown may be
 * either. Re-running plan and apply through the faults up to 15 times, then once calm, converges, and however many
 * answers were lost, no source revision gets more than one new revision.
 */
class EcsFaultInjectionIT {
    /** Re-runs through the faulty proxy before a calm run finishes what is left. */
    private static final int MAX_RUNS = 15;

    private static final String REFUSED_UPDATES = "UpdateService refused";

    @TempDir
    Path journals;

    private MotoEcs moto;
    private ThrottlingProxy proxy;
    /** Each service's original task definition ARN, by service name. */
    private final Map<String, String> originals = new LinkedHashMap<>();

    @AfterEach
    void close() {
        if (proxy != null) {
            proxy.close();
        }
        moto.close();
    }

    static LongStream seeds() {
        return Seeds.of();
    }

    /**
     * One seed draws either refused updates (half the seeds: 40 % of {@code UpdateService} calls refused with a 500
     * or a throttle, one attempt, nothing else faulted), or a fault rate (5, 15 or 30 %) of every call, the attempts
     * per call (1 to 3) and the kinds of faults (every kind, or lost answers only); then the proxy's faults themselves.
     *
     * <p>Refused updates aim at the twin-registration race: both source revisions of a two-revision family get their
     * new revision in the first run, the update of a service on the first one is refused, and the re-run must find
     * that revision among the family's newer ones (the family's latest is the other source's). With five such
     * families, nearly every such seed leaves one behind, so six seeds find the race in nearly every run.
     */
    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void apply_underSeededFaults_reportsExactlyTheLiveState_andConvergesWithOneRevisionPerSource(long seed)
            throws Exception {
        Random draw = new Random(seed);
        boolean refuseUpdates = draw.nextBoolean();
        double faultRate = refuseUpdates ? 0.40 : new double[] {0.05, 0.15, 0.30}[draw.nextInt(3)];
        int attempts = refuseUpdates ? 1 : 1 + draw.nextInt(3);
        String kinds = refuseUpdates ? REFUSED_UPDATES : draw.nextInt(4) == 0 ? "lost answers only" : "every kind";
        System.out.printf(
                "EcsFaultInjectionIT seed %d: %.0f %% of the calls faulted (%s), %d attempts%n",
                seed, faultRate * 100, kinds, attempts);
        Seeds.run(seed, "ecs", "EcsFaultInjectionIT", () -> underFaults(seed, faultRate, attempts, kinds));
    }

    private void underFaults(long seed, double faultRate, int attempts, String kinds) throws Exception {
        Moto.reset();
        moto = new MotoEcs();
        moto.cluster("prod");
        TaskDefinition web = moto.fargate("web", "256", "512", MotoEcs.app("app", 128, 256));
        for (int i = 0; i < 4; i++) {
            service("web-" + i, web);
        }
        service("api-old", moto.fargate("api", "256", "512", MotoEcs.app("api", 128, 256)));
        TaskDefinition apiNew = moto.fargate("api", "512", "1024", MotoEcs.app("api", 256, 512));
        service("api-a", apiNew);
        service("api-b", apiNew);
        for (int i = 0; i < 4; i++) {
            service("pair-" + i + "-old", moto.fargate("pair-" + i, "256", "512", MotoEcs.app("pair", 128, 256)));
            service("pair-" + i + "-new", moto.fargate("pair-" + i, "512", "1024", MotoEcs.app("pair", 256, 512)));
        }
        for (int i = 0; i < 4; i++) {
            service("solo-" + i, moto.fargate("solo-" + i, "256", "512", MotoEcs.app("solo", 128, 256)));
        }

        ThrottlingProxy.Builder faults = ThrottlingProxy.builder()
                .target(Moto.endpoint())
                .unlimited()
                .latency(Duration.ofMillis(5))
                .slowResponse(Duration.ofMillis(300))
                .seed(seed);
        if (kinds.equals(REFUSED_UPDATES)) {
            faults.faultOnly("UpdateService").faultEvenly(faultRate, Fault.SERVER_ERROR, Fault.THROTTLED);
        } else if (kinds.equals("every kind")) {
            faults.faultEvenly(faultRate, Fault.transientKinds());
        } else {
            faults.fault(Fault.LOST_RESPONSE, faultRate);
        }
        if (!kinds.equals(REFUSED_UPDATES)) {
            faults.faultOnly("ecs");
        }
        proxy = faults.start();

        int failedChanges = 0;
        int unknownOutcomes = 0;
        // Planning only reads, and is not what this test is about: it gets enough attempts to get through the faults.
        // The apply, through the same proxy, gets few.
        try (AgentInstaller planner = MotoEcs.installer(MotoEcs.target().build())
                        .endpointOverride(proxy.endpoint())
                        .retries(10, Duration.ofMillis(20))
                        .build();
                AgentInstaller installer = MotoEcs.installer(MotoEcs.target().build())
                        .endpointOverride(proxy.endpoint())
                        .retries(attempts, Duration.ofMillis(20))
                        .journalDirectory(journals)
                        .build()) {
            int runs = 0;
            for (Plan plan = Patiently.plan(planner);
                    !plan.mutations().isEmpty() && runs < MAX_RUNS;
                    plan = Patiently.plan(planner)) {
                runs++;
                ApplyResult result = installer.apply(plan);
                assertThat(result.results())
                        .extracting(ResourceResult::change)
                        .as("every change is reported exactly once")
                        .containsExactlyInAnyOrderElementsOf(plan.mutations());
                failedChanges += result.withOutcome(Outcome.FAILED).size();
                unknownOutcomes += assertResultMatchesLiveState(result);
                assertJournalMatchesLiveState(Journal.read(result.journal().orElseThrow()));
                assertAtMostOneRevisionPerSource();
            }
        }

        // Up to MAX_RUNS runs go through the faults; whatever they left is one calm run from installed (seed
        // 6284751569604385804 needed a 16th faulted run for pair-2:2 in a full run: every read before a registration
        // must get through too).
        try (AgentInstaller calm = MotoEcs.installer(MotoEcs.target().build())
                .journalDirectory(journals)
                .build()) {
            Optional<ApplyResult> finished = Patiently.finishCalmly(calm);
            if (finished.isPresent()) {
                assertJournalMatchesLiveState(
                        Journal.read(finished.get().journal().orElseThrow()));
            }
        }

        for (String service : originals.keySet()) {
            assertThat(installed(service)).as(service + " installed in the end").isTrue();
        }
        assertAtMostOneRevisionPerSource();
        assertThat(proxy.faultsInjected()).as("faults were injected").isPositive();
        if (faultRate >= 0.3 && !kinds.equals(REFUSED_UPDATES)) { // at 5 %, split five ways, a kind may not come up
            assertThat(proxy.faults().get(Fault.LOST_RESPONSE))
                    .as("answers were lost")
                    .isPositive();
        }
        // Lost answers are read back and mostly reported applied, and at 5 or 15 % a seed may fault no mutating call
        // of the apply with a kind that fails it: only 30 % of every kind with one attempt fails a change for sure.
        if (attempts == 1 && faultRate >= 0.3 && !kinds.equals("lost answers only")) {
            assertThat(failedChanges)
                    .as("with one attempt per call, faults fail some changes: the re-run is exercised")
                    .isPositive();
        }
        System.out.printf(
                "ECS faults at %.0f %% (%s), %d attempts: %s; %d failed changes, %d with an unknown outcome,"
                        + " RegisterTaskDefinition sent %d times%n",
                faultRate * 100,
                kinds,
                attempts,
                proxy.faults(),
                failedChanges,
                unknownOutcomes,
                proxy.requests("RegisterTaskDefinition"));
    }

    private void service(String name, TaskDefinition td) {
        moto.service("prod", name, td);
        originals.put(name, td.taskDefinitionArn());
    }

    /** @return how many changes have an unknown outcome; a failed one must not have landed */
    private int assertResultMatchesLiveState(ApplyResult result) {
        int unknown = 0;
        for (ResourceResult r : result.results()) {
            if (r.change().resourceType().equals(EcsPlanner.TASK_DEFINITION_TYPE)) {
                continue; // checked through the journal, which has the registered revision's ARN
            }
            String service = serviceName(r.change());
            if (r.outcome() == Outcome.UNKNOWN) {
                unknown++;
                installed(service); // either state, but nothing in between
            } else if (r.outcome() == Outcome.APPLIED) {
                assertThat(installed(service)).as(service + " reported " + r).isTrue();
            } else {
                assertThat(installed(service)).as(service + " reported " + r).isFalse();
            }
        }
        return unknown;
    }

    private void assertJournalMatchesLiveState(Journal journal) throws Exception {
        assertThat(journal.interrupted())
                .as("every started change has an outcome")
                .isEmpty();
        for (Change change : journal.plan().mutations()) {
            Optional<Journal.Entry> last = journal.last(change);
            if (change.resourceType().equals(EcsPlanner.TASK_DEFINITION_TYPE)) {
                if (last.isPresent() && last.get().event() == Journal.Event.APPLIED) {
                    String arn =
                            last.get().appliedState().path("taskDefinitionArn").asText();
                    assertThat(madeFrom(moto.describe(arn)))
                            .as(change.resourceId() + " journaled as registered " + arn + ", made from it")
                            .contains(change.resourceId());
                }
                continue;
            }
            if (last.isPresent() && last.get().event() == Journal.Event.UNKNOWN) {
                continue;
            }
            boolean applied = last.map(e -> e.event() == Journal.Event.APPLIED).orElse(false);
            assertThat(installed(serviceName(change)))
                    .as(serviceName(change) + " journaled as " + last)
                    .isEqualTo(applied);
            if (last.isPresent() && last.get().event() == Journal.Event.APPLIED) {
                assertThat(last.get().appliedState().path("taskDefinitionArn").asText())
                        .as("the journal names the revision the service runs, for rollback")
                        .isEqualTo(moto.taskDefinitionOf("prod", serviceName(change)));
            }
        }
        assertThat(Files.readString(journal.path())).doesNotContain(MotoEcs.TOKEN);
    }

    /** No source revision has more than one revision made from it, however many registrations lost their answer. */
    private void assertAtMostOneRevisionPerSource() {
        Map<String, List<String>> madeFrom =
                moto.ecs.listTaskDefinitionsPaginator(r -> r.status("ACTIVE")).taskDefinitionArns().stream()
                        .map(moto::describe)
                        .filter(td -> madeFrom(td).isPresent())
                        .collect(Collectors.groupingBy(
                                td -> madeFrom(td).orElseThrow(),
                                Collectors.mapping(TaskDefinition::taskDefinitionArn, Collectors.toList())));
        madeFrom.forEach((source, revisions) ->
                assertThat(revisions).as("revisions made from " + source).hasSize(1));
    }

    /**
     * @return true when the service runs a revision with the router made from its original revision, false when it
     *     still runs its original revision; fails for anything else
     */
    private boolean installed(String service) {
        String original = originals.get(service);
        String now = moto.taskDefinitionOf("prod", service);
        if (now.equals(original)) {
            return false;
        }
        TaskDefinition td = moto.describe(now);
        assertThat(madeFrom(td))
                .as(service + " runs " + now + ", made from its original")
                .contains(original);
        assertThat(td.containerDefinitions().stream().map(ContainerDefinition::name))
                .as(service + " keeps its own containers")
                .containsAll(moto.describe(original).containerDefinitions().stream()
                        .map(ContainerDefinition::name)
                        .toList());
        return true;
    }

    private static Optional<String> madeFrom(TaskDefinition td) {
        return TaskDefinitions.ourRouter(td).map(r -> r.dockerLabels().get(TaskDefinitions.SOURCE_LABEL));
    }

    private static String serviceName(Change change) {
        return change.resourceId().substring(change.resourceId().lastIndexOf('/') + 1);
    }
}
