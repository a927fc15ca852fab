/** Runnable examples and the demo, written against the public API only. */
package com.cloudaeye.agent.examples;
