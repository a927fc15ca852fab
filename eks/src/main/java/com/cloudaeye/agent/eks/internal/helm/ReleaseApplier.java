package com.cloudaeye.agent.eks.internal.helm;

import com.cloudaeye.agent.AgentException;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.JournalException;
import com.cloudaeye.agent.spi.ApplyContext;
import com.cloudaeye.agent.spi.TargetContext;
import com.cloudaeye.agent.spi.support.AwsFailures;
import com.cloudaeye.agent.spi.support.OutcomeUnknownException;
import com.cloudaeye.agent.spi.support.ReadBack;
import com.fasterxml.jackson.databind.JsonNode;
import com.marcnuri.helm.Release;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies one release change: installs, upgrades or uninstalls with Helm, waits for the DaemonSet's rollout and undoes
 * a release that did not roll out, and finishes a change an interrupted apply left (already landed, or pending).
 */
final class ReleaseApplier {
    private static final Logger LOG = LoggerFactory.getLogger(ReleaseApplier.class);

    private ReleaseApplier() {}

    /**
     * Applies one change from its {@link ReleaseState} and the installer's agent settings (the token); reports it,
     * except a failure after it started, which it throws read back ({@link #readBack}).
     *
     * @param change a release change
     * @param context the apply context
     */
    static void applyOne(Change change, ApplyContext context) {
        ReleaseState state = ReleaseState.fromJson(change.targetState());
        String namespace = state.namespace();
        String release = state.release();
        ClusterConnection connection;
        Optional<InstalledRelease> installed;
        try {
            connection = ReleaseConnections.forApply(state, context);
            installed = connection.installedRelease(namespace, release);
        } catch (JournalException e) {
            throw e;
        } catch (RuntimeException readError) {
            // This apply sent nothing yet, but the change may be a resumed one (or a plan applied again) whose earlier
            // attempt landed: only the release could tell, so FAILED ("did not land") would be a guess.
            context.unknown(
                    change,
                    AwsFailures.OUTCOME_UNKNOWN + ": reading release " + state.label() + " failed ("
                            + readError.getMessage() + "), so whether an earlier, interrupted attempt of this change"
                            + " landed cannot be told (this attempt sent nothing): " + ReadBack.FIX,
                    readError,
                    null);
            return;
        }
        int planned = state.beforeRevision();
        int current = installed.map(InstalledRelease::revision).orElse(0);
        Duration timeout = state.timeout();
        boolean interrupted = planned == 0
                && installed.isPresent()
                && isInterruptedInstall(change, installed.get(), connection, context);
        // Helm uninstalls a pending release (a rollback's uninstall of an install killed inside Helm); only an install
        // or upgrade is refused.
        if (!interrupted
                && change.action() != ChangeAction.DELETE
                && installed.filter(InstalledRelease::isPending).isPresent()) {
            finishPending(change, context, state, connection, installed.get());
            return;
        }
        if (current != planned && !interrupted) {
            Optional<String> landed = alreadyLanded(change, installed, planned, connection, context);
            if (landed.isPresent()) {
                context.starting(change);
                try {
                    finishLanded(change, context, state, connection, landed.get(), planned, current);
                } catch (JournalException e) {
                    throw e;
                } catch (RuntimeException e) {
                    // It landed: a failure to check its rollout (or to delete the namespace) does not undo that.
                    context.unknown(
                            change,
                            AwsFailures.OUTCOME_UNKNOWN + ": release " + state.label() + " is " + landed.get()
                                    + ", but then: " + e.getMessage() + "; " + ReadBack.FIX,
                            e,
                            null);
                }
                return;
            }
            context.skipped(
                    change,
                    "Release " + namespace + "/" + release + " changed since planning (revision " + current
                            + ", planned from " + planned + ")"
                            + (installed.isPresent()
                                            && installed.get().manifest().isEmpty()
                                    ? "; its manifests cannot be read through " + connection.describe()
                                            + " to tell whether an interrupted apply made that revision"
                                    : "")
                            + ": plan again.");
            return;
        }
        if (change.action() != ChangeAction.DELETE && !interrupted) {
            // The plan's pre-flight, asked again: a quota, policy or label may have come since planning. Nothing is
            // sent before it, so its refusal (or a failure to ask) is a change that did not land.
            Optional<String> refused;
            try {
                refused = admissionRefusal(change, context, state, connection);
            } catch (RuntimeException e) {
                context.failed(
                        change,
                        "Release " + state.label() + " was not changed: the API server could not be asked whether it"
                                + " admits the agent's pods (" + e.getMessage() + ")",
                        e);
                return;
            }
            if (refused.isPresent()) {
                context.failed(change, "Release " + state.label() + " was not changed: " + refused.get(), null);
                return;
            }
        }
        context.starting(change);
        int before = interrupted ? 0 : current;
        try {
            applyStarted(change, context, state, connection, installed, before, interrupted, timeout);
        } catch (JournalException e) {
            throw e;
        } catch (RuntimeException e) {
            throw readBack(connection, state, before, e);
        }
    }

