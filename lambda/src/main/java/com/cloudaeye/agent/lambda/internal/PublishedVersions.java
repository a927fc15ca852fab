package com.cloudaeye.agent.lambda.internal;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * Which listed functions have a published version, learned from {@code ListFunctions} with {@code FunctionVersion=ALL}
 * (an entry per version besides {@code $LATEST}'s), so that the plan lists the aliases of those functions only: a
 * function without a published version has no alias that serves anything but {@code $LATEST}, which its update
 * reaches. On an estate that seldom publishes, that saves a {@code ListAliases} per function in the 15 requests/s
 * bucket the updates share, half of a plan-and-apply's calls there.
 *
 * <p>Listing every version costs a page per 50 versions. Once the listing shows that those pages cost more than the
 * alias reads they save ({@link #worthListing()}), the planner lists again without versions and lists every
 * function's aliases, as it did before. A function's answer comes when one of its versions is listed (true) or when
 * the listing ends (false, or true after giving up): the order of the entries is not documented, so no answer is
 * guessed from it. Only the planning thread calls this class.
 */
final class PublishedVersions {
    /** {@code ListFunctions} returns at most 50 entries a page. */
    private static final int PAGE = 50;
    /**
     * The pages the versions may cost beyond the alias reads they saved so far before the listing gives up: a few
     * functions with long runs of versions at the start of an estate that seldom publishes do not decide alone, and
     * an estate that publishes on every deploy wastes at most a few pages.
     */
    private static final int SLACK_PAGES = 4;

    private final Map<String, CompletableFuture<Boolean>> byFunction = new HashMap<>();
    private final Set<String> listed = new HashSet<>();
    private final Set<String> versioned = new HashSet<>();
    private int versions;
    /** The answer for every function not yet answered, once the listing ended or was given up; null before. */
    private @Nullable Boolean settled;

    /**
     * @param arn a function's unqualified ARN
     * @return whether it may have a published version, complete once known: true for a function no listing of
     *     every version showed (named explicitly, or listed after giving up)
     */
    CompletableFuture<Boolean> of(String arn) {
        CompletableFuture<Boolean> known = byFunction.get(arn);
        if (known != null) {
            return known;
        }
        Boolean answer = listed.contains(arn) ? settled : Boolean.TRUE;
        if (answer != null) {
            return CompletableFuture.completedFuture(answer);
        }
        return byFunction.computeIfAbsent(arn, a -> new CompletableFuture<>());
    }

    /**
     * Counts one page of a listing with every version.
     *
     * @param latest the unqualified ARNs of the page's {@code $LATEST} entries
     * @param published the unqualified ARNs of the page's published versions, one per entry
     */
    void page(Iterable<String> latest, Iterable<String> published) {
        latest.forEach(listed::add);
        for (String arn : published) {
            versions++;
            versioned.add(arn);
            listed.add(arn);
            of(arn).complete(true);
        }
    }

    /**
     * Whether listing every version still pays, judged from the pages so far: the pages spent on versions against one
     * alias read saved for each function no version was seen of, with {@link #SLACK_PAGES} to spare.
     *
     * @return false to give up and list each function's aliases instead
     */
    boolean worthListing() {
        return versions <= PAGE * (listed.size() - versioned.size() + SLACK_PAGES);
    }

    /** The listing ended: a function none of whose versions was listed has none. */
    void listingEnded() {
        settle(false);
    }

    /** The listing of every version was given up: any function may have versions, so its aliases are listed. */
    void givenUp() {
        settle(true);
    }

    private void settle(boolean answer) {
        if (settled != null) {
            return;
        }
        settled = answer;
        byFunction.values().forEach(f -> f.complete(answer));
    }
}
