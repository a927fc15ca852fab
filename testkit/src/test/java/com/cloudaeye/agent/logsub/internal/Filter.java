package com.cloudaeye.agent.logsub.internal;

/**
 * The installer's subscription filter in one log group, as far as the installer owns it.
 *
 * @param destinationArn where it sends events
 * @param filterPattern which events it sends
 */
public record Filter(String destinationArn, String filterPattern) {}
