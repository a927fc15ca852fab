package com.cloudaeye.agent.ecs.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.ecs.internal.FargateSizes.Size;
import org.junit.jupiter.api.Test;

class FargateSizesTest {
    @Test
    void validPairs_followTheFargateTable() {
        assertThat(FargateSizes.isValid(new Size(256, 512))).isTrue();
        assertThat(FargateSizes.isValid(new Size(256, 4096))).isFalse();
        assertThat(FargateSizes.isValid(new Size(1024, 8192))).isTrue();
        assertThat(FargateSizes.isValid(new Size(4096, 30720))).isTrue();
        assertThat(FargateSizes.isValid(new Size(8192, 20480))).isTrue();
        assertThat(FargateSizes.isValid(new Size(8192, 18432))).isFalse();
        assertThat(FargateSizes.isValid(new Size(16384, 122880))).isTrue();
    }

    @Test
    void nextFitting_isTheSmallestValidSizeHoldingTheNeed() {
        assertThat(FargateSizes.nextFitting(new Size(256, 512), 320, 640)).contains(new Size(512, 1024));
        assertThat(FargateSizes.nextFitting(new Size(256, 512), 200, 3000)).contains(new Size(512, 3072));
        assertThat(FargateSizes.nextFitting(new Size(512, 2048), 600, 100)).contains(new Size(1024, 2048));
        assertThat(FargateSizes.nextFitting(new Size(16384, 122880), 16385, 1)).isEmpty();
    }

    @Test
    void parses_unitsAndHumanForms() {
        assertThat(FargateSizes.parseCpu("1 vCPU")).isEqualTo(1024);
        assertThat(FargateSizes.parseCpu(".25 vcpu")).isEqualTo(256);
        assertThat(FargateSizes.parseCpu("512")).isEqualTo(512);
        assertThat(FargateSizes.parseMemory("2 GB")).isEqualTo(2048);
        assertThat(FargateSizes.parseMemory("1024")).isEqualTo(1024);
    }
}
