/** Runnable examples and the demo, written against the public API only. */
@NullMarked
package com.cloudaeye.agent.examples;

import org.jspecify.annotations.NullMarked;
