package com.cloudaeye.agent.ecs.internal;

import com.cloudaeye.agent.spi.Quota;

/**
 * Amazon ECS's API rate limits per account and region (the sustained, token-refill rates of the ECS API reference's
 * "Request throttling" page). Bursts above them are allowed by AWS but not needed: the scheduler spreads calls.
 */
public final class EcsQuotas {
    /** Service reads: {@code ListServices}, {@code DescribeServices} (refill 20 per second). */
    public static final Quota SERVICE_READ = new Quota("ecs.service-read", 20);
    /** Service changes: {@code UpdateService} (refill 5 per second). */
    public static final Quota SERVICE_MODIFY = new Quota("ecs.service-modify", 5);
    /** Task definition reads: {@code DescribeTaskDefinition} (refill 20 per second). */
    public static final Quota TASK_DEFINITION_READ = new Quota("ecs.task-definition-read", 20);
    /** Task definition changes: {@code RegisterTaskDefinition} (refill 1 per second). */
    public static final Quota TASK_DEFINITION_MODIFY = new Quota("ecs.task-definition-modify", 1);

    private EcsQuotas() {}
}
