package com.cloudaeye.agent.spi.support;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.immutables.value.Value;

/**
 * The one Immutables style of the project (a meta-annotation, never an inline {@code @Value.Style}): generated
 * classes are public so that the nested "sandwich" {@code Builder extends ImmutableX.Builder} compiles everywhere,
 * {@code Optional}s accept plain values, and neither Guava nor Immutables is needed by users of the library.
 */
@Target({ElementType.PACKAGE, ElementType.TYPE})
@Retention(RetentionPolicy.CLASS)
@Value.Style(
        get = {"is*", "get*"},
        init = "*",
        jdkOnly = true,
        optionalAcceptNullable = true,
        allParameters = false,
        defaults = @Value.Immutable(copy = true),
        privateNoargConstructor = false,
        jdk9Collections = true,
        // Only @Override on generated code: no org.immutables.value.Generated, so users of the library need no
        // Immutables jar at compile time (javac would warn about the missing annotation type otherwise).
        allowedClasspathAnnotations = {Override.class})
public @interface ValueStyle {}
