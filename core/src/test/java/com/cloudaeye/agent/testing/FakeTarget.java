package com.cloudaeye.agent.testing;

import com.cloudaeye.agent.AttributeChange;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ChangeAction;
import com.cloudaeye.agent.Journal;
import com.cloudaeye.agent.NothingSelectedException;
import com.cloudaeye.agent.Permission;
import com.cloudaeye.agent.SinkKey;
import com.cloudaeye.agent.spi.ApplyContext;
import com.cloudaeye.agent.spi.JournaledChange;
import com.cloudaeye.agent.spi.Quota;
import com.cloudaeye.agent.spi.Target;
import com.cloudaeye.agent.spi.TargetContext;
import com.cloudaeye.agent.spi.TargetPlan;
import com.cloudaeye.agent.spi.TargetService;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/**
 * A {@link Target} without AWS, for testing the installer's apply machinery: each resource has a scripted
 * {@link Behaviour}, and every apply records what it saw (including the journal's last line at the moment of each
 * report, when a journal directory is given) so tests can check the order of journal writes and mutations.
 */
public class FakeTarget implements Target, TargetService {
    /** What {@link #apply} does with one change. */
    public enum Behaviour {
        /** Reports starting, "mutates", reports applied. */
        APPLY,
        /** Reports starting, then failed. */
        FAIL,
        /** Reports starting, "mutates", then unknown (the answer was lost and the read-back failed). */
        UNKNOWN,
        /** Reports skipped without starting. */
        SKIP,
        /** Never reports the change. */
        SILENT,
        /** Throws an {@link com.cloudaeye.agent.AgentException} from apply (e.g. a journal that cannot be written). */
        THROW,
        /** Reports applied twice (a target bug). */
        REPORT_TWICE,
        /** Reports starting, "mutates", reports applied, then reports failed as well (a target bug). */
        APPLY_THEN_FAIL,
        /**
         * Needs the previous resource's change: never starts, and reports it not attempted with that change as its
         * cause (as a service update whose revision failed to register).
         */
        NEEDS_PREVIOUS
    }

    private final String name;
    private final Map<String, Behaviour> behaviours = new LinkedHashMap<>();
    private final Path journalDirectory;
    private final List<String> log = Collections.synchronizedList(new ArrayList<>());
    private final List<List<String>> rollbackRequests = Collections.synchronizedList(new ArrayList<>());
    private final List<String> journaledForRollback = Collections.synchronizedList(new ArrayList<>());
    private final List<String> duplicates = new ArrayList<>();
    private volatile @Nullable SinkKey<String> handsOver;
    private volatile boolean selectsNothing;
    private volatile List<Quota> quotas = List.of();

    /**
     * @param name the target's name
     * @param journalDirectory where the installer journals, to observe it during apply; null to not observe
     */
    public FakeTarget(String name, Path journalDirectory) {
        this.name = name;
        this.journalDirectory = journalDirectory;
    }

    /**
     * @param resource a resource name, planned as an update of {@code arn:aws:fake:::resource/<name>}
     * @param behaviour what apply does with it
     * @return this
     */
    public FakeTarget resource(String resource, Behaviour behaviour) {
        behaviours.put(resource, behaviour);
        return this;
    }

    /**
     * Hands each applied resource's name to the caller's sink of this key, as a target hands over a secret it made.
     *
     * @param key the sink's key
     * @return this
     */
    public FakeTarget handsOver(SinkKey<String> key) {
        handsOver = key;
        return this;
    }

    /**
     * @param quotas the quotas it lists for {@code rateLimit} names (none by default: it lists none)
     * @return this
     */
    public FakeTarget quotas(Quota... quotas) {
        this.quotas = List.of(quotas);
        return this;
    }

    @Override
    public List<Quota> quotas() {
        return quotas;
    }

    /**
     * Makes its plans throw {@link NothingSelectedException}, as a target whose selection matches nothing in the
     * region does.
     *
     * @return this
     */
    public FakeTarget selectsNothing() {
        selectsNothing = true;
        return this;
    }

    /**
     * Plans a second change for a resource, of another type (a target bug that core must reject).
     *
     * @param resource a resource name
     * @return this
     */
    public FakeTarget duplicate(String resource) {
        duplicates.add(resource);
        return this;
    }

    /**
     * @param resource a resource name
     * @return its ARN
     */
    public static String arn(String resource) {
        return "arn:aws:fake:us-east-1:123456789012:resource/" + resource;
    }

    /** @return what apply did, in order: {@code "starting x"}, {@code "journal STARTING x"}, {@code "mutate x"} ... */
    public List<String> log() {
        return List.copyOf(log);
    }

    /**
     * @return per journaled change that rollback received: {@code "<resource> <event> <appliedState or null>"}
     */
    public List<String> journaledForRollback() {
        return List.copyOf(journaledForRollback);
    }

