/** Implementation details of the ECS target: not an API, may change in any release. */
@NullMarked
package com.cloudaeye.agent.ecs.internal;

import org.jspecify.annotations.NullMarked;
