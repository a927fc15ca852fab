package com.cloudaeye.agent;

import com.cloudaeye.agent.internal.FleetSpec;
import java.util.SortedSet;
import java.util.TreeSet;
import software.amazon.awssdk.services.sts.auth.StsAssumeRoleCredentialsProvider;

/**
 * Installs the agent into many AWS accounts and regions at once. The accounts are given, or found in AWS
 * Organizations ({@link FleetInstallerBuilder#organization()}, {@link FleetInstallerBuilder#organizationalUnits(String...)}); the regions are
 * given, or those enabled in each account ({@link FleetInstallerBuilder#allEnabledRegions()}). Each account is reached by {@code
 * sts:AssumeRole} into a named role (the SDK's {@link StsAssumeRoleCredentialsProvider}, fetching new credentials from
 * 5 minutes before they expire), with a session name that identifies the run; each account-region gets its own
 * {@link AgentInstaller}, so its own rate limits, scheduler and journal. Account-regions run side by side, at most
 * {@link FleetInstallerBuilder#maxParallel(int)} at once; one that fails (a missing role, access denied, throttled past its
 * retries) is reported in the plan or result and never stops the others, up to {@link FleetInstallerBuilder#maxFailures(int)}
 * over the fleet and {@link FleetInstallerBuilder#maxFailuresPerAccount(int)} per account.
 *
 * <pre>{@code
 * try (FleetInstaller fleet = FleetInstaller.builder()
 *         .accounts("111111111111", "222222222222")
 *         .roleName("CloudAEyeInstaller").externalId(externalId)
 *         .regions(Region.US_EAST_1, Region.EU_WEST_1)
 *         .agent(a -> a.logsEndpoint("https://logs.example.cloudaeye.com").apiToken(Secret.of(token)))
 *         .target((account, region) -> LambdaTarget.builder().functions("*").layer(Architecture.X86_64, layerArn(region)).build())
 *         .build()) {
 *     FleetPlan plan = fleet.plan();
 *     System.out.println(plan);                                  // per account-region counts, failures, totals
 *     System.out.println(plan.requiredPolicy("111111111111").toJson());
 *     FleetResult result = fleet.apply(plan);
 *     FleetPlan undo = fleet.planRollback(result);                // read-only: review it, save undo.toJson()
 *     fleet.apply(undo);                                          // or later: fleet.apply(FleetPlan.fromJson(saved))
 * }
 * }</pre>
 *
 * <p>Thread-safe. Closing it closes the installers, credential providers and threads it made.
 */
public final class FleetInstaller implements AutoCloseable {
    private final FleetSpec.Assembled fleet;

    FleetInstaller(FleetSpec.Assembled fleet) {
        this.fleet = fleet;
    }

    /** @return a new builder */
    public static FleetInstallerBuilder builder() {
        return new FleetInstallerBuilder();
    }

    /** @return the role session name every account's session carries, which identifies this run in CloudTrail */
    public String sessionName() {
        return fleet.sessionName();
    }

    /**
     * @return the fleet's account IDs, sorted: those given and, with {@link FleetInstallerBuilder#organization()}, those found in
     *     AWS Organizations (listed once, on first use), less those excluded
     * @throws PlanningException when Organizations cannot be read
     */
    public SortedSet<String> accounts() {
        return new TreeSet<>(fleet.engine().accounts());
    }

    /**
     * Plans the install in every account and region with read-only calls, side by side. An account-region where a
     * target's selection matches nothing (no function there, say) is not a failure: that target plans no changes there,
     * and the account-region's plan says so in its {@link Plan#notes()} (and the table in its row).
     *
     * @return the fleet plan; account-regions that could not be planned are in its {@link FleetPlan#failures()}
     * @throws PlanningException when the organization's accounts cannot be listed, or the fleet has no account (no
     *     ACTIVE account found, or every one excluded)
     */
    public FleetPlan plan() {
        return fleet.engine().plan(Plan.Kind.INSTALL, AgentInstaller::plan);
    }

