package com.cloudaeye.agent.eks.internal.helm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.cloudaeye.agent.ConfigurationException;
import com.cloudaeye.agent.spi.support.Json;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Kubeconfigs read as kubectl reads them: YAML in any style, several files merged, the missing piece named. */
class KubeconfigTest {
    private static final String TOKEN = "kc-token-5e1d0a";

    @TempDir
    Path dir;

    @Test
    void load_whenFlowStyle_resolvesTheCurrentContext() throws IOException {
        Path file = write(
                "flow.yaml",
                "{apiVersion: v1, kind: Config, current-context: dev,"
                        + " clusters: [{name: kind, cluster: {server: 'https://127.0.0.1:6443',"
                        + " insecure-skip-tls-verify: true}}],"
                        + " contexts: [{name: dev, context: {cluster: kind, user: admin}}],"
                        + " users: [{name: admin, user: {token: " + TOKEN + "}}]}");

        Kubeconfig config = Kubeconfig.load(file);

        assertThat(config.context()).isEqualTo("dev");
        assertThat(config.server()).isEqualTo("https://127.0.0.1:6443");
        assertThat(config.user().path("token").asText()).isEqualTo(TOKEN);
        assertThat(config.source()).isEqualTo("kubeconfig " + file);
    }

    @Test
    void fromEnvironment_withSeveralFiles_mergesAsKubectl_firstFileWins_missingFilesSkipped() throws IOException {
        Path first = write("first.yaml", """
                current-context: dev
                contexts:
                - name: dev
                  context: {cluster: shared, user: me}
                users:
                - name: me
                  user: {token: first-token}
                """);
        Path second = write("second.yaml", """
                current-context: other
                clusters:
                - name: shared
                  cluster: {server: "https://second:443", certificate-authority: ca.crt}
                users:
                - name: me
                  user: {token: second-token}
                contexts:
                - name: dev
                  context: {cluster: nowhere, user: me}
                """);
        String variable = String.join(
                File.pathSeparator,
                first.toString(),
                dir.resolve("missing.yaml").toString(),
                "",
                second.toString());

        Kubeconfig config = Kubeconfig.fromEnvironment(variable, dir);

        assertThat(config.context()).isEqualTo("dev");
        assertThat(config.server()).isEqualTo("https://second:443");
        assertThat(config.user().path("token").asText()).isEqualTo("first-token");
        // A file reference is relative to the kubeconfig that holds it.
        assertThat(config.cluster().path("certificate-authority").asText())
                .isEqualTo(dir.resolve("ca.crt").toString());
        assertThat(config.source()).isEqualTo("KUBECONFIG " + variable);
    }

    @Test
    void fromEnvironment_withoutKubeconfigVariable_readsHomeKubeConfig() throws IOException {
        Files.createDirectories(dir.resolve(".kube"));
        Files.writeString(dir.resolve(".kube/config"), """
                current-context: home
                clusters: [{name: c, cluster: {server: "https://home:6443"}}]
                contexts: [{name: home, context: {cluster: c}}]
                """);

        Kubeconfig config = Kubeconfig.fromEnvironment(null, dir);

        assertThat(config.server()).isEqualTo("https://home:6443");
        assertThat(config.userName()).isEmpty();
    }

    @Test
    void fromEnvironment_whenNoFileExists_namesWhatWasLookedFor() {
        String variable = dir.resolve("a.yaml") + File.pathSeparator + dir.resolve("b.yaml");
        assertThatThrownBy(() -> Kubeconfig.fromEnvironment(variable, dir))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("none of the files KUBECONFIG lists exists (" + variable + ")");
        assertThatThrownBy(() -> Kubeconfig.fromEnvironment(" ", dir))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining(dir.resolve(".kube/config") + " does not exist");
    }

