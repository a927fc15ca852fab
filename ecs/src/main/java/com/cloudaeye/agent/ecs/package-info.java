/**
 * The Amazon ECS (Fargate) target: adds CloudAEye's FireLens log router to the task definitions of a cluster's
 * services, rolls the services out, and takes it away again. Start with {@link com.cloudaeye.agent.ecs.EcsTarget}.
 */
@NullMarked
package com.cloudaeye.agent.ecs;

import org.jspecify.annotations.NullMarked;
