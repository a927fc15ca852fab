package com.cloudaeye.agent.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.cloudaeye.agent.testing.FakeTarget;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sts.StsClient;
import software.amazon.awssdk.utils.SdkAutoCloseable;

/** What closing a fleet closes: what it made itself, never what the caller gave it. */
class FleetSpecTest {
    @Test
    void close_whenNoCredentialsWereGiven_closesTheDefaultChainProviderTheFleetMade() {
        ClosableCredentials made = new ClosableCredentials();
        FleetSpec spec = spec();
        spec.defaultCredentials = () -> made;

        spec.assemble((installer, account, scope, limits, calls) -> {}).close();

        assertThat(made.closed).as("the fleet's own default chain provider").hasValue(1);
    }

    @Test
    void close_whenTheCallerGaveAnStsClientButNoCredentials_closesTheDefaultChainProvider_andLeavesTheClientOpen() {
        ClosableCredentials made = new ClosableCredentials();
        FleetSpec spec = spec();
        spec.defaultCredentials = () -> made;
        try (StsClient callers = StsClient.builder()
                .region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("AKID", "SECRET")))
                .build()) {
            spec.sts = callers;

            FleetSpec.Assembled fleet = spec.assemble((installer, account, scope, limits, calls) -> {});
            fleet.close();

            assertThat(made.closed)
                    .as("the provider the fleet's Organizations calls signed with")
                    .hasValue(1);
            assertThat(fleet.sts()).isSameAs(callers);
            assertThat(fleet.ownsSts()).isFalse();
        }
    }

    @Test
    void close_whenTheCallerGaveCredentials_leavesThemOpen_andMakesNone() {
        ClosableCredentials given = new ClosableCredentials();
        AtomicInteger defaultsMade = new AtomicInteger();
        FleetSpec spec = spec();
        spec.credentials = given;
        spec.defaultCredentials = () -> {
            defaultsMade.incrementAndGet();
            return new ClosableCredentials();
        };

        spec.assemble((installer, account, scope, limits, calls) -> {}).close();

        assertThat(given.closed).as("the caller's provider").hasValue(0);
        assertThat(defaultsMade).hasValue(0);
    }

    private static FleetSpec spec() {
        FleetSpec spec = new FleetSpec();
        spec.accounts.add("111111111111");
        spec.regions.add(Region.US_EAST_1);
        spec.roleName = "CloudAEyeInstaller";
        spec.targets.add((account, region) -> new FakeTarget("fake", null));
        spec.journaling = false;
        spec.validate();
        return spec;
    }

    /** A credentials provider that holds resources, as the default chain's does, and counts its closes. */
    private static final class ClosableCredentials implements AwsCredentialsProvider, SdkAutoCloseable {
        final AtomicInteger closed = new AtomicInteger();

        @Override
        public AwsCredentials resolveCredentials() {
            return AwsBasicCredentials.create("AKID", "SECRET");
        }

        @Override
        public void close() {
            closed.incrementAndGet();
        }
    }
}
