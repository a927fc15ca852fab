package com.cloudaeye.agent.eks.internal.helm;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.AttributeChange;
import com.cloudaeye.agent.Secret;
import java.util.List;
import org.junit.jupiter.api.Test;

class ManifestsTest {
    private static final String V1 = """
            ---
            # Source: cloudaeye-agent/templates/secret.yaml
            apiVersion: v1
            kind: Secret
            metadata:
              name: agent
              namespace: ns
            data:
              api-token: "b2xkLXRva2Vu"
            ---
            # Source: cloudaeye-agent/templates/daemonset.yaml
            apiVersion: apps/v1
            kind: DaemonSet
            metadata:
              labels:
                app: agent
              name: agent
            spec:
              template:
                metadata:
                  annotations:
                    checksum/secret: 0123abcd
            """;

    @Test
    void parse_keysObjectsByKindAndName() {
        assertThat(Manifests.parse(V1).keys()).containsExactly("DaemonSet/agent", "Secret/agent");
    }

    @Test
    void changesFrom_sameManifest_isEmpty() {
        assertThat(Manifests.parse(V1).changesFrom(Manifests.parse(V1))).isEmpty();
    }

    @Test
    void changesFrom_whenTokenChanges_redactsSecretAndMasksChecksum() {
        String v2 = V1.replace("b2xkLXRva2Vu", "bmV3LXRva2Vu").replace("0123abcd", "4567ef01");

        List<AttributeChange> changes = Manifests.parse(v2).changesFrom(Manifests.parse(V1));

        assertThat(changes).extracting(AttributeChange::name).containsExactly("DaemonSet/agent", "Secret/agent");
        assertThat(changes.get(1).sensitive()).isTrue();
        assertThat(changes.get(1).before()).contains(Secret.REDACTED);
        assertThat(changes.get(1).after()).contains(Secret.REDACTED);
        assertThat(changes.toString())
                .doesNotContain("b2xkLXRva2Vu", "bmV3LXRva2Vu", "0123abcd", "4567ef01")
                .contains("checksum/secret: ****");
    }

    @Test
    void changesFrom_nothingInstalled_listsEveryObjectAsAdded() {
        List<AttributeChange> changes = Manifests.parse(V1).changesFrom(null);

        assertThat(changes).allSatisfy(c -> assertThat(c.before()).isEmpty());
        assertThat(changes).hasSize(2);
    }
}