    /**
     * A release Helm left pending refuses every operation. When it is this change's own (the revision its interrupted
     * apply made, of our chart, with the manifests it renders; or the one its rollback found so), the revision is
     * marked failed, as Helm records a failed operation, and the upgrade goes ahead; anyone else's is left alone,
     * with the command that resolves it.
     */
    private static void finishPending(
            Change change,
            ApplyContext context,
            ReleaseState state,
            ClusterConnection connection,
            InstalledRelease left) {
        String namespace = state.namespace();
        String release = state.release();
        Optional<KubeApi> api = connection.api();
        if (api.isEmpty() || !isOwnPending(change, state, left, connection, context)) {
            context.skipped(change, PendingReleases.reason(connection, namespace, release, left));
            return;
        }
        int before = state.beforeRevision();
        context.starting(change);
        try {
            LOG.info(
                    "Marking revision {} of Helm release {}/{} failed: an interrupted apply of this change left it {}",
                    left.revision(),
                    namespace,
                    release,
                    left.status());
            api.get().markFailed(namespace, release, left.revision());
            applyStarted(change, context, state, connection, Optional.of(left), before, false, state.timeout());
        } catch (JournalException e) {
            throw e;
        } catch (RuntimeException e) {
            throw readBack(connection, state, before, e);
        }
    }

    /**
     * Whether a pending revision is this change's own: an upgrade of our chart, and either a pending-upgrade revision
     * above the planned one with only this change's own revisions ({@link #onlyOwnRevisionsAbovePlanned}) above the planned one (its
     * interrupted apply, and the interrupted resumes of it), or the one its rollback planned to mark failed.
     */
    private static boolean isOwnPending(
            Change change,
            ReleaseState state,
            InstalledRelease left,
            ClusterConnection connection,
            ApplyContext context) {
        if (change.action() != ChangeAction.UPDATE || !ChartFiles.ID.equals(left.chart())) {
            return false;
        }
        Integer toFail = state.pendingToFail();
        if (toFail != null) {
            return toFail == left.revision() && left.revision() == state.beforeRevision();
        }
        // The newest revision is among those onlyOwnRevisionsAbovePlanned checks.
        return "pending-upgrade".equals(left.status())
                && left.revision() > state.beforeRevision()
                && onlyOwnRevisionsAbovePlanned(change, connection, context);
    }

    /**
     * Whether every revision above the change's planned before-revision is its own (one an interrupted attempt of it
     * made, as Helm records the revision before it changes anything: of our chart, with the manifests this change
     * renders), and there is one: an upgrade killed inside Helm, then its resume killed inside Helm too, leaves one
     * revision per attempt (the earlier ones marked failed by the resume that followed); an install leaves revision 1
     * ({@link #isInterruptedInstall}). One revision by anyone else among them
     * (other values, another chart) and the release is not left as this change's attempts left it. False when the
     * release's revisions cannot be read (a caller's kubeconfig).
     *
     * @param change an install or upgrade
     * @param connection how to reach the cluster
     * @param context the context, for the agent token the manifests hold
     */
    static boolean onlyOwnRevisionsAbovePlanned(Change change, ClusterConnection connection, TargetContext context) {
        ReleaseState state = ReleaseState.fromJson(change.targetState());
        Optional<KubeApi> api = connection.api();
        if (api.isEmpty()) {
            return false;
        }
        List<InstalledRelease> above =
                api.get().helmRevisionsAbove(state.namespace(), state.release(), state.beforeRevision());
        if (above.isEmpty()) {
            return false;
        }
        Manifests desired = desiredManifests(change, context); // rendered once for every revision
        return above.stream()
                .allMatch(revision -> ChartFiles.ID.equals(revision.chart()) && renders(desired, revision));
    }

