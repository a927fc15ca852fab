package com.cloudaeye.agent.lambda.internal;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parsing of Lambda function and layer ARNs. */
public final class Arns {
    /** {@code arn:aws:lambda:us-east-1:123456789012:function:name}, optionally {@code :qualifier}. */
    public static final Pattern FUNCTION = Pattern.compile(
            "arn:(aws[a-z-]*):lambda:([a-z0-9-]+):(\\d{12}):function:([A-Za-z0-9_-]{1,64})(:[A-Za-z0-9$_-]+)?");

    /** {@code arn:aws:lambda:us-east-1:123456789012:layer:name:7}. */
    public static final Pattern LAYER_VERSION =
            Pattern.compile("arn:(aws[a-z-]*):lambda:([a-z0-9-]+):(\\d{12}):layer:([A-Za-z0-9_-]{1,140}):(\\d+)");

    /** A function name, or a glob of one with {@code *} and {@code ?}. */
    public static final Pattern NAME_OR_GLOB = Pattern.compile("[A-Za-z0-9_*?-]{1,64}");

    private Arns() {}

    /**
     * @param layerVersionArn a layer version ARN
     * @return the layer's ARN without the version, which identifies "the same layer" across versions
     */
    public static String layerName(String layerVersionArn) {
        int colon = layerVersionArn.lastIndexOf(':');
        return layerVersionArn.substring(0, colon);
    }

    /**
     * @param layerVersionArn a layer version ARN
     * @return its version number, or -1 when it has none
     */
    public static long layerVersion(String layerVersionArn) {
        Matcher m = LAYER_VERSION.matcher(layerVersionArn);
        return m.matches() ? Long.parseLong(m.group(5)) : -1;
    }

    /**
     * @param arn a Lambda ARN
     * @return its region
     */
    public static String region(String arn) {
        return arn.split(":", -1)[3];
    }

    /**
     * @param arn a Lambda ARN
     * @return its account ID
     */
    public static String account(String arn) {
        return arn.split(":", -1)[4];
    }
}
