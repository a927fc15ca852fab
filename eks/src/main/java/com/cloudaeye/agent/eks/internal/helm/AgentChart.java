package com.cloudaeye.agent.eks.internal.helm;

import com.cloudaeye.agent.AgentException;
import com.cloudaeye.agent.Secret;
import com.fasterxml.jackson.databind.JsonNode;
import com.marcnuri.helm.Helm;
import com.marcnuri.helm.Release;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;

/**
 * The agent chart driven through helm-java (Helm 3 in-process): render, install or upgrade, uninstall. Every
 * call copies the chart and writes the values (which hold the token) into a private directory deleted right after,
 * and every error message leaving here has the token masked.
 */
public final class AgentChart {
    private AgentChart() {}

    /**
     * The name of the release's objects (the chart's {@code cloudaeye-agent.fullname}): the release name when it
     * contains the chart's name, else both joined, cut to 63 characters.
     *
     * @param release the release name
     * @return the DaemonSet's (and every other object's) name
     */
    static String fullName(String release) {
        String name = release.contains(ChartFiles.NAME) ? release : release + "-" + ChartFiles.NAME;
        name = name.length() > 63 ? name.substring(0, 63) : name;
        while (name.endsWith("-")) {
            name = name.substring(0, name.length() - 1);
        }
        return name;
    }

    /**
     * Renders the chart client-side, like {@code helm template}: no cluster is contacted.
     *
     * @param release the release name
     * @param namespace the release namespace
     * @param values the non-secret values
     * @param token the agent token
     * @return the rendered manifest; it contains the token, so only compare it, never show it
     */
    public static String render(String release, String namespace, JsonNode values, Secret token) {
        try (PrivateDir dir = PrivateDir.create()) {
            Path chart = ChartFiles.copyTo(dir.path());
            Path valuesFile = dir.write("values.json", ChartValues.withToken(values, token));
            return new Helm(chart)
                    .template()
                    .withName(release)
                    .withNamespace(namespace)
                    .withValuesFile(valuesFile)
                    .call();
        } catch (IllegalStateException e) {
            throw scrubbed("Rendering the agent chart failed (check the AgentDaemonSet values)", e, token);
        }
    }

    /**
     * Installs the release or upgrades it, atomically: Helm waits for the DaemonSet to be ready and rolls back (or
     * uninstalls a first install) when it is not within the timeout. Creates the namespace when missing.
     *
     * @param connection how to reach the cluster
     * @param release the release name
     * @param namespace the release namespace
     * @param values the non-secret values
     * @param token the agent token
     * @param timeout how long Helm may wait
     * @param firstInstall true when no release of that name exists, so Helm installs instead of upgrading
     * @return the release Helm reports
     */
    static Release installOrUpgrade(
            ClusterConnection connection,
            String release,
            String namespace,
            JsonNode values,
            Secret token,
            Duration timeout,
            boolean firstInstall) {
        try (PrivateDir dir = PrivateDir.create()) {
            Path chart = ChartFiles.copyTo(dir.path());
            Path valuesFile = dir.write("values.json", ChartValues.withToken(values, token));
            int seconds = (int) Math.max(1, timeout.toSeconds());
            // helm-java's "upgrade --install" drops the values files when the release does not exist yet, so a
            // first install goes through "install".
            return connection.withKubeconfig(
                    dir,
                    kubeconfig -> firstInstall
                            ? new Helm(chart)
                                    .install()
                                    .atomic()
                                    .waitReady()
                                    .createNamespace()
                                    .withTimeout(seconds)
                                    .withName(release)
                                    .withNamespace(namespace)
                                    .withValuesFile(valuesFile)
                                    .withKubeConfig(kubeconfig)
                                    .call()
                            : new Helm(chart)
                                    .upgrade()
                                    .atomic()
                                    .waitReady()
                                    .withTimeout(seconds)
                                    .withName(release)
                                    .withNamespace(namespace)
                                    .withValuesFile(valuesFile)
                                    .withKubeConfig(kubeconfig)
                                    .call());
        } catch (IllegalStateException e) {
            throw scrubbed(
                    "Helm could not install or upgrade release " + namespace + "/" + release + " through "
                            + connection.describe() + " (atomic: Helm removed what this attempt created)",
                    e,
                    token);
        }
    }

    /**
     * Uninstalls the release; the namespace stays.
     *
     * @param connection how to reach the cluster
     * @param release the release name
     * @param namespace the release namespace
     * @return Helm's message
     */
    static String uninstall(ClusterConnection connection, String release, String namespace) {
        try (PrivateDir dir = PrivateDir.create()) {
            return connection.withKubeconfig(
                    dir,
                    kubeconfig -> Helm.uninstall(release)
                            .withNamespace(namespace)
                            .withKubeConfig(kubeconfig)
                            .call());
        } catch (IllegalStateException e) {
            throw new AgentException("Helm could not uninstall release " + namespace + "/" + release + " through "
                    + connection.describe() + ": " + e.getMessage());
        }
    }

    /** An exception with Helm's message and the token masked; the cause is dropped as it may quote values. */
    private static AgentException scrubbed(String what, RuntimeException e, Secret token) {
        return new AgentException(
                what + ": " + mask(String.valueOf(e.getMessage()), token).strip());
    }

    /**
     * @param message a message that may quote the values or the rendered Secret
     * @param token the agent token
     * @return the message with the token masked, literal and in the base64 forms a manifest holds it in
     */
    static String mask(String message, Secret token) {
        byte[] bytes = token.reveal().getBytes(StandardCharsets.UTF_8);
        String masked = message.replace(token.reveal(), Secret.REDACTED);
        for (Base64.Encoder encoder : List.of(Base64.getEncoder(), Base64.getUrlEncoder())) {
            String encoded = encoder.encodeToString(bytes);
            // The padded form first: the unpadded one is its prefix.
            masked = masked.replace(encoded, Secret.REDACTED).replace(encoded.replace("=", ""), Secret.REDACTED);
        }
        return masked;
    }
}
