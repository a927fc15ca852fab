/** The AWS Lambda target: {@link com.cloudaeye.agent.lambda.LambdaTarget}. */
@NullMarked
package com.cloudaeye.agent.lambda;

import org.jspecify.annotations.NullMarked;
