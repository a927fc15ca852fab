/**
 * A sample fourth platform, built by following CONTRIBUTING's "Adding a platform" step by step: CloudWatch Logs
 * subscription filters that send log groups to a destination ({@link com.cloudaeye.agent.logsub.LogSubscriptionTarget}).
 * It lives in the test kit's tests to prove the steps and the contract, and is not published.
 */
@NullMarked
package com.cloudaeye.agent.logsub;

import org.jspecify.annotations.NullMarked;
