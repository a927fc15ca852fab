package com.cloudaeye.agent.eks.internal.helm;

import com.cloudaeye.agent.AgentException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The agent's Helm chart, shipped as class-path resources of this module and copied to a directory for Helm, which
 * reads charts only from disk. The file list is fixed here, so extraction works the same from a jar, a shaded jar or
 * {@code target/classes}.
 */
final class ChartFiles {
    /** The chart's name, also its directory name. */
    static final String NAME = "cloudaeye-agent";

    /** The chart's version, as its Chart.yaml says ({@code AgentChartTest} checks they agree). */
    static final String VERSION = "0.1.0";

    /** The chart as Helm names it in a release ({@code name-version}): the only chart undo and rollback install. */
    static final String ID = NAME + "-" + VERSION;

    private static final String ROOT = "/com/cloudaeye/agent/eks/chart/" + NAME + "/";
    private static final List<String> FILES = List.of(
            "Chart.yaml",
            "values.yaml",
            "values.schema.json",
            ".helmignore",
            "templates/_helpers.tpl",
            "templates/NOTES.txt",
            "templates/configmap.yaml",
            "templates/daemonset.yaml",
            "templates/rbac.yaml",
            "templates/secret.yaml",
            "templates/serviceaccount.yaml");

    private ChartFiles() {}

    /**
     * Copies the chart into a directory.
     *
     * @param parent the directory to copy into
     * @return the chart's directory
     */
    static Path copyTo(Path parent) {
        Path chart = parent.resolve(NAME);
        try {
            for (String file : FILES) {
                Path target = chart.resolve(file);
                Files.createDirectories(target.getParent());
                try (InputStream in = ChartFiles.class.getResourceAsStream(ROOT + file)) {
                    if (in == null) {
                        throw new AgentException("The agent chart file " + ROOT + file
                                + " is missing from the class path: the cloudaeye-agent-eks jar is incomplete.");
                    }
                    Files.copy(in, target);
                }
            }
        } catch (IOException e) {
            throw new AgentException("Could not copy the agent chart to " + chart + ": " + e.getMessage(), e);
        }
        return chart;
    }
}
