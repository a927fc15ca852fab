package com.cloudaeye.agent.ecs.internal;

import com.cloudaeye.agent.spi.Quota;

/**
 * Amazon ECS's API rate limits per account and region, set to the sustained (bucket refill) rates of AWS's table in
 * "Request throttling for the Amazon ECS API",
 * https://docs.aws.amazon.com/AmazonECS/latest/APIReference/request-throttling.html (the same table is in the
 * developer guide). Actions of one category share one bucket there, and so do they here. The bursts AWS allows on
 * top are not used: the scheduler spreads calls evenly. Override a rate with {@code rateLimit(name, perSecond)}
 * when AWS raised the account's quota.
 */
public final class EcsQuotas {
    /**
     * "Service read actions" ({@code DescribeServices}, {@code ListServices}): burst 100, sustained 20 per second.
     */
    public static final Quota SERVICE_READ = new Quota("ecs.service-read", 20);

    /**
     * "Service modify actions" ({@code CreateService}, {@code DeleteService}, {@code UpdateService}): burst 50,
     * sustained 5 per second.
     */
    public static final Quota SERVICE_MODIFY = new Quota("ecs.service-modify", 5);

    /**
     * "Task definition read actions" ({@code DescribeTaskDefinition}, {@code ListTaskDefinitions},
     * {@code ListTaskDefinitionFamilies}): burst 50, sustained 20 per second.
     */
    public static final Quota TASK_DEFINITION_READ = new Quota("ecs.task-definition-read", 20);

    /**
     * "Task definition modify actions" ({@code RegisterTaskDefinition}, {@code DeregisterTaskDefinition}): burst 20,
     * sustained 1 per second. Tags travel inside {@code RegisterTaskDefinition}, so the separate "Tag modify actions"
     * bucket (burst 20, sustained 10) is never used.
     */
    public static final Quota TASK_DEFINITION_MODIFY = new Quota("ecs.task-definition-modify", 1);

    private EcsQuotas() {}
}
