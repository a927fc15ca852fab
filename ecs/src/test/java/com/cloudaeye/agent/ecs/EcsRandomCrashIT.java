package com.cloudaeye.agent.ecs;

import com.cloudaeye.agent.ecs.crash.EcsApplyInChildJvm;
import com.cloudaeye.agent.ecs.internal.TaskDefinitions;
import com.cloudaeye.agent.testing.CrashHarness;
import com.cloudaeye.agent.testing.Moto;
import com.cloudaeye.agent.testing.ThrottlingProxy;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import software.amazon.awssdk.services.ecs.model.ContainerDefinition;
import software.amazon.awssdk.services.ecs.model.TaskDefinition;

/**
 * {@link CrashHarness} for ECS: a revision shared by two services, a family with two revisions in use (the twin
 * registration race's fixture), and two services with a revision each; the apply is killed at the seed's {@code
 * RegisterTaskDefinition} or {@code UpdateService}, then resumed or rolled back. A registration is keyed by the source
 * revision its router names, so "once per resource" means one new revision per source revision.
 */
class EcsRandomCrashIT {
    private static final String CLUSTER = "crash";
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path work;

    private MotoEcs moto;
    /** Each service's original task definition ARN, by service ARN. */
    private final Map<String, String> originals = new LinkedHashMap<>();

    @AfterEach
    void close() {
        moto.close();
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource(CrashHarness.SEEDS)
    void killedAtARandomRequest_thenResumedOrRolledBack_keepsEveryInvariant(long seed) throws Exception {
        Moto.reset();
        moto = new MotoEcs();
        moto.cluster(CLUSTER);
        TaskDefinition web = moto.fargate("web", "256", "512", MotoEcs.app("app", 128, 256));
        service("web-0", web);
        service("web-1", web);
        service("api-old", moto.fargate("api", "256", "512", MotoEcs.app("api", 128, 256)));
        service("api-new", moto.fargate("api", "512", "1024", MotoEcs.app("api", 256, 512)));
        for (int i = 0; i < 2; i++) {
            service("solo-" + i, moto.fargate("solo-" + i, "256", "512", MotoEcs.app("solo", 128, 256)));
        }
        CrashHarness.run(seed, "ecs", "EcsRandomCrashIT", work, new Subject());
    }

    private void service(String name, TaskDefinition td) {
        originals.put(moto.service(CLUSTER, name, td), td.taskDefinitionArn());
    }

    private final class Subject implements CrashHarness.Subject {
        @Override
        public Class<?> child() {
            return EcsApplyInChildJvm.class;
        }

        @Override
        public List<String> args(String mode, URI endpoint, Path journals, @Nullable Path journal) {
            return CrashHarness.childArgs(mode, endpoint, journals, journal, CLUSTER, MotoEcs.ROUTER_IMAGE, "20");
        }

        @Override
        public Map<String, String> state(Path work) {
            Map<String, String> out = new LinkedHashMap<>();
            originals.forEach((arn, original) -> {
                String name = arn.substring(arn.lastIndexOf('/') + 1);
                String now = moto.taskDefinitionOf(CLUSTER, name);
                if (now.equals(original)) {
                    out.put(arn, CrashHarness.BEFORE);
                    return;
                }
                TaskDefinition td = moto.describe(now);
                long routers = td.containerDefinitions().stream()
                        .map(ContainerDefinition::name)
                        .filter(LogRouter.DEFAULT_NAME::equals)
                        .count();
                Optional<String> source =
                        TaskDefinitions.ourRouter(td).map(r -> r.dockerLabels().get(TaskDefinitions.SOURCE_LABEL));
                out.put(
                        arn,
                        source.equals(Optional.of(original)) && routers == 1
                                ? CrashHarness.INSTALLED
                                : "runs " + now + " made from " + source + " with " + routers + " routers");
            });
            return out;
        }

        /**
         * A registration is keyed by its source revision (the router's label), which is its change's resource; a
         * rollback's deregistration by the revision it deregisters, its change's resource too. AWS authorizes neither
         * on a resource.
         */
        @Override
        public Optional<String> mutationKey(ThrottlingProxy.Request request) {
            if (request.action().equals("ecs:DeregisterTaskDefinition")) {
                try {
                    return Optional.of(
                            JSON.readTree(request.body()).path("taskDefinition").asText());
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }
            if (!request.action().equals("ecs:RegisterTaskDefinition")) {
                return CrashHarness.Subject.super.mutationKey(request);
            }
            try {
                for (JsonNode container : JSON.readTree(request.body()).path("containerDefinitions")) {
                    JsonNode source = container.path("dockerLabels").path(TaskDefinitions.SOURCE_LABEL);
                    if (source.isTextual()) {
                        return Optional.of(source.asText());
                    }
                }
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            throw new AssertionError("a registration without our router's source label: " + request.body());
        }

        @Override
        public int mutations() {
            return 5 + originals.size(); // one registration per source revision, one update per service
        }

        @Override
        public Set<String> onceAcrossRuns() {
            return Set.of("ecs:RegisterTaskDefinition", "ecs:UpdateService");
        }

        /**
         * An update sent again after a lost answer (the scheduler retries it) names the revision the service already
         * runs, and ECS starts no deployment for an unchanged service without {@code forceNewDeployment}.
         */
        @Override
        public Set<String> idempotent() {
            return Set.of("ecs:UpdateService");
        }

        @Override
        public List<String> secrets(Path work) {
            return List.of(EcsApplyInChildJvm.TOKEN);
        }
    }
}
