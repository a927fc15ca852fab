package com.cloudaeye.agent.ecs.internal;

import java.util.List;
import java.util.Optional;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.services.ecs.model.ContainerDefinition;
import software.amazon.awssdk.services.ecs.model.TaskDefinition;

/**
 * Whether a revision's containers, router included, fit its task size, and on Fargate whether that size is valid.
 *
 * @param current the task size now, null when the revision sets none (EC2 tasks may leave it out)
 * @param resized the next valid Fargate size that fits, null when the size stays
 * @param problem why the router cannot be added, null when it can
 */
public record Sizing(
        FargateSizes.@Nullable Size current,
        FargateSizes.@Nullable Size resized,
        @Nullable String problem) {
    /**
     * @param source the revision
     * @param containers its containers with the router
     * @param allowResize whether a Fargate task may grow to fit
     * @return the verdict
     */
    public static Sizing of(TaskDefinition source, List<ContainerDefinition> containers, boolean allowResize) {
        boolean fargate = source.requiresCompatibilitiesAsStrings().contains("FARGATE");
        int cpu = 0;
        int memory = 0;
        for (ContainerDefinition c : containers) {
            cpu += c.cpu() == null ? 0 : c.cpu();
            Integer m = c.memoryReservation() != null ? c.memoryReservation() : c.memory();
            memory += m == null ? 0 : m;
        }
        if (source.cpu() == null || source.memory() == null) {
            if (fargate) {
                return new Sizing(null, null, "a Fargate task definition needs a task-level cpu and memory");
            }
            // EC2 may set one task-level value only; the containers must still fit it, or registering fails.
            if (source.cpu() != null && cpu > FargateSizes.parseCpu(source.cpu())) {
                return new Sizing(null, null, tooSmall(cpu + " CPU units", source.cpu() + " CPU units"));
            }
            if (source.memory() != null && memory > FargateSizes.parseMemory(source.memory())) {
                return new Sizing(null, null, tooSmall(memory + " MiB", source.memory() + " MiB"));
            }
            return new Sizing(null, null, null);
        }
        FargateSizes.Size current =
                new FargateSizes.Size(FargateSizes.parseCpu(source.cpu()), FargateSizes.parseMemory(source.memory()));
        boolean fits = cpu <= current.cpu() && memory <= current.memory();
        boolean valid = !fargate || FargateSizes.isValid(current);
        if (fits && valid) {
            return new Sizing(current, null, null);
        }
        String need = cpu + " CPU units / " + memory + " MiB";
        if (!fargate) {
            return new Sizing(current, null, tooSmall(need, current.toString()));
        }
        if (!allowResize) {
            return new Sizing(
                    current,
                    null,
                    (valid
                                    ? "its containers with the log router need " + need + " but the task has " + current
                                    : current + " is not a valid Fargate size")
                            + ": set allowTaskResize(true) to raise it to the next valid Fargate size, or lower the"
                            + " router's cpu/memory");
        }
        Optional<FargateSizes.Size> next = FargateSizes.nextFitting(current, cpu, memory);
        return next.map(s -> new Sizing(current, s, null))
                .orElseGet(() -> new Sizing(
                        current,
                        null,
                        "its containers with the log router need " + need + ", more than the largest Fargate task"));
    }

    private static String tooSmall(String need, String has) {
        return "its containers with the log router need " + need + " but the task has " + has
                + ": raise the task's cpu/memory or lower the router's";
    }

    /** @return the raised task cpu as a task definition writes it, or null when the size stays */
    public @Nullable String resizedCpu() {
        return resized == null ? null : Integer.toString(resized.cpu());
    }

    /** @return the raised task memory as a task definition writes it, or null when the size stays */
    public @Nullable String resizedMemory() {
        return resized == null ? null : Integer.toString(resized.memory());
    }
}
