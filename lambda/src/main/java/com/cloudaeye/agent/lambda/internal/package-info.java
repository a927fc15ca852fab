/** Implementation of the Lambda target: not an API. */
@NullMarked
package com.cloudaeye.agent.lambda.internal;

import org.jspecify.annotations.NullMarked;