    /**
     * Finishes a change an earlier attempt landed (the release already is as planned): an uninstall deletes the
     * namespace it created; an install or upgrade still has its rollout to check, and is undone when that fails.
     */
    private static void finishLanded(
            Change change,
            ApplyContext context,
            ReleaseState state,
            ClusterConnection connection,
            String landed,
            int planned,
            int current) {
        String namespace = state.namespace();
        String release = state.release();
        Duration timeout = state.timeout();
        Optional<KubeApi> api = connection.api();
        if (change.action() == ChangeAction.DELETE || api.isEmpty()) {
            String namespaceDeleted = change.action() == ChangeAction.DELETE
                    ? ReleaseNamespaces.deleteOwnNamespace(connection, namespace, release, timeout)
                    : "";
            context.applied(change, landed + namespaceDeleted, null);
            return;
        }
        // An apply killed during its rollout wait left the release deployed: the rollout is still to check.
        String daemonSet = AgentChart.fullName(release);
        Rollout rollout;
        RolloutWatch watch = RolloutWatch.start(api.get(), namespace, daemonSet);
        try {
            rollout = watch.awaitComplete(Instant.now().plus(timeout));
        } finally {
            watch.close();
        }
        if (!rollout.complete()) {
            Undo undone = undo(connection, state, context, timeout, planned);
            report(
                    change,
                    context,
                    undone,
                    notRolledOut(watch, namespace, daemonSet, String.valueOf(current), timeout, rollout)
                            + undone.message());
            return;
        }
        context.applied(change, landed + ", rolled out to " + rollout.desired() + " node(s)", null);
    }

    /** The change after its start was journaled: from here on, a failure is read back before it is reported. */
    private static void applyStarted(
            Change change,
            ApplyContext context,
            ReleaseState state,
            ClusterConnection connection,
            Optional<InstalledRelease> installed,
            int before,
            boolean interrupted,
            Duration timeout) {
        String namespace = state.namespace();
        String release = state.release();
        if (interrupted) {
            // Helm refuses to install over a release that has a revision: the killed attempts' release goes, with the
            // objects they made, and the install starts again (in the namespace they created, still this one's).
            LOG.info(
                    "Uninstalling Helm release {}/{}, left {} by an interrupted install",
                    namespace,
                    release,
                    installed.map(InstalledRelease::status).orElse("?"));
            AgentChart.uninstall(connection, release, namespace);
        }
        if (change.action() == ChangeAction.DELETE) {
            String message = "not installed";
            if (installed.isPresent()) {
                LOG.info("Uninstalling Helm release {}/{}", namespace, release);
                message = AgentChart.uninstall(connection, release, namespace).strip();
            }
            message = (message.isEmpty() ? "uninstalled" : message)
                    + ReleaseNamespaces.deleteOwnNamespace(connection, namespace, release, timeout);
            context.applied(change, message, null);
            return;
        }
        boolean ownNamespace =
                before == 0 && ReleaseNamespaces.createNamespace(connection, namespace, release, timeout);
        LOG.info("Installing or upgrading Helm release {}/{}", namespace, release);
        Instant deadline = Instant.now().plus(timeout);
        Optional<KubeApi> api = connection.api();
        if (api.isEmpty()) {
            // Only Helm can use these credentials: its own wait is all there is, and Helm made any namespace.
            Release result = installOrUpgrade(connection, state, context, timeout, before == 0);
            context.applied(change, "revision " + result.getRevision() + " " + result.getStatus(), applied(result));
            return;
        }
        String daemonSet = AgentChart.fullName(release);
        Release result;
        // A first install's refused DaemonSet is deleted to end Helm's wait: its atomic failure uninstalls it anyway.
        RolloutWatch watch = RolloutWatch.start(api.get(), namespace, daemonSet, before == 0);
        try {
            result = installOrUpgrade(connection, state, context, timeout, before == 0);
        } catch (AgentException e) {
            // The atomic install removed what it made; the namespace this apply made goes too.
            String why = watch.refused()
                    .map(refusal -> "Release " + state.label() + " did not roll out: "
                            + watch.refusedMessage(refusal)
                            + (watch.endedHelmsWait()
                                    ? " The installer deleted the DaemonSet so that Helm's wait ended at once instead"
                                            + " of after its " + timeout.toSeconds() + " s timeout, and Helm's"
                                            + " atomic install removed the release"
                                    : "")
                            + " (Helm: " + e.getMessage() + ")")
                    .orElseGet(() -> e.getMessage()
                            + watch.lastSeen()
                                    .map(r ->
                                            "; DaemonSet " + namespace + "/" + daemonSet + " had not rolled out: " + r)
                                    .orElse("")
                            + watch.eventsNote());
            throw new AgentException(why + (ownNamespace ? dropOwnNamespace(connection, namespace, release) : ""));
        } finally {
            watch.close();
        }
        // Helm's wait lets maxUnavailable pods be not ready and passes a DaemonSet that matches no node.
        Rollout rollout = watch.awaitComplete(deadline);
        if (!rollout.complete()) {
            Undo undone = undo(connection, state, context, timeout, before);
            report(
                    change,
                    context,
                    undone,
                    notRolledOut(watch, namespace, daemonSet, result.getRevision(), timeout, rollout)
                            + undone.message()
                            + (ownNamespace && undone.done() ? dropOwnNamespace(connection, namespace, release) : ""));
            return;
        }
        context.applied(
                change,
                "revision " + result.getRevision() + " " + result.getStatus() + ", rolled out to " + rollout.desired()
                        + " node(s)",
                applied(result));
    }