    /**
     * Plans removing what the installer added, in every account and region, with read-only calls.
     *
     * @return the fleet uninstall plan; apply it with {@link #apply(FleetPlan)}
     */
    public FleetPlan planUninstall() {
        return fleet.engine().plan(Plan.Kind.UNINSTALL, AgentInstaller::planUninstall);
    }

    /**
     * Applies a fleet plan: each account-region's plan by its own installer, side by side. An account-region that
     * fails is reported and the others go on; the account-regions the plan could not plan are reported as failed.
     * Once {@link FleetInstallerBuilder#maxFailures(int)} changes failed over the fleet (or {@link
     * FleetInstallerBuilder#maxFailuresPerAccount(int)} in one account), no new change starts there: the account-regions not yet
     * started report their changes {@code NOT_ATTEMPTED} with the reason, and changes already in flight finish.
     *
     * <p>A rollback plan ({@link #planRollback()}, {@link #planRollback(FleetResult)}) is applied as {@link
     * AgentInstaller#apply(Plan)} applies a single region's rollback plan: exactly the planned changes, each checked by
     * its target against the live state first, and journaled, so the rollback can itself be resumed ({@link
     * #resume()}) or rolled back. With an {@link S3JournalStore}, each account-region applies its part under the lease
     * of the journal it rolls back, as {@link #rollback()} does: refused (reported as that account-region's failure,
     * nothing changed there) while the worker that wrote the journal holds its lease, or when that run went on after
     * the plan was made; the others go on.
     *
     * @param plan a plan made by {@link #plan()}, {@link #planUninstall()} or {@link #planRollback()}, or read with
     *     {@link FleetPlan#fromJson(String)}
     * @return per account-region: the apply result (with its journal), or why nothing was applied, or both when an
     *     apply stopped part way
     * @throws ConfigurationException when the plan names an account or region that this fleet does not have
     */
    public FleetResult apply(FleetPlan plan) {
        return fleet.engine().apply(plan);
    }

    /**
     * Plans and applies the uninstall over the fleet.
     *
     * @return the result
     */
    public FleetResult uninstall() {
        return apply(planUninstall());
    }

    /**
     * Resumes the run that another worker (another JVM, another machine) started with the same journal store: in
     * every account-region of this fleet whose store holds a journal, the latest one is resumed ({@link
     * AgentInstaller#resume(Journal)}): nothing that landed is applied twice. An account-region the run never reached
     * (no journal: its worker died first) gets the run's install or uninstall (the kind of the other account-regions'
     * journals) planned and applied, so that a resume finishes the whole run, as a job system's retry of a shard
     * expects. With an {@link S3JournalStore}, a journal whose writer still holds its lease is refused (reported as
     * that account-region's failure) until the lease expires; the others go on.
     *
     * @return per account-region: the result of the remaining work, or why it could not be resumed
     * @throws ConfigurationException when journaling is turned off
     */
    public FleetResult resume() {
        return fleet.engine().resume(fleet.journals());
    }

    /**
     * Plans the rollback that {@link #rollback()} would make, with read-only calls, side by side as {@link #plan()}
     * runs: in every account-region of this fleet whose store holds an install or uninstall journal, the latest one's
     * rollback is planned ({@link AgentInstaller#planRollback(Journal)}). Review it (its table, {@link
     * FleetPlan#toJson()}, {@link FleetPlan#requiredPolicy(String)} per account), save it, and apply exactly it with
     * {@link #apply(FleetPlan)}. An account-region where a rollback of that journal was started before (its journal is
     * newer) is not planned again, so applying the plan never restores anything twice: when that rollback finished,
     * its plan is empty and says so in its {@link Plan#notes()} (the table shows {@code (rolled back before)}); when it
     * did not, the account-region is a failure naming that rollback's journal, which {@link #rollback()} resumes. An
     * account-region whose journals cannot be read, or an account whose role cannot be assumed, is in the plan's
     * {@link FleetPlan#failures()} and never stops the others.
     *
     * @return the fleet plan, of kind {@link Plan.Kind#ROLLBACK}; account-regions without a journal are not in it
     * @throws ConfigurationException when journaling is turned off
     * @throws PlanningException when the organization's accounts cannot be listed
     */
    public FleetPlan planRollback() {
        return fleet.engine().planRollback(fleet.journals());
    }

