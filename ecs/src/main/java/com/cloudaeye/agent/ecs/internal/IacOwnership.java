package com.cloudaeye.agent.ecs.internal;

import com.cloudaeye.agent.AgentSettings;
import com.cloudaeye.agent.Change;
import com.cloudaeye.agent.ManagedResources;
import com.cloudaeye.agent.ecs.LogRouter;
import com.cloudaeye.agent.spi.support.IacOwners;
import com.cloudaeye.agent.spi.support.Json;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.core.SdkField;
import software.amazon.awssdk.core.SdkPojo;
import software.amazon.awssdk.services.ecs.model.ContainerDefinition;
import software.amazon.awssdk.services.ecs.model.DescribeTaskDefinitionResponse;
import software.amazon.awssdk.services.ecs.model.KeyValuePair;
import software.amazon.awssdk.services.ecs.model.Service;
import software.amazon.awssdk.services.ecs.model.Tag;
import software.amazon.awssdk.services.ecs.model.TaskDefinition;

/**
 * Applies {@link ManagedResources} to a plan's task definitions and services. Their tags cost no extra call: the
 * planner reads revisions with {@code include=TAGS} and services with {@code include=TAGS}. A service is owned when
 * its own tags or its task definition's say so (a stack that owns the revision moves the service back to its
 * template's revision on its next deployment).
 */
final class IacOwnership {
    private static final String HINT = "ContainerDefinitions lists only what changes: add the log router container,"
            + " and replace the LogConfiguration of each application container of that Name.";

    private final ManagedResources policy;
    private final LogRouter router;

    IacOwnership(ManagedResources policy, LogRouter router) {
        this.policy = policy;
        this.router = router;
    }

    /**
     * @param changes the planned changes
     * @param sources every source revision, with its tags
     * @param services the selected services, with their tags
     * @param agent the agent settings (install), or null (uninstall)
     * @param notes receives one template fragment per owner ({@link ManagedResources.Action#TEMPLATE} installs)
     * @return the changes, owned resources' mutations turned into what the policy asks for
     */
    List<Change> review(
            List<Change> changes,
            Map<String, DescribeTaskDefinitionResponse> sources,
            List<Service> services,
            @Nullable AgentSettings agent,
            List<String> notes) {
        Map<String, IacOwners.Owner> byTaskDefinition = new HashMap<>();
        sources.forEach((arn, r) -> IacOwners.of(policy, tags(r.tags())).ifPresent(o -> byTaskDefinition.put(arn, o)));
        Map<String, Service> byArn = new HashMap<>();
        services.forEach(s -> byArn.put(s.serviceArn(), s));
        IacOwners.Fragments fragments = new IacOwners.Fragments();
        boolean install = agent != null;
        List<Change> out = new ArrayList<>();
        for (Change c : changes) {
            if (!c.isMutation()) {
                out.add(c);
                continue;
            }
            Optional<IacOwners.Owner> owner;
            if (EcsPlanner.SERVICE_TYPE.equals(c.resourceType())) {
                Service s = byArn.get(c.resourceId());
                owner = s == null ? Optional.empty() : IacOwners.of(policy, tags(s.tags()));
                if (owner.isEmpty()) {
                    owner = Optional.ofNullable(byTaskDefinition.get(
                            EcsStates.serviceState(c.targetState()).from()));
                }
            } else {
                owner = Optional.ofNullable(byTaskDefinition.get(c.resourceId()));
            }
            if (owner.isEmpty()) {
                out.add(c);
                continue;
            }
            out.add(IacOwners.review(c, owner.get(), policy, install));
            if (agent != null
                    && policy.action() == ManagedResources.Action.TEMPLATE
                    && EcsPlanner.TASK_DEFINITION_TYPE.equals(c.resourceType())) {
                // The planner described every source revision it planned a change for.
                TaskDefinition source = Objects.requireNonNull(sources.get(c.resourceId()), c.resourceId())
                        .taskDefinition();
                fragments.add(
                        owner.get(),
                        source.family(),
                        EcsPlanner.TASK_DEFINITION_TYPE,
                        properties(source, EcsStates.revisionState(c.targetState()), agent),
                        router.apiTokenSecretArn().isEmpty());
            }
        }
        notes.addAll(fragments.notes(policy.format(), HINT));
        return out;
    }

