package com.cloudaeye.agent;

import static com.cloudaeye.agent.FleetStsStub.DENIED;
import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.spi.ApplyContext;
import com.cloudaeye.agent.spi.JournaledChange;
import com.cloudaeye.agent.spi.TargetContext;
import com.cloudaeye.agent.spi.TargetPlan;
import com.cloudaeye.agent.testing.FakeTarget;
import com.cloudaeye.agent.testing.FakeTarget.Behaviour;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.regions.Region;

/**
 * A fleet run resumed or rolled back over its journals (from an apply's result, or from the store by another fleet
 * installer),
 * and the sinks a fleet gives its installers; STS is {@link FleetStsStub}, whose account {@value
 * FleetStsStub#DENIED} cannot be reached.
 */
class FleetRollbackTest {
    private static final List<String> REACHED = List.of("111111111111", "222222222222");
    private static final List<String> REGIONS = List.of("eu-west-1", "us-east-1");

    @TempDir
    Path journals;

    private final FleetStsStub sts = new FleetStsStub();
    private final FakeTarget target =
            new FakeTarget("fake", null).resource("a1", Behaviour.APPLY).resource("a2", Behaviour.APPLY);

    @AfterEach
    void stop() {
        sts.close();
    }

    @Test
    void rollback_ofAnApplyResult_rollsBackEachAppliedAccountRegionSideBySide() {
        try (FleetInstaller fleet = sts.fleet(journals).target(target).build()) {
            FleetResult installed = fleet.apply(fleet.plan());
            assertThat(installed.failures()).containsOnlyKeys(DENIED);

            FleetResult rolledBack = fleet.rollback(installed);

            assertThat(rolledBack.isSuccess()).as(rolledBack.toString()).isTrue();
            assertSucceededIn(rolledBack, REACHED);
            assertThat(target.rollbackRequests())
                    .hasSize(4)
                    .allSatisfy(r -> assertThat(r).containsExactly(FakeTarget.arn("a1"), FakeTarget.arn("a2")));
            assertThat(target.log().stream().filter(l -> l.startsWith("mutate")))
                    .hasSize(16);
            rolledBack
                    .results()
                    .values()
                    .forEach(regions -> regions.values()
                            .forEach(r -> assertThat(r.journalLocation())
                                    .as("each rollback writes its own journal")
                                    .isPresent()));
        }
    }

    @Test
    void rollback_fromTheStore_byAnotherFleetInstaller_reportsTheUnreachableAccount_andIsNotRepeated() {
        try (FleetInstaller first = sts.fleet(journals).target(target).build()) {
            assertThat(first.apply(first.plan()).results()).containsOnlyKeys(REACHED);
        }

        try (FleetInstaller other = sts.fleet(journals).target(target).build()) {
            FleetResult rolledBack = other.rollback();

            assertSucceededIn(rolledBack, REACHED);
            assertThat(rolledBack.failures()).containsOnlyKeys(DENIED);
            assertThat(rolledBack.failures().get(DENIED))
                    .containsOnlyKeys(REGIONS)
                    .allSatisfy((region, why) -> assertThat(why).contains("Could not assume"));
            assertThat(rolledBack.toString()).contains(DENIED + "  us-east-1  failed: Could not assume");
            assertThat(target.rollbackRequests()).hasSize(4);

            FleetResult again = other.rollback();

            assertThat(again.results()).containsOnlyKeys(REACHED);
            again.results()
                    .values()
                    .forEach(regions -> regions.values()
                            .forEach(r -> assertThat(r.status())
                                    .as("the finished rollback is resumed, not started again")
                                    .isEqualTo(ApplyResult.Status.NOTHING_TO_DO)));
            assertThat(target.rollbackRequests()).hasSize(4);
            assertThat(target.log().stream().filter(l -> l.startsWith("mutate")))
                    .hasSize(16);
        }
    }

