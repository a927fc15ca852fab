package com.cloudaeye.agent.ecs.internal;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/**
 * What an applied service change did, kept in the journal's {@code appliedState} ({@link EcsStates} writes and reads
 * it), with the keys journals had before this type.
 *
 * @param taskDefinitionArn the revision the service runs after the change
 * @param previousTaskDefinitionArn the revision it ran before
 */
@JsonPropertyOrder({"taskDefinitionArn", "previousTaskDefinitionArn"})
record ServiceApplied(String taskDefinitionArn, String previousTaskDefinitionArn) {}