    /** The router container, the application containers' new log configurations, and a raised task size. */
    private ObjectNode properties(TaskDefinition source, RevisionState planned, AgentSettings agent) {
        List<ContainerDefinition> containers =
                TaskDefinitions.install(source, router, agent).containers();
        Map<String, ContainerDefinition> before = new HashMap<>();
        source.containerDefinitions().forEach(c -> before.put(c.name(), c));
        ObjectNode properties = Json.object();
        ArrayNode definitions = properties.putArray("ContainerDefinitions");
        for (ContainerDefinition c : containers) {
            ContainerDefinition was = before.get(c.name());
            if (TaskDefinitions.isOurs(c)) {
                definitions.add(routerFragment(c));
            } else if (was == null || !Objects.equals(was.logConfiguration(), c.logConfiguration())) {
                ObjectNode app = definitions.addObject();
                app.put("Name", c.name());
                app.set("LogConfiguration", cfn(c.logConfiguration()));
            }
        }
        String cpu = planned.cpu();
        String memory = planned.memory();
        if (cpu != null && memory != null) {
            properties.put("Cpu", cpu);
            properties.put("Memory", memory);
        }
        return properties;
    }

    /**
     * Our router in the template's words: the token as a reference to the template's NoEcho parameter, and only the
     * label that marks the container as CloudAEye's (the others record an installer's own before-state).
     */
    private static JsonNode routerFragment(ContainerDefinition router) {
        List<KeyValuePair> env = new ArrayList<>();
        router.environment().forEach(kv -> {
            if (!TaskDefinitions.TOKEN_VARIABLE.equals(kv.name())) {
                env.add(kv);
            }
        });
        ContainerDefinition clean = router.toBuilder()
                .environment(env)
                .dockerLabels(Map.of(
                        TaskDefinitions.SETTINGS_LABEL,
                        router.dockerLabels().getOrDefault(TaskDefinitions.SETTINGS_LABEL, "")))
                .build();
        ObjectNode node = (ObjectNode) cfn(clean);
        if (env.size() < router.environment().size()) {
            ObjectNode token = node.withArrayProperty("Environment").addObject();
            token.put("Name", TaskDefinitions.TOKEN_VARIABLE);
            token.putObject("Value").put("Ref", IacOwners.TOKEN_PARAMETER);
        }
        return node;
    }

    /** An SDK value as CloudFormation writes it: the API's member names capitalized, empty values left out. */
    static JsonNode cfn(@Nullable Object value) {
        if (value == null) {
            return NullNode.getInstance();
        }
        if (value instanceof SdkPojo pojo) {
            ObjectNode node = Json.object();
            for (SdkField<?> field : pojo.sdkFields()) {
                Object v = field.getValueOrDefault(pojo);
                if (v == null
                        || (v instanceof Collection<?> list && list.isEmpty())
                        || (v instanceof Map<?, ?> map && map.isEmpty())) {
                    continue;
                }
                String name = field.memberName();
                node.set(name.substring(0, 1).toUpperCase(Locale.ROOT) + name.substring(1), cfn(v));
            }
            return node;
        }
        if (value instanceof Collection<?> list) {
            ArrayNode array = Json.array();
            list.forEach(e -> array.add(cfn(e)));
            return array;
        }
        if (value instanceof Map<?, ?> map) {
            ObjectNode node = Json.object();
            map.forEach((k, v) -> node.set(String.valueOf(k), cfn(v)));
            return node;
        }
        return Json.tree(value);
    }

    private static Map<String, String> tags(@Nullable List<Tag> tags) {
        Map<String, String> out = new HashMap<>();
        if (tags != null) {
            tags.forEach(t -> out.put(t.key(), t.value() == null ? "" : t.value()));
        }
        return out;
    }
}