    /** @return the resource ids of each {@link #planRollback} call */
    public List<List<String>> rollbackRequests() {
        return List.copyOf(rollbackRequests);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public TargetPlan plan(TargetContext context) {
        if (selectsNothing) {
            throw new NothingSelectedException(
                    "No fake resource in " + context.region().id() + " matches: check" + " the selection.");
        }
        List<Change> changes = new ArrayList<>();
        behaviours.keySet().forEach(r -> changes.add(change(r, ChangeAction.UPDATE, null)));
        duplicates.forEach(r -> changes.add(Change.builder()
                .from(change(r, ChangeAction.UPDATE, null))
                .resourceType("Fake::Other")
                .build()));
        return new TargetPlan(changes, List.of(Permission.of("fake:ListResources", "*")));
    }

    @Override
    public TargetPlan planUninstall(TargetContext context) {
        if (selectsNothing) {
            throw new NothingSelectedException(
                    "No fake resource in " + context.region().id() + " matches.");
        }
        List<Change> changes = new ArrayList<>();
        behaviours.keySet().forEach(r -> changes.add(change(r, ChangeAction.DELETE, null)));
        return new TargetPlan(changes, List.of());
    }

    @Override
    public TargetService service() {
        return this;
    }

    @Override
    public TargetPlan planRollback(List<JournaledChange> journaled, TargetContext context) {
        journaled.forEach(j -> journaledForRollback.add(
                j.change().resourceId().substring(j.change().resourceId().lastIndexOf('/') + 1) + " " + j.event() + " "
                        + j.appliedState()));
        List<Change> applied = journaled.stream().map(JournaledChange::change).toList();
        rollbackRequests.add(applied.stream().map(Change::resourceId).toList());
        List<Change> changes = new ArrayList<>();
        applied.forEach(c -> changes.add(Change.builder()
                .from(c)
                .reason("restore the journaled before-state")
                .build()));
        return new TargetPlan(changes, List.of());
    }

    @Override
    public void apply(List<Change> changes, ApplyContext context) {
        Change previous = null;
        for (Change c : changes) {
            Change needed = previous;
            previous = c;
            if (context.shouldStop()) {
                log.add("stop");
                return;
            }
            String r = c.resourceId().substring(c.resourceId().lastIndexOf('/') + 1);
            switch (behaviours.getOrDefault(r, Behaviour.APPLY)) {
                case APPLY -> {
                    context.starting(c);
                    observeJournal(r);
                    log.add("mutate " + r);
                    context.applied(
                            c, "done", JsonNodeFactory.instance.objectNode().put("after", r));
                    observeJournal(r);
                    SinkKey<String> key = handsOver;
                    if (key != null) {
                        context.sink(key).ifPresent(sink -> sink.accept(r));
                    }
                }
                case FAIL -> {
                    context.starting(c);
                    log.add("mutate " + r);
                    context.failed(c, "AccessDenied on " + c.resourceId(), null);
                }
                case UNKNOWN -> {
                    context.starting(c);
                    log.add("mutate " + r);
                    context.unknown(
                            c,
                            "the outcome is unknown: the answer was lost",
                            null,
                            JsonNodeFactory.instance.objectNode().put("maybe", r));
                }
                case SKIP -> context.skipped(c, "changed since planning: re-plan");
                case SILENT -> log.add("silent " + r);
                case THROW -> throw new com.cloudaeye.agent.AgentException("Cannot write the journal: disk full");
                case NEEDS_PREVIOUS -> {
                    if (needed == null) {
                        throw new IllegalStateException(r + " needs a previous resource");
                    }
                    log.add("not started " + r);
                    context.notAttempted(c, needed, "not started: " + needed.resourceId() + " did not land");
                }
                case REPORT_TWICE -> {
                    context.applied(c, null, null);
                    context.applied(c, null, null);
                }
                case APPLY_THEN_FAIL -> {
                    context.starting(c);
                    log.add("mutate " + r);
                    context.applied(c, "done", null);
                    context.failed(c, "a second report", null);
                }
            }
        }
    }

    private void observeJournal(String resource) {
        if (journalDirectory == null) {
            return;
        }
        try (Stream<Path> files = Files.list(journalDirectory)) {
            List<Path> all = files.toList();
            if (all.size() != 1) {
                log.add("journal files: " + all.size());
                return;
            }
            List<String> lines = Files.readAllLines(all.get(0));
            String last = lines.get(lines.size() - 1);
            for (Journal.Event e : Journal.Event.values()) {
                if (last.contains("\"event\":\"" + e.name() + "\"") && last.contains(arn(resource))) {
                    log.add("journal " + e.name() + " " + resource);
                    return;
                }
            }
            log.add("journal other");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Change change(String resource, ChangeAction action, String reason) {
        return Change.builder()
                .target(name)
                .resourceType("Fake::Resource")
                .resourceId(arn(resource))
                .action(action)
                .reason(java.util.Optional.ofNullable(reason))
                .addAttributes(AttributeChange.of("Agent", null, "installed"))
                .addPermissions(Permission.of("fake:UpdateResource", arn(resource)))
                .build();
    }
}
