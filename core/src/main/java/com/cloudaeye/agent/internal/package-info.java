/** Implementation details: not an API, may change in any release. */
@NullMarked
package com.cloudaeye.agent.internal;

import org.jspecify.annotations.NullMarked;