    @Test
    void planRollback_fromTheStore_changesNothing_andApplyingItsJsonRollsBackWithJournals() {
        try (FleetInstaller first = sts.fleet(journals).target(target).build()) {
            assertThat(first.apply(first.plan()).results()).containsOnlyKeys(REACHED);
        }
        assertThat(mutations()).hasSize(8);

        try (FleetInstaller other = sts.fleet(journals).target(target).build()) {
            FleetPlan plan = other.planRollback();

            assertThat(plan.kind()).isEqualTo(Plan.Kind.ROLLBACK);
            assertThat(mutations()).as("planning changes nothing").hasSize(8);
            assertThat(plan.plans()).containsOnlyKeys(REACHED);
            plan.plans().values().forEach(regions -> {
                assertThat(regions).containsOnlyKeys(REGIONS);
                regions.values().forEach(p -> {
                    assertThat(p.kind()).isEqualTo(Plan.Kind.ROLLBACK);
                    assertThat(p.mutations())
                            .extracting(Change::resourceId)
                            .containsExactly(FakeTarget.arn("a1"), FakeTarget.arn("a2"));
                });
            });
            assertThat(plan.failures().get(DENIED))
                    .containsOnlyKeys(REGIONS)
                    .allSatisfy((region, why) -> assertThat(why).contains("Could not assume"));
            assertThat(plan.counts()).containsEntry(ChangeAction.UPDATE, 8L);
            assertThat(plan.toString())
                    .startsWith("Fleet rollback plan: 4 account-regions planned, 2 failed")
                    .contains("total", "8 update");
            assertThat(plan.requiredPolicies()).containsOnlyKeys(REACHED);
            assertThat(plan.requiredPolicy(REACHED.get(0)).toJson())
                    .contains("fake:UpdateResource", FakeTarget.arn("a1"), FakeTarget.arn("a2"));
            FleetPlan saved = FleetPlan.fromJson(plan.toJson());
            assertThat(saved).isEqualTo(plan);
            assertThat(saved.kind()).isEqualTo(Plan.Kind.ROLLBACK);

            FleetResult rolledBack = other.apply(saved);

            assertSucceededIn(rolledBack, REACHED);
            assertThat(rolledBack.failures()).containsOnlyKeys(DENIED);
            assertThat(mutations()).hasSize(16);
            rolledBack
                    .results()
                    .values()
                    .forEach(regions -> regions.values()
                            .forEach(r -> assertThat(r.journalLocation())
                                    .as("the applied rollback plan is journaled")
                                    .isPresent()));

            FleetPlan again = other.planRollback();

            assertThat(again.isEmpty()).as(again.toString()).isTrue();
            assertThat(again.plans()).containsOnlyKeys(REACHED);
            again.plans()
                    .values()
                    .forEach(regions -> regions.values()
                            .forEach(p -> assertThat(p.notes())
                                    .singleElement()
                                    .asString()
                                    .startsWith("Rolled back before by the finished rollback journal ")));
            assertThat(again.toString()).contains("no changes (rolled back before)");
            FleetResult resumed = other.rollback();
            resumed.results()
                    .values()
                    .forEach(regions -> regions.values()
                            .forEach(r -> assertThat(r.status())
                                    .as("rollback() resumes the applied rollback plan's journal: nothing left")
                                    .isEqualTo(ApplyResult.Status.NOTHING_TO_DO)));
            assertThat(mutations()).hasSize(16);
        }
    }

