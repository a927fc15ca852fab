package com.cloudaeye.agent.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.zip.ZipEntry;
import org.junit.jupiter.api.Test;

/**
 * The shaded jar carries the Helm native of the platform it was built for ({@code helm.platform}: the building
 * machine's, or {@code -Dhelm.platform=...}) and no other, since helm-java loads the first native it finds whatever the
 * platform; on that platform its Helm runs.
 */
class ShadedJarIT {
    private static final Path JAR = Path.of("target", "cloudaeye-agent-all.jar").toAbsolutePath();
    private static final String SERVICES = "META-INF/services/com.marcnuri.helm.jni.NativeLibrary";
    private static final List<String> PLATFORMS =
            List.of("linux-amd64", "linux-arm64", "darwin-amd64", "darwin-arm64", "windows-amd64");

    private final String platform = System.getProperty("helm.platform", "");

    @Test
    void shadedJar_carriesTheHelmNativeOfItsPlatform_andNoOther() throws IOException {
        assertThat(PLATFORMS).as("helm.platform, set by the examples pom").contains(platform);
        try (JarFile jar = new JarFile(JAR.toFile())) {
            ZipEntry services = jar.getEntry(SERVICES);
            assertThat(services).as(SERVICES).isNotNull();
            String providers;
            try (InputStream in = jar.getInputStream(services)) {
                providers = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            // e.g. com.marcnuri.helm.jni.linux.amd64.LinuxAmd64NativeLibrary
            String[] osArch = platform.split("-");
            assertThat(providers.lines().map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#")))
                    .singleElement()
                    .satisfies(p -> assertThat(p).startsWith("com.marcnuri.helm.jni." + osArch[0] + "." + osArch[1]));
            for (String other : PLATFORMS) {
                boolean carried = jar.stream().anyMatch(e -> e.getName().startsWith("helm-" + other + "."));
                assertThat(carried).as("Helm native of " + other).isEqualTo(other.equals(platform));
            }
        }
    }

    @Test
    void shadedJar_onItsOwnPlatform_runsHelm() throws Exception {
        assumeTrue(platform.equals(running()), "built for " + platform + ", running on " + running());
        Path source = Path.of("src", "test", "resources", "shaded-jar", "HelmVersion.java")
                .toAbsolutePath();
        Process java = new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        // Helm from the jar only: helm-java would otherwise fetch a missing native from Maven Central.
                        "-Dcom.marcnuri.jkube-helm.skipRemoteJar=true",
                        "-cp",
                        JAR.toString(),
                        source.toString())
                .redirectErrorStream(true)
                .start();
        java.getOutputStream().close();
        String output = new String(java.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(java.waitFor(2, TimeUnit.MINUTES)).isTrue();
        assertThat(java.exitValue()).as(output).isZero();
        assertThat(output).containsPattern("HELM v3\\.\\d+");
    }

    /** @return this JVM's platform in helm-java's names */
    private static String running() {
        String os = System.getProperty("os.name").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch");
        String name = os.startsWith("mac") ? "darwin" : os.startsWith("windows") ? "windows" : "linux";
        return name + "-" + (arch.equals("aarch64") || arch.equals("arm64") ? "arm64" : "amd64");
    }
}
