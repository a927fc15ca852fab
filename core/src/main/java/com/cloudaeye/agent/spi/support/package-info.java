/**
 * What a platform module needs from core besides the {@link com.cloudaeye.agent.spi.Target} SPI itself: the one JSON
 * codec ({@link com.cloudaeye.agent.spi.support.Json}), the classification and reporting of AWS failures ({@link
 * com.cloudaeye.agent.spi.support.AwsFailures}, {@link com.cloudaeye.agent.spi.support.OutcomeUnknownException}), the
 * read-back that decides what a failed mutation did ({@link com.cloudaeye.agent.spi.support.ReadBack}),
 * a bounded window of asynchronous calls ({@link com.cloudaeye.agent.spi.support.AsyncWindow}), name globs ({@link
 * com.cloudaeye.agent.spi.support.Globs}), the project's Immutables style ({@link
 * com.cloudaeye.agent.spi.support.ValueStyle}), and what {@link com.cloudaeye.agent.ManagedResources} makes of a
 * resource that infrastructure as code owns ({@link com.cloudaeye.agent.spi.support.IacOwners}), with the builder
 * piece that sets it ({@link com.cloudaeye.agent.spi.support.IacAwareTargetBuilder}).
 *
 * <p>Stability: a supported API for platform modules, ours and third parties', with the same compatibility rules as
 * the SPI (the API baseline checks it; changes are additive between minor versions). It is not meant for users who
 * only install the agent. Platform modules take from core only this package, {@code com.cloudaeye.agent} and {@code
 * com.cloudaeye.agent.spi}: {@code com.cloudaeye.agent.internal} is not exported, and a test fails the build when a
 * platform's main sources import it.
 */
@NullMarked
package com.cloudaeye.agent.spi.support;

import org.jspecify.annotations.NullMarked;
