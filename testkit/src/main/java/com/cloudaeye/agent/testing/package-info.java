/**
 * The test kit for targets: what a platform module (ours or a third party's) and CloudAEye's backend tests use, with
 * test scope, to prove a target behaves. {@link com.cloudaeye.agent.testing.TargetContract} is the contract every
 * target passes against moto; {@link com.cloudaeye.agent.testing.ThrottlingProxy} sits between the installer and
 * moto to throttle, fail and lose answers; {@link com.cloudaeye.agent.testing.Moto} points clients at the moto server
 * that {@code scripts/test.sh} starts; {@link com.cloudaeye.agent.testing.ChildJvm} runs an apply in a JVM that a
 * crash test kills; {@link com.cloudaeye.agent.testing.ApiBaseline} checks a module's public API against its baseline.
 *
 * <p>Stability: evolves with the SPI; contract tests may be added in any release (a target that passed may then
 * fail, which is the point), and helpers change additively.
 */
@NullMarked
package com.cloudaeye.agent.testing;

import org.jspecify.annotations.NullMarked;
