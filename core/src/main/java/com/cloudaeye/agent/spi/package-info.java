/**
 * The service-provider interface that platform modules implement: the configured {@link com.cloudaeye.agent.spi.Target}
 * that plans, and the {@link com.cloudaeye.agent.spi.TargetService} that applies and rolls back, found through {@link
 * java.util.ServiceLoader}.
 *
 * <p>An apply asks every target's service to {@link com.cloudaeye.agent.spi.TargetService#checkApply check} its
 * changes before any of them {@link com.cloudaeye.agent.spi.TargetService#apply applies} its own, so that a refusal
 * leaves the whole plan unchanged; the services then apply one target after another, reporting each change to the
 * {@link com.cloudaeye.agent.spi.ApplyContext}.
 *
 * <p>The {@link com.cloudaeye.agent.spi.TargetContext} says which account the credentials act in ({@code accountId()})
 * and, for a member of a {@code FleetInstaller}, the fleet's accounts and regions ({@code fleet()}, a {@link
 * com.cloudaeye.agent.spi.FleetScope}): a target leaves a resource named by the ARN of another account-region the fleet
 * covers to that member, and refuses before any call one of an account or region outside the fleet.
 */
@NullMarked
package com.cloudaeye.agent.spi;

import org.jspecify.annotations.NullMarked;
