package com.cloudaeye.agent.spi.support;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The boundary between core and the modules built on it: core's {@code internal} package is not exported, and no
 * other module of the build (platforms, examples, the consumer check, a fourth platform added later) names it in its
 * main sources. What a platform needs has a supported home in {@code com.cloudaeye.agent.spi.support}.
 */
class ModuleBoundaryTest {
    private static final Pattern CORE_INTERNAL = Pattern.compile("\\bcom\\.cloudaeye\\.agent\\.internal\\b");
    /** The build's root: core's tests run in core's directory. */
    private static final Path ROOT = Path.of("").toAbsolutePath().getParent();

    @Test
    void moduleDescriptor_doesNotExportCoreInternals() throws IOException {
        String descriptor = Files.readString(Path.of("src", "main", "module", "module-info.java"));

        assertThat(descriptor)
                .contains("exports com.cloudaeye.agent.spi.support;")
                .doesNotContainPattern("(exports|opens)\\s+com\\.cloudaeye\\.agent\\.internal\\s*;");
    }

    @Test
    void otherModules_mainSources_neverNameCoreInternals() throws IOException {
        List<Path> modules;
        try (Stream<Path> dirs = Files.list(ROOT)) {
            modules = dirs.filter(d -> Files.isDirectory(d.resolve("src/main")))
                    .filter(d -> !d.getFileName().toString().equals("core"))
                    .collect(Collectors.toList());
        }
        assertThat(modules).as("modules found beside core in %s", ROOT).hasSizeGreaterThanOrEqualTo(3);

        List<String> offenders = modules.stream()
                .flatMap(m -> javaFiles(m.resolve("src/main")))
                .filter(f -> CORE_INTERNAL.matcher(read(f)).find())
                .map(f -> ROOT.relativize(f).toString())
                .sorted()
                .collect(Collectors.toList());

        assertThat(offenders)
                .as("main sources that use core's internal package instead of com.cloudaeye.agent.spi.support")
                .isEmpty();
    }

    private static Stream<Path> javaFiles(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(f -> f.toString().endsWith(".java")).collect(Collectors.toList()).stream();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
