/** The service-provider interface that platform modules implement: {@link com.cloudaeye.agent.spi.Target}. */
@NullMarked
package com.cloudaeye.agent.spi;

import org.jspecify.annotations.NullMarked;
