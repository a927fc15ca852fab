/**
 * The service-provider interface that platform modules implement: the configured {@link com.cloudaeye.agent.spi.Target}
 * that plans, and the {@link com.cloudaeye.agent.spi.TargetService} that applies and rolls back, found through {@link
 * java.util.ServiceLoader}.
 */
@NullMarked
package com.cloudaeye.agent.spi;

import org.jspecify.annotations.NullMarked;
