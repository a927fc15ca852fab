/** A user's module: reads only what the platform modules export and require transitively. */
module com.example.consumer {
    requires com.cloudaeye.agent.lambda;
    requires com.cloudaeye.agent.ecs;
    requires com.cloudaeye.agent.eks;

    uses com.cloudaeye.agent.spi.TargetService;
}