    @Test
    void planRollback_whereARollbackDidNotFinish_isAFailureNamingIt_whichRollbackResumes() {
        try (FleetInstaller fleet = sts.fleet(journals).target(target).build()) {
            assertThat(fleet.apply(fleet.plan()).results()).containsOnlyKeys(REACHED);
            target.resource("a1", Behaviour.FAIL);
            FleetResult halfway = fleet.rollback();
            assertThat(halfway.isSuccess()).isFalse();
            int before = mutations().size();

            FleetPlan plan = fleet.planRollback();

            assertThat(mutations()).hasSize(before);
            assertThat(plan.plans()).isEmpty();
            assertThat(plan.failures()).containsOnlyKeys(List.of(REACHED.get(0), REACHED.get(1), DENIED));
            REACHED.forEach(account -> assertThat(plan.failures().get(account))
                    .containsOnlyKeys(REGIONS)
                    .allSatisfy((region, why) -> assertThat(why)
                            .contains("was started before and did not finish (1 change left in its journal ")
                            .contains("rollback() resumes it")
                            .contains("Nothing was planned or changed here")));

            target.resource("a1", Behaviour.APPLY);
            FleetResult finished = fleet.rollback();

            assertSucceededIn(finished, REACHED);
            finished.results()
                    .values()
                    .forEach(regions -> regions.values()
                            .forEach(r -> assertThat(r.results())
                                    .as("only the change left is done again")
                                    .extracting(x -> x.change().resourceId())
                                    .containsExactly(FakeTarget.arn("a1"))));
            assertThat(fleet.planRollback().isEmpty()).isTrue();
        }
    }

    @Test
    void planRollback_ofAResult_plansItsJournals_andReportsAnUnreadableJournal_aMissingOne_andARefusedRole()
            throws Exception {
        try (FleetInstaller fleet = sts.fleet(journals).target(target).build()) {
            FleetResult installed = fleet.apply(fleet.plan());
            String account = REACHED.get(0);
            ApplyResult east = installed.results().get(account).get("us-east-1");
            ApplyResult west = installed.results().get(account).get("eu-west-1");
            try (var files = Files.list(journals.resolve(account).resolve("us-east-1"))) {
                for (Path journal : files.toList()) {
                    Files.writeString(journal, "not a journal\n");
                }
            }
            SortedMap<String, SortedMap<String, ApplyResult>> results = new TreeMap<>(installed.results());
            SortedMap<String, ApplyResult> first = new TreeMap<>(results.get(account));
            first.put(
                    "eu-west-1",
                    ApplyResult.builder()
                            .from(west)
                            .journalLocation(Optional.empty())
                            .build());
            results.put(account, first);
            results.put(DENIED, new TreeMap<>(Map.of("us-east-1", east)));
            FleetResult edited =
                    FleetResult.builder().from(installed).results(results).build();
            int before = mutations().size();

            FleetPlan plan = fleet.planRollback(edited);

            assertThat(mutations()).hasSize(before);
            assertThat(plan.kind()).isEqualTo(Plan.Kind.ROLLBACK);
            assertThat(plan.plans()).containsOnlyKeys(REACHED.get(1));
            assertThat(plan.plans().get(REACHED.get(1))).containsOnlyKeys(REGIONS);
            assertThat(plan.failures().get(account)).containsOnlyKeys(REGIONS);
            assertThat(plan.failures().get(account).get("us-east-1")).contains("has no plan line");
            assertThat(plan.failures().get(account).get("eu-west-1"))
                    .contains("wrote no journal, so it cannot be rolled back");
            assertThat(plan.failures().get(DENIED))
                    .containsOnlyKeys("us-east-1")
                    .allSatisfy((region, why) -> assertThat(why).contains("Could not assume"));

            FleetResult rolledBack = fleet.apply(plan);

            assertThat(rolledBack.results()).containsOnlyKeys(REACHED.get(1));
            assertThat(rolledBack.failures()).containsOnlyKeys(account, DENIED);
            assertThat(mutations()).hasSize(before + 4);
        }
    }

    @Test
    void resume_plansAndAppliesTheRun_inAccountRegionsItNeverReached() {
        try (FleetInstaller interrupted =
                sts.fleet(journals, Region.US_EAST_1).target(target).build()) {
            assertThat(interrupted.apply(interrupted.plan()).results()).containsOnlyKeys(REACHED);
        }

        try (FleetInstaller other = sts.fleet(journals).target(target).build()) {
            FleetResult resumed = other.resume();

            assertThat(resumed.results()).as(resumed.toString()).containsOnlyKeys(REACHED);
            resumed.results().values().forEach(regions -> {
                assertThat(regions).containsOnlyKeys(REGIONS);
                assertThat(regions.get("us-east-1").status()).isEqualTo(ApplyResult.Status.NOTHING_TO_DO);
                assertThat(regions.get("eu-west-1").status()).isEqualTo(ApplyResult.Status.SUCCEEDED);
            });
            assertThat(target.log().stream().filter(l -> l.startsWith("mutate")))
                    .as("2 accounts x 2 regions x 2 resources, each once")
                    .hasSize(8);
        }
    }

