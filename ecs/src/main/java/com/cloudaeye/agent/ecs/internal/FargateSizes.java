package com.cloudaeye.agent.ecs.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** The valid Fargate task sizes (CPU units and MiB) and the arithmetic around them. */
public final class FargateSizes {
    /**
     * A task size.
     *
     * @param cpu CPU units, 1024 per vCPU
     * @param memory MiB
     */
    public record Size(int cpu, int memory) {
        @Override
        public String toString() {
            return cpu + " CPU units / " + memory + " MiB";
        }
    }

    private static final List<Size> VALID = table();

    private FargateSizes() {}

    private static List<Size> table() {
        List<Size> sizes = new ArrayList<>();
        for (int m : new int[] {512, 1024, 2048}) {
            sizes.add(new Size(256, m));
        }
        range(sizes, 512, 1024, 4096, 1024);
        range(sizes, 1024, 2048, 8192, 1024);
        range(sizes, 2048, 4096, 16384, 1024);
        range(sizes, 4096, 8192, 30720, 1024);
        range(sizes, 8192, 16384, 61440, 4096);
        range(sizes, 16384, 32768, 122880, 8192);
        return List.copyOf(sizes);
    }

    private static void range(List<Size> sizes, int cpu, int from, int to, int step) {
        for (int m = from; m <= to; m += step) {
            sizes.add(new Size(cpu, m));
        }
    }

    /**
     * @param size a task size
     * @return whether Fargate runs tasks of that size
     */
    public static boolean isValid(Size size) {
        return VALID.contains(size);
    }

    /**
     * The smallest valid Fargate size that is at least the current size and holds what the containers need.
     *
     * @param current the task's size now
     * @param neededCpu the CPU units the containers reserve
     * @param neededMemory the MiB the containers reserve
     * @return the size, empty when even the largest Fargate size is too small
     */
    public static Optional<Size> nextFitting(Size current, int neededCpu, int neededMemory) {
        int cpu = Math.max(current.cpu(), neededCpu);
        int memory = Math.max(current.memory(), neededMemory);
        return VALID.stream()
                .filter(s -> s.cpu() >= cpu && s.memory() >= memory)
                .findFirst();
    }

    /**
     * Parses a task-level cpu value: {@code 256}, {@code 1 vCPU} or {@code 0.5 vcpu}.
     *
     * @param value the value from the task definition
     * @return CPU units
     */
    public static int parseCpu(String value) {
        String v = value.trim().toLowerCase(Locale.ROOT);
        if (v.endsWith("vcpu")) {
            return (int) Math.round(
                    Double.parseDouble(v.substring(0, v.length() - 4).trim()) * 1024);
        }
        return Integer.parseInt(v);
    }

    /**
     * Parses a task-level memory value: {@code 512} (MiB) or {@code 2 GB}.
     *
     * @param value the value from the task definition
     * @return MiB
     */
    public static int parseMemory(String value) {
        String v = value.trim().toLowerCase(Locale.ROOT);
        if (v.endsWith("gb")) {
            return (int) Math.round(
                    Double.parseDouble(v.substring(0, v.length() - 2).trim()) * 1024);
        }
        return Integer.parseInt(v);
    }
}
