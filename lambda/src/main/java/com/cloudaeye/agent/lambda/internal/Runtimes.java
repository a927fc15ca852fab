package com.cloudaeye.agent.lambda.internal;

import java.util.EnumMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.services.lambda.model.Runtime;

/**
 * Which Lambda runtimes can take the CloudAEye extension: a maintained table with one row per runtime the SDK knows.
 * {@code RuntimesTest} fails when an SDK upgrade brings a runtime this table does not name, so a new runtime is
 * classified by a person, not by a default.
 *
 * <ul>
 *   <li>{@link Support#SUPPORTED}: the runtime runs external extensions (the Lambda Extensions API).
 *   <li>{@link Support#NO_EXTENSIONS}: an Amazon Linux 1 runtime without the Extensions API: the layer would be
 *       attached, and the extension would never start.
 *   <li>{@link Support#DEPRECATED}: Lambda deprecated the runtime and blocks updates of functions on it after its
 *       deprecation: the update would fail, or run on a runtime AWS no longer patches.
 * </ul>
 *
 * <p>Sources: the Lambda runtimes page (supported and deprecated runtimes, with their deprecation dates) and the
 * Extensions API page (runtimes that support extensions). Review this table when the SDK adds a runtime and when a
 * deprecation date passes.
 */
public final class Runtimes {
    /** What the extension can do on a runtime. */
    public enum Support {
        /** Runs external extensions. */
        SUPPORTED,
        /** Has no Extensions API. */
        NO_EXTENSIONS,
        /** Deprecated by Lambda: updates are blocked. */
        DEPRECATED
    }

    private static final Map<Runtime, Support> TABLE = new EnumMap<>(Runtime.class);

    static {
        // Amazon Linux 1 runtimes that never had the Extensions API (all deprecated too; the missing API is the
        // reason given, since it holds whatever the dates).
        for (Runtime r : new Runtime[] {
            Runtime.NODEJS,
            Runtime.NODEJS4_3,
            Runtime.NODEJS4_3_EDGE,
            Runtime.NODEJS6_10,
            Runtime.NODEJS8_10,
            Runtime.PYTHON2_7,
            Runtime.PYTHON3_6,
            Runtime.DOTNETCORE1_0,
            Runtime.DOTNETCORE2_0,
            Runtime.DOTNETCORE2_1,
            Runtime.GO1_X,
            Runtime.JAVA8,
        }) {
            TABLE.put(r, Support.NO_EXTENSIONS);
        }
        // Deprecated by Lambda (deprecation date on the runtimes page).
        for (Runtime r : new Runtime[] {
            Runtime.NODEJS10_X, // 2021-07-30
            Runtime.RUBY2_5, // 2021-07-30
            Runtime.NODEJS12_X, // 2023-03-31
            Runtime.DOTNETCORE3_1, // 2023-04-03
            Runtime.PYTHON3_7, // 2023-12-04
            Runtime.NODEJS14_X, // 2023-12-04
            Runtime.RUBY2_7, // 2023-12-07
            Runtime.PROVIDED, // 2024-01-08 (Amazon Linux 1)
            Runtime.NODEJS16_X, // 2024-06-12
            Runtime.PYTHON3_8, // 2024-10-14
            Runtime.DOTNET6, // 2024-12-20
            Runtime.NODEJS18_X, // 2025-09-01
            Runtime.PYTHON3_9, // 2025-12-15
        }) {
            TABLE.put(r, Support.DEPRECATED);
        }
        for (Runtime r : new Runtime[] {
            Runtime.NODEJS20_X,
            Runtime.NODEJS22_X,
            Runtime.NODEJS24_X,
            Runtime.NODEJS26_X,
            Runtime.JAVA8_AL2,
            Runtime.JAVA8_AL2023,
            Runtime.JAVA11,
            Runtime.JAVA11_AL2023,
            Runtime.JAVA17,
            Runtime.JAVA17_AL2023,
            Runtime.JAVA21,
            Runtime.JAVA25,
            Runtime.PYTHON3_10,
            Runtime.PYTHON3_11,
            Runtime.PYTHON3_12,
            Runtime.PYTHON3_13,
            Runtime.PYTHON3_14,
            Runtime.PYTHON3_15,
            Runtime.DOTNET8,
            Runtime.DOTNET10,
            Runtime.RUBY3_2,
            Runtime.RUBY3_3,
            Runtime.RUBY3_4,
            Runtime.RUBY4_0,
            Runtime.PROVIDED_AL2,
            Runtime.PROVIDED_AL2023,
        }) {
            TABLE.put(r, Support.SUPPORTED);
        }
    }

    private Runtimes() {}

    /**
     * @param runtime a runtime the SDK knows
     * @return its row, or null when the table does not name it (a test keeps that from happening)
     */
    public static @Nullable Support support(Runtime runtime) {
        return TABLE.get(runtime);
    }

    /**
     * @param runtime the function's runtime as Lambda names it, null for image packages
     * @return why the extension cannot run on it, or null when it can (or the runtime is newer than this SDK: the
     *     layer's own compatible runtimes still decide then)
     */
    static @Nullable String unsupportedReason(@Nullable String runtime) {
        if (runtime == null) {
            return null;
        }
        Support support = TABLE.get(Runtime.fromValue(runtime));
        if (support == null || support == Support.SUPPORTED) {
            return null;
        }
        return support == Support.NO_EXTENSIONS
                ? "runtime " + runtime + " has no Lambda Extensions API, so the CloudAEye extension would never start:"
                        + " move the function to a supported runtime, then plan again"
                : "runtime " + runtime + " is deprecated by Lambda, which blocks updates of functions on it: move the"
                        + " function to a supported runtime, then plan again";
    }
}
