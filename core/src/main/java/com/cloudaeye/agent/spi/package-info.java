/**
 * The service-provider interface that platform modules implement: the configured {@link com.cloudaeye.agent.spi.Target}
 * that plans, and the {@link com.cloudaeye.agent.spi.TargetService} that applies and rolls back, found through {@link
 * java.util.ServiceLoader}.
 *
 * <p>An apply asks every target's service to {@link com.cloudaeye.agent.spi.TargetService#checkApply check} its
 * changes before any of them {@link com.cloudaeye.agent.spi.TargetService#apply applies} its own, so that a refusal
 * leaves the whole plan unchanged; the services then apply one target after another, reporting each change to the
 * {@link com.cloudaeye.agent.spi.ApplyContext}.
 */
@NullMarked
package com.cloudaeye.agent.spi;

import org.jspecify.annotations.NullMarked;
