package com.cloudaeye.agent.lambda.internal;

import com.cloudaeye.agent.spi.Quota;

/** AWS Lambda's control-plane request quotas, per account and region (Lambda quotas page, "API requests"). */
public final class LambdaQuotas {
    /**
     * ListFunctions, GetFunctionConfiguration, UpdateFunctionConfiguration, PublishVersion, GetLayerVersion and every
     * other control-plane call not listed below share 15 requests per second.
     */
    public static final Quota CONTROL_PLANE = new Quota("lambda.control-plane", 15);

    /** GetFunction has its own bucket of 100 requests per second: we read and poll with it. */
    public static final Quota GET_FUNCTION = new Quota("lambda.get-function", 100);

    private LambdaQuotas() {}
}
