package com.cloudaeye.agent.eks.internal.helm;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.eks.testing.KubeCluster;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/** The writes the API server's audit log shows for one user, and the check that a run changed each object once. */
final class AuditedWrites {
    private AuditedWrites() {}

    /**
     * @param user the user whose requests count
     * @param mark from {@link KubeCluster#auditMark()}
     * @return the writes the API server carried out for the user since the mark
     */
    static List<JsonNode> since(String user, long mark) {
        return KubeCluster.audited(user, mark).stream()
                .filter(KubeCluster::isWrite)
                .toList();
    }

    /**
     * Every object gets each kind of write (create, update or patch, delete) at most once in one run; Helm's release
     * record is created and deleted at most once.
     */
    static void assertEachObjectChangedAtMostOnce(String run, List<JsonNode> writes) {
        Map<String, Long> counts = writes.stream()
                // Helm's own record of the release, which it updates at each step (uninstalling, deployed).
                .filter(w -> !(w.path("verb").asText().equals("update")
                        && w.path("objectRef").path("name").asText().startsWith("sh.helm.release.")))
                .collect(Collectors.groupingBy(
                        w -> w.path("verb").asText().replace("patch", "update") + " " + object(w),
                        TreeMap::new,
                        Collectors.counting()));
        assertThat(counts)
                .as(run + ": " + describe(writes))
                .isNotEmpty()
                .allSatisfy((write, n) -> assertThat(n).as(write).isEqualTo(1L));
    }

    static String describe(List<JsonNode> writes) {
        return writes.stream()
                .map(w -> w.path("verb").asText() + " " + object(w))
                .collect(Collectors.joining(", ", "[", "]"));
    }

    private static String object(JsonNode write) {
        JsonNode ref = write.path("objectRef");
        return ref.path("resource").asText() + "/" + ref.path("namespace").asText("-") + "/"
                + ref.path("name").asText();
    }
}
