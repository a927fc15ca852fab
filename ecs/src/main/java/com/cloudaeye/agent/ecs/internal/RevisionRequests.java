package com.cloudaeye.agent.ecs.internal;

import com.cloudaeye.agent.AgentSettings;
import com.cloudaeye.agent.ecs.LogRouter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.core.SdkField;
import software.amazon.awssdk.core.SdkPojo;
import software.amazon.awssdk.services.ecs.model.ContainerDefinition;
import software.amazon.awssdk.services.ecs.model.DescribeTaskDefinitionResponse;
import software.amazon.awssdk.services.ecs.model.RegisterTaskDefinitionRequest;
import software.amazon.awssdk.services.ecs.model.Tag;
import software.amazon.awssdk.services.ecs.model.TaskDefinition;

/**
 * The {@code RegisterTaskDefinition} requests of an install and an uninstall, copied field by field from the source
 * revision, and whether a registered revision is what such a request registers.
 */
final class RevisionRequests {
    private RevisionRequests() {}

    /**
     * The fields of {@link TaskDefinition} that describe the revision rather than configure it, and so cannot be
     * registered. Every other field is copied.
     */
    static final Set<String> READ_ONLY_FIELDS = Set.of(
            "taskDefinitionArn",
            "revision",
            "status",
            "requiresAttributes",
            "compatibilities",
            "registeredAt",
            "deregisteredAt",
            "deleteRequestedAt",
            "registeredBy");

    /**
     * Copies every registrable field of a revision (all fields that {@link TaskDefinition} and
     * {@link RegisterTaskDefinitionRequest} share, matched by wire name, so a field AWS adds to both is carried
     * without a code change) and the revision's tags.
     *
     * @param source the revision
     * @param tags its tags ({@code DescribeTaskDefinition} returns them beside the revision)
     * @return a request that registers an identical revision
     */
    static RegisterTaskDefinitionRequest.Builder copy(TaskDefinition source, List<Tag> tags) {
        RegisterTaskDefinitionRequest.Builder request = RegisterTaskDefinitionRequest.builder();
        Map<String, SdkField<?>> from = byLocationName(source.sdkFields());
        for (SdkField<?> to : request.sdkFields()) {
            SdkField<?> field = from.get(to.locationName());
            if (field != null) {
                to.set(request, field.getValueOrDefault(source));
            }
        }
        // Keys starting with "aws:" (CloudFormation's stack tags) are AWS's own: RegisterTaskDefinition rejects them.
        List<Tag> userTags =
                tags.stream().filter(t -> !t.key().startsWith("aws:")).toList();
        if (!userTags.isEmpty()) {
            request.tags(userTags);
        }
        return request;
    }

    /**
     * @param fields SDK fields
     * @return them by wire name
     */
    static Map<String, SdkField<?>> byLocationName(List<SdkField<?>> fields) {
        Map<String, SdkField<?>> out = new LinkedHashMap<>();
        fields.forEach(f -> out.put(f.locationName(), f));
        return out;
    }

    /**
     * The revision an install registers from a source revision: every registrable field and tag of the source, the
     * containers of {@link TaskDefinitions#install}, and the raised task size when planning chose one.
     *
     * @param source the source revision, as {@code DescribeTaskDefinition} with tags returned it
     * @param router router settings
     * @param agent agent settings
     * @param cpu the raised task cpu, or null to keep the source's
     * @param memory the raised task memory, or null to keep the source's
     * @return the request
     */
    static RegisterTaskDefinitionRequest installRequest(
            DescribeTaskDefinitionResponse source,
            LogRouter router,
            AgentSettings agent,
            @Nullable String cpu,
            @Nullable String memory) {
        TaskDefinition td = source.taskDefinition();
        List<ContainerDefinition> containers =
                TaskDefinitions.install(td, router, agent).containers();
        RegisterTaskDefinitionRequest.Builder request = copy(td, source.tags());
        if (cpu != null && memory != null) {
            request.cpu(cpu).memory(memory);
            containers = recordResize(td, containers, cpu, memory);
        }
        return request.containerDefinitions(containers).build();
    }

    /**
     * Records on the router (the last container) the task size before the install and the one it sets: before the
     * first raise, when an earlier install raised it already.
     */
    private static List<ContainerDefinition> recordResize(
            TaskDefinition td, List<ContainerDefinition> containers, String cpu, String memory) {
        RecordedTaskSize recorded = TaskDefinitions.ourRouter(td)
                .flatMap(RecordedTaskSize::of)
                .map(earlier -> new RecordedTaskSize(earlier.cpu(), earlier.memory(), cpu, memory))
                .orElseGet(() -> new RecordedTaskSize(
                        Objects.requireNonNull(td.cpu(), "a raised task has a size"),
                        Objects.requireNonNull(td.memory(), "a raised task has a size"),
                        cpu,
                        memory));
        ContainerDefinition router = containers.get(containers.size() - 1);
        Map<String, String> labels = new TreeMap<>(router.dockerLabels());
        labels.put(RecordedTaskSize.LABEL, recorded.toLabel());
        List<ContainerDefinition> out = new ArrayList<>(containers.subList(0, containers.size() - 1));
        out.add(router.toBuilder().dockerLabels(labels).build());
        return out;
    }

