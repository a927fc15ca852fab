/** The Amazon ECS (Fargate) target: {@code com.cloudaeye.agent.ecs.EcsTarget}. */
module com.cloudaeye.agent.ecs {
    requires transitive com.cloudaeye.agent.core;
    requires transitive software.amazon.awssdk.services.ecs;
    requires org.slf4j;
    requires static org.jspecify;
    requires static org.immutables.value.annotations;

    exports com.cloudaeye.agent.ecs;

    // The value types and the target's own state are read and written by Jackson.
    opens com.cloudaeye.agent.ecs to
            com.fasterxml.jackson.databind;
    opens com.cloudaeye.agent.ecs.internal to
            com.fasterxml.jackson.databind;

    provides com.cloudaeye.agent.spi.TargetService with
            com.cloudaeye.agent.ecs.internal.EcsService;
}