    @Test
    void minified_holdsOnlyTheCurrentContext_withAbsolutePaths() throws IOException {
        Path file = write("two.yaml", """
                current-context: b
                clusters:
                - {name: ca, cluster: {server: "https://a"}}
                - {name: cb, cluster: {server: "https://b", certificate-authority: certs/ca.pem}}
                contexts:
                - {name: a, context: {cluster: ca, user: ua}}
                - {name: b, context: {cluster: cb, user: ub, namespace: team}}
                users:
                - {name: ua, user: {token: a-token}}
                - {name: ub, user: {client-certificate: u.crt, client-key: u.key,
                    exec: {command: ./bin/get-token, apiVersion: client.authentication.k8s.io/v1}}}
                """);

        JsonNode minified = Json.parse(Kubeconfig.load(file).minified());

        assertThat(minified.path("current-context").asText()).isEqualTo("b");
        assertThat(minified.path("clusters")).hasSize(1);
        assertThat(minified.path("users")).hasSize(1);
        assertThat(minified.path("contexts")).hasSize(1);
        assertThat(minified.toString()).doesNotContain("a-token", "https://a\"");
        JsonNode user = minified.path("users").get(0).path("user");
        assertThat(user.path("client-certificate").asText())
                .isEqualTo(dir.resolve("u.crt").toString());
        assertThat(user.path("client-key").asText())
                .isEqualTo(dir.resolve("u.key").toString());
        assertThat(user.path("exec").path("command").asText())
                .isEqualTo(dir.resolve("bin/get-token").toString());
        assertThat(minified.path("clusters")
                        .get(0)
                        .path("cluster")
                        .path("certificate-authority")
                        .asText())
                .isEqualTo(dir.resolve("certs/ca.pem").toString());
    }

    @Test
    void load_whenAPieceIsMissing_namesExactlyWhichOne() throws IOException {
        assertMissing("apiVersion: v1\nkind: Config\n", "has no current-context", "(it defines no contexts)");
        assertMissing(
                "current-context: x\ncontexts: [{name: y, context: {cluster: c}}]\n",
                "has current-context 'x' but no context of that name (its contexts: y)");
        assertMissing(
                "current-context: x\ncontexts: [{name: x, context: {user: u}}]\n", "context 'x' names no cluster");
        assertMissing(
                "{current-context: x, contexts: [{name: x, context: {cluster: c}}],"
                        + " clusters: [{name: d, cluster: {server: 'https://d'}}]}",
                "context 'x' names cluster 'c', which is not defined (its clusters: d)");
        assertMissing(
                "{current-context: x, contexts: [{name: x, context: {cluster: c}}],"
                        + " clusters: [{name: c, cluster: {certificate-authority-data: abc}}]}",
                "cluster 'c' has no server");
        assertMissing(
                "{current-context: x, contexts: [{name: x, context: {cluster: c, user: u}}],"
                        + " clusters: [{name: c, cluster: {server: 'https://c'}}]}",
                "context 'x' names user 'u', which is not defined (it defines no users)");
    }

    @Test
    void load_whenNotYaml_givesThePositionOnly_neverTheLine() throws IOException {
        Path file = write("bad.yaml", "current-context: x\nusers:\n- name: u\n  user: {token: " + TOKEN + "\n");

        assertThatThrownBy(() -> Kubeconfig.load(file))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("is not valid YAML (line")
                .hasMessageNotContaining(TOKEN)
                .hasNoCause();
    }

    @Test
    void load_whenNotAFile_saysSo() {
        Path missing = dir.resolve("nope.yaml");
        assertThatThrownBy(() -> Kubeconfig.load(missing))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining(missing + " is not a readable file");
    }

    private void assertMissing(String yaml, String... expected) throws IOException {
        Path file = write("missing-" + System.nanoTime() + ".yaml", yaml);
        assertThatThrownBy(() -> Kubeconfig.load(file))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageStartingWith("kubeconfig " + file)
                .hasMessageContainingAll(expected);
    }

    private Path write(String name, String content) throws IOException {
        return Files.writeString(dir.resolve(name), content);
    }
}