    /**
     * Why a DaemonSet did not roll out after Helm: the API server refused its pods (the wait ended early), or the
     * timeout passed; followed by what undoing the revision did.
     *
     * @return the failure's start, ending where the undo's message goes
     */
    private static String notRolledOut(
            RolloutWatch watch,
            String namespace,
            String daemonSet,
            String revision,
            Duration timeout,
            Rollout rollout) {
        return watch.refused()
                .map(refusal -> "Release revision " + revision + ": " + watch.refusedMessage(refusal) + " Then: ")
                .orElseGet(() -> "DaemonSet " + namespace + "/" + daemonSet + " of release revision " + revision
                        + " did not roll out within " + timeout.toSeconds() + " s: " + rollout + watch.eventsNote()
                        + "; ");
    }

    /** Deletes the namespace this apply created for a release that did not land; says what happened. */
    private static String dropOwnNamespace(ClusterConnection connection, String namespace, String release) {
        try {
            String deleted = ReleaseNamespaces.deleteOwnNamespace(connection, namespace, release, Duration.ZERO);
            return deleted.isEmpty() ? "" : deleted + " (this apply created it)";
        } catch (RuntimeException e) {
            return "; namespace " + namespace + ", which this apply created, stays: deleting it failed ("
                    + e.getMessage() + ")";
        }
    }

    private static Release installOrUpgrade(
            ClusterConnection connection, ReleaseState state, ApplyContext context, Duration timeout, boolean first) {
        return AgentChart.installOrUpgrade(
                connection,
                state.release(),
                state.namespace(),
                state.values(),
                context.agent().apiToken(),
                timeout,
                first);
    }

    private static JsonNode applied(Release result) {
        return new ReleaseState.Applied(result.getRevision()).toJson();
    }

