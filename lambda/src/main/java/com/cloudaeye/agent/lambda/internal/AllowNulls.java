package com.cloudaeye.agent.lambda.internal;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Immutables' marker (it matches the simple name) for a collection attribute whose elements or values may be null:
 * {@link FunctionState#set()} stands for the API token with a null value.
 */
@Target(ElementType.METHOD)
@Retention(RetentionPolicy.SOURCE)
@interface AllowNulls {}
