package com.cloudaeye.agent.lambda.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.lambda.model.Runtime;

class RuntimesTest {
    @Test
    void table_namesEveryRuntimeTheSdkKnows() {
        List<Runtime> missing = Runtime.knownValues().stream()
                .filter(r -> Runtimes.support(r) == null)
                .toList();
        assertThat(missing)
                .as("runtimes the SDK lists that Runtimes does not classify: add a row for each (supported, no"
                        + " Extensions API, or deprecated), checking the Lambda runtimes page")
                .isEmpty();
    }

    @Test
    void unsupportedReason_whenDeprecatedOrWithoutExtensions_namesTheRuntimeAndTheFix() {
        assertThat(Runtimes.unsupportedReason("go1.x")).contains("go1.x", "Extensions API", "supported runtime");
        assertThat(Runtimes.unsupportedReason("python3.8")).contains("python3.8", "deprecated", "supported runtime");
    }

    @Test
    void unsupportedReason_whenSupportedUnknownOrImage_isNull() {
        assertThat(Runtimes.unsupportedReason("python3.12")).isNull();
        assertThat(Runtimes.unsupportedReason("java21")).isNull();
        assertThat(Runtimes.unsupportedReason("python9.9"))
                .as("newer than the SDK: the layer decides")
                .isNull();
        assertThat(Runtimes.unsupportedReason(null)).isNull();
    }
}
