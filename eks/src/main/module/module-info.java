/** The Amazon EKS target: {@code com.cloudaeye.agent.eks.EksTarget} (DaemonSet, control-plane logging, access). */
module com.cloudaeye.agent.eks {
    requires transitive com.cloudaeye.agent.core;
    requires transitive software.amazon.awssdk.services.eks;
    requires software.amazon.awssdk.services.cloudformation;
    requires software.amazon.awssdk.services.cloudwatchlogs;
    requires software.amazon.awssdk.services.iam;
    requires software.amazon.awssdk.http;
    requires software.amazon.awssdk.http.auth.aws;
    requires software.amazon.awssdk.http.auth.spi;
    requires java.net.http;
    requires com.fasterxml.jackson.dataformat.yaml;
    // helm-java declares no module name: this is the name the JDK derives from its jar.
    requires helm.java;
    requires org.slf4j;
    requires static org.jspecify;
    requires static org.immutables.value.annotations;

    exports com.cloudaeye.agent.eks;

    // The value types and the parts' state are read and written by Jackson; the chart is read as a resource.
    opens com.cloudaeye.agent.eks to
            com.fasterxml.jackson.databind;
    opens com.cloudaeye.agent.eks.internal to
            com.fasterxml.jackson.databind;
    opens com.cloudaeye.agent.eks.internal.access to
            com.fasterxml.jackson.databind;
    opens com.cloudaeye.agent.eks.internal.helm to
            com.fasterxml.jackson.databind;

    provides com.cloudaeye.agent.spi.TargetService with
            com.cloudaeye.agent.eks.internal.EksService;
}