    /**
     * A worker that died after its store made the journal and before the plan line leaves a journal without lines:
     * nothing started there (a change's start is journaled before it is sent), so resume and rollback pass over it.
     */
    @Test
    void resume_andRollback_passOverAJournalThatADyingWorkerLeftWithoutAPlanLine() throws Exception {
        try (FleetInstaller interrupted =
                sts.fleet(journals, Region.US_EAST_1).target(target).build()) {
            assertThat(interrupted.apply(interrupted.plan()).results()).containsOnlyKeys(REACHED);
        }
        for (String account : REACHED) {
            Path region = Files.createDirectories(journals.resolve(account).resolve("eu-west-1"));
            Files.writeString(region.resolve("apply-2026-12-03T07-00-00Z-dead-worker.jsonl"), "\n");
        }

        try (FleetInstaller other = sts.fleet(journals).target(target).build()) {
            FleetResult resumed = other.resume();

            assertThat(resumed.results()).as(resumed.toString()).containsOnlyKeys(REACHED);
            resumed.results()
                    .values()
                    .forEach(regions ->
                            assertThat(regions.get("eu-west-1").status()).isEqualTo(ApplyResult.Status.SUCCEEDED));

            FleetResult rolledBack = other.rollback();

            assertSucceededIn(rolledBack, REACHED);
            assertThat(target.rollbackRequests()).hasSize(4);
        }
    }

    @Test
    void resume_ofAnUninstall_uninstallsWhereTheRunNeverReached_andNothingWhereNothingStarted() {
        try (FleetInstaller nothingStarted = sts.fleet(journals).target(target).build()) {
            assertThat(nothingStarted.resume().results()).isEmpty();
        }
        try (FleetInstaller interrupted =
                sts.fleet(journals, Region.US_EAST_1).target(target).build()) {
            interrupted.uninstall();
        }

        try (FleetInstaller other = sts.fleet(journals).target(target).build()) {
            FleetResult resumed = other.resume();

            assertThat(resumed.results()).as(resumed.toString()).containsOnlyKeys(REACHED);
            resumed.results().values().forEach(regions -> assertThat(regions).containsKey("eu-west-1"));
            resumed.results()
                    .values()
                    .forEach(regions -> assertThat(regions.get("eu-west-1").results())
                            .isNotEmpty()
                            .allSatisfy(r -> assertThat(r.change().action()).isEqualTo(ChangeAction.DELETE)));
            assertThat(resumed.results()).containsOnlyKeys(REACHED);
        }
    }

    @Test
    void sink_isGivenToTheInstallerOfEveryAccountRegion() {
        SinkKey<String> key = SinkKey.of("fake.handedOver");
        List<String> perAccountRegion = Collections.synchronizedList(new ArrayList<>());
        List<String> shared = Collections.synchronizedList(new ArrayList<>());
        FakeTarget handing = target.handsOver(key);

        try (FleetInstaller fleet = sts.fleet(journals)
                .target(handing)
                .sinkPerAccountRegion(
                        key,
                        (account, region) -> name -> perAccountRegion.add(account + "/" + region.id() + " " + name))
                .build()) {
            assertThat(fleet.apply(fleet.plan()).failures()).containsOnlyKeys(DENIED);
        }
        try (FleetInstaller fleet =
                sts.fleet(journals).target(handing).sink(key, shared::add).build()) {
            fleet.apply(fleet.plan());
        }

        List<String> expected = new ArrayList<>();
        REACHED.forEach(account -> REGIONS.forEach(
                region -> List.of("a1", "a2").forEach(name -> expected.add(account + "/" + region + " " + name))));
        assertThat(perAccountRegion).containsExactlyInAnyOrderElementsOf(expected);
        assertThat(shared).hasSize(8).containsOnly("a1", "a2");
    }

