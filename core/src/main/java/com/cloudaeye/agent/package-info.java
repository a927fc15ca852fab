/**
 * The CloudAEye agent installer's public API: {@link com.cloudaeye.agent.AgentInstaller}, its {@link
 * com.cloudaeye.agent.Plan}, {@link com.cloudaeye.agent.PolicyDocument} and results.
 */
@NullMarked
package com.cloudaeye.agent;

import org.jspecify.annotations.NullMarked;
