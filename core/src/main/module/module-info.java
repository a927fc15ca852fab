/**
 * The CloudAEye agent installer's core: the user API ({@code com.cloudaeye.agent}), the SPI that platform modules
 * implement ({@code com.cloudaeye.agent.spi}) and what they take from core to implement it ({@code
 * com.cloudaeye.agent.spi.support}). {@code com.cloudaeye.agent.internal} is not exported.
 */
module com.cloudaeye.agent.core {
    requires transitive software.amazon.awssdk.core;
    requires transitive software.amazon.awssdk.awscore;
    requires transitive software.amazon.awssdk.regions;
    requires transitive software.amazon.awssdk.auth;
    requires transitive software.amazon.awssdk.identity.spi;
    requires software.amazon.awssdk.http;
    requires software.amazon.awssdk.http.urlconnection;
    requires software.amazon.awssdk.http.auth.aws;
    requires software.amazon.awssdk.http.auth.spi;
    requires software.amazon.awssdk.services.iam;
    requires software.amazon.awssdk.services.sts;
    requires transitive software.amazon.awssdk.services.s3;
    requires transitive com.fasterxml.jackson.databind;
    requires transitive com.fasterxml.jackson.annotation;
    requires com.fasterxml.jackson.core;
    requires com.fasterxml.jackson.datatype.jdk8;
    requires org.slf4j;
    requires static transitive org.jspecify;
    requires static org.immutables.value.annotations;

    exports com.cloudaeye.agent;
    exports com.cloudaeye.agent.spi;
    exports com.cloudaeye.agent.spi.support;

    // Jackson reads and writes the value classes reflectively.
    opens com.cloudaeye.agent to
            com.fasterxml.jackson.databind;
    opens com.cloudaeye.agent.internal to
            com.fasterxml.jackson.databind;

    uses com.cloudaeye.agent.spi.TargetService;
}
