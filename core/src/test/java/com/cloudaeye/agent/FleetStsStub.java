package com.cloudaeye.agent;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;

/**
 * STS for fleet tests without AWS: a WireMock server that answers {@code AssumeRole} from {@code fixtures/sts/}, and
 * for account {@value #DENIED}'s role with AccessDenied, as AWS does for a role that does not exist.
 */
final class FleetStsStub implements AutoCloseable {
    static final String DENIED = "333333333333";
    static final String ROLE = "CloudAEyeInstaller";

    private final WireMockServer aws =
            new WireMockServer(WireMockConfiguration.options().dynamicPort());

    FleetStsStub() {
        aws.start();
        aws.stubFor(post(urlEqualTo("/"))
                .withRequestBody(containing("Action=AssumeRole"))
                .willReturn(xml(200, "assume-role.xml")));
        aws.stubFor(post(urlEqualTo("/"))
                .atPriority(1)
                .withRequestBody(containing(enc("arn:aws:iam::" + DENIED + ":role/" + ROLE)))
                .willReturn(xml(403, "assume-role-denied.xml")));
    }

    /**
     * @param journals the fleet's journal directory
     * @return a fleet of two accounts that can be reached and {@value #DENIED}, in two regions, through this STS
     */
    FleetInstallerBuilder fleet(Path journals) {
        return fleet(journals, Region.US_EAST_1, Region.EU_WEST_1);
    }

    /**
     * @param journals the fleet's journal directory
     * @param regions the fleet's regions
     * @return a fleet of two accounts that can be reached and {@value #DENIED}, in those regions, through this STS
     */
    FleetInstallerBuilder fleet(Path journals, Region... regions) {
        return FleetInstaller.builder()
                .accounts("111111111111", "222222222222", DENIED)
                .regions(regions)
                .roleName(ROLE)
                .sessionName("fleet-test-run")
                .endpointOverride(URI.create(aws.baseUrl()))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("AKID", "SECRET")))
                .journalDirectory(journals)
                .maxParallel(3);
    }

    /** @return the WireMock server, for a test's own stubs (Organizations, more roles) and checks */
    WireMockServer server() {
        return aws;
    }

    @Override
    public void close() {
        aws.stop();
    }

    /** @return a form-encoded value, as it appears in a query-protocol request body */
    static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    /**
     * @param status the HTTP status
     * @param name a file of {@code fixtures/sts/}
     * @return a response with that XML body
     */
    static com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder xml(int status, String name) {
        return aResponse()
                .withStatus(status)
                .withHeader("Content-Type", "text/xml")
                .withBody(fixture(name));
    }

    /**
     * @param name a file of {@code fixtures/sts/}
     * @return its text
     */
    static String fixture(String name) {
        try (InputStream in = FleetStsStub.class.getResourceAsStream("/fixtures/sts/" + name)) {
            if (in == null) {
                throw new IllegalStateException("No fixture " + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
