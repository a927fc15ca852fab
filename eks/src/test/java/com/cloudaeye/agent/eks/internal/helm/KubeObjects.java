package com.cloudaeye.agent.eks.internal.helm;

import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.util.Map;

/**
 * The cluster-scoped objects the Helm tests put in the release's way before planning, on the real control plane or
 * on {@link KubernetesApiServer}: a namespace or a node, with the labels (and a namespace's annotations) the plan
 * reads.
 */
final class KubeObjects {
    private KubeObjects() {}

    /**
     * @param name the namespace's name
     * @param labels its labels, e.g. a PodSecurity level
     * @return the namespace, to create
     */
    static Namespace namespace(String name, Map<String, String> labels) {
        return namespace(name, labels, Map.of());
    }

    /**
     * @param name the namespace's name
     * @param labels its labels, e.g. a PodSecurity level
     * @param annotations its annotations, e.g. the one saying which release's install created it
     * @return the namespace, to create
     */
    static Namespace namespace(String name, Map<String, String> labels, Map<String, String> annotations) {
        return new NamespaceBuilder()
                .withMetadata(metadata(name, labels, annotations))
                .build();
    }

    /**
     * @param name the node's name
     * @param labels its labels, e.g. its compute type
     * @return the node, to create
     */
    static Node node(String name, Map<String, String> labels) {
        return new NodeBuilder().withMetadata(metadata(name, labels, Map.of())).build();
    }

    private static ObjectMeta metadata(String name, Map<String, String> labels, Map<String, String> annotations) {
        return new ObjectMetaBuilder()
                .withName(name)
                .withLabels(labels)
                .withAnnotations(annotations)
                .build();
    }
}