    /**
     * The revision an uninstall registers from a source revision with our router: every registrable field and tag of
     * the source, the containers of {@link TaskDefinitions#uninstall}, and the task size before the install when the
     * install raised it and the task still has that size ({@link RecordedTaskSize#restore}).
     *
     * @param source the source revision, as {@code DescribeTaskDefinition} with tags returned it
     * @return the request
     */
    static RegisterTaskDefinitionRequest uninstallRequest(DescribeTaskDefinitionResponse source) {
        TaskDefinition td = source.taskDefinition();
        List<ContainerDefinition> containers = TaskDefinitions.uninstall(td);
        RegisterTaskDefinitionRequest.Builder request = copy(td, source.tags()).containerDefinitions(containers);
        RecordedTaskSize.Restore size = RecordedTaskSize.restore(td, containers);
        if (size.cpu() != null && size.memory() != null) {
            request.cpu(size.cpu()).memory(size.memory());
        }
        return request.build();
    }

    /**
     * Whether a registered revision is what registering {@code intended} gives, so an earlier run (killed, or whose
     * response was lost) must have registered it and it can be reused instead of registering a twin. Every field,
     * tag and container must match; AWS's echo of a field we left empty (an empty list or map) counts as empty. Our
     * router is matched by its labels (the settings hash, the source revision and the recorded log configurations)
     * and its token, compared in constant time, because AWS adds defaults to a container it registers.
     *
     * @param revision a registered revision, as {@code DescribeTaskDefinition} with tags returned it
     * @param intended what this run would register
     * @param agent the agent settings (the token)
     * @return true when registering {@code intended} again would only make a twin of {@code revision}
     */
    static boolean registers(
            DescribeTaskDefinitionResponse revision, RegisterTaskDefinitionRequest intended, AgentSettings agent) {
        TaskDefinition td = revision.taskDefinition();
        RegisterTaskDefinitionRequest actual =
                copy(td, revision.tags()).containerDefinitions(List.of()).build();
        if (!Objects.equals(
                canonical(actual),
                canonical(intended.toBuilder().containerDefinitions(List.of()).build()))) {
            return false;
        }
        List<ContainerDefinition> want = intended.containerDefinitions();
        List<ContainerDefinition> have = td.containerDefinitions();
        if (!TaskDefinitions.names(want).equals(TaskDefinitions.names(have))) {
            return false;
        }
        for (int i = 0; i < want.size(); i++) {
            ContainerDefinition w = want.get(i);
            ContainerDefinition h = have.get(i);
            boolean same =
                    TaskDefinitions.isOurs(w) ? sameRouter(w, h, agent) : Objects.equals(canonical(w), canonical(h));
            if (!same) {
                return false;
            }
        }
        return true;
    }

    private static boolean sameRouter(ContainerDefinition want, ContainerDefinition have, AgentSettings agent) {
        if (!TaskDefinitions.isOurs(have) || !want.dockerLabels().equals(have.dockerLabels())) {
            return false;
        }
        boolean plainToken =
                want.environment().stream().anyMatch(kv -> TaskDefinitions.TOKEN_VARIABLE.equals(kv.name()));
        if (!plainToken) {
            // The token comes from the secret ARN, which the settings hash covers.
            return have.environment().stream().noneMatch(kv -> TaskDefinitions.TOKEN_VARIABLE.equals(kv.name()));
        }
        return have.environment().stream()
                .anyMatch(kv -> TaskDefinitions.TOKEN_VARIABLE.equals(kv.name())
                        && agent.apiToken().matches(kv.value()));
    }

    /**
     * An SDK value as nested sorted maps and lists, without nulls, empty lists and empty maps: AWS echoes a field a
     * request left out as empty, and the SDK tells the two apart in {@code equals}.
     */
    static @Nullable Object canonical(@Nullable Object value) {
        if (value instanceof SdkPojo pojo) {
            Map<String, Object> out = new TreeMap<>();
            for (SdkField<?> field : pojo.sdkFields()) {
                Object v = canonical(field.getValueOrDefault(pojo));
                if (v != null) {
                    out.put(field.locationName(), v);
                }
            }
            return out.isEmpty() ? null : out;
        }
        if (value instanceof Collection<?> items) {
            List<Object> out = new ArrayList<>();
            for (Object item : items) {
                Object v = canonical(item);
                if (v != null) {
                    out.add(v);
                }
            }
            return out.isEmpty() ? null : out;
        }
        if (value instanceof Map<?, ?> map) {
            Map<String, Object> out = new TreeMap<>();
            map.forEach((k, v) -> {
                Object c = canonical(v);
                if (c != null) {
                    out.put(String.valueOf(k), c);
                }
            });
            return out.isEmpty() ? null : out;
        }
        return value;
    }
}
