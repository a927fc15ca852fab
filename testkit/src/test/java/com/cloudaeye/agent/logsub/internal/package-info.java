/** The sample platform's planner, applier and typed state. */
@NullMarked
package com.cloudaeye.agent.logsub.internal;

import org.jspecify.annotations.NullMarked;
