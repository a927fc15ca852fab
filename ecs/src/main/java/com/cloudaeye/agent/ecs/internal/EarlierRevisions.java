package com.cloudaeye.agent.ecs.internal;

import com.cloudaeye.agent.AgentSettings;
import com.cloudaeye.agent.spi.TargetContext;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import software.amazon.awssdk.services.ecs.EcsClient;
import software.amazon.awssdk.services.ecs.model.DescribeTaskDefinitionResponse;
import software.amazon.awssdk.services.ecs.model.RegisterTaskDefinitionRequest;
import software.amazon.awssdk.services.ecs.model.SortOrder;
import software.amazon.awssdk.services.ecs.model.TaskDefinition;
import software.amazon.awssdk.services.ecs.model.TaskDefinitionField;
import software.amazon.awssdk.services.ecs.model.TaskDefinitionStatus;

/**
 * The one search for a revision an earlier run (killed, or whose answer was lost) registered: one of the family's
 * active revisions newer than the source whose content, with our router's source label, settings hash and token, is
 * what a request registers. Planning (to plan a reuse instead of a registration) and apply (to register nothing twice)
 * both search this way, so a plan and its apply agree on "already registered". Provenance is proven by content, never
 * by position: the family's latest revision may be someone else's, registered after ours.
 */
final class EarlierRevisions {
    /** How many of a family's newest revisions are searched for one an earlier attempt registered. */
    static final int SEARCHED_REVISIONS = 20;

    private EarlierRevisions() {}

    /**
     * Searches the family's newer revisions through the scheduler.
     *
     * @param context clients, scheduler and agent settings
     * @param family the family's active revisions, as {@link #familyRevisions} lists them
     * @param source the source revision
     * @param request what would be registered from it
     * @return the earlier run's revision, if any
     */
    static CompletableFuture<Optional<String>> find(
            TargetContext context,
            CompletableFuture<List<String>> family,
            TaskDefinition source,
            RegisterTaskDefinitionRequest request) {
        return family.thenCompose(arns -> first(context, newerThan(arns, source), 0, source, request));
    }

    /** {@link #find} with a fresh listing of the family. */
    static CompletableFuture<Optional<String>> find(
            TargetContext context, TaskDefinition source, RegisterTaskDefinitionRequest request) {
        return find(context, listFamily(context, source.family()), source, request);
    }

    /** {@link #find}, in the calling thread (inside a scheduled call). */
    static Optional<String> findNow(
            EcsClient ecs, AgentSettings agent, TaskDefinition source, RegisterTaskDefinitionRequest request) {
        for (String arn : newerThan(familyRevisions(ecs, source.family()), source)) {
            DescribeTaskDefinitionResponse revision =
                    ecs.describeTaskDefinition(d -> d.taskDefinition(arn).include(TaskDefinitionField.TAGS));
            if (isWhatWeRegister(revision, source, request, agent)) {
                return Optional.of(arn);
            }
        }
        return Optional.empty();
    }

    /** The family's active revisions, read through the scheduler (one listing serves every source of the family). */
    static CompletableFuture<List<String>> listFamily(TargetContext context, String family) {
        EcsClient ecs = context.client(EcsClient.class, EcsClient::builder);
        return context.scheduler().submit(EcsQuotas.TASK_DEFINITION_READ, () -> familyRevisions(ecs, family));
    }

    private static List<String> familyRevisions(EcsClient ecs, String family) {
        return ecs
                .listTaskDefinitionsPaginator(l -> l.familyPrefix(family)
                        .status(TaskDefinitionStatus.ACTIVE)
                        .sort(SortOrder.DESC))
                .taskDefinitionArns()
                .stream()
                .filter(arn -> TaskDefinitions.family(arn).equals(family)) // the prefix matches longer names too
                .toList();
    }

    /**
     * The family's revisions newer than the source, newest first, at most {@link #SEARCHED_REVISIONS} of them (an
     * earlier apply's revision is among the newest unless the family had that many registrations since). Sorted here,
     * not trusted to the request's sort order: emulators ignore it.
     */
    static List<String> newerThan(List<String> family, TaskDefinition source) {
        return family.stream()
                .filter(arn -> revision(arn) > source.revision())
                .sorted(Comparator.comparingInt(EarlierRevisions::revision).reversed())
                .limit(SEARCHED_REVISIONS)
                .toList();
    }

    private static CompletableFuture<Optional<String>> first(
            TargetContext context,
            List<String> arns,
            int index,
            TaskDefinition source,
            RegisterTaskDefinitionRequest request) {
        if (index >= arns.size()) {
            return CompletableFuture.completedFuture(Optional.empty());
        }
        return EcsPlanner.describeTaskDefinition(context, arns.get(index)).thenCompose(revision -> {
            if (isWhatWeRegister(revision, source, request, context.agent())) {
                return CompletableFuture.completedFuture(
                        Optional.of(revision.taskDefinition().taskDefinitionArn()));
            }
            return first(context, arns, index + 1, source, request);
        });
    }

    /**
     * @return true when {@code revision} is active, newer than the source and exactly what {@code request} registers
     *     (an emulator may list a deregistered revision as active)
     */
    private static boolean isWhatWeRegister(
            DescribeTaskDefinitionResponse revision,
            TaskDefinition source,
            RegisterTaskDefinitionRequest request,
            AgentSettings agent) {
        TaskDefinition td = revision.taskDefinition();
        return td.status() == TaskDefinitionStatus.ACTIVE
                && td.revision() > source.revision()
                && RevisionRequests.registers(revision, request, agent);
    }

    private static int revision(String arn) {
        return Integer.parseInt(arn.substring(arn.lastIndexOf(':') + 1));
    }
}