    /**
     * A rollback and an apply run at once on one fleet installer, in one account: the rollback's failure counts in
     * the rollback's per-account budget, not in the apply's, which goes on. The targets order the two: the rollback
     * starts first, plans its changes only once the apply has started, and the apply changes anything only once the
     * rollback's failure is counted.
     */
    @Test
    void rollback_besideAnApplyInTheSameAccount_countsItsFailuresInItsOwnBudget() throws Exception {
        String account = REACHED.get(0);
        CountDownLatch rollbackStarted = new CountDownLatch(1);
        CountDownLatch applyStarted = new CountDownLatch(1);
        CountDownLatch rollbackFailed = new CountDownLatch(1);
        AtomicBoolean rollingBack = new AtomicBoolean();
        FakeTarget east = new FakeTarget("fake", null) {
            @Override
            public TargetPlan planRollback(List<JournaledChange> journaled, TargetContext context) {
                rollbackStarted.countDown();
                await(applyStarted);
                return super.planRollback(journaled, context);
            }

            @Override
            public void apply(List<Change> changes, ApplyContext context) {
                super.apply(changes, context);
                if (rollingBack.get()) {
                    rollbackFailed.countDown();
                }
            }
        }.resource("e1", Behaviour.APPLY);
        FakeTarget west = new FakeTarget("fake", null) {
            @Override
            public void apply(List<Change> changes, ApplyContext context) {
                applyStarted.countDown();
                await(rollbackFailed);
                super.apply(changes, context);
            }
        }.resource("w1", Behaviour.APPLY).resource("w2", Behaviour.APPLY);
        ExecutorService caller = Executors.newSingleThreadExecutor();
        try (FleetInstaller fleet = sts.fleet(journals)
                .target((a, region) -> region.equals(Region.US_EAST_1) ? east : west)
                .maxFailuresPerAccount(1)
                .build()) {
            FleetPlan plan = fleet.plan();
            FleetResult installed = fleet.apply(only(plan, account, "us-east-1"));
            assertThat(installed.isSuccess()).as(installed.toString()).isTrue();
            east.resource("e1", Behaviour.FAIL);
            rollingBack.set(true);

            CompletableFuture<FleetResult> rollback =
                    CompletableFuture.supplyAsync(() -> fleet.rollback(installed), caller);
            await(rollbackStarted);
            FleetResult applied = fleet.apply(only(plan, account, "eu-west-1"));
            FleetResult rolledBack = rollback.get(60, TimeUnit.SECONDS);

            assertThat(rolledBack.results().get(account).get("us-east-1").withOutcome(ResourceResult.Outcome.FAILED))
                    .as(rolledBack.toString())
                    .hasSize(1);
            assertThat(applied.results().get(account).get("eu-west-1").results())
                    .as("the apply's own budget has no failure: " + applied)
                    .hasSize(2)
                    .allSatisfy(r -> assertThat(r.outcome()).isEqualTo(ResourceResult.Outcome.APPLIED));
        } finally {
            caller.shutdownNow();
        }
    }

    private static FleetPlan only(FleetPlan plan, String account, String region) {
        Plan one = plan.plans().get(account).get(region);
        return FleetPlan.builder()
                .kind(plan.kind())
                .plans(new TreeMap<>(Map.of(account, new TreeMap<>(Map.of(region, one)))))
                .build();
    }

    private static void await(CountDownLatch latch) {
        try {
            if (!latch.await(60, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the other operation never got there");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private List<String> mutations() {
        return target.log().stream().filter(l -> l.startsWith("mutate")).toList();
    }

    private static void assertSucceededIn(FleetResult result, List<String> accounts) {
        assertThat(result.results()).containsOnlyKeys(accounts);
        result.results().values().forEach(regions -> {
            assertThat(regions).containsOnlyKeys(REGIONS);
            regions.values().forEach(r -> assertThat(r.status()).isEqualTo(ApplyResult.Status.SUCCEEDED));
        });
    }
}
