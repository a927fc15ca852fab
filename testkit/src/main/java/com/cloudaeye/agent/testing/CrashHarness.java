package com.cloudaeye.agent.testing;

import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.testing.ThrottlingProxy.Request;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The randomized crash test every target shares. For one seed it runs an apply in a child JVM behind a {@link
 * ThrottlingProxy} that injects the seed's faults, holds the mutating request the seed picks (the k-th one, or the
 * first of an operation the target names, such as {@code CreateAccessKey}), kills the child with SIGKILL while that
 * request waits, then lets the request reach the service or drops it (the seed decides: the kill came after or before
 * the request left), and continues in a fresh JVM: resume or rollback, again by the seed, through a proxy without
 * faults. It checks the invariants:
 *
 * <ul>
 *   <li>in each run, each resource took each mutating call at most once (the requests that reached the service);
 *       across the killed apply and its resume, the target's create-once calls landed at most once in all;
 *   <li>the killed run's journal matches the live state: applied is installed, never started or failed is untouched,
 *       and the change whose mutation was in flight is interrupted (started, no outcome; an interrupted or unknown change
 *       may be anywhere between);
 *   <li>the end state is the plan's (resume) or the state before (rollback), for every resource;
 *   <li>no secret (the API token, an access key's secret) is in any file of the test's directory: journals and the
 *       children's output.
 * </ul>
 *
 * <p>A failure prints the seed and the command that runs it alone ({@link Seeds#run}).
 */
public final class CrashHarness {
    /** A subject's state of a resource that is as it was before the install. */
    public static final String BEFORE = "before";
    /** A subject's state of a resource that is as the install plans it. */
    public static final String INSTALLED = "installed";

    /**
     * The seeds of this run ({@link Seeds#of()}) as a JUnit method source, so a suite needs no factory of its own:
     * {@code @ParameterizedTest(name = "seed {0}") @MethodSource(CrashHarness.SEEDS) void crash(long seed)}.
     */
    public static final String SEEDS = "com.cloudaeye.agent.testing.Seeds#of";

    private CrashHarness() {}

    /**
     * The arguments of a child JVM in the order the targets' children read them, for {@link Subject#args}: the mode,
     * the endpoint, the journal directory, the target's own settings, and last the journal to resume or roll back.
     *
     * @param mode {@code apply}, {@code resume} or {@code rollback}
     * @param endpoint the proxy the child talks to
     * @param journals the directory the child writes its journal to
     * @param journal the journal it resumes or rolls back; null for {@code apply}
     * @param settings the target's own arguments (a layer ARN, a cluster, the change window...)
     * @return the child's arguments
     */
    public static List<String> childArgs(
            String mode, URI endpoint, Path journals, @Nullable Path journal, String... settings) {
        List<String> args = new ArrayList<>(List.of(mode, endpoint.toString(), journals.toString()));
        args.addAll(List.of(settings));
        if (journal != null) {
            args.add(journal.toString());
        }
        return args;
    }

    /** What a target's crash test supplies. */
    public interface Subject {
        /** @return the class whose {@code main} runs one operation and calls {@link ChildJvm#perform} */
        Class<?> child();

        /**
         * @param mode {@code apply}, {@code resume} or {@code rollback}
         * @param endpoint the proxy the child talks to
         * @param journals the directory the child writes its journal to
         * @param journal the journal it resumes or rolls back; null for {@code apply}
         * @return the child's arguments
         */
        List<String> args(String mode, URI endpoint, Path journals, @Nullable Path journal);

        /**
         * The live state of every resource the test follows, read directly from moto, keyed like {@link
         * #changeKey}: {@link #BEFORE}, {@link #INSTALLED}, or anything else (which fails the test) naming what is
         * there instead.
         *
         * @param work the test's directory, with the children's output
         * @return the state per resource
         * @throws Exception when it cannot be read
         */
        Map<String, String> state(Path work) throws Exception;

        /**
         * @param request a request that reached the service
         * @return the key of the resource a mutating request changes (as {@link #changeKey} names it); empty for a
         *     read
         */
        default Optional<String> mutationKey(Request request) {
            return isMutating(request)
                    ? Optional.of(new CallResources(Moto.REGION.id(), Moto.ACCOUNT)
                            .of(request)
                            .get(0)
                            .resource())
                    : Optional.empty();
        }

        /**
         * @param change a planned change
         * @return the key of its resource
         */
        default String changeKey(Change change) {
            return change.resourceId();
        }

        /** @return how many mutating requests a full apply sends: the kill point is drawn among them */
        int mutations();

        /** @return operations that get a kill point of their own for a third of the seeds, e.g. CreateAccessKey */
        default List<String> killPoints() {
            return List.of();
        }

        /** @return actions that land at most once per resource across the killed apply and its resume */
        Set<String> onceAcrossRuns();

        /**
         * @return actions that set a value, so that sending one again after its answer was lost changes nothing (such
         *     as {@code eks:TagResource}): a repeat with the same body within a run counts as one call
         */
        default Set<String> idempotent() {
            return Set.of();
        }

        /**
         * @return per create, the action that undoes it: a create whose answer was lost is undone and sent again (such
         *     as {@code iam:CreateAccessKey}, whose secret only its answer carries, undone by {@code
         *     iam:DeleteAccessKey}), so it may reach a resource once more for each undo of the run
         */
        default Map<String, String> undoneBy() {
            return Map.of();
        }

        /**
         * @param work the test's directory
         * @return values that must never be written to disk: the API token, access keys' secrets
         * @throws Exception when they cannot be read
         */
        List<String> secrets(Path work) throws Exception;
    }

    /**
     * @param request a request
     * @return true unless its operation reads (Describe, List, Get, Head)
     */
    public static boolean isMutating(Request request) {
        String op = operation(request);
        return !(op.startsWith("Describe") || op.startsWith("List") || op.startsWith("Get") || op.startsWith("Head"));
    }

    static String operation(Request request) {
        return request.action().substring(request.action().indexOf(':') + 1);
    }

    /**
     * Runs one seed.
     *
     * @param seed the seed
     * @param module the module of the test, e.g. {@code ecs}
     * @param suite the test's class name
     * @param work a fresh directory for the journals and the children's output
     * @param subject the target's side
     * @throws Exception the failure, with the seed and the command that reproduces it
     */
    public static void run(long seed, String module, String suite, Path work, Subject subject) throws Exception {
        Seeds.run(seed, module, suite, () -> new CrashRun(seed, work, subject).run());
    }
}