    /**
     * Plans the rollback of what a fleet apply did, with read-only calls, side by side: each account-region's journal
     * named in the result ({@link ApplyResult#journalLocation()}) has its rollback planned ({@link
     * AgentInstaller#planRollback(Journal)}); an account-region whose apply changed nothing is left out. Apply it with
     * {@link #apply(FleetPlan)}. An account-region whose journal cannot be read, or whose apply may have changed
     * something but wrote no journal, or an account whose role cannot be assumed, is in the plan's {@link
     * FleetPlan#failures()} and never stops the others.
     *
     * @param applied the result of {@link #apply(FleetPlan)} or {@link #resume()} of this fleet (or one read back
     *     with the same accounts and regions)
     * @return the fleet plan, of kind {@link Plan.Kind#ROLLBACK}
     * @throws ConfigurationException when journaling is turned off, or the result names an account or region that
     *     this fleet does not have
     */
    public FleetPlan planRollback(FleetResult applied) {
        return fleet.engine().planRollback(fleet.journals(), applied);
    }

    /**
     * Rolls back a fleet run with its journals, on this machine or on another one that has the run's journal store
     * (an {@link S3JournalStore} with the run's prefix): in every account-region of this fleet whose store holds an
     * install or uninstall journal, the latest one is rolled back ({@link AgentInstaller#rollback(Journal)}), each
     * account-region on its own installer, side by side as {@link #apply(FleetPlan)} runs them and under the same
     * failure limits. Where a rollback of that journal was started before (its journal is newer), it is resumed
     * instead, so a rollback interrupted half-way is finished by calling this again. With an {@link S3JournalStore}, an
     * account-region whose journal's writer still holds its lease is refused and reported, and the others go on. It
     * finds the journals as {@link #planRollback()} does, and each account-region plans and applies its rollback on
     * its own installer (under the journal's lease, with an {@link S3JournalStore}), rather than from one fleet plan:
     * to review first, use {@link #planRollback()} and {@link #apply(FleetPlan)}.
     *
     * @return per account-region with a journal: the rollback's result (with its own journal), or why it was not
     *     rolled back; an account whose role cannot be assumed is reported per region and never stops the others
     * @throws ConfigurationException when journaling is turned off
     */
    public FleetResult rollback() {
        return fleet.engine().rollback(fleet.journals());
    }

    /**
     * Rolls back what a fleet apply did: each account-region's journal named in the result ({@link
     * ApplyResult#journalLocation()}) is rolled back ({@link AgentInstaller#rollback(Journal)}), side by side as
     * {@link #apply(FleetPlan)} runs them and under the same failure limits. An account-region whose apply changed
     * nothing is left out. To review the rollback first, use {@link #planRollback(FleetResult)} and {@link
     * #apply(FleetPlan)}.
     *
     * @param applied the result of {@link #apply(FleetPlan)} or {@link #resume()} of this fleet (or one read back
     *     with the same accounts and regions)
     * @return per account-region: the rollback's result, or why it was not rolled back
     * @throws ConfigurationException when journaling is turned off, or the result names an account or region that
     *     this fleet does not have
     */
    public FleetResult rollback(FleetResult applied) {
        return fleet.engine().rollback(fleet.journals(), applied);
    }

    /** Closes the installers, credential providers and threads this fleet made; a caller's STS client stays open. */
    @Override
    public void close() {
        fleet.close();
    }
}