    /**
     * Undoes a release whose DaemonSet did not roll out, as Helm's atomic install does for its own wait: a first
     * install is uninstalled, an upgrade gets the values of the revision before it back.
     *
     * @return what is left, for the failure message
     */
    private static Undo undo(
            ClusterConnection connection, ReleaseState state, ApplyContext context, Duration timeout, int before) {
        String label = state.label();
        JsonNode beforeValues = state.beforeValues();
        try {
            if (before == 0) {
                AgentChart.uninstall(connection, state.release(), state.namespace());
                return new Undo(true, "release " + label + " was uninstalled");
            }
            Optional<String> foreignChart = state.beforeChartNotRestorable();
            if (foreignChart.isPresent()) {
                return new Undo(false, "it stays at revision " + (before + 1) + ": " + foreignChart.get());
            }
            if (beforeValues == null) {
                return new Undo(
                        false,
                        "release " + label + " stays at revision " + (before + 1) + " since the values of revision "
                                + before + " could not be read through " + connection.describe()
                                + ": fix the options and apply again");
            }
            ReleaseState restore = state.next(state.beforeRevision(), beforeValues, beforeValues, state.beforeChart());
            Release restored = installOrUpgrade(connection, restore, context, timeout, false);
            return new Undo(
                    true, "the values of revision " + before + " were restored as revision " + restored.getRevision());
        } catch (JournalException e) {
            throw e;
        } catch (RuntimeException e) {
            return new Undo(
                    false,
                    "undoing it failed too (" + e.getMessage() + "), so release " + label + " is left as it is:"
                            + " check it with 'helm history' and plan again");
        }
    }

    /** What undoing a release that did not roll out left: {@code done} when the release is as it was before. */
    private record Undo(boolean done, String message) {}

    /** FAILED only when the undo put the release back as it was; else the new revision stays: UNKNOWN. */
    private static void report(Change change, ApplyContext context, Undo undo, String message) {
        if (undo.done()) {
            context.failed(change, message, null);
        } else {
            context.unknown(change, AwsFailures.OUTCOME_UNKNOWN + ": " + message + "; " + ReadBack.FIX, null, null);
        }
    }

    /**
     * Helm or the API server failed after the change started: reads the release back. Its error stands (FAILED) when
     * the release is at the revision it had before (an atomic install or upgrade removed what it made; an uninstall
     * left the release); else the change may have landed in part, or the release could not be read: UNKNOWN.
     *
     * @param before the release's revision before this change, 0 when it was not installed
     */
    static RuntimeException readBack(
            ClusterConnection connection, ReleaseState state, int before, RuntimeException error) {
        Optional<InstalledRelease> now;
        try {
            now = connection.installedRelease(state.namespace(), state.release());
        } catch (RuntimeException readError) {
            return new OutcomeUnknownException(
                    AwsFailures.OUTCOME_UNKNOWN + ": " + error.getMessage() + "; reading release " + state.label()
                            + " back failed too (" + readError.getMessage() + "): " + ReadBack.FIX,
                    error);
        }
        return readBack(state.label(), now, before, state.beforeValues(), state.beforeChart(), error);
    }

    /**
     * The decision of {@link #readBack(ClusterConnection, ReleaseState, int, RuntimeException)}: the release's
     * revision now against the one before (0: not installed), for installs, upgrades and uninstalls alike; a newer
     * revision past the next, deployed with the chart and the values of the one before, is Helm's atomic rollback of a
     * failed upgrade.
     *
     * @param beforeValues the values of the revision before (the token removed), null when not readable
     * @param beforeChart the chart of the revision before, null when not recorded
     */
    static RuntimeException readBack(
            String label,
            Optional<InstalledRelease> now,
            int before,
            @Nullable JsonNode beforeValues,
            @Nullable String beforeChart,
            RuntimeException error) {
        int revisionNow = now.map(InstalledRelease::revision).orElse(0);
        if (revisionNow == before) {
            return error;
        }
        // Helm's atomic upgrade rolls a failed upgrade back as a new revision after the failed one (before + 2), with
        // the former chart and values: as before. The next revision deployed with the same values is an upgrade that
        // landed (a token rotation, a new chart), not a rollback; so is one of another chart than before.
        boolean rolledBack = before > 0
                && revisionNow >= before + 2
                && beforeValues != null
                && beforeChart != null
                && now.filter(r -> beforeChart.equals(r.chart())).isPresent()
                && now.filter(InstalledRelease::isDeployed)
                        .flatMap(InstalledRelease::values)
                        .filter(beforeValues::equals)
                        .isPresent();
        if (rolledBack) {
            return error;
        }
        return new OutcomeUnknownException(
                AwsFailures.OUTCOME_UNKNOWN + ": " + error.getMessage() + "; yet release " + label + " is now "
                        + now.map(r -> "at revision " + r.revision() + " (" + r.status() + ")")
                                .orElse("not installed")
                        + " where it was " + (before == 0 ? "not installed" : "at revision " + before)
                        + ": " + ReadBack.FIX,
                error);
    }

