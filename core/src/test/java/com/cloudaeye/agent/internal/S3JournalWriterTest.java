package com.cloudaeye.agent.internal;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.put;
import static com.github.tomakehurst.wiremock.client.WireMock.putRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.cloudaeye.agent.JournalException;
import com.cloudaeye.agent.JournalStore;
import com.cloudaeye.agent.Plan;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The S3 journal's conditional writes against races moto cannot produce: a 409 ConditionalRequestConflict (a
 * concurrent conditional write in flight) and a 412 from a worker that took the journal over between two appends.
 */
class S3JournalWriterTest {
    private static final String KEY = "/runs/install.jsonl";
    private static final String PATH = "/journals" + KEY;

    private WireMockServer s3Server;
    private S3Client s3;
    private S3Journals journals;

    @BeforeEach
    void start() {
        s3Server = new WireMockServer(WireMockConfiguration.options().dynamicPort());
        s3Server.start();
        s3 = S3Client.builder()
                .endpointOverride(URI.create(s3Server.baseUrl()))
                .region(Region.US_EAST_1)
                .forcePathStyle(true)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("k", "s")))
                .overrideConfiguration(ClientOverrideConfiguration.builder()
                        .retryStrategy(AwsRetryStrategy.doNotRetry())
                        .build())
                .build();
        journals = new S3Journals(s3, "journals", "runs/", Duration.ofMinutes(2), "worker-a");
    }

    @AfterEach
    void stop() {
        s3.close();
        s3Server.stop();
    }

    @Test
    void append_whenConditionalWriteConflicts_readsBackAndRetries() {
        s3Server.stubFor(put(urlPathEqualTo(PATH))
                .withHeader("If-None-Match", equalTo("*"))
                .willReturn(ok("\"v1\"")));
        s3Server.stubFor(put(urlPathEqualTo(PATH))
                .withHeader("If-Match", equalTo("\"v1\""))
                .inScenario("conflict")
                .whenScenarioStateIs(Scenario.STARTED)
                .willReturn(error(409, "ConditionalRequestConflict"))
                .willSetStateTo("retried"));
        s3Server.stubFor(put(urlPathEqualTo(PATH))
                .withHeader("If-Match", equalTo("\"v1\""))
                .inScenario("conflict")
                .whenScenarioStateIs("retried")
                .willReturn(ok("\"v2\"")));
        // Read back after the 409: still this writer's ETag, so the conflicting write did not land.
        s3Server.stubFor(get(urlPathEqualTo(PATH)).willReturn(object("\"v1\"", "", "worker-a")));

        JournalStore.Writer writer = journals.create(Plan.Kind.INSTALL);
        writer.append("{\"event\":\"PLAN\"}");

        s3Server.verify(2, putRequestedFor(urlPathEqualTo(PATH)).withHeader("If-Match", equalTo("\"v1\"")));
        s3Server.stubFor(put(urlPathEqualTo(PATH))
                .withHeader("If-Match", equalTo("\"v2\""))
                .willReturn(ok("\"v3\"")));
        writer.close();
        s3Server.verify(putRequestedFor(urlPathEqualTo(PATH)).withHeader("If-Match", equalTo("\"v2\"")));
    }

    @Test
    void append_whenAnotherWorkerTookTheJournalOver_failsAndKeepsFailing() {
        s3Server.stubFor(put(urlPathEqualTo(PATH))
                .withHeader("If-None-Match", equalTo("*"))
                .willReturn(ok("\"v1\"")));
        s3Server.stubFor(put(urlPathEqualTo(PATH))
                .withHeader("If-Match", equalTo("\"v1\""))
                .willReturn(error(412, "PreconditionFailed")));
        s3Server.stubFor(get(urlPathEqualTo(PATH)).willReturn(object("\"v9\"", "{}\n", "worker-b")));

        JournalStore.Writer writer = journals.create(Plan.Kind.INSTALL);

        assertThatThrownBy(() -> writer.append("{\"event\":\"STARTING\"}"))
                .isInstanceOf(JournalException.class)
                .hasMessageContaining("Lost the journal s3://journals" + KEY)
                .hasMessageContaining("worker worker-b");
        assertThatThrownBy(() -> writer.append("{\"event\":\"APPLIED\"}"))
                .isInstanceOf(JournalException.class)
                .hasMessageContaining("Lost the journal");
        writer.close(); // the loss was reported by append: closing releases nothing and sends nothing more
        s3Server.verify(1, putRequestedFor(urlPathEqualTo(PATH)).withHeader("If-Match", equalTo("\"v1\"")));
    }

    @Test
    void create_whenTheRunHasAJournal_isRefusedNamingItsOwner() {
        s3Server.stubFor(put(urlPathEqualTo(PATH)).willReturn(error(412, "PreconditionFailed")));
        s3Server.stubFor(get(urlPathEqualTo(PATH)).willReturn(object("\"v9\"", "{}\n", "worker-b")));

        assertThatThrownBy(() -> journals.create(Plan.Kind.INSTALL))
                .isInstanceOf(JournalException.class)
                .hasMessageContaining("A journal already exists at s3://journals" + KEY)
                .hasMessageContaining("worker worker-b holds it until")
                .hasMessageContaining("Nothing was changed");
    }

    @Test
    void append_whoseWriteIsAnsweredAfterTheLeaseRanOut_failsAndStartsNothingMore() {
        S3Journals shortLease = new S3Journals(s3, "journals", "runs/", Duration.ofSeconds(1), "worker-a");
        s3Server.stubFor(put(urlPathEqualTo(PATH))
                .atPriority(1)
                .withHeader("If-None-Match", equalTo("*"))
                .willReturn(ok("\"v1\"")));
        s3Server.stubFor(put(urlPathEqualTo(PATH)) // every later write: answered after the 1 s lease ran out
                .atPriority(2)
                .willReturn(ok("\"v2\"").withFixedDelay(1_500)));
        JournalStore.Writer writer = shortLease.create(Plan.Kind.INSTALL);

        assertThatThrownBy(() -> writer.append("{\"event\":\"STARTING\"}"))
                .isInstanceOf(JournalException.class)
                .hasMessageContaining("The lease on the journal s3://journals" + KEY + " ran out before its write was")
                .hasMessageContaining("starts no more changes");
        writer.close();
    }

    @Test
    void create_overAnObjectWithoutJournalLines_whoseLeaseRanOut_startsTheRunInIt() {
        s3Server.stubFor(put(urlPathEqualTo(PATH))
                .withHeader("If-None-Match", equalTo("*"))
                .willReturn(error(412, "PreconditionFailed")));
        s3Server.stubFor(get(urlPathEqualTo(PATH))
                .willReturn(aResponse()
                        .withStatus(200)
                        .withHeader("ETag", "\"v9\"")
                        .withHeader("x-amz-meta-" + S3Journals.OWNER, "worker-b")
                        .withHeader("x-amz-meta-" + S3Journals.EXPIRES, "1")
                        .withBody("{\"cloudaeye-lease\":{\"owner\":\"worker-b\"}}\n")));
        s3Server.stubFor(put(urlPathEqualTo(PATH))
                .withHeader("If-Match", equalTo("\"v9\""))
                .willReturn(ok("\"v10\"")));

        JournalStore.Writer writer = journals.create(Plan.Kind.INSTALL);

        s3Server.verify(putRequestedFor(urlPathEqualTo(PATH)).withHeader("If-Match", equalTo("\"v9\"")));
        s3Server.stubFor(put(urlPathEqualTo(PATH))
                .withHeader("If-Match", com.github.tomakehurst.wiremock.client.WireMock.matching("\"v1[01]\""))
                .willReturn(ok("\"v11\"")));
        writer.append("{\"event\":\"PLAN\"}");
        writer.close();
        s3Server.verify(putRequestedFor(urlPathEqualTo(PATH)).withHeader("If-Match", equalTo("\"v10\"")));
    }

    @Test
    void takeOver_whenAnotherWorkerGivenTheSameOwnerNameHoldsALiveLease_isRefusedAndWritesNothing() {
        // A job system's retry of the shard while its first attempt is alive: both were given the owner "worker-a",
        // but the lease is the first attempt's store's, not the name's.
        s3Server.stubFor(get(urlPathEqualTo(PATH))
                .willReturn(
                        object("\"v9\"", "{}\n", "worker-a").withHeader("x-amz-meta-" + S3Journals.HOLDER, "other")));

        assertThatThrownBy(() -> journals.takeOver("s3://journals" + KEY, 1))
                .isInstanceOf(JournalException.class)
                .hasMessageContaining("is owned by worker worker-a, whose lease runs until")
                .hasMessageContaining("Nothing was changed");
        s3Server.verify(0, putRequestedFor(urlPathEqualTo(PATH)));
    }

    @Test
    void takeOver_ofItsOwnLiveLease_bySameStoreOrAPartOfIt_writesWithoutWaiting() {
        S3Journals part = new S3Journals(s3, "journals", "", Duration.ofMinutes(2), "worker-a").below("runs");
        s3Server.stubFor(get(urlPathEqualTo(PATH))
                .willReturn(object("\"v9\"", "{}\n", "worker-a")
                        .withHeader("x-amz-meta-" + S3Journals.HOLDER, part.holder())));
        s3Server.stubFor(put(urlPathEqualTo(PATH))
                .withHeader("If-Match", equalTo("\"v9\""))
                .willReturn(ok("\"v10\"")));
        s3Server.stubFor(put(urlPathEqualTo(PATH))
                .withHeader("If-Match", equalTo("\"v10\""))
                .willReturn(ok("\"v11\"")));

        JournalStore.Writer writer = part.takeOver("s3://journals" + KEY, 1);
        writer.close();

        s3Server.verify(putRequestedFor(urlPathEqualTo(PATH))
                .withHeader("If-Match", equalTo("\"v9\""))
                .withHeader("x-amz-meta-" + S3Journals.HOLDER, equalTo(part.holder()))
                .withHeader("x-amz-meta-" + S3Journals.OWNER, equalTo("worker-a")));
    }

    @Test
    void takeOver_ofAJournalThatGrewSinceTheResumeReadIt_isRefusedAndWritesNothing() {
        // The resume was planned from one line; the run wrote a second since (its lease expired after that).
        s3Server.stubFor(get(urlPathEqualTo(PATH))
                .willReturn(object("\"v9\"", "{}\n{}\n", "worker-a")
                        .withHeader("x-amz-meta-" + S3Journals.HOLDER, journals.holder())));

        assertThatThrownBy(() -> journals.takeOver("s3://journals" + KEY, 1))
                .isInstanceOf(JournalException.class)
                .hasMessageContaining("has 2 lines, 1 when it was read")
                .hasMessageContaining("Read it again")
                .hasMessageContaining("Nothing was changed");
        s3Server.verify(0, putRequestedFor(urlPathEqualTo(PATH)));
    }

    private static ResponseDefinitionBuilder ok(String etag) {
        return aResponse().withStatus(200).withHeader("ETag", etag);
    }

    private static ResponseDefinitionBuilder error(int status, String code) {
        return aResponse()
                .withStatus(status)
                .withHeader("Content-Type", "application/xml")
                .withBody("<Error><Code>" + code + "</Code><Message>" + code + "</Message></Error>");
    }

    private static ResponseDefinitionBuilder object(String etag, String body, String owner) {
        return aResponse()
                .withStatus(200)
                .withHeader("ETag", etag)
                .withHeader("x-amz-meta-" + S3Journals.OWNER, owner)
                .withHeader(
                        "x-amz-meta-" + S3Journals.EXPIRES,
                        Long.toString(Instant.now().plusSeconds(60).toEpochMilli()))
                .withBody(body);
    }
}
