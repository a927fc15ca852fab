package com.cloudaeye.agent.ecs.internal;

/**
 * What an applied task definition change did, kept in the journal's {@code appliedState} ({@link EcsStates} writes
 * it), with the key journals had before this type.
 *
 * @param taskDefinitionArn the revision the change registered (or found registered by an earlier attempt)
 */
record RevisionApplied(String taskDefinitionArn) {}