    /**
     * Whether the change already landed, e.g. an apply killed after Helm finished but before its journal said so: an
     * uninstall left no release; an install or upgrade left its newest revision deployed, and only revisions of its
     * own above the planned one ({@link #onlyOwnRevisionsAbovePlanned}: the earlier ones an interrupted attempt
     * left, failed). Without readable manifests (a caller's kubeconfig) nothing is assumed.
     *
     * @return what to report as applied, or empty when the release changed some other way
     */
    private static Optional<String> alreadyLanded(
            Change change,
            Optional<InstalledRelease> installed,
            int planned,
            ClusterConnection connection,
            ApplyContext context) {
        String label = ReleaseState.fromJson(change.targetState()).label();
        if (change.action() == ChangeAction.DELETE) {
            return installed.isEmpty() ? Optional.of("already uninstalled") : Optional.empty();
        }
        if (installed.isEmpty()
                || installed.get().revision() <= planned
                || !installed.get().isDeployed()
                || !ChartFiles.ID.equals(installed.get().chart())) {
            return Optional.empty();
        }
        InstalledRelease release = installed.get();
        // The newest revision (deployed, our chart, above the planned one) is among those checked here.
        return onlyOwnRevisionsAbovePlanned(change, connection, context)
                ? Optional.of("already at revision " + release.revision() + " of " + label + ", with the planned"
                        + " manifests")
                : Optional.empty();
    }

    /**
     * Whether a first install was interrupted inside Helm, once or more, and the release is as only its attempts leave
     * it: not deployed, and every revision this change's own ({@link #onlyOwnRevisionsAbovePlanned}). The install
     * killed inside Helm leaves revision 1 {@code pending-install} (or {@code failed} or {@code uninstalling}, killed
     * while Helm's atomic install undid itself). Its resume uninstalls that revision and installs again, so a resume
     * killed inside Helm too leaves revision 1 {@code uninstalling} (Helm records that before it deletes anything),
     * no release, or revision 1 {@code pending-install} again. Without readable manifests (a caller's kubeconfig)
     * nothing is assumed.
     */
    private static boolean isInterruptedInstall(
            Change change, InstalledRelease installed, ClusterConnection connection, ApplyContext context) {
        return change.action() == ChangeAction.CREATE
                && !installed.isDeployed()
                && onlyOwnRevisionsAbovePlanned(change, connection, context);
    }

    /** Whether a revision holds the desired manifests; false without readable manifests. */
    private static boolean renders(Manifests desired, InstalledRelease release) {
        return release.manifest()
                .map(manifest -> desired.changesFrom(Manifests.parse(manifest)).isEmpty())
                .orElse(false);
    }

    /**
     * The pre-flight of {@link ReleasePlanner}, asked again before Helm runs: a dry-run create of one agent pod in the
     * release namespace ({@link PodPreflight}). Not asked when the namespace is missing (the install creates it) or
     * terminating, when the API is not reachable through the connection, or when the caller may not create pods.
     *
     * @return why the API server refuses the agent's pods, with the fix; empty when it admits them (or was not asked)
     */
    private static Optional<String> admissionRefusal(
            Change change, TargetContext context, ReleaseState state, ClusterConnection connection) {
        Optional<KubeApi> api = connection.api();
        if (api.isEmpty()) {
            return Optional.empty();
        }
        Optional<JsonNode> namespace = api.get().namespace(state.namespace());
        if (namespace.isEmpty() || namespace.get().path("metadata").has("deletionTimestamp")) {
            return Optional.empty();
        }
        return PodPreflight.check(
                        api.get(),
                        state.namespace(),
                        state.release(),
                        desiredManifests(change, context),
                        context.agent().apiToken())
                .refusal();
    }

    /** The manifests the change renders (the chart with its values and the agent token). */
    private static Manifests desiredManifests(Change change, TargetContext context) {
        ReleaseState state = ReleaseState.fromJson(change.targetState());
        return Manifests.parse(AgentChart.render(
                state.release(),
                state.namespace(),
                state.values(),
                context.agent().apiToken()));
    }
}
