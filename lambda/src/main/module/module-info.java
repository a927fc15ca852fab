/** The AWS Lambda target: {@code com.cloudaeye.agent.lambda.LambdaTarget}. */
module com.cloudaeye.agent.lambda {
    requires transitive com.cloudaeye.agent.core;
    requires transitive software.amazon.awssdk.services.lambda;
    requires software.amazon.awssdk.services.cloudfront;
    requires org.slf4j;
    requires static org.jspecify;

    exports com.cloudaeye.agent.lambda;

    // FunctionState is read and written by Jackson.
    opens com.cloudaeye.agent.lambda.internal to
            com.fasterxml.jackson.databind;

    provides com.cloudaeye.agent.spi.TargetService with
            com.cloudaeye.agent.lambda.internal.LambdaService;
}
