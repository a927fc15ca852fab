package com.cloudaeye.agent.ecs.internal;

import com.cloudaeye.agent.PlanningException;
import com.cloudaeye.agent.spi.support.Json;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Optional;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.services.ecs.model.ContainerDefinition;
import software.amazon.awssdk.services.ecs.model.TaskDefinition;

/**
 * The task size an install raised to fit the router, recorded on the router's {@link #LABEL}: the size the task had
 * before the first raise and the size the install set. An uninstall restores the first only while the task still has
 * the second: a size the user chose since is theirs.
 *
 * @param cpu the task cpu before the install
 * @param memory the task memory before the install
 * @param resizedCpu the task cpu the install set
 * @param resizedMemory the task memory the install set
 */
record RecordedTaskSize(String cpu, String memory, String resizedCpu, String resizedMemory) {
    /** Docker label on the router: the task size before the install and the size it set, when it raised it. */
    static final String LABEL = "com.cloudaeye.agent.task-size";

    /** @return the label's value, compact JSON */
    String toLabel() {
        return Json.object()
                .put("cpu", cpu)
                .put("memory", memory)
                .put("resizedCpu", resizedCpu)
                .put("resizedMemory", resizedMemory)
                .toString();
    }

    /**
     * @param router our router
     * @return the size it records, empty when the install kept the task's size
     */
    static Optional<RecordedTaskSize> of(ContainerDefinition router) {
        String json = router.hasDockerLabels() ? router.dockerLabels().get(LABEL) : null;
        if (json == null) {
            return Optional.empty();
        }
        try {
            JsonNode node = Json.parse(json);
            return Optional.of(new RecordedTaskSize(
                    node.path("cpu").asText(),
                    node.path("memory").asText(),
                    node.path("resizedCpu").asText(),
                    node.path("resizedMemory").asText()));
        } catch (JsonProcessingException e) {
            throw new PlanningException(
                    "The label " + LABEL + " of the log router '" + router.name() + "' is not"
                            + " valid JSON: someone edited it. Remove the label (the task then keeps its size) and plan again.");
        }
    }

    /**
     * What an uninstall does to the task size.
     *
     * @param cpu the task cpu to restore, null to keep the size
     * @param memory the task memory to restore, null to keep the size
     * @param kept why a raised size stays, null when it is restored or was never raised
     */
    record Restore(
            @Nullable String cpu,
            @Nullable String memory,
            @Nullable String kept) {
        static final Restore NONE = new Restore(null, null, null);
    }

    /**
     * @param source a revision with our router
     * @param containers its containers without the router
     * @return the size the uninstall registers: the one before the install when the task still has the size the install
     *     set and its containers fit it, else the current one with the reason
     */
    static Restore restore(TaskDefinition source, List<ContainerDefinition> containers) {
        Optional<RecordedTaskSize> recorded = TaskDefinitions.ourRouter(source).flatMap(RecordedTaskSize::of);
        if (recorded.isEmpty() || source.cpu() == null || source.memory() == null) {
            return Restore.NONE;
        }
        RecordedTaskSize r = recorded.get();
        FargateSizes.Size now =
                new FargateSizes.Size(FargateSizes.parseCpu(source.cpu()), FargateSizes.parseMemory(source.memory()));
        FargateSizes.Size set = new FargateSizes.Size(
                FargateSizes.parseCpu(r.resizedCpu()), FargateSizes.parseMemory(r.resizedMemory()));
        FargateSizes.Size before =
                new FargateSizes.Size(FargateSizes.parseCpu(r.cpu()), FargateSizes.parseMemory(r.memory()));
        if (!now.equals(set)) {
            return new Restore(
                    null,
                    null,
                    "The task keeps its size " + now + ": the install raised it from " + before + " to " + set
                            + ", and someone resized it since. Lower it by hand if the router's share is no longer"
                            + " needed.");
        }
        TaskDefinition smaller =
                source.toBuilder().cpu(r.cpu()).memory(r.memory()).build();
        if (Sizing.of(smaller, containers, false).problem() != null) {
            return new Restore(
                    null,
                    null,
                    "The task keeps its size " + now + ": the " + before + " it had before the install does not"
                            + " hold its containers without the router, or is not a valid Fargate size.");
        }
        return new Restore(r.cpu(), r.memory(), null);
    }
}
