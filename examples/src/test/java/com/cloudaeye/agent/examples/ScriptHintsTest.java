package com.cloudaeye.agent.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.cloudaeye.agent.AgentSettings;
import com.cloudaeye.agent.ConfigurationException;
import com.cloudaeye.agent.FleetInstaller;
import com.cloudaeye.agent.Secret;
import com.cloudaeye.agent.ecs.EcsTarget;
import com.cloudaeye.agent.lambda.LambdaTarget;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.lambda.model.Architecture;

/**
 * The variable a script user sets for each builder call the library's messages name. The messages come from the
 * library itself where a build() produces them, so a reworded message that loses its hint fails here.
 */
class ScriptHintsTest {
    @Test
    void hint_whenTheMessageNamesALayerCallAndExcluding_namesBothVariables_inTheMessagesOrder() {
        // FunctionPlanner's message when functions of an architecture without a layer are selected (needs a plan).
        ConfigurationException e = new ConfigurationException("No CloudAEye layer is configured for arm64 (functions"
                + " orders): add .layer(Architecture.ARM64, layerArn) for it, or exclude those functions.");

        assertThat(ScriptHints.LAMBDA.hint(e))
                .hasValue("In this script, set the environment variables CLOUDAEYE_LAYER_ARM64 for"
                        + " .layer(Architecture.ARM64, ...); CLOUDAEYE_EXCLUDE for excluding functions"
                        + " (examples/README.md lists them all).");
    }

    @Test
    void hint_forTheLibrarysOwnMessages_namesTheVariableOfTheCallItSuggests() {
        Throwable noLayer =
                catchThrowable(() -> LambdaTarget.builder().functions("*").build());
        Throwable notAnAccount = catchThrowable(() -> FleetInstaller.builder()
                .accounts("12345")
                .regions(Region.US_EAST_1)
                .roleName("CloudAEyeInstaller")
                .agent(a -> a.logsEndpoint("https://logs.example.com").apiToken(Secret.of("t")))
                .target((account, region) -> LambdaTarget.builder()
                        .functions("*")
                        .layer(Architecture.X86_64, "arn:aws:lambda:us-east-1:111122223333:layer:x:1")
                        .build())
                .build());
        Throwable http = catchThrowable(() -> AgentSettings.builder()
                .logsEndpoint("http://127.0.0.1:4318")
                .apiToken(Secret.of("t"))
                .build());
        Throwable noCluster = catchThrowable(() -> EcsTarget.builder().build());

        assertThat(ScriptHints.LAMBDA.hint(noLayer))
                .hasValueSatisfying(h -> assertThat(h).contains("CLOUDAEYE_LAYER_X86_64", "CLOUDAEYE_LAYER_ARM64"));
        assertThat(ScriptHints.FLEET.hint(notAnAccount))
                .hasValueSatisfying(h -> assertThat(h).contains("CLOUDAEYE_ACCOUNTS for .accounts(...)"));
        assertThat(ScriptHints.JAVA_EXAMPLES.hint(http))
                .hasValueSatisfying(h -> assertThat(h)
                        .contains("CLOUDAEYE_ALLOW_INSECURE_ENDPOINT=yes for allowInsecureEndpoint(true)"));
        assertThat(ScriptHints.ECS.hint(noCluster))
                .hasValueSatisfying(h -> assertThat(h).contains("CLOUDAEYE_ECS_CLUSTER for .cluster(...)"));
    }

    @Test
    void hint_whenTheMessageNamesNoCallOrTheFailureIsNotTheLibrarys_isEmpty() {
        assertThat(ScriptHints.LAMBDA.hint(new ConfigurationException("Something else went wrong.")))
                .isEmpty();
        assertThat(ScriptHints.LAMBDA.hint(new IllegalStateException("call .layer(Architecture.ARM64, arn)")))
                .isEmpty();
    }

    @Test
    void variables_areAllDocumentedForTheScripts() throws IOException {
        String documented = Files.readString(Path.of("README.md")) + Files.readString(Path.of("jshell/fleet.jsh"));

        List<String> variables = ScriptHints.JAVA_EXAMPLES.variables().values().stream()
                .flatMap(v -> Stream.of(v.replaceAll("=\\S+", "").split(" and ")))
                .collect(Collectors.toList());

        assertThat(variables)
                .isNotEmpty()
                .allSatisfy(v -> assertThat(documented).contains(v));
    }

    @Test
    void variables_readByTheExamplesAndScripts_areAllInTheReadme() throws IOException {
        String readme = Files.readString(Path.of("README.md"));
        List<Path> sources;
        try (Stream<Path> java = Files.list(Path.of("src/main/java/com/cloudaeye/agent/examples"));
                Stream<Path> jsh = Files.list(Path.of("jshell"))) {
            sources = Stream.concat(java.filter(f -> f.toString().endsWith("Example.java")), jsh)
                    .collect(Collectors.toList());
        }
        TreeSet<String> read = new TreeSet<>();
        for (Path source : sources) {
            Matcher m = Pattern.compile("CLOUDAEYE_[A-Z0-9_]*[A-Z0-9]").matcher(Files.readString(source));
            while (m.find()) {
                read.add(m.group());
            }
        }

        assertThat(read).isNotEmpty().allSatisfy(v -> assertThat(readme).contains(v));
    }
}
