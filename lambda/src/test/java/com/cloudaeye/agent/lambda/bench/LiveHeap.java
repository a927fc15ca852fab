package com.cloudaeye.agent.lambda.bench;

import com.sun.management.GarbageCollectionNotificationInfo;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import javax.management.NotificationEmitter;
import javax.management.openmbean.CompositeData;

/**
 * The most heap a run kept alive: the largest heap in use right after a garbage collection, over the collections
 * since {@link #start()}. The peak of each pool's use ({@link LambdaThroughputBenchmark#peakHeapMb()}) counts the
 * garbage the young generation held before it was collected too, and so says more about the collector's sizing than
 * about what the installers keep; this is an upper bound of the live set at the moments the collector looked.
 */
final class LiveHeap {
    private static final AtomicLong MOST_AFTER_GC = new AtomicLong();
    private static final AtomicLong COLLECTIONS = new AtomicLong();
    private static volatile boolean listening;

    private LiveHeap() {}

    /** Starts (or restarts) counting. */
    static synchronized void start() {
        MOST_AFTER_GC.set(0);
        COLLECTIONS.set(0);
        if (listening) {
            return;
        }
        Set<String> heapPools = new HashSet<>();
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                heapPools.add(pool.getName());
            }
        }
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            if (gc instanceof NotificationEmitter emitter) {
                emitter.addNotificationListener(
                        (notification, handback) -> {
                            if (!notification
                                    .getType()
                                    .equals(GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION)) {
                                return;
                            }
                            GarbageCollectionNotificationInfo info =
                                    GarbageCollectionNotificationInfo.from((CompositeData) notification.getUserData());
                            long used = 0;
                            for (Map.Entry<String, MemoryUsage> u :
                                    info.getGcInfo().getMemoryUsageAfterGc().entrySet()) {
                                if (heapPools.contains(u.getKey())) {
                                    used += u.getValue().getUsed();
                                }
                            }
                            COLLECTIONS.incrementAndGet();
                            MOST_AFTER_GC.accumulateAndGet(used, Math::max);
                        },
                        null,
                        null);
            }
        }
        listening = true;
    }

    /** @return the most heap in use after a collection since {@link #start()}, in MB, and how many collections */
    static String summary() {
        return String.format(
                java.util.Locale.ROOT,
                "most heap in use after a collection %d MB (%d collections)",
                MOST_AFTER_GC.get() / (1024 * 1024),
                COLLECTIONS.get());
    }
}
