package com.cloudaeye.agent.testing;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/** What the {@link ThrottlingProxy} counts and logs; its public getters read these. Thread-safe. */
final class ProxyCounters {
    final Map<String, LongAdder> requests = new ConcurrentHashMap<>();
    final Map<String, LongAdder> requestsByResource = new ConcurrentHashMap<>();
    final List<ThrottlingProxy.Request> requestLog = Collections.synchronizedList(new ArrayList<>());
    /** Requests moto answered with a 2xx: those that took effect, whether or not their answer reached the client. */
    final List<ThrottlingProxy.Request> landed = Collections.synchronizedList(new ArrayList<>());

    final Map<String, LongAdder> throttledByGroup = new ConcurrentHashMap<>();
    /** Requests per quota group and account-region ({@code group + " " + accountRegion}), throttled ones included. */
    final Map<String, LongAdder> byAccountRegion = new ConcurrentHashMap<>();
    /** Throttled requests per quota group and account-region. */
    final Map<String, LongAdder> throttledByAccountRegion = new ConcurrentHashMap<>();
    /** Arrival times (nanoTime) of every request of a quota group, throttled ones included. */
    final Map<String, Queue<Long>> arrivalsByGroup = new ConcurrentHashMap<>();

    final Map<ThrottlingProxy.Fault, LongAdder> faults = new EnumMap<>(ThrottlingProxy.Fault.class);
    final LongAdder conflicts = new LongAdder();
    final AtomicInteger inFlight = new AtomicInteger();
    final AtomicInteger peakInFlight = new AtomicInteger();

    ProxyCounters() {
        for (ThrottlingProxy.Fault f : ThrottlingProxy.Fault.values()) {
            faults.put(f, new LongAdder());
        }
    }

    /** Counts a request as it arrives, by operation and by the resource its path names. */
    void arrived(ProxyCall call) {
        requests.computeIfAbsent(call.operation, k -> new LongAdder()).increment();
        if (call.resource != null) {
            requestsByResource
                    .computeIfAbsent(call.operation + " " + call.resource, k -> new LongAdder())
                    .increment();
        }
    }

    /**
     * @param group the request's quota group
     * @param accountRegion the account and region whose bucket it counts against
     * @param at when the proxy's server handed the request over (nanoTime)
     */
    void arrivedInGroup(String group, String accountRegion, long at) {
        byAccountRegion
                .computeIfAbsent(group + " " + accountRegion, k -> new LongAdder())
                .increment();
        arrivalsByGroup
                .computeIfAbsent(group, k -> new ConcurrentLinkedQueue<>())
                .add(at);
    }

    void throttled(String group, String accountRegion) {
        throttledByGroup.computeIfAbsent(group, k -> new LongAdder()).increment();
        throttledByAccountRegion
                .computeIfAbsent(group + " " + accountRegion, k -> new LongAdder())
                .increment();
    }

    void fault(ThrottlingProxy.Fault fault) {
        Objects.requireNonNull(faults.get(fault), "every fault has a counter").increment();
    }

    void enter() {
        peakInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
    }

    void leave() {
        inFlight.decrementAndGet();
    }

    /** Sets every counter back to zero; the logs stay. */
    void reset() {
        requests.clear();
        requestsByResource.clear();
        throttledByGroup.clear();
        byAccountRegion.clear();
        throttledByAccountRegion.clear();
        arrivalsByGroup.clear();
        faults.values().forEach(LongAdder::reset);
        conflicts.reset();
        peakInFlight.set(inFlight.get());
    }
}
